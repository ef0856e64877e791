package httpguard

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRequireOrigin_RefusesPagesOfOtherOrigins(t *testing.T) {
	h := RequireOrigin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), "https://drive-mcp.example.com")
	for _, c := range []struct {
		origin string
		want   int
	}{
		{"", http.StatusOK}, // not a browser page
		{"https://drive-mcp.example.com", http.StatusOK},
		{"https://DRIVE-MCP.example.com:443", http.StatusOK},
		{"http://localhost:6274", http.StatusOK}, // MCP Inspector on this machine
		{"http://127.0.0.1:6274", http.StatusOK},
		{"http://[::1]:6274", http.StatusOK},
		{"http://attacker.example", http.StatusForbidden}, // DNS rebinding
		{"http://drive-mcp.example.com", http.StatusForbidden},
		{"https://drive-mcp.example.com:8443", http.StatusForbidden},
		{"http://localhost.attacker.example", http.StatusForbidden},
		{"null", http.StatusForbidden},
	} {
		r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		if c.origin != "" {
			r.Header.Set("Origin", c.origin)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("Origin %q: %d, want %d", c.origin, w.Code, c.want)
		}
	}
}
