package googleemu

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The token endpoint (POST /token) and revocation (POST /revoke), with
// Google's error codes and descriptions.

func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_request", "Could not parse the request body."})
		return
	}
	form := r.PostForm
	grantType := form.Get("grant_type")
	e.mu.Lock()
	e.tokenRequests[grantType]++
	e.mu.Unlock()

	if grantType == "" {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_request", "Required parameter is missing: grant_type"})
		return
	}
	clientID, err := e.authenticateClient(r)
	if err != nil {
		writeOAuthError(w, *err)
		return
	}
	var resp map[string]any
	switch grantType {
	case "authorization_code":
		resp, err = e.exchangeCode(clientID, form)
	case "refresh_token":
		resp, err = e.refresh(clientID, form)
	default:
		err = &oauthError{http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: " + grantType}
	}
	if err != nil {
		writeOAuthError(w, *err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// authenticateClient checks client_secret_basic or client_secret_post.
func (e *Emulator) authenticateClient(r *http.Request) (string, *oauthError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: both parts are form-encoded inside Basic auth.
		if v, err := url.QueryUnescape(id); err == nil {
			id = v
		}
		if v, err := url.QueryUnescape(secret); err == nil {
			secret = v
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return "", &oauthError{http.StatusBadRequest, "invalid_request", "Could not determine client ID from request."}
	}
	want, ok := e.clients[id]
	if !ok {
		return "", &oauthError{http.StatusUnauthorized, "invalid_client", "The OAuth client was not found."}
	}
	if secret == "" {
		return "", &oauthError{http.StatusBadRequest, "invalid_request", "client_secret is missing."}
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 {
		return "", &oauthError{http.StatusUnauthorized, "invalid_client", "Unauthorized"}
	}
	return id, nil
}

func invalidGrant(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_grant", desc}
}

// exchangeCode redeems an authorization code. A code is consumed by the first
// redemption attempt from its own client, whatever the outcome, so a stolen
// code cannot be retried with guessed verifiers.
func (e *Emulator) exchangeCode(clientID string, form url.Values) (map[string]any, *oauthError) {
	code := form.Get("code")
	if code == "" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "Missing required parameter: code"}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.codes[code]
	if !ok {
		return nil, invalidGrant("Malformed auth code.")
	}
	if c.req.clientID != clientID {
		return nil, &oauthError{http.StatusBadRequest, "invalid_grant", "Bad Request"}
	}
	if c.used || !e.now().Before(c.expires) {
		return nil, invalidGrant("Bad Request")
	}
	c.used = true
	switch redirect := form.Get("redirect_uri"); {
	case redirect == "":
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "Missing parameter: redirect_uri"}
	case redirect != c.req.redirectURI:
		return nil, &oauthError{http.StatusBadRequest, "redirect_uri_mismatch", "Bad Request"}
	}
	if c.req.challenge != "" {
		verifier := form.Get("code_verifier")
		if verifier == "" {
			return nil, invalidGrant("Missing code verifier.")
		}
		if !pkceMatches(c.req.challengeMethod, c.req.challenge, verifier) {
			return nil, invalidGrant("Invalid code verifier.")
		}
	}
	resp := e.mintAccessLocked(c.email, clientID, c.scopes, "")
	if c.issueRefresh {
		rt := "1//0" + randomString(100)
		e.refreshTokens[rt] = &refreshToken{email: c.email, clientID: clientID, scopes: c.scopes, issued: e.now()}
		e.issued = append(e.issued, rt)
		if g := e.grants[grantKey{c.email, clientID}]; g != nil {
			g.offline = true
		}
		resp["refresh_token"] = rt
		// Access tokens minted with this code belong to the refresh token's family.
		e.accessTokens[resp["access_token"].(string)].refresh = rt
	}
	return resp, nil
}

func pkceMatches(method, challenge, verifier string) bool {
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		verifier = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(verifier), []byte(challenge)) == 1
}

// refresh mints a new access token. Google does not rotate refresh tokens,
// so the response carries none and clients keep theirs.
func (e *Emulator) refresh(clientID string, form url.Values) (map[string]any, *oauthError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "Missing required parameter: refresh_token"}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.refreshTokens[rt]
	if !ok || t.revoked {
		return nil, invalidGrant("Token has been expired or revoked.")
	}
	// An app in the "Testing" publishing status gets refresh tokens that
	// expire 7 days after they were issued ("Using OAuth 2.0 to Access
	// Google APIs", Refresh token expiration: /identity/protocols/oauth2#expiration).
	if e.refreshMaxAge > 0 && e.now().Sub(t.issued) >= e.refreshMaxAge {
		return nil, invalidGrant("Token has been expired or revoked.")
	}
	if t.clientID != clientID {
		return nil, &oauthError{http.StatusUnauthorized, "unauthorized_client", "Unauthorized"}
	}
	// A refresh token stands for the user's whole grant to the client, as at
	// Google: scopes the user added later (include_granted_scopes) come with
	// it, though that consent issued no new refresh token.
	granted := t.scopes
	if g := e.grants[grantKey{t.email, clientID}]; g != nil {
		granted = g.scopes
	}
	scopes := granted
	if raw := form.Get("scope"); raw != "" {
		want, ok := parseScopes(raw)
		if !ok || slices.ContainsFunc(want, func(s string) bool { return !slices.Contains(granted, s) }) {
			return nil, &oauthError{http.StatusBadRequest, "invalid_scope", "Some requested scopes were not granted."}
		}
		scopes = want
	}
	return e.mintAccessLocked(t.email, clientID, scopes, rt), nil
}

func (e *Emulator) mintAccessLocked(email, clientID string, scopes []string, refresh string) map[string]any {
	at := "ya29." + randomString(150)
	e.accessTokens[at] = &accessToken{email: email, clientID: clientID, scopes: scopes,
		expires: e.now().Add(e.accessTTL), refresh: refresh}
	e.issued = append(e.issued, at)
	return map[string]any{
		"access_token": at,
		"expires_in":   int(e.accessTTL.Seconds()),
		"scope":        strings.Join(scopes, " "),
		"token_type":   "Bearer",
	}
}

// handleRevoke revokes an access or refresh token, and with it the grant.
func (e *Emulator) handleRevoke(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_request", "Could not parse the request body."})
		return
	}
	tok := r.Form.Get("token") // r.Form holds the body and the query
	if tok == "" {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_request", "Missing required parameter: token"})
		return
	}
	e.mu.Lock()
	var email, clientID string
	found := false
	if t, ok := e.lookupAccessLocked(tok); ok {
		email, clientID, found = t.email, t.clientID, true
	} else if t, ok := e.refreshTokens[tok]; ok && !t.revoked {
		email, clientID, found = t.email, t.clientID, true
	}
	if found {
		e.revokeGrantLocked(email, clientID, tok)
	}
	e.mu.Unlock()
	if !found {
		writeOAuthError(w, oauthError{http.StatusBadRequest, "invalid_token", "Token expired or revoked"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}
