package httpguard

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Drain lets a server that is asked to stop finish the tool calls it is
// running while it refuses new ones, and gives up on the stragglers at a
// deadline. Its Middleware must be installed on the MCP server.
//
// An upload cut short by the deadline is cancelled cleanly: its resumable
// session is abandoned, which creates no file, so the client's retry (on a
// restarted server or another replica) makes exactly one.
type Drain struct {
	mu       sync.Mutex
	draining bool
	running  int
	idle     chan struct{} // closed once draining and nothing runs
	// abort cancels the calls still running when the deadline passes.
	abort     context.Context
	abortCall context.CancelCauseFunc
	// A call's answer is written after its handler returns; these tell
	// when the answers are out (see HTTP and Writer).
	posts     atomic.Int64
	stopping  atomic.Bool   // Stop has begun (posts reaching 0 then matters)
	postsOnce sync.Once     // closes postsIdle
	postsIdle chan struct{} // closed once stopping and no POST is being answered
	out       *quietWriter
}

// errShuttingDown is the cause of a call cancelled by the drain deadline.
var errShuttingDown = errors.New("the server is shutting down")

// NewDrain returns a Drain that lets every call through until Stop.
func NewDrain() *Drain {
	abort, cancel := context.WithCancelCause(context.Background())
	return &Drain{idle: make(chan struct{}), postsIdle: make(chan struct{}), abort: abort, abortCall: cancel}
}

// Middleware counts tool calls in flight and, once the drain has begun,
// answers new ones with a tool error that says to call again.
func (d *Drain) Middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		d.mu.Lock()
		if d.draining {
			d.mu.Unlock()
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{
				Text: "drivemcp is shutting down and starts no new calls; nothing was done. Call again in a moment (the restarted server, or another replica, will answer).",
			}}}, nil
		}
		d.running++
		d.mu.Unlock()
		defer d.done()
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		stop := context.AfterFunc(d.abort, func() { cancel(context.Cause(d.abort)) })
		defer stop()
		return next(ctx, method, req)
	}
}

func (d *Drain) done() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.running--
	if d.draining && d.running == 0 {
		close(d.idle)
	}
}

// HTTP wraps the MCP endpoint: Stop then also waits until the POST
// requests being answered have written their answers (a tool result goes
// out on its POST's event stream after the handler has returned).
func (d *Drain) HTTP(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			d.posts.Add(1)
			defer func() {
				if d.posts.Add(-1) == 0 && d.stopping.Load() {
					d.postsOnce.Do(func() { close(d.postsIdle) })
				}
			}()
		}
		h.ServeHTTP(w, r)
	})
}

// Writer wraps the output of the stdio transport: Stop then also waits
// until it has fallen quiet, so the answers of the last calls are written
// before the connection closes (the go-sdk drops answers once its
// connection is closing).
func (d *Drain) Writer(w io.Writer) io.Writer {
	d.out = &quietWriter{Writer: w}
	return d.out
}

// Stop refuses new tool calls from now on and waits until the calls in
// flight have returned and their answers are written. If ctx ends first,
// it cancels the calls and waits at most AfterDeadline more, in all, for
// them to return and their answers to be written: a container
// orchestrator kills a process that is not gone 30 s after asking it to
// stop, so drain timeout + AfterDeadline must stay under that (serve's:
// 25 + 4). It reports how many calls were cancelled. Stop is called once.
func (d *Drain) Stop(ctx context.Context) (cancelled int) {
	d.mu.Lock()
	d.draining = true
	if d.running == 0 {
		close(d.idle)
	}
	d.mu.Unlock()
	// After draining is set: a call let in before it came on a POST that
	// was counted before, so this sees it. Either the last POST sees
	// stopping and closes postsIdle, or this sees no POST left
	// (sequentially consistent atomics: one of the two).
	d.stopping.Store(true)
	if d.posts.Load() == 0 {
		d.postsOnce.Do(func() { close(d.postsIdle) })
	}
	select {
	case <-d.idle:
		d.waitAnswers(time.Now().Add(AnswerWait))
		return 0
	case <-ctx.Done():
	}
	d.mu.Lock()
	cancelled = d.running
	d.mu.Unlock()
	d.abortCall(errShuttingDown)
	deadline := time.Now().Add(AfterDeadline)
	wait := time.NewTimer(AfterDeadline)
	defer wait.Stop()
	select {
	case <-d.idle:
	case <-wait.C: // a handler that ignores its context; exit anyway
	}
	d.waitAnswers(deadline)
	return cancelled
}

// AnswerWait is the longest Stop waits for the answers of calls that
// finished in time to be written; AfterDeadline is the longest it waits,
// once its context has ended, for the cancelled calls to return and for
// every answer to be written, all told.
const (
	AnswerWait    = 5 * time.Second
	AfterDeadline = 4 * time.Second
)

// waitAnswers waits, until deadline at most, for the answers of the calls
// that returned to be written.
func (d *Drain) waitAnswers(deadline time.Time) {
	wait := time.NewTimer(time.Until(deadline))
	defer wait.Stop()
	select {
	case <-d.postsIdle:
	case <-wait.C:
	}
	if d.out != nil {
		d.out.waitQuiet(100*time.Millisecond, min(2*time.Second, time.Until(deadline)))
	}
}

// quietWriter remembers when it was last written to.
type quietWriter struct {
	io.Writer
	writing atomic.Int64
	last    atomic.Int64 // UnixNano of the end of the last write
}

func (w *quietWriter) Write(p []byte) (int, error) {
	w.writing.Add(1)
	defer func() {
		w.last.Store(time.Now().UnixNano())
		w.writing.Add(-1)
	}()
	return w.Writer.Write(p)
}

// waitQuiet returns once nothing has been written for quiet since it was
// called, or after max. An answer is written within microseconds of its
// handler's return, so quiet needs only to be long against that. It wakes
// when the quiet period could have ended, not on a fixed tick.
func (w *quietWriter) waitQuiet(quiet, max time.Duration) {
	start := time.Now()
	deadline := start.Add(max)
	timer := time.NewTimer(quiet)
	defer timer.Stop()
	for {
		now := time.Now()
		next := start.Add(quiet)
		if last := time.Unix(0, w.last.Load()).Add(quiet); last.After(next) {
			next = last
		}
		writing := w.writing.Load() > 0
		if !writing && !now.Before(next) || !now.Before(deadline) {
			return
		}
		if writing || !next.After(now) {
			next = now.Add(quiet / 10) // a write under way: look again soon
		}
		if next.After(deadline) {
			next = deadline
		}
		timer.Reset(next.Sub(now))
		<-timer.C
	}
}
