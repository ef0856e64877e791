package googleemu

import (
	"net/http"
	"slices"
	"strings"
)

// handleUserinfo serves OpenID Connect userinfo (GET/POST /v1/userinfo).
// Like Google, it returns only what the token's scopes allow: the email
// needs userinfo.email (or "email"), the name needs userinfo.profile.
func (e *Emulator) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	tok := bearerToken(r)
	e.mu.Lock()
	t, ok := e.lookupAccessLocked(tok)
	var u user
	if ok {
		u = *e.userLocked(t.email)
	}
	e.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeOAuthError(w, oauthError{http.StatusUnauthorized, "invalid_request", "Invalid Credentials"})
		return
	}
	info := map[string]any{"sub": u.sub}
	if slices.Contains(t.scopes, scopeEmail) {
		info["email"] = u.email
		info["email_verified"] = true
	}
	if slices.Contains(t.scopes, scopeProfile) {
		given, family, _ := strings.Cut(u.name, " ")
		info["name"] = u.name
		info["given_name"] = given
		if family != "" {
			info["family_name"] = family
		}
		info["picture"] = ""
	}
	writeJSON(w, http.StatusOK, info)
}
