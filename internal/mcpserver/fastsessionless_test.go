package mcpserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/httpguard"
)

// goClientMeta is the _meta the go-sdk client (v1.8.0) sends with each
// call at 2026-07-28, as captured from mcp.NewClient over
// StreamableClientTransport.
const goClientMeta = `{"io.modelcontextprotocol/clientCapabilities":{"roots":{"listChanged":true}},"io.modelcontextprotocol/clientInfo":{"name":"cap","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}`

// sessionlessHeader is what a 2026-07-28 client sends with a call of tool.
func sessionlessHeader(token, tool string) http.Header {
	h := fastHeader(token, sessionlessRevision)
	h.Set("Mcp-Method", "tools/call")
	if tool != "" {
		h.Set("Mcp-Name", tool)
	}
	return h
}

// sessionlessCallBody is a 2026-07-28 tools/call of check_drive_auth; meta
// and args are left out when empty.
func sessionlessCallBody(id, meta, args string) string {
	params := `"name":"check_drive_auth"`
	if meta != "" {
		params = `"_meta":` + meta + "," + params
	}
	if args != "" {
		params += `,"arguments":` + args
	}
	return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{` + params + `}}`
}

// meta2026 is a _meta with the revision and the given other entries.
func meta2026(entries ...string) string {
	return `{` + strings.Join(append(entries, `"io.modelcontextprotocol/protocolVersion":"2026-07-28"`), ",") + `}`
}

const roots = `"io.modelcontextprotocol/clientCapabilities":{"roots":{"listChanged":true}}`

// At 2026-07-28, the go-sdk client's default, the fast path is the same
// shortcut: for a corpus of calls it answers (with the server named in
// the result, and its type) and calls it leaves to the SDK (whatever the
// SDK refuses or treats specially), every answer is the SDK stateless
// handler's own, byte for byte, and it served the ones it should.
func TestFastPath2026_AnswersAsTheSDK(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{Drain: httpguard.NewDrain()})
	p := newFastPair(t, deps)
	call := func(id, args string) string { return sessionlessCallBody(id, goClientMeta, args) }
	type tc struct {
		name, token, body string
		header            http.Header // replaces sessionlessHeader's, "" deletes
		fast              bool
	}
	corpus := []tc{
		{name: "the go-sdk client's call", token: "rw", body: call("1", `{}`), fast: true},
		{name: "no arguments", token: "rw", body: call("2", ""), fast: true},
		{name: "string id", token: "rw", body: call(`"req-<&>"`, `{}`), fast: true},
		{name: "no client info", token: "rw", body: sessionlessCallBody("3", meta2026(roots), `{}`), fast: true},
		{name: "no capabilities at all", token: "rw", body: sessionlessCallBody("4", meta2026(`"io.modelcontextprotocol/clientCapabilities":{}`), `{}`), fast: true},
		{name: "other capabilities", token: "rw", body: sessionlessCallBody("5", meta2026(`"io.modelcontextprotocol/clientCapabilities":{"elicitation":{"form":{},"url":{}},"sampling":{},"experimental":{"x":{"y":[1,"2",null]}}}`), `{}`), fast: true},
		{name: "capabilities key cased otherwise", token: "rw", body: sessionlessCallBody("17", meta2026(`"io.modelcontextprotocol/clientCapabilities":{"Roots":5}`), `{}`), fast: true},
		{name: "client info in full", token: "rw", body: sessionlessCallBody("6", meta2026(roots, `"io.modelcontextprotocol/clientInfo":{"name":"c","title":"C <&>","version":"2","websiteUrl":"https://example.com","icons":[{"src":"https://example.com/i.png","mimeType":"image/png","sizes":["16x16"]}]}`), `{}`), fast: true},
		{name: "_meta last, keys in another order", token: "rw", body: `{"params":{"arguments":{},"name":"check_drive_auth","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",` + roots + `}},"id":7,"method":"tools/call","jsonrpc":"2.0"}`, fast: true},
		{name: "spaces", token: "rw", body: " {\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"_meta\" : { \"io.modelcontextprotocol/protocolVersion\" : \"2026-07-28\" ,\n " + roots + " } ,\"name\":\"check_drive_auth\"}}\n", fast: true},
		{name: "explicit account", token: "rw", body: call("9", `{"user_google_email":"alice@example.com"}`), fast: true},
		{name: "another account", token: "rw", body: call("10", `{"user_google_email":"mallory@example.com"}`), fast: true},
		{name: "HTML in the answer", token: "rw", body: call("11", `{"user_google_email":"<b>m&m</b>@example.com"}`), fast: true},
		{name: "schema refusal", token: "rw", body: call("12", `{"bogus":1}`), fast: true},
		{name: "argument of the wrong type", token: "rw", body: call("13", `{"user_google_email":5}`), fast: true},
		{name: "read-only token", token: "ro", body: call("14", `{}`), fast: true},
		{name: "account never signed in", token: "bob", body: call("15", `{}`), fast: true},
		{name: "a header for no bound argument", token: "rw", body: call("16", `{}`), header: http.Header{"Mcp-Param-Email": {"alice@example.com"}}, fast: true},

		// Left to the SDK: what it refuses before the tool runs...
		{name: "no _meta", token: "rw", body: sessionlessCallBody("20", "", `{}`)},
		{name: "_meta null", token: "rw", body: sessionlessCallBody("21", "null", `{}`)},
		{name: "_meta empty", token: "rw", body: sessionlessCallBody("22", "{}", `{}`)},
		{name: "no protocol version in _meta", token: "rw", body: sessionlessCallBody("23", `{`+roots+`}`, `{}`)},
		{name: "older protocol version in _meta", token: "rw", body: sessionlessCallBody("24", `{`+roots+`,"io.modelcontextprotocol/protocolVersion":"2025-11-25"}`, `{}`)},
		{name: "later protocol version in _meta", token: "rw", body: sessionlessCallBody("25", `{`+roots+`,"io.modelcontextprotocol/protocolVersion":"2026-12-01"}`, `{}`)},
		{name: "protocol version not a string", token: "rw", body: sessionlessCallBody("26", `{`+roots+`,"io.modelcontextprotocol/protocolVersion":20260728}`, `{}`)},
		{name: "no capabilities", token: "rw", body: sessionlessCallBody("27", meta2026(), `{}`)},
		{name: "capabilities null", token: "rw", body: sessionlessCallBody("28", meta2026(`"io.modelcontextprotocol/clientCapabilities":null`), `{}`)},
		{name: "capabilities not an object", token: "rw", body: sessionlessCallBody("29", meta2026(`"io.modelcontextprotocol/clientCapabilities":[]`), `{}`)},
		{name: "capabilities that do not decode", token: "rw", body: sessionlessCallBody("30", meta2026(`"io.modelcontextprotocol/clientCapabilities":{"roots":5}`), `{}`)},
		{name: "client info not an object", token: "rw", body: sessionlessCallBody("31", meta2026(roots, `"io.modelcontextprotocol/clientInfo":"me"`), `{}`)},
		{name: "client info that does not decode", token: "rw", body: sessionlessCallBody("32", meta2026(roots, `"io.modelcontextprotocol/clientInfo":{"name":5}`), `{}`)},
		{name: "_meta nested past the SDK's limit", token: "rw", body: sessionlessCallBody("33", meta2026(`"io.modelcontextprotocol/clientCapabilities":{"experimental":`+nestedArgs(998, true)+`}`), `{}`)},
		{name: "arguments nested past the SDK's limit", token: "rw", body: call("34", nestedArgs(999, true))},
		{name: "no Mcp-Method", token: "rw", body: call("35", `{}`), header: http.Header{"Mcp-Method": nil}},
		{name: "another Mcp-Method", token: "rw", body: call("36", `{}`), header: http.Header{"Mcp-Method": {"tools/list"}}},
		{name: "no Mcp-Name", token: "rw", body: call("37", `{}`), header: http.Header{"Mcp-Name": nil}},
		{name: "another Mcp-Name", token: "rw", body: call("38", `{}`), header: http.Header{"Mcp-Name": {"list_drive_files"}}},
		{name: "Mcp-Name cased otherwise", token: "rw", body: call("39", `{}`), header: http.Header{"Mcp-Name": {"Check_Drive_Auth"}}},
		{name: "Last-Event-ID", token: "rw", body: call("40", `{}`), header: http.Header{"Last-Event-Id": {"x_1"}}},
		{name: "unknown tool", token: "rw", body: `{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"_meta":` + goClientMeta + `,"name":"no_such_tool"}}`, header: http.Header{"Mcp-Name": {"no_such_tool"}}},
		{name: "another tool", token: "rw", body: `{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"_meta":` + goClientMeta + `,"name":"list_drive_files","arguments":{}}}`, header: http.Header{"Mcp-Name": {"list_drive_files"}}},
		{name: "tools/list", token: "rw", body: `{"jsonrpc":"2.0","id":43,"method":"tools/list","params":{"_meta":` + goClientMeta + `}}`, header: http.Header{"Mcp-Method": {"tools/list"}, "Mcp-Name": nil}},
		{name: "notification", token: "rw", body: `{"jsonrpc":"2.0","method":"tools/call","params":{"_meta":` + goClientMeta + `,"name":"check_drive_auth"}}`},
		{name: "batch", token: "rw", body: "[" + call("44", `{}`) + "]"},
		{name: "fractional id", token: "rw", body: call("1.5", `{}`)},
		{name: "no token", token: "", body: call("45", `{}`)},
		{name: "unknown token", token: "nope", body: call("46", `{}`)},
		{name: "body over the limit", token: "rw", body: call("47", `{"user_google_email":"`+strings.Repeat("a", 5<<10)+`"}`)},
		{name: "session id", token: "rw", body: call("48", `{}`), header: http.Header{"Mcp-Session-Id": {"abc"}}},
		{name: "later revision header", token: "rw", body: sessionlessCallBody("49", `{`+roots+`,"io.modelcontextprotocol/protocolVersion":"2026-12-01"}`, `{}`), header: http.Header{"Mcp-Protocol-Version": {"2026-12-01"}}},
		{name: "older revision header", token: "rw", body: call("50", `{}`), header: http.Header{"Mcp-Protocol-Version": {"2025-11-25"}}},
		// ...and what it treats specially.
		{name: "log level", token: "rw", body: sessionlessCallBody("51", meta2026(roots, `"io.modelcontextprotocol/logLevel":"debug"`), `{}`)},
		{name: "progress token", token: "rw", body: sessionlessCallBody("52", meta2026(roots, `"progressToken":1`), `{}`)},
		{name: "unknown _meta key", token: "rw", body: sessionlessCallBody("53", meta2026(roots, `"x":1`), `{}`)},
		{name: "escaped _meta key", token: "rw", body: sessionlessCallBody("54", `{`+roots+`,"io.modelcontextprotocol\/protocolVersion":"2026-07-28"}`, `{}`)},
		{name: "_meta key twice", token: "rw", body: sessionlessCallBody("55", meta2026(roots, roots), `{}`)},
		{name: "_meta twice", token: "rw", body: `{"jsonrpc":"2.0","id":56,"method":"tools/call","params":{"_meta":` + goClientMeta + `,"_meta":` + goClientMeta + `,"name":"check_drive_auth"}}`},
		{name: "wildcard accept", token: "rw", body: call("57", `{}`), header: http.Header{"Accept": {"*/*"}}},
	}
	for _, c := range corpus {
		t.Run(c.name, func(t *testing.T) {
			header := func() http.Header {
				h := sessionlessHeader(c.token, "check_drive_auth")
				for k, v := range c.header {
					if v == nil {
						h.Del(k)
					} else {
						h[k] = v
					}
				}
				return h
			}
			before := p.path.Served()
			want := post(t, p.sdk, header(), c.body)
			got := post(t, p.fast, header(), c.body)
			if got != want {
				t.Errorf("fast path answered\n%+v\nthe SDK answered\n%+v", got, want)
			}
			if served := p.path.Served() - before; served != map[bool]int64{true: 1, false: 0}[c.fast] {
				t.Errorf("fast path served %d, want fast=%v", served, c.fast)
			}
			if c.fast && !strings.Contains(got.body, `"io.modelcontextprotocol/serverInfo":{"name":"drivemcp"`) {
				t.Errorf("the answer does not name the server: %s", got.body)
			}
		})
	}

	// While the server drains, both refuse new calls alike: a refusal of
	// the middleware, which has no result type.
	deps.Drain.Stop(context.Background())
	before := p.path.Served()
	want := post(t, p.sdk, sessionlessHeader("rw", "check_drive_auth"), call("60", `{}`))
	got := post(t, p.fast, sessionlessHeader("rw", "check_drive_auth"), call("60", `{}`))
	if got != want || !strings.Contains(got.body, "shutting down") || strings.Contains(got.body, "resultType") {
		t.Errorf("draining: fast path answered\n%+v\nthe SDK answered\n%+v", got, want)
	}
	if p.path.Served() != before+1 {
		t.Error("the fast path left the refusal to the SDK")
	}
}

// A tool's failure is answered as the SDK answers it: a JSON-RPC error
// with its code, the message of a plain one with code 0, "method not
// found" in the SDK's own words whatever the tool said (its JSON-RPC layer
// takes that code for its own); and at 2026-07-28 an error SEP-2575 gives
// an HTTP status (invalid params: 400) as bare JSON with that status.
func TestFastPath_ToolErrorsAsTheSDK(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		status int // at 2026-07-28
	}{
		{"invalid params", &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "bad <params>"}, http.StatusBadRequest},
		{"method not found", &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "none"}, http.StatusNotFound},
		{"wrapped method not found", fmt.Errorf("wrapped: %w", &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "none"}), http.StatusNotFound},
		{"missing capabilities", &jsonrpc.Error{Code: mcp.CodeMissingRequiredClientCapabilities, Message: "elicitation", Data: []byte(`{"x":1}`)}, http.StatusBadRequest},
		{"wrapped invalid params", errors.Join(errors.New("wrapped"), &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "inner"}), http.StatusBadRequest},
		{"internal error", &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "oops"}, http.StatusOK},
		{"plain error", errors.New("plain"), http.StatusOK},
	} {
		for _, revision := range []string{"2025-06-18", sessionlessRevision} {
			t.Run(c.name+" "+revision, func(t *testing.T) {
				deps, _ := fixtureDeps(t, Deps{})
				p := newFastPair(t, deps)
				failing := func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) { return nil, c.err }
				p.server.AddTool(&mcp.Tool{Name: checkDriveAuthTool.Name, InputSchema: map[string]any{"type": "object"}}, failing)
				p.path.tools[checkDriveAuthTool.Name] = failing
				header, body, status := fastHeader("rw", revision), toolCallBody("1", `"check_drive_auth"`, `{}`), http.StatusOK
				if revision == sessionlessRevision {
					header, body, status = sessionlessHeader("rw", "check_drive_auth"), sessionlessCallBody("1", goClientMeta, `{}`), c.status
				}
				want := post(t, p.sdk, header, body)
				got := post(t, p.fast, header, body)
				if got != want || got.status != status {
					t.Errorf("fast path answered\n%+v\nthe SDK answered\n%+v\nwant status %d", got, want, status)
				}
				if p.path.Served() != 1 {
					t.Errorf("fast path served %d calls, want 1", p.path.Served())
				}
			})
		}
	}
}

// The go-sdk client, at its default revision (2026-07-28), against a
// server wired as serve wires it — the fast path in front of the SDK's
// stateless handler, behind ByRevision when sessions are on, with and
// without a bearer check — gets its check_drive_auth calls answered by
// the fast path, with the answers it expects; the rest (server/discover,
// tools/list) the SDK answers.
func TestFastPath2026_GoClientIsServed(t *testing.T) {
	verify := func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		if token != "rw" {
			return nil, fmt.Errorf("%w: unknown test token", auth.ErrInvalidToken)
		}
		return &auth.TokenInfo{UserID: alice, Scopes: []string{"drive.file"}, Expiration: time.Now().Add(time.Hour)}, nil
	}
	for _, c := range []struct {
		name     string
		token    string
		sessions bool
		method   string // how check_drive_auth says alice was found
	}{
		{"local", "", false, "local mode"},
		{"bearer token", "rw", false, "your MCP client's OAuth login"},
		{"bearer token, sessions on", "rw", true, "your MCP client's OAuth login"},
	} {
		t.Run(c.name, func(t *testing.T) {
			deps, _ := fixtureDeps(t, Deps{})
			s, fp := NewWithFastPath(deps)
			const limit = 64 << 10
			streamable := func(stateless bool) http.Handler {
				return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
					&mcp.StreamableHTTPOptions{Stateless: stateless, MaxRequestBodyBytes: limit})
			}
			h := fp.HTTP(streamable(true), FastPathOptions{MaxBodyBytes: limit, LocalhostProtection: true})
			if c.sessions {
				h = ByRevision(streamable(false), h)
			}
			if c.token != "" {
				h = auth.RequireBearerToken(verify, nil)(h)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)

			var rt http.RoundTripper = http.DefaultTransport
			if c.token != "" {
				rt = bearer{c.token, rt}
			}
			ctx := context.Background()
			client := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, nil)
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: &http.Client{Transport: rt}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cs.Close() })
			if v := cs.InitializeResult().ProtocolVersion; v != sessionlessRevision {
				t.Fatalf("the client speaks %q, want %q", v, sessionlessRevision)
			}
			const calls = 5
			for i := range calls {
				args := map[string]any{}
				if i%2 == 1 {
					args["user_google_email"] = alice
				}
				res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: checkDriveAuthTool.Name, Arguments: args})
				if err != nil {
					t.Fatal(err)
				}
				out, _ := res.StructuredContent.(map[string]any)
				text, _ := res.Content[0].(*mcp.TextContent)
				if res.IsError || res.NeedsInput() || out["email"] != alice || out["authenticated"] != true || text == nil || !strings.Contains(text.Text, c.method) {
					t.Errorf("call %d answered %+v (structured %v)", i, res, res.StructuredContent)
				}
				if info, _ := res.Meta[mcp.MetaKeyServerInfo].(map[string]any); info["name"] != "drivemcp" {
					t.Errorf("call %d: the result names the server %v", i, res.Meta)
				}
			}
			if _, err := cs.ListTools(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if got := fp.Served(); got != calls {
				t.Errorf("the fast path served %d calls, want %d", got, calls)
			}
		})
	}
}

// One check_drive_auth call through the handler stack, as the go-sdk
// client sends it at 2026-07-28: the SDK's stateless handler alone
// against the fast path in front of it, and the fast path at 2025-06-18
// for scale. No network, no bearer check: what differs is all there is.
//
//	go test -run '^$' -bench ToolCallRevisions -benchmem -count 5 ./internal/mcpserver/
func BenchmarkToolCallRevisions(b *testing.B) {
	deps, _ := fixtureDeps(b, Deps{Drain: httpguard.NewDrain()})
	s, fp := NewWithFastPath(deps)
	const limit = 4 << 20
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, MaxRequestBodyBytes: limit})
	fast := fp.HTTP(sdk, FastPathOptions{MaxBodyBytes: limit, LocalhostProtection: true})
	body2026 := []byte(sessionlessCallBody("1", goClientMeta, `{}`))
	body2025 := []byte(toolCallBody("1", `"check_drive_auth"`, `{}`))
	for _, c := range []struct {
		name    string
		h       http.Handler
		header  http.Header
		body    []byte
		fastHit bool
	}{
		{"2026-07-28/sdk", sdk, sessionlessHeader("", "check_drive_auth"), body2026, false},
		{"2026-07-28/fast", fast, sessionlessHeader("", "check_drive_auth"), body2026, true},
		{"2025-06-18/sdk", sdk, fastHeader("", "2025-06-18"), body2025, false},
		{"2025-06-18/fast", fast, fastHeader("", "2025-06-18"), body2025, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			before := fp.Served()
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/mcp", bytes.NewReader(c.body))
				req.Header = c.header.Clone()
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"authenticated":true`)) {
					b.Fatalf("status %d: %.300s", rec.Code, rec.Body.Bytes())
				}
			}
			if served := fp.Served() > before; served != c.fastHit {
				b.Fatalf("fast path served: %v, want %v", served, c.fastHit)
			}
		})
	}
}
