package authserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/felixge/httpsnoop"
)

// LoopbackOptions make the Server serve the Google callback itself, on a
// loopback listener that exists only while a direct sign-in of this process
// is pending: stdio mode and drivemcp login, where several drivemcp
// processes share one machine and must all start whatever else runs.
type LoopbackOptions struct {
	// Addr is --callback-addr: the registered host:port of a Web
	// application client; with Ephemeral only its host is used.
	Addr string
	// Ephemeral is for Desktop app clients, whose loopback redirect URI may
	// use any port (RFC 8252 §7.3): each sign-in listens on a port the
	// system picks, and Google is sent that port.
	Ephemeral bool
	// Wrap, if set, wraps the callback handler (request logging).
	Wrap func(http.Handler) http.Handler
	// Listen opens listeners (default net.Listen).
	Listen func(network, addr string) (net.Listener, error)
	// Poll is how often a pending sign-in checks the store for its
	// completion by another process, and retries a busy port (default 1s).
	Poll time.Duration
	// OnCallback, if set, hears the HTTP status of each callback this
	// process served (drivemcp login reports error pages).
	OnCallback func(status int)
	// OnListen, if set, hears each callback listener open (true) and
	// close (false): tests wait on it instead of on the clock.
	OnListen func(redirectURI string, open bool)
}

// DirectStart is a started direct sign-in.
type DirectStart struct {
	// URL is Google's consent URL to open.
	URL string
	// State names the pending login, for DirectLoginPending.
	State string
	// RedirectURI is where Google sends the browser back.
	RedirectURI string
	// Elsewhere says that the callback's port was busy, so another program
	// (another drivemcp on the same database completes the sign-in) must
	// answer it; this process takes the port over if it frees up.
	Elsewhere bool
}

// ErrCallbackPort is a callback listener that could not be opened (not
// because another program holds the port, which is Elsewhere).
var ErrCallbackPort = errors.New("the Google callback's port could not be opened")

// callbackListeners owns this process's callback listeners.
type callbackListeners struct {
	opts LoopbackOptions
	srv  *Server

	mu        sync.Mutex
	closed    bool
	listeners map[string]*cbListener // by redirect URI
	pending   map[string]*signIn     // by state
	stop      chan struct{}
	wg        sync.WaitGroup
}

// cbListener is one listening callback server.
type cbListener struct {
	redirect string
	http     *http.Server
	states   map[string]bool
}

// signIn is one pending direct sign-in of this process.
type signIn struct {
	state    string
	redirect string
	ln       *cbListener // nil while another program holds the port
}

func newLoopback(srv *Server, o LoopbackOptions) *callbackListeners {
	if o.Listen == nil {
		o.Listen = net.Listen
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	return &callbackListeners{opts: o, srv: srv, listeners: map[string]*cbListener{}, pending: map[string]*signIn{}, stop: make(chan struct{})}
}

// redirectURIKey carries, in a callback request's context, the redirect
// URI of the listener that received it: the code exchange must name it.
type redirectURIKey struct{}

func redirectURIFrom(ctx context.Context) string {
	s, _ := ctx.Value(redirectURIKey{}).(string)
	return s
}

func callbackURL(addr string) string {
	return (&url.URL{Scheme: "http", Host: addr, Path: "/oauth2callback"}).String()
}

// open makes sure a listener will receive the callback of the sign-in with
// this state, and returns its redirect URI and whether another program
// holds the port instead.
func (l *callbackListeners) open(state string) (string, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return "", false, fmt.Errorf("%w: the server is stopping", ErrCallbackPort)
	}
	si := &signIn{state: state}
	if l.opts.Ephemeral {
		host, _, err := net.SplitHostPort(l.opts.Addr)
		if err != nil {
			return "", false, fmt.Errorf("%w: %w", ErrCallbackPort, err)
		}
		ln, err := l.listenLocked(net.JoinHostPort(host, "0"))
		if err != nil {
			return "", false, err
		}
		si.ln, si.redirect = ln, ln.redirect
	} else {
		si.redirect = callbackURL(l.opts.Addr)
		ln, err := l.listenLocked(l.opts.Addr)
		if err != nil && !errors.Is(err, syscall.EADDRINUSE) {
			return "", false, err
		}
		si.ln = ln // nil when the port is busy
	}
	if si.ln != nil {
		si.ln.states[state] = true
	}
	l.pending[state] = si
	return si.redirect, si.ln == nil, nil
}

// stored starts watching a sign-in once its transaction is in the store,
// where the watcher looks for it.
func (l *callbackListeners) stored(state string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if si, ok := l.pending[state]; ok && !l.closed {
		l.wg.Add(1)
		go l.watch(si)
	}
}

// listenLocked returns this process's listener on addr, opening it if
// needed. A busy port is returned as an error wrapping syscall.EADDRINUSE.
func (l *callbackListeners) listenLocked(addr string) (*cbListener, error) {
	if ln, ok := l.listeners[callbackURL(addr)]; ok {
		return ln, nil
	}
	nl, err := l.opts.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCallbackPort, addr, err)
	}
	// The redirect URI is the address as configured (a Web client's
	// registered URI may name localhost), or with port 0 the real port.
	redirect := callbackURL(addr)
	if _, port, _ := net.SplitHostPort(addr); port == "0" {
		redirect = callbackURL(nl.Addr().String())
	}
	cb := &cbListener{redirect: redirect, states: map[string]bool{}}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.serveCallback(cb, w, r)
	})
	if l.opts.Wrap != nil {
		h = l.opts.Wrap(h)
	}
	mux := http.NewServeMux()
	mux.Handle("/oauth2callback", h)
	cb.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(l.srv.log.Handler(), slog.LevelError)} // net/http's own lines, in the server's log
	l.listeners[cb.redirect] = cb
	go func() { _ = cb.http.Serve(nl) }()
	l.srv.log.Info("listening for the Google callback", "redirect_uri", cb.redirect)
	if l.opts.OnListen != nil {
		l.opts.OnListen(cb.redirect, true)
	}
	return cb, nil
}

// serveCallback runs the callback, then forgets the sign-in it completed,
// or follows it to its new state when Google is asked again.
func (l *callbackListeners) serveCallback(cb *cbListener, w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	rec := httpsnoop.CaptureMetricsFn(w, func(w http.ResponseWriter) {
		l.srv.HandleGoogleCallback(w, r.WithContext(context.WithValue(r.Context(), redirectURIKey{}, cb.redirect)))
	})
	if l.opts.OnCallback != nil {
		l.opts.OnCallback(rec.Code)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	si, ok := l.pending[state]
	if !ok {
		return // another process's sign-in, or an unknown state
	}
	if next := againState(rec.Code, w.Header()); next != "" {
		delete(l.pending, state)
		delete(cb.states, state)
		si.state = next
		l.pending[next] = si
		cb.states[next] = true
		return
	}
	l.finishLocked(si)
}

// againState is the new state of a callback that sent the browser back to
// Google (askGoogleAgain), "" otherwise.
func againState(status int, h http.Header) string {
	if status != http.StatusFound {
		return ""
	}
	u, err := url.Parse(h.Get("Location"))
	if err != nil {
		return ""
	}
	return u.Query().Get("state")
}

// finishLocked forgets a sign-in; a listener with no sign-in left stops,
// after the page it is serving has been written.
func (l *callbackListeners) finishLocked(si *signIn) {
	if l.pending[si.state] != si {
		return
	}
	delete(l.pending, si.state)
	if si.ln == nil {
		return
	}
	delete(si.ln.states, si.state)
	if len(si.ln.states) == 0 {
		delete(l.listeners, si.ln.redirect)
		l.srv.log.Info("no Google sign-in pending: closing the callback listener", "redirect_uri", si.ln.redirect)
		go l.shutdown(si.ln)
	}
}

// shutdown stops a listener once the responses under way are written.
func (l *callbackListeners) shutdown(ln *cbListener) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ln.http.Shutdown(ctx) != nil {
		_ = ln.http.Close()
	}
	l.srv.log.Info("callback listener closed", "redirect_uri", ln.redirect)
	if l.opts.OnListen != nil {
		l.opts.OnListen(ln.redirect, false)
	}
}

// watch ends a sign-in that expired or that another process completed,
// and takes a busy port over when it frees up.
func (l *callbackListeners) watch(si *signIn) {
	defer l.wg.Done()
	t := time.NewTicker(l.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		state := si.state
		l.mu.Unlock()
		// The transaction leaves the store when some process's callback
		// took it (or it expired): the session binding cannot tell, since
		// every stdio process binds the same key.
		pending, err := l.srv.store.AuthTransactionPending(context.Background(), state, l.srv.now())
		done := err == nil && !pending
		l.mu.Lock()
		if l.pending[si.state] != si || l.closed {
			l.mu.Unlock()
			return // served here, or stopping
		}
		if done {
			l.finishLocked(si)
			l.mu.Unlock()
			return
		}
		if si.ln == nil {
			if ln, err := l.listenLocked(l.opts.Addr); err == nil {
				si.ln = ln
				ln.states[si.state] = true
			}
		}
		l.mu.Unlock()
	}
}

// cancel forgets a sign-in that never reached Google.
func (l *callbackListeners) cancel(state string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if si, ok := l.pending[state]; ok {
		l.finishLocked(si)
	}
}

// close stops every listener and watcher.
func (l *callbackListeners) close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	close(l.stop)
	lns := l.listeners
	l.listeners = map[string]*cbListener{}
	l.mu.Unlock()
	for _, ln := range lns {
		l.shutdown(ln)
	}
	l.wg.Wait()
}

// listening reports the redirect URIs this process listens on now.
func (l *callbackListeners) listening() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for uri := range l.listeners {
		out = append(out, uri)
	}
	return out
}

// CloseCallbacks stops the callback listeners of LoopbackOptions.
func (s *Server) CloseCallbacks() {
	if s.loopback != nil {
		s.loopback.close()
	}
}

// CallbackListeners are the redirect URIs this process listens on now (for
// tests and logs).
func (s *Server) CallbackListeners() []string {
	if s.loopback == nil {
		return nil
	}
	return s.loopback.listening()
}
