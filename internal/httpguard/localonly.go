package httpguard

import (
	"net/http"
	"strings"

	"github.com/drivemcp/drivemcp/internal/loopback"
)

// localOnlyRefusal says what happened and what to do about it.
const localOnlyRefusal = "Forbidden: this drivemcp runs with --auth none, which trusts only requests made on this computer, " +
	"and this request came through a proxy or named another host. To serve it through a proxy or a public URL, run drivemcp with --auth oauth."

// LocalOnly guards trusted local mode (--auth none), where whoever reaches
// the server acts as any stored Google account. The listener is loopback
// (the configuration insists), but a reverse proxy on the same host would
// still bring the internet to it: such requests carry Forwarded or
// X-Forwarded-* headers, or a Host that is not loopback, and are answered
// 403 before any handler runs.
func LocalOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if proxied(r.Header) || !loopback.IsURL("http://"+r.Host) {
			http.Error(w, localOnlyRefusal, http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// proxied reports whether a request carries a header that reverse proxies
// add.
func proxied(h http.Header) bool {
	for k := range h {
		// Keys a client sent in an odd spelling stay uncanonicalized.
		k = strings.ToLower(k)
		if k == "forwarded" || k == "x-real-ip" || strings.HasPrefix(k, "x-forwarded-") {
			return true
		}
	}
	return false
}
