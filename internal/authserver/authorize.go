package authserver

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/web"
)

// pkceChallenge is a base64url SHA-256: 43 characters (RFC 7636 §4.2).
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// authorizeRequest is a validated RFC 6749 §4.1.1 request.
type authorizeRequest struct {
	client        store.Client
	redirectURI   string
	state         string
	codeChallenge string
	resource      string
	scopes        []string
	loginHint     string
}

// handleAuthorize validates an MCP client's authorization request, then asks
// the user (or recalls their earlier answer) before sending them to Google.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	req, ok := s.parseAuthorize(w, r)
	if !ok {
		return
	}
	remembered := s.consentRemembered(r, req.client.ID, req.redirectURI, req.scopes)
	if remembered && ownNavigation(r) {
		s.sendToGoogle(w, r, req)
		return
	}
	s.askConsent(w, r, req, remembered)
}

// ownNavigation reports whether the browser says this request is one the
// person started (typed, bookmarked, opened by an application: "none") or
// one of drivemcp's own pages made ("same-origin"). A remembered consent is
// a cookie, and cookies can be planted by another application on this host
// (ports do not separate cookies): a navigation from any other page, or from
// a browser that sends no Fetch Metadata, is shown the consent page instead,
// whose form the Origin and CSRF checks tie to this browser.
func ownNavigation(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "none" || site == "same-origin"
}

// parseAuthorize validates the request. Until the client and its redirect
// URI are verified, errors are shown as a page: redirecting to an
// unverified URI would make this server an open redirector (RFC 6749
// §4.1.2.1). After that, errors go back to the client.
func (s *Server) parseAuthorize(w http.ResponseWriter, r *http.Request) (authorizeRequest, bool) {
	q := r.URL.Query()
	page := func(title, msg, next string) (authorizeRequest, bool) {
		s.fail(w, r, web.Error{Status: http.StatusBadRequest, Title: title, Message: msg, NextStep: next}, nil)
		return authorizeRequest{}, false
	}
	for _, p := range []string{"client_id", "redirect_uri"} {
		if len(q[p]) > 1 {
			return page("Invalid sign-in request", "The request names "+p+" more than once.", "Go back to the application and start the connection again.")
		}
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return page("Invalid sign-in request", "The request does not say which application is asking (client_id is missing).", "Go back to the application and start the connection again.")
	}
	client, err := s.lookupClient(r.Context(), clientID)
	if err != nil {
		var ce *CIMDError
		if errors.As(err, &ce) {
			return page("Application not recognised", "The application's metadata document could not be used: "+ce.Reason+".", "Tell the application's developer; connecting is not possible until it is fixed.")
		}
		if errors.Is(err, store.ErrNotFound) {
			return page("Application not recognised", "The application that sent you here is not registered with this server (invalid_client). It may have registered with an earlier installation.",
				"Go back to the application and connect again: it should register anew.")
		}
		s.fail(w, r, web.Error{Status: http.StatusServiceUnavailable, Title: "Storage unavailable", Message: "drivemcp could not read its database.", NextStep: "Try again in a moment."}, err)
		return authorizeRequest{}, false
	}
	redirectURI := q.Get("redirect_uri")
	switch {
	case redirectURI == "" && len(client.RedirectURIs) == 1:
		redirectURI = client.RedirectURIs[0]
	case redirectURI == "":
		return page("Invalid sign-in request", "The request does not say where to return (redirect_uri is missing).", "Go back to the application and start the connection again.")
	default:
		if _, ok := registeredRedirect(client.RedirectURIs, redirectURI); !ok {
			return page("Invalid sign-in request", "The return address in this request is not one the application registered, so drivemcp will not send you there.",
				"If you clicked a link from somewhere else, close this page. Otherwise go back to the application and connect again.")
		}
	}
	req := authorizeRequest{client: client, redirectURI: redirectURI, state: q.Get("state"), loginHint: q.Get("login_hint")}
	back := func(code, desc string) (authorizeRequest, bool) {
		s.redirectError(w, r, redirectURI, req.state, code, desc)
		return authorizeRequest{}, false
	}
	for p, vs := range q {
		if len(vs) > 1 {
			return back(errInvalidRequest, "parameter "+p+" is repeated")
		}
		if !cleanValue(vs[0]) {
			return back(errInvalidRequest, "parameter "+p+" is not valid UTF-8 text")
		}
	}
	if len(req.state) > 2000 {
		return back(errInvalidRequest, "state is longer than 2000 characters")
	}
	if rt := q.Get("response_type"); rt != "code" {
		return back(errUnsupportedResponseType, "only response_type=code is supported")
	}
	if q.Get("code_challenge") == "" {
		return back(errInvalidRequest, "PKCE is required: send code_challenge and code_challenge_method=S256")
	}
	if m := q.Get("code_challenge_method"); m != "S256" {
		return back(errInvalidRequest, "code_challenge_method must be S256")
	}
	if !pkceChallenge.MatchString(q.Get("code_challenge")) {
		return back(errInvalidRequest, "code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
	}
	req.codeChallenge = q.Get("code_challenge")
	req.resource = q.Get("resource")
	if req.resource == "" {
		req.resource = s.resource // clients older than RFC 8707 support mean this server's MCP endpoint
	} else if req.resource != s.resource {
		return back(errInvalidTarget, "resource must be "+s.resource)
	}
	scopes, problem := s.checkScopes(q.Get("scope"))
	if problem != "" {
		return back(errInvalidScope, problem)
	}
	req.scopes = scopes
	if !containsString(client.GrantTypes, "authorization_code") {
		return back(errUnauthorizedClient, "this client did not register the authorization_code grant")
	}
	return req, true
}

// lookupClient finds a registered client, or fetches a Client ID Metadata
// Document when the client_id is an https URL.
func (s *Server) lookupClient(ctx context.Context, clientID string) (store.Client, error) {
	if s.cimd != nil && s.cimd.IsClientMetadataURL(clientID) {
		return s.cimd.Fetch(ctx, clientID)
	}
	if len(clientID) > 200 {
		return store.Client{}, store.ErrNotFound
	}
	return s.store.GetClient(ctx, clientID)
}

// sendToGoogle records the proxy transaction and sends the user to Google
// with our real client, our own state and our own PKCE pair.
func (s *Server) sendToGoogle(w http.ResponseWriter, r *http.Request, req authorizeRequest) {
	now := s.now()
	var drive []string
	for _, sc := range req.scopes {
		drive = append(drive, google.LongScope(sc))
	}
	scopes := google.LoginScopes(drive...)
	tx := store.AuthTransaction{
		Kind:          store.FlowProxy,
		GoogleScopes:  scopes,
		LoginHint:     google.NormalizeEmail(req.loginHint),
		ClientID:      req.client.ID,
		RedirectURI:   req.redirectURI,
		ClientState:   req.state,
		CodeChallenge: req.codeChallenge,
		Resource:      req.resource,
		Scopes:        req.scopes,
		CreatedAt:     now,
		ExpiresAt:     now.Add(transactionTTL),
	}
	verifier, err := s.newGoogleTrip(&tx, "")
	if err == nil {
		err = s.store.CreateAuthTransaction(r.Context(), tx)
	}
	if err != nil {
		s.redirectError(w, r, req.redirectURI, req.state, errTemporarilyUnavailable, "the sign-in could not be recorded; try again")
		s.log.Error("recording a proxy transaction", "err", err)
		return
	}
	target := s.grants.Upstream().AuthCodeURL(google.ConsentRequest{
		State: tx.State, Verifier: verifier, Scopes: scopes, LoginHint: tx.LoginHint,
	})
	s.bindToBrowser(w, tx.State)
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// finishProxy ends the proxy flow after Google: it mints our own single-use
// code for the account that logged in and sends it to the client.
func (s *Server) finishProxy(w http.ResponseWriter, r *http.Request, tx store.AuthTransaction, acct store.GoogleAccount) {
	code := randomToken(32)
	now := s.now()
	err := s.store.CreateAuthCode(r.Context(), store.AuthCode{
		Hash: hashToken(code), ClientID: tx.ClientID, RedirectURI: tx.RedirectURI, CodeChallenge: tx.CodeChallenge,
		Resource: tx.Resource, Scopes: mcpScopesGranted(tx.Scopes, acct.Scopes), Email: acct.Email, FamilyID: randomToken(16),
		CreatedAt: now, ExpiresAt: now.Add(codeTTL),
	})
	if err != nil {
		s.log.Error("storing an authorization code", "err", err)
		s.redirectError(w, r, tx.RedirectURI, tx.ClientState, errTemporarilyUnavailable, "the sign-in could not be recorded; try again")
		return
	}
	s.metrics.OAuthOutcome("authorize", "ok")
	q := url.Values{"code": {code}, "iss": {s.issuer}}
	if tx.ClientState != "" {
		q.Set("state", tx.ClientState)
	}
	http.Redirect(w, r, withQuery(tx.RedirectURI, q), http.StatusFound)
}

// cleanValue rejects what no legitimate parameter holds and some databases
// refuse to store: invalid UTF-8 and NUL bytes.
func cleanValue(v string) bool {
	return utf8.ValidString(v) && !strings.ContainsRune(v, 0)
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
