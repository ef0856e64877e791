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
		a := e.accounts[u.email]
		info["email"] = u.email
		info["email_verified"] = !a.EmailUnverified
		if hd := a.hostedDomain(u.email); hd != "" {
			info["hd"] = hd
		}
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

// hostedDomain is the account's "hd" claim ("" for a consumer account).
func (a Account) hostedDomain(email string) string {
	if a.Consumer {
		return ""
	}
	if a.HostedDomain != "" {
		return a.HostedDomain
	}
	_, domain, _ := strings.Cut(email, "@")
	if domain == "gmail.com" || domain == "googlemail.com" {
		return ""
	}
	return domain
}
