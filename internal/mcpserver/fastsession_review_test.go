package mcpserver

// Attack review of the session fast path (fastsession.go) as `drivemcp
// serve` wires it: the go-sdk's stateful handler behind SessionsHTTP, its
// events in the bounded store (internal/eventstore). Each test here is named
// after a threat, and compares with the go-sdk serving the same session
// alone where the point is "answers differently from the SDK".

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/eventstore"
)

// storeServer is one server with MCP sessions and no bearer token (the
// local user), its events in the bounded store. With sdkOnly the go-sdk's
// handler serves every request itself; otherwise SessionsHTTP is in front.
// Requests are served in memory (ServeHTTP), so that tests can run in a
// synctest bubble, where the SDK's idle timer runs on the bubble's clock.
type storeServer struct {
	server  *mcp.Server
	path    *FastPath
	store   *eventstore.Store
	handler http.Handler
	ready   chan string
}

func newStoreServer(t *testing.T, deps Deps, sdkOnly bool, setup ...func(*mcp.Server)) *storeServer {
	t.Helper()
	s, fp := NewWithFastPath(deps)
	for _, f := range setup {
		f(s)
	}
	st := &storeServer{server: s, path: fp, store: eventstore.New(eventstore.Options{}), ready: make(chan string, 16)}
	fp.readyHook = func(id string) { st.ready <- id }
	events := fp.Events(st.store)
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{
		SessionTimeout: testSessionTimeout, EventStore: events, MaxRequestBodyBytes: 4 << 10})
	if sdkOnly {
		// The SDK answers everything; the fast path only watches sessions
		// open, so that open can wait for the handshake to finish.
		st.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.Header.Get("Mcp-Session-Id") == "" {
				w = fp.opening(w, r)
			}
			sdk.ServeHTTP(w, r)
		})
	} else {
		st.handler = fp.SessionsHTTP(sdk, FastPathOptions{MaxBodyBytes: 4 << 10, SessionTimeout: testSessionTimeout})
	}
	return st
}

func (s *storeServer) request(method, session, body string) *http.Request {
	r := httptest.NewRequest(method, "/mcp", strings.NewReader(body))
	r.Header = fastHeader("", "2025-11-25")
	if session != "" {
		r.Header.Set("Mcp-Session-Id", session)
	}
	return r
}

func (s *storeServer) serve(r *http.Request) answer {
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, r)
	res := w.Result()
	return answer{res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"), w.Body.String(), res.Header.Get("Mcp-Session-Id")}
}

func (s *storeServer) do(method, session, body string) answer {
	return s.serve(s.request(method, session, body))
}

// open initializes a session and returns once its handshake has ended.
func (s *storeServer) open(t *testing.T) string {
	t.Helper()
	r := s.request(http.MethodPost, "", `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	r.Header.Del("Mcp-Protocol-Version")
	init := s.serve(r)
	if init.status != http.StatusOK || init.session == "" {
		t.Fatalf("initialize: %+v", init)
	}
	if a := s.do(http.MethodPost, init.session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); a.status != http.StatusAccepted {
		t.Fatalf("initialized: %+v", a)
	}
	if got := <-s.ready; got != init.session {
		t.Fatalf("handshake of %q ended, want %q", got, init.session)
	}
	return init.session
}

func checkAuthCall(id string) string {
	return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"check_drive_auth","arguments":{}}}`
}

// THREAT: a session used only through the fast path times out while in
// use. The SDK ends a session no POST has used for SessionTimeout; the fast
// path sends a call to the SDK only when the SDK last served the session
// more than half the timeout ago, so every fast-path call leaves the SDK's
// timer where it was. A call just under half the timeout after the SDK last
// saw the session takes the fast path; the next one, a little more than
// half the timeout later (an idle gap well under the timeout, which the
// SDK alone would allow), finds the session gone: 404, and with it the
// direct flow's sign-in bound to the session id. The session's effective
// idle timeout is anywhere between half the timeout and the timeout.
func TestFastPathSessions_IdleGapUnderTheTimeoutAfterAFastCallDoesNotEndTheSession(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{})
	for _, sdkOnly := range []bool{true, false} {
		name := map[bool]string{true: "the SDK alone", false: "through the fast path"}[sdkOnly]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newStoreServer(t, deps, sdkOnly)
				session := s.open(t)
				defer s.do(http.MethodDelete, session, "")

				// Steady use for a quarter of an hour, a call every 50 s:
				// mostly through the fast path. (Inside the synctest bubble
				// time.Sleep moves the bubble's fake clock, on which the
				// SDK's own idle timer runs; nothing waits in real time.)
				const calls = 17
				for i := range calls {
					time.Sleep(50 * time.Second)
					if a := s.do(http.MethodPost, session, checkAuthCall(strconv.Itoa(i+1))); a.status != http.StatusOK {
						t.Fatalf("call %d: %+v", i, a)
					}
				}
				if served := s.path.Served(); !sdkOnly && served < calls/2 {
					t.Fatalf("the fast path answered %d of %d calls; the test shows nothing", served, calls)
				}
				// Then idle for nine tenths of the timeout: the session must
				// still be there (the fast path's slack is a thirtieth).
				gap := testSessionTimeout * 9 / 10
				time.Sleep(gap)
				if a := s.do(http.MethodPost, session, checkAuthCall("99")); a.status != http.StatusOK {
					t.Errorf("a call %v after the previous one (timeout %v) found the session gone: %+v", gap, testSessionTimeout, a)
				}
			})
		})
	}
}

// THREAT: the fast path believes the SDK restarted a session's idle timer
// when the SDK refused the request before looking the session up. A POST
// the fast path hands to the SDK marks the session fresh once the SDK
// returns, whatever the SDK did; but the SDK restarts the timer only for a
// POST that reached the session (startPOST/endPOST), not one it refused
// first for its Content-Type (415), its Accept header or its protocol
// revision (400). After such a refusal the fast path answers the session's
// calls for another half timeout while the SDK's timer runs on.
func TestFastPathSessions_SDKRefusalBeforeTheSessionDoesNotCountAsSDKUse(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{})
	p := newSessionPair(t, deps)
	session := p.open(t, p.fast, "")
	later := p.now.Load().Add(sdkTouchEvery(testSessionTimeout) + time.Second)
	p.now.Store(&later)

	h := sessionHeader("", session)
	h.Set("Content-Type", "text/plain")
	if a := post(t, p.fast, h, checkAuthCall("1")); a.status != http.StatusUnsupportedMediaType {
		t.Fatalf("a text/plain POST: %+v, want the SDK's 415", a)
	}
	before := p.path.Served()
	if a := post(t, p.fast, sessionHeader("", session), checkAuthCall("2")); a.status != http.StatusOK {
		t.Fatalf("call: %+v", a)
	}
	if p.path.Served() != before {
		t.Error("the fast path answered a call although the SDK last restarted the session's timer more than half the timeout ago (it counted a 415 as SDK use)")
	}
}

// gatedBody is a request body that tells when the handler first reads it,
// and holds the body's bytes until the test lets them through: a client
// that sends its headers now and its body later.
type gatedBody struct {
	once    sync.Once
	reading chan struct{}
	r       *io.PipeReader
}

func (b *gatedBody) Read(p []byte) (int, error) {
	b.once.Do(func() { close(b.reading) })
	return b.r.Read(p)
}

func (b *gatedBody) Close() error { return b.r.Close() }

// lateBodyAfterDELETE sends a call whose headers arrive while its session
// is open and whose body arrives after the session was deleted, and returns
// the call's answer.
func lateBodyAfterDELETE(t *testing.T, s *storeServer, session string) answer {
	t.Helper()
	pr, pw := io.Pipe()
	body := &gatedBody{reading: make(chan struct{}), r: pr}
	r := s.request(http.MethodPost, session, "")
	r.Body, r.ContentLength = body, -1
	done := make(chan answer)
	go func() { done <- s.serve(r) }()
	<-body.reading // the session was looked up; its body is awaited
	if a := s.do(http.MethodDelete, session, ""); a.status != http.StatusNoContent {
		t.Fatalf("DELETE: %+v", a)
	}
	go func() {
		_, _ = io.WriteString(pw, checkAuthCall("1"))
		_ = pw.Close()
	}()
	return <-done
}

// THREAT: a call reaches a session after the session was deleted. The fast
// path looks the session up when the request's headers arrive and answers
// after reading the body; a client that sends the body after its DELETE
// was answered 204 gets the call served in full (200 with the tool's
// result) on the deleted session, where the SDK, which also looked the
// session up early, answers nothing once the session is closed.
func TestFastPathSessions_CallWhoseBodyArrivesAfterDELETEIsNotServed(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{})
	sdk, fast := newStoreServer(t, deps, true), newStoreServer(t, deps, false)
	sdkSession, fastSession := sdk.open(t), fast.open(t)
	want := normal(lateBodyAfterDELETE(t, sdk, sdkSession), sdkSession)
	got := normal(lateBodyAfterDELETE(t, fast, fastSession), fastSession)
	if fast.path.Served() != 0 || got.status != want.status || got.body != want.body {
		t.Errorf("a call on a deleted session: the fast path served %d and answered\n%+v\nthe SDK answered\n%+v", fast.path.Served(), got, want)
	}
}

// THREAT: any user with a session grows the event store without bound and
// shrinks everyone's resumable history, by deleting a session while one of
// its calls is reading its body. Either path then opens the call's stream
// in the store after the store freed the session, and the store's Open
// creates the session anew: nothing ever closes it again, and its fixed
// cost stays charged against the global budget until the process exits.
// About 40,000 rounds push the store over its 8 MiB budget for good, after
// which every Append evicts every other session's history.
func TestFastPathSessions_LateCallDoesNotBringADeletedSessionBackIntoTheEventStore(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{})
	for _, sdkOnly := range []bool{true, false} {
		name := map[bool]string{true: "the SDK alone", false: "through the fast path"}[sdkOnly]
		t.Run(name, func(t *testing.T) {
			s := newStoreServer(t, deps, sdkOnly)
			lateBodyAfterDELETE(t, s, s.open(t))
			if st := s.store.Stats(); st.Sessions != 0 || st.Bytes != 0 {
				t.Errorf("with no session open the store holds %+v", st)
			}
		})
	}
}

// blockingTool adds a tool that waits for release, telling started when
// it runs: a long call the SDK has in flight on a session.
func blockingTool(started chan<- struct{}, release <-chan struct{}) func(*mcp.Server) {
	return func(s *mcp.Server) {
		s.AddTool(&mcp.Tool{Name: "block", InputSchema: map[string]any{"type": "object"}}, func(ctx context.Context, _ *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			started <- struct{}{}
			<-release
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "done"}}}, nil
		})
	}
}

const blockCall = `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"block","arguments":{}}}`

// THREAT: a call reuses the id of a call the SDK has in flight on the
// session. The SDK refuses it (400, -32600 "duplicate in-flight request
// ID"), so that two answers with one id never reach the client; the fast
// path checks only the ids of its own calls, and answers 200 with a second
// response of that id while the first is still to come.
func TestFastPathSessions_CallIDInFlightOnTheSDKIsRefused(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{})
	answers := map[bool]answer{}
	for _, sdkOnly := range []bool{true, false} {
		started, release := make(chan struct{}), make(chan struct{})
		s := newStoreServer(t, deps, sdkOnly, blockingTool(started, release))
		session := s.open(t)
		first := make(chan answer)
		go func() { first <- s.do(http.MethodPost, session, blockCall) }()
		<-started
		answers[sdkOnly] = s.do(http.MethodPost, session, checkAuthCall("5"))
		close(release)
		<-first
	}
	if got, want := answers[false], answers[true]; got != want {
		t.Errorf("a call whose id the SDK has in flight: the fast path answered\n%+v\nthe SDK\n%+v", got, want)
	}
}

// THREAT: a session that is being closed still serves calls. The SDK's
// Close (DELETE, idle timeout, shutdown) first stops the session taking new
// calls, then waits for those in flight, and only then tells the event
// store, which is where the fast path learns of it. Meanwhile the SDK
// answers new calls with a "server is closing" error and the fast path
// answers them in full, for as long as the slowest call in flight lasts.
func TestFastPathSessions_NoCallServedOnASessionBeingClosed(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{})
	answers := map[bool]answer{}
	for _, sdkOnly := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			started, release := make(chan struct{}), make(chan struct{})
			s := newStoreServer(t, deps, sdkOnly, blockingTool(started, release))
			session := s.open(t)
			first := make(chan answer)
			go func() { first <- s.do(http.MethodPost, session, blockCall) }()
			<-started
			deleted := make(chan answer)
			go func() { deleted <- s.do(http.MethodDelete, session, "") }()
			synctest.Wait() // the DELETE waits for the blocked call
			call := make(chan answer)
			go func() { call <- s.do(http.MethodPost, session, checkAuthCall("6")) }()
			synctest.Wait() // the SDK holds the call until the session has closed
			close(release)
			answers[sdkOnly] = normal(<-call, session)
			<-first
			<-deleted
		})
	}
	if got, want := answers[false], answers[true]; got != want {
		t.Errorf("a call on a session being closed: the fast path answered\n%+v\nthe SDK\n%+v", got, want)
	}
}

// THREAT: the fast path echoes a call's id as the client wrote it, where
// the SDK decodes it (a number as a float64, then an int64; a string with
// invalid UTF-8 replaced) and encodes it again (U+2028 and U+2029
// escaped). The answers differ for -0, integers beyond 2^53, and strings
// holding invalid UTF-8 or a line separator; for invalid UTF-8 the fast
// path's answer is not even valid JSON (RFC 8259 §8.1), and ids the SDK
// holds equal (0 and -0) are different ids to its duplicate check. On a
// session as statelessly: answer and parseToolCall are shared.
func TestFastPathSessions_IDsAnsweredAsTheSDKDecodesThem(t *testing.T) {
	deps, _ := fixtureDeps(t, Deps{})
	p := newSessionPair(t, deps)
	sdkSession, fastSession := p.open(t, p.sdk, ""), p.open(t, p.fast, "")
	for _, id := range []string{`-0`, `9007199254740993`, `9223372036854775807`, "\"line\u2028sep\"", "\"bad\xffutf8\""} {
		want := normal(post(t, p.sdk, sessionHeader("", sdkSession), checkAuthCall(id)), sdkSession)
		got := normal(post(t, p.fast, sessionHeader("", fastSession), checkAuthCall(id)), fastSession)
		if got != want {
			t.Errorf("id %s: the fast path answered\n%q\nthe SDK\n%q", id, got.body, want.body)
		}
	}
}
