package authserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/web"
)

// A proxy login is bound to the browser that approved it. Without this, the
// Google link drivemcp redirects to after Allow could be copied and sent to
// someone else: Google signs that person in (it skips its own screen for a
// user who already granted drivemcp), and the callback would hand a code for
// their account to the client of whoever approved (login CSRF).
//
// Each transaction gets its own cookie, named after a hash of its state, so
// several logins in one browser do not overwrite each other. Its value is a
// MAC over the state: only this server can make it, and it reveals nothing
// of the state. It is scoped to the callback path and lives as long as the
// transaction.
const (
	bindingCookiePrefix = "drivemcp_login_"
	bindingPurpose      = "browser binding"
)

func bindingCookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	return bindingCookiePrefix + hex.EncodeToString(sum[:8])
}

// callbackPath is where Google returns the browser: the only path the
// binding cookie needs to reach.
func (s *Server) callbackPath() string {
	p := "/oauth2callback"
	if u, err := url.Parse(s.issuer); err == nil {
		p = strings.TrimRight(u.Path, "/") + p
	}
	return p
}

// hostPrefix is the cookie name prefix browsers reserve for cookies set by
// this very host over https with Secure, Path=/ and no Domain (RFC 6265bis
// §4.1.3.2): a sibling subdomain, which can set Domain= cookies for our
// host, cannot set one. Over plain http (loopback) no prefix can help:
// another local application reads and sets all of this host's cookies,
// since cookies ignore ports (see SECURITY.md).
const hostPrefix = "__Host-"

// httpsCookies reports whether drivemcp's cookies are __Host- cookies.
func (s *Server) httpsCookies() bool { return strings.HasPrefix(s.issuer, "https://") }

// cookie returns the http.Cookie for one of drivemcp's cookies named base,
// scoped to path over http and, over https, a __Host- cookie (whose path
// must be "/"). HttpOnly and SameSite=Lax always.
func (s *Server) cookie(base, path, value string) *http.Cookie {
	c := &http.Cookie{Name: s.cookieName(base), Value: value, Path: path, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if s.httpsCookies() {
		c.Secure, c.Path = true, "/"
	}
	return c
}

// cookieName is the name base is set and read under.
func (s *Server) cookieName(base string) string {
	if s.httpsCookies() {
		return hostPrefix + base
	}
	return base
}

// bindToBrowser sets the cookie that lets state complete at the callback in
// this browser only. Call it with the redirect to Google.
func (s *Server) bindToBrowser(w http.ResponseWriter, state string) {
	c := s.cookie(bindingCookieName(state), s.callbackPath(), s.signer.sign(bindingPurpose, state))
	c.MaxAge = int(transactionTTL.Seconds())
	http.SetCookie(w, c)
}

// checkBrowserBinding reports whether the callback for state of a flow of
// kind may go on in this browser, and spends the binding cookie. For a proxy
// login without the cookie of the browser that approved it, it shows an
// error page (never a redirect to the client) and reports false. The direct
// flow is not bound: its link starts at Google, not at a page of ours (see
// SECURITY.md).
func (s *Server) checkBrowserBinding(w http.ResponseWriter, r *http.Request, state string, kind store.FlowKind) bool {
	c, err := r.Cookie(s.cookieName(bindingCookieName(state)))
	if err == nil {
		clear := s.cookie(bindingCookieName(state), s.callbackPath(), "")
		clear.MaxAge = -1
		http.SetCookie(w, clear)
	}
	if kind != store.FlowProxy || (err == nil && s.signer.verify(c.Value, bindingPurpose, state)) {
		return true
	}
	s.fail(w, r, web.Error{Title: "Sign-in opened in another browser",
		Message: "This Google sign-in was approved in another browser, or this browser did not keep drivemcp's cookie, so drivemcp will not finish it here. " +
			"Nothing was sent to the application. If someone sent you this link, do not use it.",
		NextStep: "If you were connecting an application yourself, start again from that application and finish in the browser it opens, with cookies allowed for this site."},
		errors.New("proxy callback without the approving browser's binding cookie"))
	return false
}
