package cors

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestPolicy_LoopbackByDefaultNotOthers(t *testing.T) {
	p, err := New(LoopbackOrigins)
	if err != nil {
		t.Fatal(err)
	}
	for origin, want := range map[string]bool{
		"http://localhost:6274":   true,
		"http://LOCALHOST:6274":   true,
		"http://127.0.0.1:1":      true,
		"http://[::1]:6274":       true,
		"http://localhost":        false, // no port: not what "localhost:*" names
		"https://localhost:6274":  false, // another scheme is another origin
		"http://evil.example":     false,
		"http://localhost.evil:1": false,
		"null":                    false,
		"http://127.0.0.2:6274":   false,
	} {
		if got := p.Allows(origin); got != want {
			t.Errorf("Allows(%q) = %v, want %v", origin, got, want)
		}
	}
}

func TestNew_RefusesWhatIsNotAnOrigin(t *testing.T) {
	for _, bad := range []string{"localhost:6274", "https://app.example/path", "https://*.example", "https://app.example?x", "*.example"} {
		if _, err := New([]string{bad}); !errors.Is(err, ErrOrigin) {
			t.Errorf("New(%q) = %v, want ErrOrigin", bad, err)
		}
	}
	if _, err := New([]string{"https://app.example", "https://app.example/", "http://localhost:*", "*"}); err != nil {
		t.Fatal(err)
	}
}

// A page of an allowed origin gets its preflight answered and can read the
// session id and the OAuth challenge; a page of another origin gets no CORS
// header at all, and its preflight never reaches the handler.
func TestWrap_PreflightOnlyForAllowedOrigins(t *testing.T) {
	p, _ := New(LoopbackOrigins)
	reached := 0
	h := p.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }), http.MethodPost)
	preflight := func(origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodOptions, "/mcp", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization, mcp-protocol-version")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	ok := preflight("http://localhost:6274")
	if ok.Code != http.StatusNoContent || ok.Header().Get("Access-Control-Allow-Origin") != "http://localhost:6274" ||
		ok.Header().Get("Access-Control-Allow-Headers") != allowHeaders {
		t.Errorf("allowed preflight: %d %v", ok.Code, ok.Header())
	}
	bad := preflight("http://evil.example")
	if bad.Header().Get("Access-Control-Allow-Origin") != "" || bad.Header().Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("refused preflight got CORS headers: %v", bad.Header())
	}
	if reached != 0 {
		t.Errorf("a preflight reached the handler %d times", reached)
	}
	r := httptest.NewRequest(http.MethodPost, "/mcp", nil)
	r.Header.Set("Origin", "http://127.0.0.1:6274")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if reached != 1 || w.Header().Get("Access-Control-Expose-Headers") != exposeHeaders {
		t.Errorf("actual request: reached %d, headers %v", reached, w.Header())
	}
}
