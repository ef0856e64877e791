package httpguard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sync/semaphore"
)

// This file bounds what the MCP endpoint lets its clients hold: live
// sessions per account, and the bytes of request bodies in flight.

const (
	// DefaultSessionsPerAccount is how many live MCP sessions one account
	// (or, without OAuth, the local user) may hold: far more than the
	// assistants one person runs, far fewer than the thousands a script
	// opens to fill the server's memory.
	DefaultSessionsPerAccount = 32
	// DefaultBodyBudget is how many bytes of /mcp request bodies may be in
	// flight at once: two of the largest create_drive_file calls. A body
	// costs about three times its size while it is parsed and decoded.
	DefaultBodyBudget = 96 << 20
	// DefaultBodyQueue is how many more requests may wait for room in the
	// budget; their bodies are not read while they wait.
	DefaultBodyQueue = 8
	// DefaultBodyWait is the longest a request waits for room.
	DefaultBodyWait = 30 * time.Second
	// SmallBody is the largest declared body that takes nothing from the
	// budget: a JSON-RPC call other than a file's content is a few KB, and
	// must never wait behind uploads (or behind bodies that never come).
	SmallBody = 64 << 10
	// DefaultBodyStall is how long a body in the budget may send no byte
	// before it gives its place back: a client uploading sends steadily,
	// one that declares a length and sends nothing is holding the budget.
	DefaultBodyStall = 10 * time.Second
	// retryAfterSeconds is the Retry-After of the refusals here.
	retryAfterSeconds = 5
)

// writeRPCRefusal answers with a JSON-RPC error (the client's MCP SDK
// shows its message) and the HTTP status that says whether to retry. The
// id is null: the body, which holds the request's id, was not read.
func writeRPCRefusal(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"jsonrpc": "2.0", "id": nil,
		"error": map[string]any{"code": -32000, "message": message},
	})
}

// SessionLimit caps the live MCP sessions of each token subject (the
// account a bearer token is for; "" without OAuth, where every session is
// the local user's). A request that would open one more is refused 429:
// refusing the newcomer, rather than evicting the oldest, never breaks a
// session an assistant is using.
type SessionLimit struct {
	server     *mcp.Server
	perSubject int

	mu       sync.Mutex
	subjects map[string]*subjectSessions
}

type subjectSessions struct {
	ids     map[string]struct{}
	opening int // initializations under way, not yet known by id
}

// NewSessionLimit limits the sessions of server; perSubject <= 0 means
// DefaultSessionsPerAccount.
func NewSessionLimit(server *mcp.Server, perSubject int) *SessionLimit {
	if perSubject <= 0 {
		perSubject = DefaultSessionsPerAccount
	}
	return &SessionLimit{server: server, perSubject: perSubject, subjects: map[string]*subjectSessions{}}
}

// HTTP wraps the go-sdk's streamable handler, inside the bearer check.
func (l *SessionLimit) HTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only a POST without a session id can open a session.
		if r.Method != http.MethodPost || r.Header.Get("Mcp-Session-Id") != "" {
			next.ServeHTTP(w, r)
			return
		}
		subject := ""
		if ti := auth.TokenInfoFromContext(r.Context()); ti != nil {
			subject = ti.UserID
		}
		ss, ok := l.reserve(subject)
		if !ok {
			writeRPCRefusal(w, http.StatusTooManyRequests, fmt.Sprintf(
				"This account already has %d MCP sessions open, the most this server keeps for one account; no session was opened. "+
					"Close sessions you no longer use (an HTTP DELETE of /mcp with their Mcp-Session-Id, which MCP clients send when they disconnect), "+
					"or wait: idle sessions end after 30 minutes.", l.perSubject))
			return
		}
		next.ServeHTTP(w, r)
		l.opened(subject, ss, w.Header().Get("Mcp-Session-Id"))
	})
}

// reserve takes a place for a new session of subject, first forgetting
// the sessions that have ended (closed, or timed out in the SDK).
func (l *SessionLimit) reserve(subject string) (*subjectSessions, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ss := l.subjects[subject]
	if ss == nil {
		ss = &subjectSessions{ids: map[string]struct{}{}}
		l.subjects[subject] = ss
	}
	if len(ss.ids)+ss.opening >= l.perSubject {
		live := map[string]bool{}
		for s := range l.server.Sessions() {
			live[s.ID()] = true
		}
		for id := range ss.ids {
			if !live[id] {
				delete(ss.ids, id)
			}
		}
		if len(ss.ids)+ss.opening >= l.perSubject {
			return nil, false
		}
	}
	ss.opening++
	return ss, true
}

// opened records the session a reserved request opened ("" if none).
func (l *SessionLimit) opened(subject string, ss *subjectSessions, id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ss.opening--
	if id != "" {
		ss.ids[id] = struct{}{}
	}
	if len(ss.ids) == 0 && ss.opening == 0 && l.subjects[subject] == ss {
		delete(l.subjects, subject)
	}
}

// BodyBudgetOptions size a BodyBudget; zero values take the defaults.
type BodyBudgetOptions struct {
	Bytes int64         // bytes of bodies in flight at once
	Queue int           // requests that may wait for room; negative: none
	Wait  time.Duration // the longest one waits
	// Stall is how long a body may send nothing before it loses its place.
	Stall time.Duration
	// Observe, if set, is told the bytes in use and the requests waiting
	// whenever either changes (tests, metrics).
	Observe func(inUse int64, waiting int)
}

// BodyBudget bounds the memory of /mcp request bodies in flight: a request
// takes its Content-Length (the largest body allowed when it names none)
// from a shared budget before its body is read, and gives it back when its
// answer is written, since the decoded arguments live as long as the call.
// A request that does not fit waits, unread, in a short queue; beyond the
// queue or the wait it is refused 503 with Retry-After. Bodies of at most
// SmallBody bytes take nothing, and a body that sends no byte for the
// stall time gives its place back and is then refused: a declared length
// is only a promise, and one not kept must not hold others out.
type BodyBudget struct {
	sem     *semaphore.Weighted
	size    int64
	maxBody int64
	queue   int
	wait    time.Duration
	stall   time.Duration
	observe func(int64, int)

	mu        sync.Mutex
	inUse     int64
	highWater int64
	waiting   int
}

// NewBodyBudget returns a budget for bodies of at most maxBody bytes (the
// transport's own limit); the budget is never smaller than one such body.
func NewBodyBudget(o BodyBudgetOptions, maxBody int64) *BodyBudget {
	if o.Bytes <= 0 {
		o.Bytes = DefaultBodyBudget
	}
	if o.Bytes < maxBody {
		o.Bytes = maxBody
	}
	if o.Queue == 0 {
		o.Queue = DefaultBodyQueue
	} else if o.Queue < 0 {
		o.Queue = 0
	}
	if o.Wait <= 0 {
		o.Wait = DefaultBodyWait
	}
	if o.Stall <= 0 {
		o.Stall = DefaultBodyStall
	}
	return &BodyBudget{sem: semaphore.NewWeighted(o.Bytes), size: o.Bytes, maxBody: maxBody, queue: o.Queue, wait: o.Wait, stall: o.Stall, observe: o.Observe}
}

// HighWater is the most bytes that were ever in flight at once.
func (b *BodyBudget) HighWater() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.highWater
}

// HTTP wraps the MCP endpoint.
func (b *BodyBudget) HTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := b.weight(r)
		if n == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if !b.acquire(r.Context(), n) {
			writeRPCRefusal(w, http.StatusServiceUnavailable, fmt.Sprintf(
				"drivemcp is receiving more large requests at once than it holds in memory (%d MiB of bodies); this request was not read and nothing was done. "+
					"Send it again in a few seconds.", b.size>>20))
			return
		}
		body := &stallingBody{ReadCloser: r.Body, length: r.ContentLength, release: func() { b.release(n) }}
		body.watch(b.stall)
		defer body.giveBack()
		r.Body = body
		next.ServeHTTP(w, r)
	})
}

// errBodyStalled is what a reader of a body that lost its place gets: the
// go-sdk then answers 400, and the client may send the request again.
var errBodyStalled = errors.New("the request body stopped arriving, so drivemcp stopped waiting for it; send the request again")

// stallingBody gives a request's place in the budget back as soon as its
// body sends nothing for a stall period (and refuses the rest of it), or
// else when the handler returns.
type stallingBody struct {
	io.ReadCloser
	length  int64 // declared; -1 when chunked
	release func()

	mu      sync.Mutex
	read    int64 // bytes so far
	seen    int64 // bytes at the last check
	done    bool  // the body ended: its bytes now live in the handler
	stalled bool
	once    sync.Once
	timer   *time.Timer
}

func (s *stallingBody) watch(stall time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timer = time.AfterFunc(stall, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.done {
			return
		}
		if s.read == s.seen {
			s.stalled = true
			s.once.Do(s.release)
			return
		}
		s.seen = s.read
		s.timer.Reset(stall)
	})
}

func (s *stallingBody) Read(p []byte) (int, error) {
	s.mu.Lock()
	stalled := s.stalled
	s.mu.Unlock()
	if stalled {
		return 0, errBodyStalled
	}
	n, err := s.ReadCloser.Read(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stalled {
		return 0, errBodyStalled // its bytes arrived after its place was given away
	}
	s.read += int64(n)
	if err != nil || (s.length > 0 && s.read >= s.length) {
		s.done = true
		s.timer.Stop()
	}
	return n, err
}

// giveBack releases the place when the handler returns (once).
func (s *stallingBody) giveBack() {
	s.mu.Lock()
	s.done = true
	s.timer.Stop()
	s.mu.Unlock()
	s.once.Do(s.release)
}

// weight is what a request takes from the budget: its declared length,
// or the largest allowed when it declares none (a chunked body); nothing
// for a small declared body.
func (b *BodyBudget) weight(r *http.Request) int64 {
	if r.Method != http.MethodPost || r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return 0
	}
	if r.ContentLength > 0 && r.ContentLength <= SmallBody {
		return 0
	}
	if r.ContentLength < 0 || r.ContentLength > b.maxBody {
		return b.maxBody // the transport reads no more than that
	}
	return r.ContentLength
}

func (b *BodyBudget) acquire(ctx context.Context, n int64) bool {
	b.mu.Lock()
	if b.sem.TryAcquire(n) {
		b.addLocked(n, 0)
		b.mu.Unlock()
		return true
	}
	if b.waiting >= b.queue {
		b.mu.Unlock()
		return false
	}
	b.addLocked(0, 1)
	b.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	err := b.sem.Acquire(ctx, n)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.addLocked(0, -1)
		return false
	}
	b.addLocked(n, -1)
	return true
}

func (b *BodyBudget) release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sem.Release(n)
	b.addLocked(-n, 0)
}

func (b *BodyBudget) addLocked(bytes int64, waiting int) {
	b.inUse += bytes
	b.waiting += waiting
	b.highWater = max(b.highWater, b.inUse)
	if b.observe != nil {
		b.observe(b.inUse, b.waiting)
	}
}
