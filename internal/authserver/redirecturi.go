package authserver

import (
	"errors"
	"net/url"
	"strings"

	"github.com/drivemcp/drivemcp/internal/loopback"
)

// forbiddenSchemes can run code or read local files in a browser: never a
// redirect target, whatever the client says.
var forbiddenSchemes = map[string]bool{
	"javascript": true, "data": true, "file": true, "vbscript": true, "about": true, "blob": true, "filesystem": true,
}

// checkRedirectURI is the one check of a client's redirect URI, registered
// (RFC 7591) or listed in a metadata document: https, http on a loopback
// address (RFC 8252 §7.3), or for native apps a private-use scheme (RFC 8252
// §7.1). applicationType "" accepts both kinds; the result says whether the
// URI implies a native app. The error is a clause ("it is …") for the
// caller to put after the URI it names.
func checkRedirectURI(raw string, applicationType string) (native bool, err error) {
	if raw == "" || len(raw) > 2000 {
		return false, errors.New("it is empty or longer than 2000 characters")
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || r == '\\' {
			return false, errors.New("it contains white space, a backslash or a control character")
		}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return false, errors.New("it is not an absolute URI")
	}
	if problem := spoofableURIProblem(raw, u); problem != "" {
		return false, errors.New("it " + problem)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case forbiddenSchemes[scheme]:
		return false, errors.New("the " + scheme + ": scheme is never allowed")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return false, errors.New("a redirect URI must not contain a fragment (#…, RFC 6749 §3.1.2)")
	case u.User != nil:
		return false, errors.New("a redirect URI must not contain user information")
	case scheme == "https":
		if u.Hostname() == "" {
			return false, errors.New("it has no host")
		}
		return false, nil
	case scheme == "http":
		if !loopback.IsHost(u.Hostname()) {
			return false, errors.New("http is only allowed on loopback (127.0.0.1, [::1] or localhost); anything else must use https")
		}
		return false, nil
	case applicationType == "web":
		return false, errors.New(`it has a private-use scheme, but web applications must use https (or loopback http) redirect URIs; use application_type "native"`)
	case u.Opaque == "" && u.Host == "" && u.Path == "":
		return false, errors.New("it has nothing after its scheme")
	}
	return true, nil
}

// spoofableURIProblem refuses what would let a redirect URI look like
// another on the consent page, which shows its host: URIs are ASCII (RFC
// 3986), so an internationalised host must be given in its xn-- form, and a
// host that percent-decodes to other characters (homoglyphs such as a
// Cyrillic "а" in "аpple.com", right-to-left overrides) is refused. It
// returns what is wrong, as a clause, or "".
func spoofableURIProblem(raw string, u *url.URL) string {
	for i := 0; i < len(raw); i++ {
		if raw[i] > 0x7e {
			return "must be ASCII (RFC 3986): write an internationalised host in its xn-- form and percent-encode the rest"
		}
	}
	for _, r := range u.Host {
		if r <= ' ' || r > 0x7e {
			return "has a host that decodes to characters outside ASCII, which could imitate another host; write it in its xn-- form"
		}
	}
	return ""
}

// redirectMatches compares a requested redirect URI with a registered one:
// exactly, except that a loopback URI may use any port (RFC 8252 §7.3),
// since native apps get a fresh port from the OS for each login. The path
// is compared as written, not decoded: "/%63allback" or "/a%2Fb" name other
// resources than "/callback" or "/a/b" to the server that receives them.
func redirectMatches(registered, requested string) bool {
	if registered == requested {
		return true
	}
	r, err1 := url.Parse(registered)
	q, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil || r.Scheme != "http" || q.Scheme != "http" {
		return false
	}
	if !loopback.IsHost(r.Hostname()) || r.Hostname() != q.Hostname() {
		return false
	}
	return r.Opaque == "" && q.Opaque == "" && r.EscapedPath() == q.EscapedPath() && r.RawQuery == q.RawQuery &&
		!strings.Contains(requested, "#") && q.User == nil
}

// registeredRedirect returns the client's registered URI that the request
// names, or false.
func registeredRedirect(registered []string, requested string) (string, bool) {
	for _, uri := range registered {
		if redirectMatches(uri, requested) {
			return requested, true
		}
	}
	return "", false
}
