package e2etest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"syscall"
	"testing"
)

// Balancer is a load balancer on loopback in front of several drivemcp
// replicas, as users run them: every request may go to any replica. It
// alternates strictly between backends unless told otherwise (SendNextTo, a
// Picker), passes a request on to the next backend when the chosen one
// refuses the connection (a killed replica's traffic moves to the live
// ones), and records which backend served what.
//
// Replicas behind it are started with --base-url set to its URL, so their
// metadata, redirect URIs and Google callback all point here.
type Balancer struct {
	URL string

	proxy     *httputil.ReverseProxy
	transport *http.Transport

	mu       sync.Mutex
	backends []*url.URL
	pick     Picker
	next     int   // the alternation's cursor
	queued   []int // one-shot choices from SendNextTo, oldest first
	hops     []Hop
	served   []int
}

// Hop is one request as the balancer passed it on.
type Hop struct {
	Method, Path string
	// RPC is the JSON-RPC method of an MCP request ("tools/call"), so tests
	// can tell a tool call from the rest of the MCP traffic; else "".
	RPC string
	// Picked is the backend chosen for the request; Backend the one that
	// answered it: another if Picked refused the connection, -1 if none
	// could be reached.
	Picked, Backend int
}

// A Picker chooses the backend for a request from what the balancer knows of
// it (Picked and Backend are not set yet); a negative answer leaves the
// request to alternation. It runs outside the balancer's lock, concurrently
// for concurrent requests, and may act (kill a replica, say) before it
// answers.
type Picker func(h Hop) int

// maxBufferedBody bounds the request bodies the balancer keeps to replay on
// another backend: MCP messages and OAuth forms, not uploads of files.
const maxBufferedBody = 32 << 20

// StartBalancer starts a balancer with no backends yet (it answers 502 until
// SetBackends), so that its URL can be given to the replicas it will front.
func StartBalancer(t testing.TB) *Balancer {
	t.Helper()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Many concurrent clients would otherwise open and close a connection
	// per request once more than the default two are idle.
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 512, 256
	b := &Balancer{transport: tr}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			route := routeOf(pr.In.Context())
			pr.SetURL(route.target)
			pr.Out.Host = pr.In.Host // the public host, as most balancers pass it
			pr.SetXForwarded()
		},
		Transport:     failover{b},
		FlushInterval: -1, // MCP answers may be event streams
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if rt := routeOf(r.Context()); rt.hop.Backend < 0 {
				b.record(rt.hop) // no backend answered
			}
			http.Error(w, "balancer: "+err.Error(), http.StatusBadGateway)
		},
	}
	srv := httptest.NewServer(b)
	b.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	return b
}

// SetBackends sets the base URLs (http://host:port) requests go to; backend
// i of Hops, Served and SendNextTo is the i-th of them.
func (b *Balancer) SetBackends(baseURLs ...string) error {
	var us []*url.URL
	for _, s := range baseURLs {
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("backend %q: %w", s, err)
		}
		us = append(us, u)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends, b.served, b.next, b.queued = us, make([]int, len(us)), 0, nil
	return nil
}

// SetPicker steers requests; nil returns to strict alternation.
func (b *Balancer) SetPicker(p Picker) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pick = p
}

// SendNextTo sends the next request to backend i (0 ≤ i < the number of
// backends), whatever the picker says; calls queue up, one request each.
func (b *Balancer) SendNextTo(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queued = append(b.queued, i)
}

// Hops returns every request passed on so far, in the order backends
// answered them.
func (b *Balancer) Hops() []Hop {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.hops)
}

// Served returns how many requests each backend answered.
func (b *Balancer) Served() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.served)
}

// CloseIdleConnections forgets kept-alive connections, for instance to a
// replica just killed, so no request is sent down one of them.
func (b *Balancer) CloseIdleConnections() { b.transport.CloseIdleConnections() }

func (b *Balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedBody+1))
	if err != nil || len(body) > maxBufferedBody {
		http.Error(w, "balancer: the request body could not be buffered", http.StatusBadGateway)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	hop := Hop{Method: r.Method, Path: r.URL.Path, RPC: rpcMethod(r, body), Backend: -1}

	b.mu.Lock()
	backends, pick := b.backends, b.pick
	b.mu.Unlock()
	if len(backends) == 0 {
		http.Error(w, "balancer: no backends", http.StatusBadGateway)
		return
	}
	chosen := -1
	if pick != nil {
		chosen = pick(hop)
	}
	b.mu.Lock()
	switch {
	case len(b.queued) > 0:
		chosen, b.queued = b.queued[0], b.queued[1:]
	case chosen < 0:
		chosen = b.next % len(backends)
		b.next++
	}
	b.mu.Unlock()
	hop.Picked = chosen % len(backends)

	rt := &route{hop: hop, backends: backends, target: backends[hop.Picked], body: body}
	b.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, rt)))
}

// record notes how a request went as soon as it is known, before the client
// can have read the answer: a test that got its answer finds the hop.
func (b *Balancer) record(h Hop) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hops = append(b.hops, h)
	if h.Backend >= 0 && h.Backend < len(b.served) {
		b.served[h.Backend]++
	}
}

// route is one request's way through the balancer.
type route struct {
	hop      Hop
	backends []*url.URL
	target   *url.URL // of hop.Picked
	body     []byte
}

type routeKey struct{}

func routeOf(ctx context.Context) *route { return ctx.Value(routeKey{}).(*route) }

// failover sends the proxied request to the picked backend and, while a
// backend refuses the connection, to the next one. Only a refused
// connection moves a request: then the backend cannot have seen it.
type failover struct{ b *Balancer }

func (f failover) RoundTrip(out *http.Request) (*http.Response, error) {
	rt := routeOf(out.Context())
	var errs []error
	for k := range rt.backends {
		i := (rt.hop.Picked + k) % len(rt.backends)
		req := out.Clone(out.Context())
		req.URL.Scheme, req.URL.Host = rt.backends[i].Scheme, rt.backends[i].Host
		// A replayable body lets the transport retry on a kept-alive
		// connection the backend had closed.
		if out.Body != nil {
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(rt.body)), nil }
			req.Body, _ = req.GetBody()
		}
		resp, err := f.b.transport.RoundTrip(req)
		if err == nil {
			rt.hop.Backend = i
			f.b.record(rt.hop)
			return resp, nil
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, err
		}
		errs = append(errs, fmt.Errorf("backend %d: %w", i, err))
	}
	return nil, errors.Join(errs...)
}

// rpcMethod reads the JSON-RPC method of an MCP request.
func rpcMethod(r *http.Request, body []byte) string {
	if r.Method != http.MethodPost || r.URL.Path != "/mcp" {
		return ""
	}
	var msg struct {
		Method string `json:"method"`
	}
	_ = json.Unmarshal(body, &msg)
	return msg.Method
}
