package httpguard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// In trusted local mode (--auth none) whoever reaches the server is taken
// to be the local user. A request a reverse proxy forwarded, or one naming
// a public host, comes from someone else: it is refused before any handler
// runs, with a sentence saying why.
func TestAuthNone_ProxiedRequestsRefused(t *testing.T) {
	reached := false
	h := LocalOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
	refused := []struct {
		name, host string
		header     http.Header
	}{
		{"Forwarded", "127.0.0.1:8080", http.Header{"Forwarded": {"for=203.0.113.7;proto=https"}}},
		{"X-Forwarded-For", "127.0.0.1:8080", http.Header{"X-Forwarded-For": {"203.0.113.7"}}},
		{"X-Forwarded-Host", "127.0.0.1:8080", http.Header{"X-Forwarded-Host": {"drive.example.com"}}},
		{"X-Forwarded-Proto", "localhost:8080", http.Header{"X-Forwarded-Proto": {"https"}}},
		{"X-Real-Ip", "localhost", http.Header{"X-Real-Ip": {"203.0.113.7"}}},
		{"public Host", "drive.example.com", nil},
		{"private Host", "192.168.1.10:8080", nil},
		{"empty Host", "", nil},
	}
	for _, c := range refused {
		reached = false
		r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader("{}"))
		r.Host = c.host
		for k, v := range c.header {
			r.Header[k] = v
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body, _ := io.ReadAll(w.Body)
		if w.Code != http.StatusForbidden || reached {
			t.Errorf("%s: status %d, handler reached %v; want 403 before the handler", c.name, w.Code, reached)
		}
		if !strings.Contains(string(body), "--auth oauth") {
			t.Errorf("%s: the answer should say what to do: %q", c.name, body)
		}
	}
	for _, host := range []string{"127.0.0.1:8080", "localhost:8080", "[::1]:8080", "localhost"} {
		reached = false
		r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader("{}"))
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || !reached {
			t.Errorf("Host %s: status %d, handler reached %v; a local request must pass", host, w.Code, reached)
		}
	}
}
