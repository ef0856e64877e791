// Package cors answers browser preflights and labels answers for the pages
// of allowed origins: one policy for /mcp and the OAuth endpoints a
// browser-based MCP client calls (docs/configuration.md, --cors-origins).
package cors

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// LoopbackOrigins are allowed when --cors-origins is not set: pages served
// from this machine (MCP Inspector's web UI, say), on any port.
var LoopbackOrigins = []string{"http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"}

// allowHeaders are the request headers an MCP client in a browser sends:
// its bearer token, JSON, the session and revision headers of the
// streamable HTTP transport, and the resumption header of its streams.
const allowHeaders = "Authorization, Content-Type, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID"

// exposeHeaders are the answer headers such a client must read: the
// session it was given, and the challenge that starts its OAuth login.
const exposeHeaders = "Mcp-Session-Id, WWW-Authenticate"

// ErrOrigin is wrapped by New for a pattern that is not an origin.
var ErrOrigin = errors.New("not an origin")

// Policy is the set of origins whose pages may call the wrapped endpoints.
type Policy struct {
	exact    map[string]bool
	anyPort  map[string]bool // "scheme://host" whose every port is allowed
	anything bool
}

// New builds a policy from origins: "https://app.example",
// "http://localhost:*" (any port) or "*" (every origin; the endpoints
// need a bearer token or client credentials anyway, never cookies).
func New(origins []string) (*Policy, error) {
	p := &Policy{exact: map[string]bool{}, anyPort: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			p.anything = true
			continue
		}
		if base, ok := strings.CutSuffix(o, ":*"); ok {
			canon := Origin(base)
			if canon == "" || canon != strings.ToLower(base) {
				return nil, fmt.Errorf("%q: %w (want scheme://host:*)", o, ErrOrigin)
			}
			p.anyPort[canon] = true
			continue
		}
		canon := Origin(o)
		if canon == "" {
			return nil, fmt.Errorf("%q: %w (want scheme://host[:port], no path)", o, ErrOrigin)
		}
		p.exact[canon] = true
	}
	return p, nil
}

// Allows reports whether a page of origin may call the wrapped endpoints.
func (p *Policy) Allows(origin string) bool {
	o := Origin(origin)
	if o == "" {
		return false // "null" (sandboxed frames, file:) or garbage
	}
	if p.anything || p.exact[o] {
		return true
	}
	u, _ := url.Parse(o)
	return u.Port() != "" && p.anyPort[u.Scheme+"://"+hostOf(u)]
}

// Wrap answers preflights (OPTIONS with Access-Control-Request-Method) for
// allowed origins itself, with methods as the allowed methods, and adds the
// CORS answer headers to every other request of an allowed origin. A
// preflight from any other origin is answered 204 without them, so the
// browser refuses the request it was asking about; nothing else changes for
// requests without an allowed Origin.
func (p *Policy) Wrap(next http.Handler, methods ...string) http.Handler {
	allowMethods := strings.Join(append(methods, http.MethodOptions), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		h := w.Header()
		allowed := origin
		if p.anything {
			// Answers are the same for every origin (nothing depends on
			// cookies), so caches may share them.
			allowed = "*"
		} else {
			h.Add("Vary", "Origin")
		}
		if p.anything || (origin != "" && p.Allows(origin)) {
			h.Set("Access-Control-Allow-Origin", allowed)
			if preflight {
				h.Set("Access-Control-Allow-Methods", allowMethods)
				h.Set("Access-Control-Allow-Headers", allowHeaders)
				h.Set("Access-Control-Max-Age", "7200")
			} else {
				h.Set("Access-Control-Expose-Headers", exposeHeaders)
			}
		}
		if preflight {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Public lets a page of any origin read the answers (public documents
// such as OAuth metadata, which a client must read before it can know
// anything else) and answers its preflights.
func Public() *Policy { return &Policy{anything: true} }

// Origin is a URL's origin, scheme://host[:port] in lower case without the
// scheme's default port; "" if it has none or has more than an origin.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Host, "*") {
		return ""
	}
	scheme, port := strings.ToLower(u.Scheme), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	host := hostOf(u)
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

func hostOf(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host
}
