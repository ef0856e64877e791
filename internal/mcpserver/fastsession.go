package mcpserver

import (
	"context"
	"crypto/rand"
	"fmt"
	"iter"
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
// out while in use; so a session's request goes to the SDK whenever the
// SDK last served one of its POSTs more than half the idle timeout ago
// (once every 15 minutes of steady use with the 30-minute timeout).

// fastSession is a session the fast path may answer for.
type fastSession struct {
	ss   *mcp.ServerSession
	user string // the token subject the session's requests must carry

	mu       sync.Mutex
	touched  time.Time           // when the SDK last served a POST of the session
	inFlight map[string]struct{} // ids of fast-path calls under way (as sent)
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
	return httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
			return func(code int) {
				if !once {
					once = true
					record()
				}
				next(code)
			}
		},
		Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
			return func(b []byte) (int, error) {
				if !once {
					once = true
					record()
				}
				return next(b)
			}
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
	f.sessions[id] = &fastSession{ss: req.Session, user: user, touched: f.now(), inFlight: map[string]struct{}{}}
	if f.readyHook != nil {
		f.readyHook(id)
	}
}

// forget drops a session the SDK has closed.
func (f *FastPath) forget(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sessions, id)
	delete(f.pending, id) // opened, never initialized
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
// serves no session.
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

// After is the inner store's (explicit, for readers looking for it).
func (c *closeHook) After(ctx context.Context, sessionID, streamID string, index int) iter.Seq2[[]byte, error] {
	return c.EventStore.After(ctx, sessionID, streamID, index)
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
		if id == "" && r.Method == http.MethodPost {
			sdk.ServeHTTP(f.opening(w, r), r)
			return
		}
		if id == "" || r.Method != http.MethodPost {
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
		if !f.freshEnough(s, o.SessionTimeout) || !f.eligibleOnSession(r, o) {
			f.viaSDK(sdk, w, r, s)
			return
		}
		f.take(w, r, o, func() { f.viaSDK(sdk, w, r, s) }, func(c toolCall) {
			f.served.Add(1)
			f.serveSession(w, r, c, id, s)
		})
	})
}

// viaSDK hands a session's POST to the SDK, which restarts the session's
// idle timer when the POST ends.
func (f *FastPath) viaSDK(sdk http.Handler, w http.ResponseWriter, r *http.Request, s *fastSession) {
	sdk.ServeHTTP(w, r)
	now := f.now()
	s.mu.Lock()
	s.touched = now
	s.mu.Unlock()
}

// freshEnough is true while the SDK's idle timer of the session has more
// than half its time left.
func (f *FastPath) freshEnough(s *fastSession, timeout time.Duration) bool {
	if timeout <= 0 {
		return true // no idle timeout to keep running
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return f.now().Sub(s.touched) < timeout/2
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

// serveSession answers a call on a session as the SDK's stateful
// transport does (streamableServerConn.servePOST and Write in go-sdk
// v1.8.0): the call's stream opened in the event store under a fresh id,
// a priming event from revision 2025-11-25, then the answer, each stored
// before it is written, numbered <stream>_<index>.
func (f *FastPath) serveSession(w http.ResponseWriter, r *http.Request, c toolCall, sessionID string, s *fastSession) {
	key := string(c.id)
	s.mu.Lock()
	_, dup := s.inFlight[key]
	if !dup {
		s.inFlight[key] = struct{}{}
	}
	s.mu.Unlock()
	if dup {
		writeDuplicateID(w, c.id)
		return
	}
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

// writeDuplicateID refuses a call whose id is in flight on the session,
// in the SDK's words: 400, a JSON-RPC error of code -32600.
func writeDuplicateID(w http.ResponseWriter, id []byte) {
	raw := string(id)
	if unquoted, err := strconv.Unquote(raw); err == nil {
		raw = unquoted // ids are plain (plainID): no escapes to undo
	}
	msg, _ := marshalNoEscape("duplicate in-flight request ID " + raw)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(id) + `,"error":{"code":-32600,"message":` + string(msg) + `}}`))
}
