package mcpserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/felixge/httpsnoop"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The fast path with MCP sessions (`drivemcp serve` without --stateless).
//
// A tools/call on a session costs the go-sdk about as much as a stateless
// one (its JSON-RPC connection, a goroutine per call, the same repeated
// decodes), and the go-sdk keeps its session table to itself. So the fast
// path keeps its own small table, fed by two hooks the SDK does offer:
// ServerOptions.InitializedHandler (a session whose client has sent
// notifications/initialized, with the user of that request's bearer token)
// and EventStore.SessionClosed, which the SDK calls synchronously from the
// session's Close (DELETE, idle timeout, shutdown) before it answers
// anything else. A request carrying a session id the table does not hold —
// unknown, closed, not yet initialized — or another user's token goes to
// the SDK, which answers 404 or 403 as always.
//
// What the SDK does for a session's POST and the fast path does too: the
// same receiving middleware and handler, with the session in the request
// (check_drive_auth reads the session's direct-flow binding); the answer's
// events stored in the session's event store under a fresh stream id and
// numbered as the SDK numbers them (a priming event first from 2025-11-25),
// so a client whose stream breaks resumes it with Last-Event-ID through
// the SDK's GET exactly as after an SDK answer; a call id already in
// flight on the fast path for the session refused as the SDK refuses it.
//
// What it must not skip: the SDK's idle timer, which restarts when a POST
// it serves ends. A session whose calls all took the fast path would time
// out while in use; so a session's call goes through the SDK whenever the
// SDK last served one of its POSTs more than sdkTouchEvery ago (a
// thirtieth of the timeout: once a minute of steady use with serve's 30),
// which bounds how much sooner than the SDK alone an idle session ends.
//
// And what it cannot see: a call the SDK is serving whose body the fast
// path did not parse (say a tools/list, or a request with _meta) may share
// its id with a fast-path call; the SDK would refuse the second as a
// duplicate, the fast path answers it. Each answer still goes to the POST
// that asked, so nothing is misrouted. Calls it did parse (other tools,
// ids it leaves to the SDK) are checked both ways, ids compared as the
// SDK compares them (idKey).

// fastSession is a session the fast path may answer for.
type fastSession struct {
	ss   *mcp.ServerSession
	user string // the token subject the session's requests must carry

	mu       sync.Mutex
	touched  time.Time           // when the SDK last served a POST of the session
	inFlight map[string]struct{} // ids of fast-path calls under way (as sent)
	sdkIDs   map[string]int      // ids of calls the fast path parsed and the SDK is serving
	closed   bool                // the SDK closed it, or is closing it
}

// opening records the user of the request that opens a session, as the
// SDK records it (the session's userID), the moment the SDK names the new
// session in its answer's headers: before the client can read them, so
// before notifications/initialized can arrive.
func (f *FastPath) opening(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	user := ""
	if ti := auth.TokenInfoFromContext(r.Context()); ti != nil {
		user = ti.UserID
	}
	record := func() {
		if id := w.Header().Get("Mcp-Session-Id"); id != "" {
			f.mu.Lock()
			f.pending[id] = user
			f.mu.Unlock()
		}
	}
	once := false
	first := func() {
		if !once {
			once = true
			record()
		}
	}
	return httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
			return func(code int) { first(); next(code) }
		},
		Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
			return func(b []byte) (int, error) { first(); return next(b) }
		},
	})
}

// sessionReady is the server's InitializedHandler: the session has
// finished its handshake and the SDK will now serve its calls. The SDK
// runs it after answering the notification's POST, so a call sent at once
// may still find the session unknown here and go to the SDK. Only
// sessions opened through SessionsHTTP are taken (their user is known);
// the hook also fires for every other transport of the server.
func (f *FastPath) sessionReady(_ context.Context, req *mcp.InitializedRequest) {
	if req == nil || req.Session == nil {
		return
	}
	id := req.Session.ID()
	if id == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	user, ok := f.pending[id]
	if !ok {
		return
	}
	delete(f.pending, id)
	f.sessions[id] = &fastSession{ss: req.Session, user: user, touched: f.now(), inFlight: map[string]struct{}{}, sdkIDs: map[string]int{}}
	if f.readyHook != nil {
		f.readyHook(id)
	}
}

// forget drops a session the SDK has closed.
func (f *FastPath) forget(id string) {
	f.mu.Lock()
	s := f.sessions[id]
	delete(f.sessions, id)
	delete(f.pending, id) // opened, never initialized
	f.mu.Unlock()
	if s != nil {
		s.mu.Lock()
		s.closed = true // for calls that looked it up before
		s.mu.Unlock()
	}
}

// session returns the table's entry for a request, or nil.
func (f *FastPath) session(id string) *fastSession {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.sessions[id]
}

// Sessions is the number of sessions the fast path may answer for (tests).
func (f *FastPath) Sessions() int {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.sessions)
}

// Events wraps the event store given to the SDK's stateful handler, so
// that the fast path stores its answers where the SDK replays them from
// and learns at once when a session closes. Without it the fast path
// serves no session. It is called once, while wiring, before SessionsHTTP.
func (f *FastPath) Events(inner mcp.EventStore) mcp.EventStore {
	if f == nil || inner == nil {
		return inner
	}
	f.mu.Lock()
	f.events = inner
	f.mu.Unlock()
	return &closeHook{EventStore: inner, f: f}
}

// closeHook is an EventStore that tells the fast path of closed sessions.
type closeHook struct {
	mcp.EventStore
	f *FastPath
}

func (c *closeHook) SessionClosed(ctx context.Context, sessionID string) error {
	c.f.forget(sessionID)
	return c.EventStore.SessionClosed(ctx, sessionID)
}

// SessionsHTTP serves what it can of requests on MCP sessions and hands
// the rest to sdk, a stateful StreamableHTTPHandler built with
// o.SessionTimeout and an EventStore from Events.
func (f *FastPath) SessionsHTTP(sdk http.Handler, o FastPathOptions) http.Handler {
	if f == nil || len(f.tools) == 0 || f.events == nil {
		return sdk
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("Mcp-Session-Id")
		if id == "" {
			if r.Method == http.MethodPost {
				w = f.opening(w, r)
			}
			sdk.ServeHTTP(w, r)
			return
		}
		s := f.session(id)
		user := ""
		if ti := auth.TokenInfoFromContext(r.Context()); ti != nil {
			user = ti.UserID
		}
		if s == nil || s.user != user {
			sdk.ServeHTTP(w, r) // not ours to judge: 404, 403, or served
			return
		}
		switch r.Method {
		case http.MethodDelete:
			// The session's user ends it: from now on its calls are the
			// SDK's, which holds them while the session closes (its Close
			// waits for the calls in flight) and then refuses them.
			f.forget(id)
			sdk.ServeHTTP(w, r)
			return
		case http.MethodPost:
		default:
			sdk.ServeHTTP(w, r)
			return
		}
		// Headers the SDK accepts before it looks the session up: only
		// then does a POST restart the SDK's idle timer.
		reachesSession := f.eligibleRequest(r, o)
		if !reachesSession || !f.freshEnough(s, o.SessionTimeout) || !f.eligibleOnSession(r, o) {
			f.viaSDK(sdk, w, r, s, reachesSession, nil)
			return
		}
		f.take(w, r, o, func(c *toolCall) { f.viaSDK(sdk, w, r, s, true, c) }, func(c toolCall) {
			f.serveSession(w, r, c, id, s)
		})
	})
}

// viaSDK hands a session's POST to the SDK. A POST that reaches the
// session restarts its idle timer when it ends, which the fast path then
// counts from. c is the call when the fast path parsed one (a tool it
// does not serve): its id is in flight on the SDK until it returns.
func (f *FastPath) viaSDK(sdk http.Handler, w http.ResponseWriter, r *http.Request, s *fastSession, reachesSession bool, c *toolCall) {
	var key string
	if c != nil {
		key = idKey(c.id)
		s.mu.Lock()
		s.sdkIDs[key]++
		s.mu.Unlock()
	}
	sdk.ServeHTTP(w, r)
	now := f.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if reachesSession {
		s.touched = now
	}
	if c != nil {
		if s.sdkIDs[key]--; s.sdkIDs[key] <= 0 {
			delete(s.sdkIDs, key)
		}
	}
}

// sdkTouchEvery is how long after the SDK last served one of a session's
// POSTs the fast path still answers its calls: then a call goes through
// the SDK, which restarts the session's idle timer. A session used only
// through the fast path therefore ends between timeout - timeout/30 and
// timeout after its last call (29 to 30 minutes with serve's 30), where
// the SDK alone would end it at exactly timeout; and one call in a minute
// of steady use pays the SDK's price.
func sdkTouchEvery(timeout time.Duration) time.Duration { return timeout / 30 }

// freshEnough is true while the SDK last restarted the session's idle
// timer less than sdkTouchEvery ago.
func (f *FastPath) freshEnough(s *fastSession, timeout time.Duration) bool {
	if timeout <= 0 {
		return true // no idle timeout to keep running
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return f.now().Sub(s.touched) < sdkTouchEvery(timeout)
}

// eligibleOnSession is eligible for a session's request: the same plain
// request, with the session id, and no Last-Event-ID (which the SDK
// refuses on a POST).
func (f *FastPath) eligibleOnSession(r *http.Request, o FastPathOptions) bool {
	if len(r.Header.Values("Last-Event-ID")) > 0 || len(r.Header.Values("Mcp-Session-Id")) != 1 {
		return false
	}
	return f.eligibleRequest(r, o)
}

// idKey is a call id as the duplicate checks compare it: as the SDK
// decodes it, which holds -0 and 0 equal, integers beyond 2^53 equal to
// their float64, and a string's invalid bytes equal to U+FFFD. (The ids
// the fast path serves itself are their own key; those it passed to the
// SDK may be spelled otherwise.)
func idKey(id []byte) string {
	if len(id) > 0 && id[0] == '"' {
		var s string
		if json.Unmarshal(id, &s) == nil { // invalid UTF-8 → U+FFFD, as the SDK
			return "s" + s
		}
		return "r" + string(id)
	}
	if f, err := strconv.ParseFloat(string(id), 64); err == nil {
		return "n" + strconv.FormatInt(int64(f), 10)
	}
	return "r" + string(id)
}

// serveSession answers a call on a session as the SDK's stateful
// transport does (streamableServerConn.servePOST and Write in go-sdk
// v1.8.0): the call's stream opened in the event store under a fresh id,
// a priming event from revision 2025-11-25, then the answer, each stored
// before it is written, numbered <stream>_<index>.
func (f *FastPath) serveSession(w http.ResponseWriter, r *http.Request, c toolCall, sessionID string, s *fastSession) {
	key := idKey(c.id)
	s.mu.Lock()
	closed := s.closed
	_, dup := s.inFlight[key]
	dup = dup || s.sdkIDs[key] > 0
	if !dup && !closed {
		s.inFlight[key] = struct{}{}
	}
	s.mu.Unlock()
	if closed {
		// Its body came after the session ended (DELETE, idle timeout):
		// answered as the SDK answers such a call, which it looked up
		// when the headers came — the stream opened, nothing delivered.
		f.writeClosed(w, r, sessionID)
		return
	}
	if dup {
		writeDuplicateID(w, c.id)
		return
	}
	f.served.Add(1)
	defer func() {
		s.mu.Lock()
		delete(s.inFlight, key)
		s.mu.Unlock()
	}()

	ctx := r.Context()
	stream := rand.Text()
	if err := f.events.Open(ctx, sessionID, stream); err != nil {
		http.Error(w, fmt.Sprintf("storing stream: %v", err), http.StatusInternalServerError)
		return
	}
	var out []event
	index := 0
	if revisionAtLeast(r.Header.Get("Mcp-Protocol-Version"), "2025-11-25") {
		if err := f.events.Append(ctx, sessionID, stream, nil); err != nil {
			f.log.Warn("storing the priming event", "err", err)
		}
		out = append(out, event{name: "prime", id: stream + "_0"})
		index++
	}
	// Not from the pool: the event store keeps these bytes.
	data, err := f.answer(make([]byte, 0, 1024), r, c, s.ss)
	if err != nil {
		http.Error(w, "encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if err := f.events.Append(ctx, sessionID, stream, data); err != nil {
		// The SDK writes the answer all the same; it only cannot be replayed.
		f.log.Warn("storing the answer's event", "err", err)
	}
	out = append(out, event{name: "message", id: stream + "_" + strconv.Itoa(index), data: data})
	writeEvents(w, out...)
}

// writeClosed answers a call on a session that closed while its body was
// read as the SDK's transport does: a priming event from 2025-11-25 (the
// stream was opened), then the response ends with nothing delivered.
func (f *FastPath) writeClosed(w http.ResponseWriter, r *http.Request, sessionID string) {
	stream := rand.Text()
	_ = f.events.Open(r.Context(), sessionID, stream) // a closed session's: not kept
	if revisionAtLeast(r.Header.Get("Mcp-Protocol-Version"), "2025-11-25") {
		_ = f.events.Append(r.Context(), sessionID, stream, nil)
		writeEvents(w, event{name: "prime", id: stream + "_0"})
		return
	}
	writeEvents(w)
}

// writeDuplicateID refuses a call whose id is in flight on the session,
// in the SDK's words: 400, a JSON-RPC error of code -32600.
func writeDuplicateID(w http.ResponseWriter, id []byte) {
	raw := string(id)
	if unquoted, err := strconv.Unquote(raw); err == nil {
		raw = unquoted // ids are plain (plainID): no escapes to undo
	}
	msg, _ := marshalNoEscape("duplicate in-flight request ID " + raw)
	// The SDK has set its stream's headers by then; the error replaces
	// only the content type.
	w.Header().Set("Cache-Control", "no-cache, no-transform")
	w.Header().Set("Connection", "keep-alive")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"error":{"code":-32600,"message":` + string(msg) + `}}`))
}
