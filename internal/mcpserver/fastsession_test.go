package mcpserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/eventstore"
	"github.com/drivemcp/drivemcp/internal/httpguard"
)

// sessionPair serves one server twice with MCP sessions: through the
// go-sdk's stateful handler alone, and through the fast path in front of
// another such handler; bearer tokens optional ("" sends none).
type sessionPair struct {
	sdk, fast string
	path      *FastPath
	ready     chan string // sessions the fast path took
	now       atomic.Pointer[time.Time]
}

const testSessionTimeout = 30 * time.Minute

func newSessionPair(t *testing.T, deps Deps) *sessionPair {
	t.Helper()
	s, fp := NewWithFastPath(deps)
	p := &sessionPair{path: fp, ready: make(chan string, 16)}
	now := time.Now()
	p.now.Store(&now)
	fp.now = func() time.Time { return *p.now.Load() }
	fp.readyHook = func(id string) { p.ready <- id }
	verify := func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		user, ok := map[string]string{"rw": alice, "bob": "bob@example.com"}[token]
		if !ok {
			return nil, fmt.Errorf("%w: unknown test token", auth.ErrInvalidToken)
		}
		return &auth.TokenInfo{UserID: user, Scopes: []string{"drive.file"}, Expiration: time.Now().Add(time.Hour)}, nil
	}
	// A token when one is sent; none is the local user (auth none).
	optionalBearer := func(h http.Handler) http.Handler {
		withToken := auth.RequireBearerToken(verify, nil)(h)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "" {
				h.ServeHTTP(w, r)
				return
			}
			withToken.ServeHTTP(w, r)
		})
	}
	const limit = 4 << 10
	stateful := func(events mcp.EventStore) http.Handler {
		return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{
			SessionTimeout: testSessionTimeout, EventStore: events, MaxRequestBodyBytes: limit})
	}
	serve := func(h http.Handler) string {
		srv := httptest.NewServer(optionalBearer(h))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	o := FastPathOptions{MaxBodyBytes: limit, LocalhostProtection: true, SessionTimeout: testSessionTimeout}
	p.sdk = serve(stateful(mcp.NewMemoryEventStore(nil)))
	p.fast = serve(fp.SessionsHTTP(stateful(fp.Events(mcp.NewMemoryEventStore(nil))), o))
	return p
}

// open initializes a session at url as a client does and returns its id,
// once the fast path has taken it when url is the fast path's.
func (p *sessionPair) open(t *testing.T, url, token string) string {
	t.Helper()
	init := post(t, url, fastHeader(token, ""), `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	id := init.session
	if init.status != http.StatusOK || id == "" {
		t.Fatalf("initialize: %+v", init)
	}
	h := fastHeader(token, "2025-11-25")
	h.Set("Mcp-Session-Id", id)
	if a := post(t, url, h, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); a.status != http.StatusAccepted {
		t.Fatalf("initialized: %+v", a)
	}
	if url == p.fast {
		if got := <-p.ready; got != id {
			t.Fatalf("the fast path took session %q, want %q", got, id)
		}
	}
	return id
}

// streamIDs are the go-sdk's stream ids in event ids (crypto/rand.Text).
var streamIDs = regexp.MustCompile(`(?m)^id: [A-Z2-7]{26}_`)

// normal replaces what differs between two servers by chance: the
// session id and the stream ids.
func normal(a answer, session string) answer {
	a.body = streamIDs.ReplaceAllString(strings.ReplaceAll(a.body, session, "SESSION"), "id: STREAM_")
	a.session = ""
	return a
}

// On a session too the fast path is a shortcut, not a second server: the
// same corpus of requests answered as the SDK answers on its own session
// (status, headers, body byte for byte once the random ids are set
// aside), events stored where the SDK replays them from, and the session
// ending on either side as the SDK ends it.
func TestFastPathSessions_AnswerAsTheSDK(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{Drain: httpguard.NewDrain()})
	p := newSessionPair(t, deps)
	call := func(id, args string) string {
		if args != "" {
			args = `,"arguments":` + args
		}
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"check_drive_auth"` + args + `}}`
	}
	for _, token := range []string{"rw", ""} {
		sdkSession, fastSession := p.open(t, p.sdk, token), p.open(t, p.fast, token)
		if token == "" {
			// The direct flow's binding: check_drive_auth must see the session.
			for _, id := range []string{sdkSession, fastSession} {
				if err := deps.Resolver.Bind(context.Background(), "mcp:"+id, alice, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
		}
		type tc struct {
			name, token, version, body string
			header                     http.Header
			fast                       bool
		}
		corpus := []tc{
			{name: "plain", token: token, version: "2025-06-18", body: call("1", `{}`), fast: true},
			{name: "priming event", token: token, version: "2025-11-25", body: call("2", `{}`), fast: true},
			{name: "oldest revision", token: token, version: "2025-03-26", body: call(`"s-1"`, ""), fast: true},
			{name: "another account", token: token, version: "2025-11-25", body: call("3", `{"user_google_email":"mallory@example.com"}`), fast: true},
			{name: "schema refusal", token: token, version: "2025-11-25", body: call("4", `{"bogus":1}`), fast: true},

			{name: "no protocol version", token: token, body: call("11", `{}`)},
			{name: "tools/list", token: token, version: "2025-11-25", body: `{"jsonrpc":"2.0","id":12,"method":"tools/list","params":{}}`},
			{name: "_meta", token: token, version: "2025-11-25", body: `{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"_meta":{"progressToken":1},"name":"check_drive_auth"}}`},
			{name: "Last-Event-ID on a POST", token: token, version: "2025-11-25", body: call("14", `{}`), header: http.Header{"Last-Event-Id": {"x_1"}}},
			{name: "not JSON", token: token, version: "2025-11-25", body: `{"jsonrpc":`},
			{name: "arguments past the SDK's nesting limit", token: token, version: "2025-11-25", body: call("15", nestedArgs(999, true))},
		}
		if token != "" {
			corpus = append(corpus,
				tc{name: "another user's token", token: "bob", version: "2025-11-25", body: call("21", `{}`)},
				tc{name: "no token", token: "", version: "2025-11-25", body: call("22", `{}`)})
		}
		for _, c := range corpus {
			t.Run(fmt.Sprintf("token %q %s", token, c.name), func(t *testing.T) {
				header := func(session string) http.Header {
					h := fastHeader(c.token, c.version)
					h.Set("Mcp-Session-Id", session)
					for k, v := range c.header {
						h[k] = v
					}
					return h
				}
				before := p.path.Served()
				want := normal(post(t, p.sdk, header(sdkSession), c.body), sdkSession)
				got := normal(post(t, p.fast, header(fastSession), c.body), fastSession)
				if got != want {
					t.Errorf("fast path answered\n%+v\nthe SDK answered\n%+v", got, want)
				}
				if served := p.path.Served() - before; served != map[bool]int64{true: 1, false: 0}[c.fast] {
					t.Errorf("fast path served %d, want fast=%v", served, c.fast)
				}
			})
		}

		// A broken stream resumes through the SDK's GET from the events the
		// fast path stored: the answer is replayed after the priming event.
		t.Run(fmt.Sprintf("token %q resume", token), func(t *testing.T) {
			first := post(t, p.fast, sessionHeader(token, fastSession), call("30", `{}`))
			m := regexp.MustCompile(`(?m)^id: ([A-Z2-7]{26})_0$`).FindStringSubmatch(first.body)
			if m == nil {
				t.Fatalf("no priming event in %q", first.body)
			}
			h := sessionHeader(token, fastSession)
			h.Set("Last-Event-ID", m[1]+"_0")
			replay := do(t, http.MethodGet, p.fast, h, "")
			wantData := first.body[strings.Index(first.body, "event: message"):]
			if replay.status != http.StatusOK || !strings.Contains(replay.body, wantData) {
				t.Errorf("resuming after the priming event replayed\n%+v\nwant the answer\n%s", replay, wantData)
			}
		})
	}

	// A call id in flight on the session is refused as the SDK refuses it.
	t.Run("duplicate id in flight", func(t *testing.T) {
		session := p.open(t, p.fast, "rw")
		p.path.session(session).inFlight[idKey([]byte("77"))] = struct{}{}
		got := post(t, p.fast, sessionHeader("rw", session), call("77", `{}`))
		want := `{"jsonrpc":"2.0","id":77,"error":{"code":-32600,"message":"duplicate in-flight request ID 77"}}`
		if got.status != http.StatusBadRequest || got.contentType != "application/json" || got.body != want {
			t.Errorf("duplicate id: %+v, want 400 %s", got, want)
		}
	})

	// Ended on either side, a session is gone for both alike.
	t.Run("closed session", func(t *testing.T) {
		sdkSession, fastSession := p.open(t, p.sdk, "rw"), p.open(t, p.fast, "rw")
		sessions := p.path.Sessions()
		for _, s := range []struct{ url, id string }{{p.sdk, sdkSession}, {p.fast, fastSession}} {
			if got := del(t, s.url, sessionHeader("rw", s.id)); got.status != http.StatusNoContent {
				t.Fatalf("DELETE: %+v", got)
			}
		}
		if got := p.path.Sessions(); got != sessions-1 {
			t.Errorf("the fast path holds %d sessions after its own was deleted, want %d", got, sessions-1)
		}
		before := p.path.Served()
		want := normal(post(t, p.sdk, sessionHeader("rw", sdkSession), call("40", `{}`)), sdkSession)
		got := normal(post(t, p.fast, sessionHeader("rw", fastSession), call("40", `{}`)), fastSession)
		if got != want || got.status != http.StatusNotFound || p.path.Served() != before {
			t.Errorf("after DELETE the fast path answered\n%+v\nthe SDK\n%+v", got, want)
		}
	})

	// While the server drains, both refuse new calls alike.
	t.Run("draining", func(t *testing.T) {
		sdkSession, fastSession := p.open(t, p.sdk, "rw"), p.open(t, p.fast, "rw")
		deps.Drain.Stop(context.Background())
		want := normal(post(t, p.sdk, sessionHeader("rw", sdkSession), call("50", `{}`)), sdkSession)
		got := normal(post(t, p.fast, sessionHeader("rw", fastSession), call("50", `{}`)), fastSession)
		if got != want || !strings.Contains(got.body, "shutting down") {
			t.Errorf("draining: fast path answered\n%+v\nthe SDK answered\n%+v", got, want)
		}
	})
}

// A session that is still initializing (no notifications/initialized yet)
// is the SDK's: it refuses calls then, and the fast path must not answer.
func TestFastPathSessions_NotBeforeInitialized(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{})
	p := newSessionPair(t, deps)
	init := post(t, p.fast, fastHeader("rw", ""), `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	got := post(t, p.fast, sessionHeader("rw", init.session), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`)
	if p.path.Served() != 0 || p.path.Sessions() != 0 {
		t.Errorf("the fast path served a session before its handshake ended: %+v", got)
	}
}

// The SDK ends a session its idle timer runs out on, and only a POST the
// SDK serves restarts that timer. A session used only through the fast
// path must not time out while in use: once the SDK last saw it
// sdkTouchEvery ago, the next call goes through the SDK.
func TestFastPathSessions_KeepTheSDKsIdleTimerRunning(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{})
	p := newSessionPair(t, deps)
	session := p.open(t, p.fast, "rw")
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"check_drive_auth"}}`
	served := func() bool {
		t.Helper()
		before := p.path.Served()
		if a := post(t, p.fast, sessionHeader("rw", session), body); a.status != http.StatusOK {
			t.Fatalf("call: %+v", a)
		}
		return p.path.Served() > before
	}
	if !served() {
		t.Fatal("a fresh session's call did not take the fast path")
	}
	later := p.now.Load().Add(sdkTouchEvery(testSessionTimeout) + time.Second)
	p.now.Store(&later)
	if served() {
		t.Error("sdkTouchEvery after the SDK last saw the session, the fast path still answered: the SDK's timer was not restarted")
	}
	if !served() {
		t.Error("right after the SDK served a call, the next did not take the fast path")
	}
}

func sessionHeader(token, session string) http.Header {
	h := fastHeader(token, "2025-11-25")
	h.Set("Mcp-Session-Id", session)
	return h
}

func del(t *testing.T, url string, header http.Header) answer {
	t.Helper()
	return do(t, http.MethodDelete, url, header, "")
}

func do(t *testing.T, method, url string, header http.Header, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), string(b), resp.Header.Get("Mcp-Session-Id")}
}

// One check_drive_auth call on a session through the fast path, wired as
// serve wires it (SSERetry, the bounded event store), next to the same
// call without a session: what a session adds to a fast call.
func BenchmarkFastPathSession(b *testing.B) {
	deps, _ := fixtureDeps(b, Deps{Drain: httpguard.NewDrain()})
	s, fp := NewWithFastPath(deps)
	ready := make(chan string, 1)
	fp.readyHook = func(id string) { ready <- id }
	const limit = 4 << 20
	o := FastPathOptions{MaxBodyBytes: limit, LocalhostProtection: true, SessionTimeout: testSessionTimeout}
	stateful := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{
		SessionTimeout: testSessionTimeout, EventStore: fp.Events(eventstore.New(eventstore.Options{})), MaxRequestBodyBytes: limit})
	verify := func(context.Context, string, *http.Request) (*auth.TokenInfo, error) {
		return &auth.TokenInfo{UserID: alice, Scopes: []string{"drive.file"}, Expiration: time.Now().Add(time.Hour)}, nil
	}
	bearer := auth.RequireBearerToken(verify, nil)
	sessions := bearer(SSERetry(fp.SessionsHTTP(stateful, o), 2*time.Second))
	stateless := bearer(fp.HTTP(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, MaxRequestBodyBytes: limit}), o))
	serve := func(h http.Handler, header http.Header, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/mcp", strings.NewReader(body))
		req.Header = header
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	init := serve(sessions, fastHeader("rw", ""), `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}`)
	id := init.Header().Get("Mcp-Session-Id")
	if rec := serve(sessions, sessionHeader("rw", id), `{"jsonrpc":"2.0","method":"notifications/initialized"}`); rec.Code != http.StatusAccepted {
		b.Fatalf("initialized: %d", rec.Code)
	}
	<-ready
	for _, c := range []struct {
		name   string
		h      http.Handler
		header http.Header
	}{
		{"session", sessions, sessionHeader("rw", id)},
		{"stateless", stateless, fastHeader("rw", "2025-11-25")},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			before := fp.Served()
			var n atomic.Int64
			// 64 calls at once on the one session, as bench's load does.
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := strconv.FormatInt(n.Add(1), 10)
					rec := serve(c.h, c.header.Clone(), `{"jsonrpc":"2.0","id":`+id+`,"method":"tools/call","params":{"name":"check_drive_auth","arguments":{}}}`)
					if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"authenticated":true`) {
						b.Errorf("status %d: %.300s", rec.Code, rec.Body.String())
						return
					}
				}
			})
			if fp.Served()-before < n.Load()*9/10 {
				b.Fatalf("the fast path served %d of %d", fp.Served()-before, n.Load())
			}
		})
	}
}
