package mcpserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/loopback"
)

// This file holds the limits on what reaches the tools: how many uploads
// one account may run at once, what happens to calls in flight when the
// server is asked to stop, and which browser pages may call /mcp at all.

const (
	// defaultMaxInlineBytes caps create_drive_file's content (Deps.MaxInlineBytes).
	defaultMaxInlineBytes = 32 << 20
	// defaultUploadsPerAccount bounds one account's concurrent uploads: each
	// holds a connection to Google (and, for a stream, an 8 MiB chunk), and
	// Google rate-limits a user's parallel writes anyway.
	defaultUploadsPerAccount = 4
	// defaultUploadQueue is how many more uploads may wait for a slot; the
	// calls beyond it fail at once rather than pile up (an inline upload
	// holds its content in memory while it waits).
	defaultUploadQueue = 16
	// defaultUploadQueueWait is the longest a call waits for a slot.
	defaultUploadQueueWait = time.Minute
	// queueProgressEvery is how often a waiting call tells the client it is
	// still queued, which keeps clients that reset their timeout on
	// progress from giving up.
	queueProgressEvery = 10 * time.Second
)

// uploadSlots bounds how many uploads each account runs at once. A call
// beyond the bound waits its turn (first come, first served) for a while:
// an assistant that sends ten files at once should see ten uploads succeed,
// not six errors to retry. Only when the queue is long, or the wait too
// long, does a call fail, with a sentence saying why.
type uploadSlots struct {
	max, queue int
	wait       time.Duration

	mu       sync.Mutex
	accounts map[string]*accountSlots
}

type accountSlots struct {
	running chan struct{} // one element per running upload
	waiting int
}

func newUploadSlots(max, queue int, wait time.Duration) *uploadSlots {
	if max <= 0 {
		max = defaultUploadsPerAccount
	}
	if queue < 0 {
		queue = 0
	} else if queue == 0 {
		queue = defaultUploadQueue
	}
	if wait <= 0 {
		wait = defaultUploadQueueWait
	}
	return &uploadSlots{max: max, queue: queue, wait: wait, accounts: map[string]*accountSlots{}}
}

// errUploadQueue is the cause of a call refused a slot.
var errUploadQueue = errors.New("too many uploads for one account")

// acquire takes one of email's upload slots, waiting for one if all are
// taken. waiting, if not nil, is called when the call starts waiting and
// then now and then while it waits. The returned release must be called.
func (s *uploadSlots) acquire(ctx context.Context, email string, waiting func(running int)) (release func(), err error) {
	s.mu.Lock()
	a := s.accounts[email]
	if a == nil {
		a = &accountSlots{running: make(chan struct{}, s.max)}
		s.accounts[email] = a
	}
	select {
	case a.running <- struct{}{}:
		s.mu.Unlock()
		return s.releaser(email, a), nil
	default:
	}
	if waiting := a.waiting; waiting >= s.queue {
		s.mu.Unlock()
		return nil, userErrorf(errUploadQueue, "%s already has %d uploads running and %d waiting, the most this server allows. "+
			"Wait for some of them to finish, then call again.", email, s.max, waiting)
	}
	a.waiting++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		a.waiting--
		s.forgetIdleLocked(email, a)
		s.mu.Unlock()
	}()

	timeout := time.NewTimer(s.wait)
	defer timeout.Stop()
	tick := time.NewTicker(queueProgressEvery)
	defer tick.Stop()
	if waiting != nil {
		waiting(s.max)
	}
	for {
		select {
		case a.running <- struct{}{}:
			return s.releaser(email, a), nil
		case <-tick.C:
			if waiting != nil {
				waiting(s.max)
			}
		case <-timeout.C:
			return nil, userErrorf(errUploadQueue, "%s has had %d uploads running for the last %s and none finished, so this one did not start. "+
				"Call again once one of them has finished.", email, s.max, s.wait)
		case <-ctx.Done():
			return nil, userErrorf(ctx.Err(), "The upload was cancelled while it waited for one of %s's %d running uploads to finish; nothing was uploaded.", email, s.max)
		}
	}
}

func (s *uploadSlots) releaser(email string, a *accountSlots) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			<-a.running
			s.forgetIdleLocked(email, a)
			s.mu.Unlock()
		})
	}
}

// forgetIdleLocked drops an account nobody uploads for, so the map holds
// only the accounts busy right now.
func (s *uploadSlots) forgetIdleLocked(email string, a *accountSlots) {
	if len(a.running) == 0 && a.waiting == 0 && s.accounts[email] == a {
		delete(s.accounts, email)
	}
}

// uploadSlot takes an upload slot for the call's account, telling a client
// that asked for progress that the upload is queued.
func (t *tools) uploadSlot(ctx context.Context, req *mcp.CallToolRequest, email string) (release func(), err error) {
	var waiting func(int)
	if req != nil && req.Params != nil && req.Session != nil {
		if token := req.Params.GetProgressToken(); token != nil {
			waiting = func(running int) {
				_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{
					ProgressToken: token,
					Message:       fmt.Sprintf("queued: %s already has %d uploads running", email, running),
				})
			}
		}
	}
	return t.slots.acquire(ctx, email, waiting)
}

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
	posts atomic.Int64
	out   *quietWriter
}

// errShuttingDown is the cause of a call cancelled by the drain deadline.
var errShuttingDown = errors.New("the server is shutting down")

// NewDrain returns a Drain that lets every call through until Stop.
func NewDrain() *Drain {
	abort, cancel := context.WithCancelCause(context.Background())
	return &Drain{idle: make(chan struct{}), abort: abort, abortCall: cancel}
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
			defer d.posts.Add(-1)
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
// it cancels the calls and waits a few seconds more for them to return. It
// reports how many calls were cancelled. Stop is called once.
func (d *Drain) Stop(ctx context.Context) (cancelled int) {
	defer d.waitAnswers()
	d.mu.Lock()
	d.draining = true
	if d.running == 0 {
		close(d.idle)
	}
	d.mu.Unlock()
	select {
	case <-d.idle:
		return 0
	case <-ctx.Done():
	}
	d.mu.Lock()
	cancelled = d.running
	d.mu.Unlock()
	d.abortCall(errShuttingDown)
	select {
	case <-d.idle:
	case <-time.After(5 * time.Second): // a handler that ignores its context; exit anyway
	}
	return cancelled
}

// waitAnswers waits, a few seconds at most, for the answers of the calls
// that returned to be written.
func (d *Drain) waitAnswers() {
	for deadline := time.Now().Add(5 * time.Second); d.posts.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if d.out != nil {
		d.out.waitQuiet(100*time.Millisecond, 2*time.Second)
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
// handler's return, so quiet needs only to be long against that.
func (w *quietWriter) waitQuiet(quiet, max time.Duration) {
	start := time.Now()
	for deadline := start.Add(max); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if time.Since(start) >= quiet && w.writing.Load() == 0 && time.Since(time.Unix(0, w.last.Load())) >= quiet {
			return
		}
	}
}

// RequestBodyLimit is the largest MCP request body the HTTP transport
// should read: a create_drive_file call carrying maxInline bytes (0: the
// default cap) as content_base64, and room for the rest of the message.
// The go-sdk's own default (4 MiB) would refuse inline content long before
// the tool's cap, with a bare 413.
func RequestBodyLimit(maxInline int64) int64 {
	if maxInline <= 0 {
		maxInline = defaultMaxInlineBytes
	}
	return int64(base64.StdEncoding.EncodedLen(int(maxInline))) + 1<<20
}

// RequireOrigin answers 403 to a browser request for the MCP endpoint made
// by a page of another origin, as the MCP transport specification asks of
// servers, against DNS rebinding: a page on attacker.example re-resolves its
// own name to this server, so the browser's same-origin rules let it call
// /mcp (and a server on loopback trusts whoever reaches it). Such a request
// carries Origin: http://attacker.example, which is neither baseURL's origin
// nor a loopback one. Requests without Origin (every client that is not a
// browser page) pass; so do local pages (http://localhost:6274, say, MCP
// Inspector's), whose origin no rebinding attacker can take.
func RequireOrigin(next http.Handler, baseURL string) http.Handler {
	return RequireOriginOr(next, baseURL, nil)
}

// RequireOriginOr is RequireOrigin that also lets pages of the origins
// allowed (the CORS policy, --cors-origins) through. That keeps the
// defence: a rebinding page's requests carry its own origin (the
// attacker's name, which it made resolve here), never one of the listed
// origins, which the attacker does not control; and every request still
// needs a bearer token the user approved.
func RequireOriginOr(next http.Handler, baseURL string, allowed func(origin string) bool) http.Handler {
	own := originOf(baseURL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && !originAllowed(o, own) && (allowed == nil || !allowed(o)) {
			http.Error(w, "Forbidden: requests from pages of origin "+strconv.Quote(o)+" may not use this MCP server", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originOf is a URL's origin, scheme://host[:port] in lower case without
// the scheme's default port; "" if it has none.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return ""
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host
}

func originAllowed(origin, own string) bool {
	o := originOf(origin)
	if o == "" {
		return false // "null" (sandboxed frames, file:) or garbage
	}
	if o == own {
		return true
	}
	u, _ := url.Parse(o)
	return loopback.IsHost(u.Hostname())
}
