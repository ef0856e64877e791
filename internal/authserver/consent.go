package authserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/web"
)

// The consent step defends against the confused deputy: a client that
// registered itself could otherwise get a Google login for whoever follows
// its link. The user sees who asks, where the answer goes and what for,
// and the form can only be submitted by the browser that loaded it.
const (
	csrfCookie       = "drivemcp_csrf"
	consentPurpose   = "consent"
	csrfPurpose      = "csrf"
	csrfNoncePurpose = "csrf nonce"
	consentCookieFor = "drivemcp_consent_"
)

// askConsent stores the pending request and shows the consent page, with
// "remember" ticked when this browser carries a remembered answer that was
// not used (see ownNavigation).
func (s *Server) askConsent(w http.ResponseWriter, r *http.Request, req authorizeRequest, remembered bool) {
	now := s.now()
	tx := store.AuthTransaction{
		State: randomToken(32), Kind: store.FlowConsent, LoginHint: req.loginHint,
		ClientID: req.client.ID, RedirectURI: req.redirectURI, ClientState: req.state,
		CodeChallenge: req.codeChallenge, Resource: req.resource, Scopes: req.scopes,
		CreatedAt: now, ExpiresAt: now.Add(transactionTTL),
	}
	if err := s.store.CreateAuthTransaction(r.Context(), tx); err != nil {
		s.log.Error("recording a consent request", "err", err)
		s.redirectError(w, r, req.redirectURI, req.state, errTemporarilyUnavailable, "the sign-in could not be recorded; try again")
		return
	}
	nonce := s.csrfNonce(w, r)
	redirect, _ := url.Parse(req.redirectURI)
	page := web.Consent{
		ClientName:   req.client.Name,
		ClientID:     req.client.ID,
		RedirectHost: redirectHost(redirect),
		Scopes:       describeScopes(req.scopes),
		ConsentID:    tx.State,
		CSRF:         s.signer.sign(csrfPurpose, tx.State, nonce),
		Action:       s.issuer + "/oauth/consent",
		Verified:     IsClientMetadataURL(req.client.ID),
		Remember:     remembered,
	}
	if page.Verified {
		page.ClientHost, page.LogoURI = documentHostAndLogo(req.client)
	}
	s.pages.RenderConsent(w, page)
}

// csrfNonce returns this browser's CSRF nonce, setting the cookie if the
// browser has none yet. The form's token is a MAC over the consent id and
// this nonce, so a form posted from another browser fails. A nonce is
// itself signed: cookies ignore ports, so another app on this host can
// plant drivemcp_csrf, and a value it chose must not count.
func (s *Server) csrfNonce(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(s.cookieName(csrfCookie)); err == nil && s.issuedNonce(c.Value) {
		return c.Value
	}
	random := randomToken(32)
	nonce := random + "." + s.signer.sign(csrfNoncePurpose, random)
	http.SetCookie(w, s.cookie(csrfCookie, "/oauth/", nonce))
	return nonce
}

// issuedNonce reports whether a CSRF cookie value is one this server made.
func (s *Server) issuedNonce(v string) bool {
	random, sig, ok := strings.Cut(v, ".")
	return ok && len(random) >= 32 && len(random) <= 64 && s.signer.verify(sig, csrfNoncePurpose, random)
}

// crossSitePost reports why a consent post did not come from our own page
// ("" when it may have). Origin: null is a sandboxed frame, a data: URL or
// a file, never our form; a browser that sends no Origin may still say,
// with Sec-Fetch-Site, that the request came from another site.
func (s *Server) crossSitePost(r *http.Request) string {
	switch origin := r.Header.Get("Origin"); {
	case origin == "null":
		return "origin null"
	case origin != "" && origin != originOf(s.issuer):
		return "foreign origin " + origin
	case origin == "":
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			return "no origin, sec-fetch-site " + site
		}
	}
	return ""
}

// handleConsent receives the user's answer.
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, web.Error{Title: "Invalid consent form", Message: "The form could not be read.", NextStep: "Go back to the application and connect again."}, err)
		return
	}
	if why := s.crossSitePost(r); why != "" {
		s.fail(w, r, web.Error{Status: http.StatusForbidden, Title: "Consent refused", Message: "The consent form was sent from another site or page, not from drivemcp's own consent page.",
			NextStep: "If you did not mean to connect an application, close this page. Otherwise go back to the application and connect again."}, errors.New(why))
		return
	}
	consentID := r.PostForm.Get("consent_id")
	if !cleanValue(consentID) || len(consentID) > 200 {
		consentID = ""
	}
	cookie, err := r.Cookie(s.cookieName(csrfCookie))
	if consentID == "" || err != nil || !s.issuedNonce(cookie.Value) || !s.signer.verify(r.PostForm.Get("csrf"), csrfPurpose, consentID, cookie.Value) {
		s.fail(w, r, web.Error{Status: http.StatusForbidden, Title: "Consent could not be verified",
			Message:  "This consent form did not come from this browser's sign-in page (its security token does not match).",
			NextStep: "Go back to the application and connect again; if you did not start a connection, close this page."}, errors.New("csrf check failed"))
		return
	}
	tx, err := s.store.TakeAuthTransaction(r.Context(), consentID, s.now())
	if err != nil || tx.Kind != store.FlowConsent {
		s.fail(w, r, web.Error{Title: "Sign-in request expired",
			Message: "This consent page was already answered, or it was open for more than 10 minutes.", NextStep: "Go back to the application and connect again."}, err)
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		s.redirectError(w, r, tx.RedirectURI, tx.ClientState, errAccessDenied, "the user declined")
		return
	}
	if r.PostForm.Get("remember") != "" {
		s.rememberConsent(w, tx.ClientID, tx.RedirectURI, tx.Scopes)
	}
	client, err := s.lookupClient(r.Context(), tx.ClientID)
	if err != nil {
		s.redirectError(w, r, tx.RedirectURI, tx.ClientState, errTemporarilyUnavailable, "the client could not be loaded; try again")
		return
	}
	s.sendToGoogle(w, r, authorizeRequest{
		client: client, redirectURI: tx.RedirectURI, state: tx.ClientState, codeChallenge: tx.CodeChallenge,
		resource: tx.Resource, scopes: tx.Scopes, loginHint: tx.LoginHint,
	})
}

// consentCookieName is per client, so remembering one client says nothing
// about another.
func consentCookieName(clientID string) string {
	sum := sha256.Sum256([]byte(clientID))
	return consentCookieFor + hex.EncodeToString(sum[:8])
}

func (s *Server) rememberConsent(w http.ResponseWriter, clientID, redirectURI string, scopes []string) {
	exp := s.now().Add(consentCookieTTL)
	payload := clientID + "\n" + redirectURI + "\n" + strings.Join(scopes, " ")
	c := s.cookie(consentCookieName(clientID), "/oauth/", s.signer.sealValue(consentPurpose, payload, exp))
	c.Expires = exp
	http.SetCookie(w, c)
}

// consentRemembered reports whether this browser approved this client, for
// this exact redirect URI and at least these scopes, before. A new redirect
// URI or a wider scope (a step-up) asks again.
func (s *Server) consentRemembered(r *http.Request, clientID, redirectURI string, scopes []string) bool {
	c, err := r.Cookie(s.cookieName(consentCookieName(clientID)))
	if err != nil {
		return false
	}
	payload, ok := s.signer.openValue(consentPurpose, c.Value, s.now())
	if !ok {
		return false
	}
	parts := strings.SplitN(payload, "\n", 3)
	if len(parts) != 3 || parts[0] != clientID || parts[1] != redirectURI {
		return false
	}
	approved := strings.Fields(parts[2])
	for _, sc := range scopes {
		if !slices.Contains(approved, sc) {
			return false
		}
	}
	return true
}

// documentHostAndLogo returns the host that identifies a metadata-document
// client, and its logo only when that same host serves it. A self-registered
// client's logo is never shown: the name beside it is unverified, and
// loading it would tell the client's server about every consent page view.
func documentHostAndLogo(c store.Client) (host, logo string) {
	id, err := url.Parse(c.ID)
	if err != nil {
		return "", ""
	}
	if l, err := url.Parse(c.LogoURI); err == nil && l.Scheme == "https" && l.Host == id.Host {
		logo = c.LogoURI
	}
	return id.Host, logo
}

func redirectHost(u *url.URL) string {
	if u == nil {
		return ""
	}
	if u.Host != "" {
		return u.Host
	}
	return u.Scheme + ":"
}

func originOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	return u.Scheme + "://" + u.Host
}

// describeScopes says in plain words what each scope lets the client do.
func describeScopes(scopes []string) []string {
	var out []string
	for _, sc := range scopes {
		switch sc {
		case "drive.file":
			out = append(out, "Upload files to your Google Drive, and see, edit and delete the files it created there")
		case "drive.readonly":
			out = append(out, "See and download all your Google Drive files")
		case "drive":
			out = append(out, "See, edit, create and delete all your Google Drive files")
		default:
			out = append(out, sc)
		}
	}
	return out
}
