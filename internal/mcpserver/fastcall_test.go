package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/httpguard"
)

// fastPair serves one server twice, statelessly behind the same bearer
// check: through the go-sdk's handler alone, and through the fast path in
// front of it.
type fastPair struct {
	sdk, fast string
	path      *FastPath
	server    *mcp.Server
}

func newFastPair(t *testing.T, deps Deps) fastPair {
	t.Helper()
	s, fp := NewWithFastPath(deps)
	verify := func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		scopes, ok := map[string][]string{"rw": {"drive.file"}, "ro": {"drive.readonly"}, "bob": {"drive.file"}}[token]
		if !ok {
			return nil, fmt.Errorf("%w: unknown test token", auth.ErrInvalidToken)
		}
		user := alice
		if token == "bob" {
			user = "bob@example.com" // never signed in
		}
		return &auth.TokenInfo{UserID: user, Scopes: scopes, Expiration: time.Now().Add(time.Hour)}, nil
	}
	const limit = 4 << 10
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, MaxRequestBodyBytes: limit})
	wrap := func(h http.Handler) string {
		srv := httptest.NewServer(auth.RequireBearerToken(verify, nil)(h))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	return fastPair{
		sdk:    wrap(sdk),
		fast:   wrap(fp.HTTP(sdk, FastPathOptions{MaxBodyBytes: limit, LocalhostProtection: true})),
		path:   fp,
		server: s,
	}
}

// answer is what a client sees of one answer.
type answer struct {
	status                    int
	contentType, cacheControl string
	body                      string
	session                   string // Mcp-Session-Id
}

func post(t *testing.T, url string, header http.Header, body string) answer {
	t.Helper()
	return do(t, http.MethodPost, url, header, body)
}

func fastHeader(token, version string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if version != "" {
		h.Set("Mcp-Protocol-Version", version)
	}
	return h
}

// The fast path is a shortcut, not a second server: for a corpus of
// requests — answered ones, refused ones, malformed ones, ones it must
// leave to the SDK — every answer (status, content type, caching, body
// byte for byte) is the SDK's own, and it did serve the plain calls.
func TestFastPath_AnswersAsTheSDK(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{Drain: httpguard.NewDrain()})
	p := newFastPair(t, deps)
	call := func(id, args string) string {
		if args != "" {
			args = `,"arguments":` + args
		}
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"check_drive_auth"` + args + `}}`
	}
	type tc struct {
		name, token, version, body string
		fast                       bool // the fast path should answer it itself
	}
	corpus := []tc{
		{"plain", "rw", "2025-06-18", call("1", `{}`), true},
		{"no arguments", "rw", "2025-06-18", call("7", ""), true},
		{"string id", "rw", "2025-06-18", call(`"req-<&>"`, `{}`), true},
		{"zero id", "rw", "2025-03-26", call("0", `{}`), true},
		{"negative id", "rw", "2025-11-25", call("-42", `{}`), true},
		{"explicit account", "rw", "2025-06-18", call("2", `{"user_google_email":"alice@example.com"}`), true},
		{"another account", "rw", "2025-06-18", call("3", `{"user_google_email":"mallory@example.com"}`), true},
		{"HTML in the answer", "rw", "2025-06-18", call("31", `{"user_google_email":"<b>m&m</b>@example.com"}`), true},
		{"unknown argument", "rw", "2025-06-18", call("4", `{"bogus":1}`), true},
		{"argument of the wrong type", "rw", "2025-06-18", call("5", `{"user_google_email":5}`), true},
		{"read-only token", "ro", "2025-06-18", call("6", `{}`), true},
		{"account never signed in", "bob", "2025-06-18", call("8", `{}`), true},
		{"keys in another order", "rw", "2025-06-18", `{"params":{"arguments":{},"name":"check_drive_auth"},"method":"tools/call","id":9,"jsonrpc":"2.0"}`, true},
		{"spaces", "rw", "2025-06-18", " {\n\"jsonrpc\" : \"2.0\", \"id\":10 , \"method\":\"tools/call\",\"params\":{\"name\":\"check_drive_auth\"}}\n", true},

		// Left to the SDK.
		{"no protocol version", "rw", "", call("11", `{}`), false},
		{"unsupported protocol version", "rw", "1999-01-01", call("12", `{}`), false},
		{"null arguments", "rw", "2025-06-18", call("13", `null`), false},
		{"arguments not an object", "rw", "2025-06-18", call("14", `[1]`), false},
		{"_meta", "rw", "2025-06-18", `{"jsonrpc":"2.0","id":15,"method":"tools/call","params":{"_meta":{"progressToken":1},"name":"check_drive_auth"}}`, false},
		{"unknown tool", "rw", "2025-06-18", `{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"no_such_tool"}}`, false},
		{"another tool", "rw", "2025-06-18", `{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"list_drive_files","arguments":{}}}`, false},
		{"writing tool, read-only token", "ro", "2025-06-18", `{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"name":"create_drive_file","arguments":{"file_name":"a","content":"b"}}}`, false},
		{"tools/list", "rw", "2025-06-18", `{"jsonrpc":"2.0","id":19,"method":"tools/list","params":{}}`, false},
		{"batch", "rw", "2025-06-18", "[" + call("20", `{}`) + "]", false},
		{"notification", "rw", "2025-06-18", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"check_drive_auth"}}`, false},
		{"key cased otherwise", "rw", "2025-06-18", `{"jsonrpc":"2.0","id":21,"Method":"tools/call","params":{"name":"check_drive_auth"}}`, false},
		{"key twice", "rw", "2025-06-18", `{"jsonrpc":"2.0","id":22,"method":"tools/list","method":"tools/call","params":{"name":"check_drive_auth"}}`, false},
		{"extra key", "rw", "2025-06-18", `{"jsonrpc":"2.0","id":23,"method":"tools/call","params":{"name":"check_drive_auth"},"x":1}`, false},
		{"fractional id", "rw", "2025-06-18", call("1.5", `{}`), false},
		{"escaped id", "rw", "2025-06-18", call(`"a\u0041"`, `{}`), false},
		{"wrong jsonrpc", "rw", "2025-06-18", `{"jsonrpc":"1.0","id":24,"method":"tools/call","params":{"name":"check_drive_auth"}}`, false},
		{"trailing data", "rw", "2025-06-18", call("25", `{}`) + `{}`, false},
		{"not JSON", "rw", "2025-06-18", `{"jsonrpc":`, false},
		// encoding/json takes 10000 levels, the SDK's decoder 1000 (counted
		// from the body: the arguments object is at level 3).
		{"arguments at the SDK's nesting limit", "rw", "2025-06-18", call("32", nestedArgs(998, true)), true},
		{"arguments past the SDK's nesting limit", "rw", "2025-06-18", call("33", nestedArgs(999, true)), false},
		{"body over the limit", "rw", "2025-06-18", call("26", `{"user_google_email":"`+strings.Repeat("a", 5<<10)+`"}`), false},
		{"no token", "", "2025-06-18", call("27", `{}`), false},
		{"unknown token", "nope", "2025-06-18", call("28", `{}`), false},
	}
	for _, c := range corpus {
		t.Run(c.name, func(t *testing.T) {
			before := p.path.Served()
			want := post(t, p.sdk, fastHeader(c.token, c.version), c.body)
			got := post(t, p.fast, fastHeader(c.token, c.version), c.body)
			if got != want {
				t.Errorf("fast path answered\n%+v\nthe SDK answered\n%+v", got, want)
			}
			if served := p.path.Served() - before; served != map[bool]int64{true: 1, false: 0}[c.fast] {
				t.Errorf("fast path served %d, want fast=%v", served, c.fast)
			}
		})
	}

	// Headers the SDK refuses or judges itself.
	for name, h := range map[string]http.Header{
		"json only":       {"Accept": {"application/json"}},
		"wildcard accept": {"Accept": {"*/*"}},
		"text/plain":      {"Content-Type": {"text/plain"}},
		"charset":         {"Content-Type": {"application/json; charset=utf-8"}},
		"session id":      {"Mcp-Session-Id": {"abc"}},
		"Last-Event-ID":   {"Last-Event-Id": {"x_1"}},
	} {
		t.Run("header "+name, func(t *testing.T) {
			header := func() http.Header {
				out := fastHeader("rw", "2025-06-18")
				for k, v := range h {
					out[k] = v
				}
				return out
			}
			before := p.path.Served()
			want := post(t, p.sdk, header(), call("30", `{}`))
			got := post(t, p.fast, header(), call("30", `{}`))
			if got != want {
				t.Errorf("fast path answered\n%+v\nthe SDK answered\n%+v", got, want)
			}
			if p.path.Served() != before {
				t.Error("the fast path served a request it should leave to the SDK")
			}
		})
	}

	// While the server drains, both refuse new calls alike.
	deps.Drain.Stop(context.Background())
	want := post(t, p.sdk, fastHeader("rw", "2025-06-18"), call("40", `{}`))
	got := post(t, p.fast, fastHeader("rw", "2025-06-18"), call("40", `{}`))
	if got != want || !strings.Contains(got.body, "shutting down") {
		t.Errorf("draining: fast path answered\n%+v\nthe SDK answered\n%+v", got, want)
	}
}

// Hidden tools stay hidden: --disable-tools check_drive_auth leaves the
// fast path nothing to serve, so the SDK says the tool is unknown.
func TestFastPath_DisabledToolIsNotServed(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{DisabledTools: []string{"check_drive_auth"}})
	p := newFastPair(t, deps)
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`
	got := post(t, p.fast, fastHeader("rw", "2025-06-18"), body)
	if p.path.Served() != 0 || !strings.Contains(got.body, "unknown tool") {
		t.Errorf("a disabled tool answered: %+v (fast path served %d)", got, p.path.Served())
	}
}
