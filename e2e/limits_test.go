package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// The bounds drivemcp puts on its clients, seen from outside.

// A flood of registrations, or of guesses at the token endpoint, from one
// address is slowed down with 429, a Retry-After and an OAuth error that
// clients understand; other endpoints, and other work, go on.
func TestLimits_RegistrationAndTokenFloodsAreSlowedDown(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	register := func() *http.Response {
		body := `{"client_name":"flood","redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"none"}`
		resp, err := http.Post(srv.BaseURL+"/oauth/register", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	guess := func() *http.Response {
		resp, err := http.PostForm(srv.BaseURL+"/oauth/token", map[string][]string{
			"grant_type": {"refresh_token"}, "refresh_token": {"dmcp_rt_guess"}, "client_id": {"mcp_guess"}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, c := range []struct {
		name  string
		send  func() *http.Response
		burst int
		code  string
	}{
		{"register", register, 20, "temporarily_unavailable"},
		{"token", guess, 60, "slow_down"},
	} {
		for i := range c.burst {
			resp := c.send()
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				t.Fatalf("%s: request %d of the burst of %d was limited", c.name, i+1, c.burst)
			}
		}
		resp := c.send()
		var body struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != http.StatusTooManyRequests || wait < 1 || body.Error != c.code {
			t.Fatalf("%s after the burst: %s, Retry-After %q, error %q", c.name, resp.Status, resp.Header.Get("Retry-After"), body.Error)
		}
	}
	// Everything else still answers.
	for path, want := range map[string]int{"/healthz": 200, "/.well-known/oauth-authorization-server": 200, "/mcp": 401} {
		resp, err := http.Post(srv.BaseURL+path, "application/json", strings.NewReader(`{}`))
		if path != "/mcp" {
			resp, err = http.Get(srv.BaseURL + path)
		}
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s during the flood: %s", path, resp.Status)
		}
	}
	if !strings.Contains(metricsText(t, srv.BaseURL), `route="/oauth/token",method="POST",code="429"`) &&
		!strings.Contains(metricsText(t, srv.BaseURL), `code="429",method="POST",route="/oauth/token"`) {
		t.Fatal("/metrics does not count the refused token requests under their route")
	}
}

func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A web page of another origin cannot use /mcp (DNS rebinding: the page's
// own name re-resolved to this server), neither on a server without OAuth
// on loopback nor in front of the OAuth check; a page on this machine can.
func TestLimits_MCPRefusesPagesOfOtherOrigins(t *testing.T) {
	g := e2etest.StartGoogle(t)
	for _, auth := range []string{"oauth", "none"} {
		t.Run(auth, func(t *testing.T) {
			srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g,
				ExtraArgs: []string{"--auth", auth}})
			open, rebound := http.StatusOK, http.StatusForbidden
			if auth == "oauth" {
				// Past the origin check, stopped by OAuth; the go-sdk's own
				// Host check comes after OAuth's.
				open, rebound = http.StatusUnauthorized, http.StatusUnauthorized
			}
			for _, c := range []struct {
				origin, host string
				want         int
			}{
				{"http://attacker.example:" + portOf(srv.BaseURL), "", http.StatusForbidden},
				{"null", "", http.StatusForbidden},
				{"", "attacker.example:" + portOf(srv.BaseURL), rebound}, // rebinding without Origin
				{srv.BaseURL, "", open},
				{"http://localhost:6274", "", open}, // MCP Inspector on this machine
				{"", "", open},                      // not a browser
			} {
				req, _ := http.NewRequest(http.MethodPost, srv.BaseURL+"/mcp", strings.NewReader(initializeRequest))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				if c.origin != "" {
					req.Header.Set("Origin", c.origin)
				}
				if c.host != "" {
					req.Host = c.host
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != c.want {
					t.Errorf("Origin %q Host %q: %s, want %d", c.origin, c.host, resp.Status, c.want)
				}
			}
		})
	}
}

const initializeRequest = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`

func portOf(base string) string { return base[strings.LastIndexByte(base, ':')+1:] }

// Over HTTP, create_drive_file takes content up to its own cap (32 MiB):
// the MCP request that carries it as base64 is not refused by the
// transport's smaller default. A request beyond any tool's need is refused
// with 413 before it is read whole.
func TestLimits_MCPBodiesFitTheInlineCapAndNoMore(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g,
		ExtraArgs: []string{"--auth", "none"}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.BaseURL + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e2etest.Connect(t, s, "alice@example.com")
	data := make([]byte, 24<<20)
	_, _ = rand.Read(data)
	out := e2etest.Structured(t, e2etest.MustCall(t, s, "create_drive_file", map[string]any{
		"file_name": "inline.bin", "content_base64": base64.StdEncoding.EncodeToString(data)}))
	if out["size"] != float64(len(data)) {
		t.Fatalf("inline upload = %v", out)
	}

	huge := bytes.Repeat([]byte("A"), 64<<20)
	body := fmt.Sprintf(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_drive_file","arguments":{"file_name":"huge.bin","content_base64":"%s"}}}`, huge)
	req, _ := http.NewRequest(http.MethodPost, srv.BaseURL+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Session-Id", s.ID())
	req.Header.Set("Mcp-Protocol-Version", s.InitializeResult().ProtocolVersion)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 64 MiB message: %s, want 413", resp.Status)
	}
	if n := len(e2etest.FilesNamed(g, "huge.bin")); n != 0 {
		t.Fatal("the refused message created a file")
	}
}
