package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/httpguard"
	"github.com/drivemcp/drivemcp/internal/mcpserver"
)

// A hostile MCP client: it holds a valid token (or none) and sends /mcp
// everything but well-formed JSON-RPC. The real binary answers each with a
// 4xx or a JSON-RPC error, quickly, and goes on serving.

const hostileRedirect = "http://127.0.0.1:47915/callback"

// hostileClient is a public client that logged in by hand, holding its
// tokens and an MCP session opened with raw JSON-RPC.
type hostileClient struct {
	base, id, code, access, refresh, session string
}

func hostileLogin(t *testing.T, base, email string) *hostileClient {
	t.Helper()
	return hostileLoginScoped(t, base, email, "drive.file")
}

// hostileToken registers a public client and logs in by hand, holding
// tokens and no MCP session.
func hostileToken(t *testing.T, base, email, scope string) *hostileClient {
	t.Helper()
	id, _ := e2etest.RegisterClient(t, base, map[string]any{"client_name": "hostile e2e", "redirect_uris": []string{hostileRedirect},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none"})
	c := &hostileClient{base: base, id: id}
	verifier := oauth2.GenerateVerifier()
	back, err := e2etest.NewBrowser(email).Run(t.Context(), base+"/oauth/authorize?"+url.Values{
		"client_id": {c.id}, "redirect_uri": {hostileRedirect}, "response_type": {"code"}, "state": {"s"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
		"resource": {base + "/mcp"}, "scope": {scope},
	}.Encode(), hostileRedirect)
	if err != nil {
		t.Fatal(err)
	}
	c.code = back.Query().Get("code")
	resp, err := http.PostForm(base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {c.code},
		"code_verifier": {verifier}, "client_id": {c.id}, "redirect_uri": {hostileRedirect}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("token: %s", resp.Status)
	}
	c.access, c.refresh = tok.AccessToken, tok.RefreshToken
	return c
}

// hostileLoginScoped logs in by hand and opens an MCP session (2025-06-18).
func hostileLoginScoped(t *testing.T, base, email, scope string) *hostileClient {
	t.Helper()
	c := hostileToken(t, base, email, scope)
	status, header, body := c.post(t, map[string]string{"Authorization": "Bearer " + c.access},
		`{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"hostile","version":"1"}}}`)
	c.session = header.Get("Mcp-Session-Id")
	if status != http.StatusOK || c.session == "" {
		t.Fatalf("initialize: %d %s", status, body)
	}
	if status, _, body := c.post(t, c.headers(), `{"jsonrpc":"2.0","method":"notifications/initialized"}`); status != http.StatusAccepted {
		t.Fatalf("initialized: %d %s", status, body)
	}
	return c
}

// headers are what a well-behaved client sends on its session.
func (c *hostileClient) headers() map[string]string {
	return map[string]string{"Authorization": "Bearer " + c.access, "Mcp-Session-Id": c.session, "MCP-Protocol-Version": "2025-06-18"}
}

// post sends body to /mcp as JSON, with the Accept header the transport
// requires, and header on top.
func (c *hostileClient) post(t *testing.T, header map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	return c.do(t, http.MethodPost, header, body)
}

func (c *hostileClient) do(t *testing.T, method string, header map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.base+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	return resp.StatusCode, resp.Header, string(raw)
}

// openSession initializes an MCP session at version, as a client does,
// and returns header with the session's id and version added.
func (c *hostileClient) openSession(t *testing.T, header map[string]string, version string) map[string]string {
	t.Helper()
	status, h, body := c.post(t, header,
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"`+version+`","capabilities":{},"clientInfo":{"name":"e2e","version":"1"}}}`)
	if status != 200 || h.Get("Mcp-Session-Id") == "" {
		t.Fatalf("initialize: %d %s", status, body)
	}
	session := withHeader(header, "Mcp-Session-Id", h.Get("Mcp-Session-Id"), "MCP-Protocol-Version", version)
	if status, _, body := c.post(t, session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); status != 202 {
		t.Fatalf("initialized: %d %s", status, body)
	}
	return session
}

func withHeader(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func rawToolCall(id any, tool string, args any) string {
	raw, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": map[string]any{"name": tool, "arguments": args}})
	return string(raw)
}

// mcpAnswer is what a safe answer looks like: an HTTP status, and for a
// 200 what the JSON-RPC message holds.
type mcpAnswer struct {
	status int
	rpc    rpcKind
}

type rpcKind int

const (
	rpcNone   rpcKind = iota // a plain HTTP error (or 202): nothing to read
	rpcError                 // a JSON-RPC error object
	rpcTool                  // a tools/call result with isError: true, saying what to do
	rpcResult                // a result: the request was harmless after all
)

func httpStatusOnly(status int) mcpAnswer { return mcpAnswer{status: status} }

var (
	jsonRPCError = mcpAnswer{status: http.StatusOK, rpc: rpcError}
	toolError    = mcpAnswer{status: http.StatusOK, rpc: rpcTool}
	harmless     = mcpAnswer{status: http.StatusOK, rpc: rpcResult}
)

// TestHostileMCPRequests sends the real binary's /mcp (OAuth on, a valid
// token unless the case is about tokens) JSON-RPC garbage, transport abuse,
// oversized arguments and stolen or forged credentials. Each is answered
// within a second with a 4xx or a JSON-RPC (or tool) error, never a 5xx;
// nothing reaches Drive, and the session keeps working.
func TestHostileMCPRequests(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	c := hostileLogin(t, srv.BaseURL, "mallory@example.com")
	other := hostileLogin(t, srv.BaseURL, "trudy@example.com")
	h := c.headers()
	ping := `{"jsonrpc":"2.0","id":1,"method":"ping"}`
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	manyKeys := map[string]any{"file_name": "x.txt", "content": "x"}
	for i := range 10000 {
		manyKeys[fmt.Sprintf("k%d", i)] = i
	}
	// More than the transport reads of one request.
	overBody := rawToolCall(1, "create_drive_file", map[string]any{"file_name": "huge.txt",
		"content": strings.Repeat("a", int(httpguard.RequestBodyLimit(mcpserver.DefaultMaxInlineBytes)))})

	cases := []struct {
		name   string
		method string
		header map[string]string
		body   string
		want   mcpAnswer
	}{
		{"JSON-RPC: body is not JSON", "", h, "hello, server", httpStatusOnly(400)},
		{"JSON-RPC: empty body", "", h, "", httpStatusOnly(400)},
		{"JSON-RPC: truncated JSON", "", h, `{"jsonrpc":"2.0","id":1,"method":"tools/list"`, httpStatusOnly(400)},
		{"JSON-RPC: wrong jsonrpc version", "", h, `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`, httpStatusOnly(400)},
		{"JSON-RPC: no jsonrpc member", "", h, `{"id":1,"method":"tools/list"}`, httpStatusOnly(400)},
		{"JSON-RPC: batch of garbage", "", h, `[1,"two",null,{}]`, httpStatusOnly(400)},
		{"JSON-RPC: empty batch", "", h, `[]`, httpStatusOnly(400)},
		{"JSON-RPC: batch of valid calls (none since 2025-06-18)", "", h, `[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"ping"}]`, httpStatusOnly(400)},
		{"JSON-RPC: id beyond float64", "", h, `{"jsonrpc":"2.0","id":1e400,"method":"ping"}`, httpStatusOnly(400)},
		// The SDK reads the id as a float64 and answers with a mangled id:
		// harmless to the server, useless to the sender.
		{"JSON-RPC: id of 40 digits", "", h, `{"jsonrpc":"2.0","id":1234567890123456789012345678901234567890,"method":"ping"}`, harmless},
		{"JSON-RPC: id of 100 KB", "", h, `{"jsonrpc":"2.0","id":"` + strings.Repeat("i", 100<<10) + `","method":"ping"}`, harmless},
		{"JSON-RPC: id is an object", "", h, `{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}`, httpStatusOnly(400)},
		{"JSON-RPC: 100 000 levels of nesting", "", h, `{"jsonrpc":"2.0","id":1,"method":"ping","params":` + deep + `}`, httpStatusOnly(400)},
		{"JSON-RPC: NUL bytes and invalid UTF-8", "", h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\x00\xff\"}", httpStatusOnly(400)},
		{"JSON-RPC: unknown method", "", h, `{"jsonrpc":"2.0","id":1,"method":"admin/shutdown"}`, httpStatusOnly(400)},
		{"JSON-RPC: params of the wrong type", "", h, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"create_drive_file"}`, jsonRPCError},
		{"JSON-RPC: a response nobody asked for", "", h, `{"jsonrpc":"2.0","id":99,"result":{}}`, httpStatusOnly(202)},
		{"JSON-RPC: initialize again on a live session", "", h, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`, jsonRPCError},
		{"tools/call: unknown tool", "", h, rawToolCall(1, "exec_shell", map[string]any{"cmd": "id"}), jsonRPCError},
		{"tools/call: arguments are a string", "", h, rawToolCall(1, "create_drive_file", "rm -rf /"), toolError},
		{"tools/call: arguments of the wrong types", "", h, rawToolCall(1, "create_drive_file", map[string]any{"file_name": []int{1}, "content": map[string]any{}}), toolError},
		{"tools/call: 10 000 unknown argument keys", "", h, rawToolCall(1, "create_drive_file", manyKeys), toolError},
		{"tools/call: body over the transport's limit", "", h, overBody, httpStatusOnly(413)},
		{"tools/call: a file name of 2 MB", "", h, rawToolCall(1, "create_drive_file", map[string]any{"file_name": strings.Repeat("b", 2<<20), "content": "x"}), toolError},
		{"tools/call: fileUrl to the cloud metadata service", "", h, rawToolCall(1, "create_drive_file", map[string]any{"file_name": "m", "fileUrl": "http://169.254.169.254/latest/meta-data/"}), toolError},
		{"tools/call: fileUrl to this server (SSRF to loopback)", "", h, rawToolCall(1, "create_drive_file", map[string]any{"file_name": "m", "fileUrl": srv.BaseURL + "/metrics"}), toolError},
		{"tools/call: fileUrl with a file: scheme", "", h, rawToolCall(1, "create_drive_file", map[string]any{"file_name": "m", "fileUrl": "file:///etc/passwd"}), toolError},
		{"tools/call: upload of /etc/passwd (no upload roots)", "", h, rawToolCall(1, "upload_file_to_drive", map[string]any{"filepath": "/etc/passwd"}), toolError},
		{"tools/call: upload by path traversal", "", h, rawToolCall(1, "upload_file_to_drive", map[string]any{"filepath": "../../../../etc/shadow"}), toolError},
		{"tools/call: another user's email", "", h, rawToolCall(1, "check_drive_auth", map[string]any{"user_google_email": "victim@example.com"}), toolError},
		{"transport: text/plain content type", "", withHeader(h, "Content-Type", "text/plain"), ping, httpStatusOnly(415)},
		{"transport: no Accept header", "", withHeader(h, "Accept", ""), ping, httpStatusOnly(400)},
		{"transport: another account's session id (session hijack)", "", withHeader(h, "Authorization", "Bearer "+other.access), ping, httpStatusOnly(403)},
		{"transport: unknown session id", "", withHeader(h, "Mcp-Session-Id", "forged-session"), ping, httpStatusOnly(404)},
		{"transport: unsupported protocol version header", "", withHeader(h, "MCP-Protocol-Version", "1999-01-01"), ping, httpStatusOnly(400)},
		{"transport: DNS rebinding (foreign Host header)", "", withHeader(h, "Host", "evil.example"), ping, httpStatusOnly(403)},
		{"transport: PUT", http.MethodPut, h, `{}`, httpStatusOnly(405)},
		{"transport: GET without an event-stream Accept", http.MethodGet, withHeader(h, "Accept", "text/html"), "", httpStatusOnly(400)},
		{"auth: no token", "", withHeader(h, "Authorization", ""), ping, httpStatusOnly(401)},
		{"auth: forged token", "", withHeader(h, "Authorization", "Bearer dmcp_at_"+strings.Repeat("A", 43)), ping, httpStatusOnly(401)},
		{"auth: refresh token as bearer", "", withHeader(h, "Authorization", "Bearer "+c.refresh), ping, httpStatusOnly(401)},
		{"auth: authorization code as bearer", "", withHeader(h, "Authorization", "Bearer "+c.code), ping, httpStatusOnly(401)},
		{"auth: Google's own token passed through", "", withHeader(h, "Authorization", "Bearer "+e2etest.AccessToken(t, g, "mallory@example.com")), ping, httpStatusOnly(401)},
		{"auth: Basic credentials", "", withHeader(h, "Authorization", "Basic bWFsbG9yeTpwYXNzd29yZA=="), ping, httpStatusOnly(401)},
		{"auth: token of 10 KB", "", withHeader(h, "Authorization", "Bearer dmcp_at_"+strings.Repeat("A", 10<<10)), ping, httpStatusOnly(401)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			start := time.Now()
			status, _, body := c.do(t, method, tc.header, tc.body)
			if took := time.Since(start); took > time.Second {
				t.Errorf("answered after %s", took)
			}
			if status >= 500 {
				t.Fatalf("server error %d: %.300s", status, body)
			}
			if status != tc.want.status {
				t.Fatalf("status %d, want %d: %.300s", status, tc.want.status, body)
			}
			if tc.want.rpc == rpcNone {
				return
			}
			msg := readRPCMessage(t, body)
			switch {
			case tc.want.rpc == rpcError && msg.Error == nil:
				t.Fatalf("want a JSON-RPC error: %.300s", body)
			case tc.want.rpc == rpcTool && (msg.Result == nil || !msg.Result.IsError):
				t.Fatalf("want a tool error: %.300s", body)
			case tc.want.rpc == rpcResult && msg.Result == nil:
				t.Fatalf("want a result: %.300s", body)
			}
		})
	}

	// The server is still up and the session still works.
	if status, _, body := c.post(t, h, rawToolCall(7, "check_drive_auth", map[string]any{})); status != http.StatusOK || !strings.Contains(body, "mallory@example.com") {
		t.Fatalf("after the barrage: %d %.300s", status, body)
	}
	// Nothing was uploaded by any of it.
	if files := g.Emulator.Files(); len(files) != 0 {
		t.Fatalf("hostile calls created files: %+v", files)
	}
}

// readRPCMessage reads one JSON-RPC message from a JSON or event-stream body.
func readRPCMessage(t *testing.T, body string) (msg struct {
	Error *struct {
		Code int `json:"code"`
	} `json:"error"`
	Result *struct {
		IsError bool `json:"isError"`
	} `json:"result"`
}) {
	t.Helper()
	payload := body
	if i := strings.Index(body, "data: "); i >= 0 {
		payload = body[i+len("data: "):]
		if j := strings.IndexByte(payload, '\n'); j >= 0 {
			payload = payload[:j]
		}
	}
	if err := json.Unmarshal([]byte(payload), &msg); err != nil {
		t.Fatalf("not a JSON-RPC message: %v: %.300s", err, body)
	}
	return msg
}

// No token of ours or Google's, no authorization code and no client secret
// ever reaches the server's log (at debug level, under attack) or its
// database in the clear: ours are stored as SHA-256 hashes, Google's sealed.
func TestHostileMCP_SecretsNeverInTheLogOrTheDatabase(t *testing.T) {
	g := e2etest.StartGoogle(t)
	dbDir := t.TempDir()
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(dbDir, "db"), Google: g})
	c := hostileLogin(t, srv.BaseURL, "mallory@example.com")
	h := c.headers()
	c.post(t, h, rawToolCall(1, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "a"}))
	c.post(t, withHeader(h, "Authorization", "Bearer "+c.refresh), `{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	resp, err := http.Post(srv.BaseURL+"/oauth/register", "application/json", strings.NewReader(`{"client_name":"confidential","redirect_uris":["`+hostileRedirect+`"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var confidential struct {
		Secret string `json:"client_secret"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&confidential)
	resp.Body.Close()
	if confidential.Secret == "" {
		t.Fatalf("no client secret issued: %s", resp.Status)
	}
	for _, form := range []url.Values{
		{"grant_type": {"authorization_code"}, "code": {c.code}, "code_verifier": {"x"}, "client_id": {c.id}}, // replay
		{"grant_type": {"refresh_token"}, "refresh_token": {c.refresh}, "client_id": {c.id}},
		{"grant_type": {"refresh_token"}, "refresh_token": {c.refresh}, "client_id": {"mcp_forged"}, "client_secret": {confidential.Secret}},
	} {
		if resp, err := http.PostForm(srv.BaseURL+"/oauth/token", form); err == nil {
			resp.Body.Close()
		}
	}
	srv.Stop()

	out := srv.Output()
	if !strings.Contains(out, "tokens issued") {
		t.Fatalf("the server did not log the login:\n%.2000s", out)
	}
	var stored []byte
	entries, err := os.ReadDir(dbDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "secret.key" {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dbDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, raw...)
	}
	if !bytes.Contains(stored, []byte("mallory@example.com")) {
		t.Fatal("the database files hold no account: wrong directory?")
	}
	secrets := map[string]string{"our access token": c.access, "our refresh token": c.refresh, "our authorization code": c.code,
		"a client secret": confidential.Secret, "the Google client secret": googleemu.DemoClientSecret}
	for i, s := range g.Emulator.IssuedSecrets() {
		secrets[fmt.Sprintf("Google secret #%d", i)] = s
	}
	for name, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(out, s) {
			t.Errorf("%s is in the log", name)
		}
		if bytes.Contains(stored, []byte(s)) {
			t.Errorf("%s is in the database", name)
		}
	}
}
