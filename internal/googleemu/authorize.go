package googleemu

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The authorization endpoint, GET and POST /o/oauth2/v2/auth.
//
// Like Google, problems that make the redirect_uri untrustworthy (unknown
// client, missing or malformed redirect_uri) are shown on an error page and
// never redirected; every other problem is reported to the client by
// redirecting with error=…&state=….

// authPageError is shown to the person, never sent to the redirect_uri.
type authPageError struct {
	code        string // as Google prints it: "Error 400: invalid_client"
	description string
}

var pkceChallengeRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// parseAuthRequest validates the request. At most one of the errors is set;
// a redirect error comes with the (valid) request so it can be redirected.
func (e *Emulator) parseAuthRequest(q url.Values) (authRequest, *authPageError, *oauthError) {
	var req authRequest
	req.clientID = q.Get("client_id")
	if req.clientID == "" {
		return req, &authPageError{"invalid_request", "Missing required parameter: client_id"}, nil
	}
	if _, ok := e.clients[req.clientID]; !ok {
		return req, &authPageError{"invalid_client", "The OAuth client was not found."}, nil
	}
	req.redirectURI = q.Get("redirect_uri")
	if req.redirectURI == "" {
		return req, &authPageError{"invalid_request", "Missing required parameter: redirect_uri"}, nil
	}
	if !validRedirectURI(req.redirectURI) {
		return req, &authPageError{"redirect_uri_mismatch",
			"The redirect URI in the request, " + req.redirectURI + ", is not a valid http(s) URL without a fragment."}, nil
	}
	if reg, ok := e.registrations[req.clientID]; ok && !reg.allowsRedirect(req.redirectURI) {
		return req, &authPageError{"redirect_uri_mismatch", reg.mismatch(req.redirectURI)}, nil
	}
	req.state, req.stateSet = q.Get("state"), q.Has("state")

	bad := func(code, desc string) (authRequest, *authPageError, *oauthError) {
		return req, nil, &oauthError{status: http.StatusBadRequest, code: code, description: desc}
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return bad("invalid_request", "Required parameter is missing: response_type")
	default:
		return bad("unsupported_response_type", "Invalid response_type: "+rt)
	}
	rawScope := q.Get("scope")
	if strings.TrimSpace(rawScope) == "" {
		return bad("invalid_request", "Missing required parameter: scope")
	}
	scopes, ok := parseScopes(rawScope)
	if !ok {
		return bad("invalid_scope", "Some requested scopes were invalid. {invalid="+rawScope+"}")
	}
	req.scopes = scopes

	req.challenge = q.Get("code_challenge")
	req.challengeMethod = q.Get("code_challenge_method")
	switch {
	case req.challenge == "" && req.challengeMethod != "":
		return bad("invalid_request", "code_challenge_method without code_challenge")
	case req.challenge != "":
		if req.challengeMethod == "" {
			req.challengeMethod = "plain" // RFC 7636's default, which Google follows
		}
		if req.challengeMethod != "S256" && req.challengeMethod != "plain" {
			return bad("invalid_request", "Invalid code_challenge_method: "+req.challengeMethod)
		}
		if !pkceChallengeRE.MatchString(req.challenge) {
			return bad("invalid_request", "Invalid code_challenge")
		}
	}

	switch at := q.Get("access_type"); at {
	case "", "online":
	case "offline":
		req.offline = true
	default:
		return bad("invalid_request", "Invalid access_type: "+at)
	}
	prompts := strings.Fields(q.Get("prompt"))
	for _, p := range prompts {
		if p != "none" && p != "consent" && p != "select_account" {
			return bad("invalid_request", "Invalid prompt: "+p)
		}
	}
	if slices.Contains(prompts, "none") && len(prompts) > 1 {
		return bad("invalid_request", "prompt=none cannot be combined with other values")
	}
	req.promptConsent = slices.Contains(prompts, "consent")
	req.includeGranted = q.Get("include_granted_scopes") == "true"
	req.loginHint = q.Get("login_hint")
	if slices.Contains(prompts, "none") && req.loginHint == "" {
		// No browser session in the emulator: without a hint nobody is signed in.
		return bad("login_required", "Login required")
	}
	return req, nil, nil
}

// validRedirectURI accepts absolute http(s) URLs without fragments. The
// emulator has no console where clients register redirect URIs, so the exact
// match Google enforces is checked at the token endpoint instead.
func validRedirectURI(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Fragment != "" || strings.Contains(s, "#") || u.Host == "" {
		return false
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

func (e *Emulator) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	req, pageErr, redirErr := e.parseAuthRequest(r.URL.Query())
	if pageErr != nil {
		e.renderAuthError(w, *pageErr)
		return
	}
	if redirErr != nil {
		redirectError(w, r, req, redirErr.code, redirErr.description)
		return
	}
	strict := e.hintPrefillsOnly.Load()
	if strict && slices.Contains(strings.Fields(r.URL.Query().Get("prompt")), "none") {
		// Nobody has a Google session in the emulator's browser, and a
		// hint signs nobody in: Google answers login_required.
		redirectError(w, r, req, "login_required", "Login required")
		return
	}
	// Lenient mode: a login_hint acts as a signed-in user who already
	// consented to every scope asked for (Options.LoginHintOnlyPrefills).
	if email, ok := normalizeEmail(req.loginHint); ok && !strict {
		e.redirectWithCode(w, r, req, email, req.scopes)
		return
	}
	id := randomString(32)
	e.mu.Lock()
	e.prunePendingLocked()
	e.pending[id] = &pendingLogin{req: req, expires: e.now().Add(pendingLoginTTL)}
	e.mu.Unlock()
	e.renderLogin(w, http.StatusOK, loginPage{PendingID: id, Email: req.loginHint, ClientID: req.clientID,
		RedirectHost: hostOf(req.redirectURI), Scopes: scopeChoices(req.scopes, nil, false)})
}

// pendingLogin is an authorization request waiting for the login form.
type pendingLogin struct {
	req     authRequest
	expires time.Time
}

func (e *Emulator) prunePendingLocked() {
	now := e.now()
	for id, p := range e.pending {
		if !now.Before(p.expires) {
			delete(e.pending, id)
		}
	}
}

// handleLoginSubmit receives the login page's form.
func (e *Emulator) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		e.renderAuthError(w, authPageError{"invalid_request", "The sign-in form could not be read."})
		return
	}
	id := r.PostForm.Get("pending")
	e.mu.Lock()
	p, ok := e.pending[id]
	if ok && !e.now().Before(p.expires) {
		delete(e.pending, id)
		ok = false
	}
	e.mu.Unlock()
	if !ok {
		e.renderAuthError(w, authPageError{"invalid_request",
			"This sign-in request has expired or was already used. Start again from the application."})
		return
	}
	req := p.req
	if r.PostForm.Get("action") == "deny" {
		e.takePending(id)
		redirectError(w, r, req, "access_denied", "")
		return
	}
	email, valid := normalizeEmail(r.PostForm.Get("email"))
	if !valid {
		e.renderLogin(w, http.StatusOK, loginPage{PendingID: id, Email: r.PostForm.Get("email"), ClientID: req.clientID,
			RedirectHost: hostOf(req.redirectURI), Scopes: scopeChoices(req.scopes, r.PostForm["scope"], true),
			Problem: "Enter an email address, like alice@example.com."})
		return
	}
	if !e.takePending(id) {
		// A concurrent submit of the same form won the race.
		e.renderAuthError(w, authPageError{"invalid_request", "This sign-in request was already used. Start again from the application."})
		return
	}
	e.redirectWithCode(w, r, req, email, grantedFromForm(req.scopes, r.PostForm))
}

// takePending consumes a pending login, reporting whether it was still there.
func (e *Emulator) takePending(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.pending[id]
	delete(e.pending, id)
	return ok
}

// redirectWithCode records the user's consent to granted (the requested
// scopes the person left ticked) and sends the browser back to the client
// with a fresh authorization code.
func (e *Emulator) redirectWithCode(w http.ResponseWriter, r *http.Request, req authRequest, email string, granted []string) {
	e.mu.Lock()
	e.userLocked(email)
	key := grantKey{email, req.clientID}
	g := e.grants[key]
	scopes := granted
	if req.includeGranted && g != nil {
		scopes = unionScopes(g.scopes, scopes)
	}
	// Google sends a refresh token for offline access only the first time a
	// user consents, unless the client forces the consent screen again.
	issueRefresh := req.offline && (g == nil || !g.offline || req.promptConsent)
	if g == nil {
		g = &grant{}
		e.grants[key] = g
	}
	g.scopes = unionScopes(g.scopes, granted)
	code := "4/0A" + randomString(70)
	e.codes[code] = &authCode{req: req, email: email, scopes: scopes, issueRefresh: issueRefresh,
		expires: e.now().Add(authCodeTTL)}
	e.issued = append(e.issued, code)
	e.mu.Unlock()

	params := url.Values{"code": {code}, "scope": {strings.Join(scopes, " ")}, "authuser": {"0"}, "prompt": {"consent"}}
	if req.stateSet {
		params.Set("state", req.state)
	}
	http.Redirect(w, r, addQuery(req.redirectURI, params), http.StatusFound)
}

func redirectError(w http.ResponseWriter, r *http.Request, req authRequest, code, description string) {
	params := url.Values{"error": {code}}
	if description != "" {
		params.Set("error_description", description)
	}
	if req.stateSet {
		params.Set("state", req.state)
	}
	http.Redirect(w, r, addQuery(req.redirectURI, params), http.StatusFound)
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}
