// Package ratelimit bounds how fast one client address may call an HTTP
// endpoint: a token bucket (golang.org/x/time/rate) per client IP, kept in a
// bounded map that forgets the least recently seen addresses first. A
// refused request gets 429 Too Many Requests with Retry-After and an OAuth
// style JSON error, so OAuth clients read it like any other error.
package ratelimit

import (
	"container/list"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a Limiter. Rate and Burst are required.
type Options struct {
	// Rate is how many requests per second one client may make on average.
	Rate rate.Limit
	// Burst is how many requests a client that was quiet may make at once.
	Burst int
	// MaxClients bounds how many addresses are remembered (default 10000).
	// When full, the address seen longest ago is forgotten: it starts again
	// with a full bucket, which is the least harm an eviction can do.
	MaxClients int
	// ErrorCode is the "error" of the JSON body (default "slow_down").
	ErrorCode string
	// Now is the clock (default time.Now); tests replace it.
	Now func() time.Time
}

// The per-address limits of the OAuth endpoints anyone may call without a
// token: registration writes a row per call, and the token endpoint is
// where credentials are guessed. A client registers once and logs in now
// and then; a whole office behind one NAT address stays far below these.
// `drivemcp serve` uses them, and so does the benchmarks' in-process harness.
func RegisterDefaults() Options {
	return Options{Rate: PerMinute(20), Burst: 20, ErrorCode: "temporarily_unavailable"}
}

// TokenDefaults: see RegisterDefaults.
func TokenDefaults() Options {
	return Options{Rate: PerMinute(120), Burst: 60, ErrorCode: "slow_down"}
}

// PerMinute is n requests a minute as a rate.Limit.
func PerMinute(n int) rate.Limit { return rate.Limit(float64(n) / 60) }

// Limiter holds one token bucket per client address.
type Limiter struct {
	opts Options

	mu      sync.Mutex
	clients map[string]*list.Element // of *client
	lru     list.List                // most recently seen at the front
}

type client struct {
	key     string
	limiter *rate.Limiter
}

// New returns a Limiter.
func New(opts Options) *Limiter {
	if opts.MaxClients <= 0 {
		opts.MaxClients = 10000
	}
	if opts.ErrorCode == "" {
		opts.ErrorCode = "slow_down"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Limiter{opts: opts, clients: map[string]*list.Element{}}
}

// Allow takes one request from key's bucket. When the bucket is empty it
// takes nothing and says how long until a request would be allowed.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.opts.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.bucketLocked(key)
	r := lim.ReserveN(now, 1)
	if !r.OK() { // Burst 0: nothing is ever allowed
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// bucketLocked finds or makes key's bucket and marks it most recently seen.
func (l *Limiter) bucketLocked(key string) *rate.Limiter {
	if e, ok := l.clients[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*client).limiter
	}
	for l.lru.Len() >= l.opts.MaxClients {
		oldest := l.lru.Back()
		l.lru.Remove(oldest)
		delete(l.clients, oldest.Value.(*client).key)
	}
	c := &client{key: key, limiter: rate.NewLimiter(l.opts.Rate, l.opts.Burst)}
	l.clients[key] = l.lru.PushFront(c)
	return c.limiter
}

// Len is how many addresses the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}

// Wrap limits every request to next except CORS preflights, by ClientKey.
func (l *Limiter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		ok, wait := l.Allow(ClientKey(r))
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}{l.opts.ErrorCode, "too many requests from this address; retry after " + strconv.Itoa(secs) + " seconds"})
	})
}

// Paths sends requests whose path is a key of limits through that Limiter
// and every other request straight to next. A refused request's Pattern is
// set to its path, so request logs and metrics still name the route.
func Paths(next http.Handler, limits map[string]*Limiter) http.Handler {
	wrapped := make(map[string]http.Handler, len(limits))
	for path, l := range limits {
		wrapped[path] = l.Wrap(next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := wrapped[r.URL.Path]
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		r.Pattern = r.URL.Path // the mux overwrites it when it serves the request
		h.ServeHTTP(w, r)
	})
}

// ClientKey is the address a request is counted against: the peer's IP, or,
// when the peer is on loopback (a reverse proxy on the same host, as
// docs/deploy.md sets drivemcp up), the address that proxy appended last to
// X-Forwarded-For, which the client cannot forge. IPv6 addresses count per
// /64, the block one subscriber usually holds.
func ClientKey(r *http.Request) string {
	peer := peerAddr(r.RemoteAddr)
	if peer.IsLoopback() {
		if fwd, ok := lastForwarded(r.Header.Values("X-Forwarded-For")); ok {
			peer = fwd
		}
	}
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	peer = peer.Unmap()
	if peer.Is6() && !peer.IsLoopback() {
		p, _ := peer.Prefix(64)
		return p.String()
	}
	return peer.String()
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, _ := netip.ParseAddr(host)
	return a.WithZone("")
}

// lastForwarded is the right-most address of X-Forwarded-For: the one the
// nearest proxy added.
func lastForwarded(values []string) (netip.Addr, bool) {
	if len(values) == 0 {
		return netip.Addr{}, false
	}
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	a, err := netip.ParseAddr(strings.TrimSpace(last))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone(""), true
}
