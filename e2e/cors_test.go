package e2e

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// A browser-based MCP client (MCP Inspector's direct connection, a web app
// using the TypeScript SDK) first asks whether its page may call /mcp and
// the OAuth endpoints: pages served from this machine may by default, a
// page from anywhere else may not.
func TestCORS_PreflightFromLoopbackPageAnsweredEvilOriginNot(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	preflight := func(path, origin string) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodOptions, srv.BaseURL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, mcp-protocol-version, mcp-session-id")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, path := range []string{"/mcp", "/oauth/register", "/oauth/token", "/oauth/revoke"} {
		resp := preflight(path, "http://localhost:6274")
		h := resp.Header
		if resp.StatusCode/100 != 2 || h.Get("Access-Control-Allow-Origin") != "http://localhost:6274" {
			t.Errorf("%s from http://localhost:6274: %s, Allow-Origin %q", path, resp.Status, h.Get("Access-Control-Allow-Origin"))
			continue
		}
		allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
		for _, want := range []string{"authorization", "content-type", "mcp-session-id", "mcp-protocol-version", "last-event-id"} {
			if !strings.Contains(allowed, want) {
				t.Errorf("%s: Access-Control-Allow-Headers %q lacks %s", path, allowed, want)
			}
		}
		if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("%s: Access-Control-Allow-Methods %q", path, h.Get("Access-Control-Allow-Methods"))
		}

		evil := preflight(path, "http://evil.example")
		if o := evil.Header.Get("Access-Control-Allow-Origin"); o != "" || evil.Header.Get("Access-Control-Allow-Headers") != "" {
			t.Errorf("%s from http://evil.example: allowed (%q)", path, o)
		}
	}

	// The page may read the session id and the OAuth challenge of the
	// answers it gets.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.BaseURL+"/mcp", strings.NewReader(`{}`))
	req.Header.Set("Origin", "http://localhost:6274")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	expose := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(expose, "mcp-session-id") || !strings.Contains(expose, "www-authenticate") {
		t.Errorf("POST /mcp without a token from http://localhost:6274: %s, Expose-Headers %q", resp.Status, expose)
	}
}

// An origin added with --cors-origins may call /mcp from a browser (its
// requests pass the DNS-rebinding check, which knows the CORS policy),
// while any other origin is still refused there.
func TestCORS_ConfiguredOriginPassesRebindingCheckOthersRefused(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g,
		ExtraArgs: []string{"--cors-origins", "https://app.example"}})
	c := hostileLogin(t, srv.BaseURL, "cors@example.com")
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`
	if status, h, body := c.post(t, withHeader(c.headers(), "Origin", "https://app.example"), list); status != 200 || h.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("from https://app.example: %d %q %s", status, h.Get("Access-Control-Allow-Origin"), body)
	}
	if status, _, body := c.post(t, withHeader(c.headers(), "Origin", "http://evil.example"), list); status != http.StatusForbidden {
		t.Errorf("from http://evil.example: %d %s", status, body)
	}
}
