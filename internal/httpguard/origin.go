package httpguard

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/drivemcp/drivemcp/internal/loopback"
)

// RequireOrigin answers 403 to a browser request for the MCP endpoint made
// by a page of another origin, as the MCP transport specification asks of
// servers, against DNS rebinding: a page on attacker.example re-resolves its
// own name to this server, so the browser's same-origin rules let it call
// /mcp (and a server on loopback trusts whoever reaches it). Such a request
// carries Origin: http://attacker.example, which is neither baseURL's origin
// nor a loopback one. Requests without Origin (every client that is not a
// browser page) pass; so do local pages (http://localhost:6274, say, MCP
// Inspector's), whose origin no rebinding attacker can take.
func RequireOrigin(next http.Handler, baseURL string) http.Handler {
	return RequireOriginOr(next, baseURL, nil)
}

// RequireOriginOr is RequireOrigin that also lets pages of the origins
// allowed (the CORS policy, --cors-origins) through. That keeps the
// defence: a rebinding page's requests carry its own origin (the
// attacker's name, which it made resolve here), never one of the listed
// origins, which the attacker does not control; and every request still
// needs a bearer token the user approved.
func RequireOriginOr(next http.Handler, baseURL string, allowed func(origin string) bool) http.Handler {
	own := originOf(baseURL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && !originAllowed(o, own) && (allowed == nil || !allowed(o)) {
			http.Error(w, "Forbidden: requests from pages of origin "+strconv.Quote(o)+" may not use this MCP server", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originOf is a URL's origin, scheme://host[:port] in lower case without
// the scheme's default port; "" if it has none.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return ""
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

func originAllowed(origin, own string) bool {
	o := originOf(origin)
	if o == "" {
		return false // "null" (sandboxed frames, file:) or garbage
	}
	if o == own {
		return true
	}
	u, _ := url.Parse(o)
	return loopback.IsHost(u.Hostname())
}
