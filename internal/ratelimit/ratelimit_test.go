package ratelimit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// clock is a settable time for the limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestAllow_BurstThenRefillAtTheRate(t *testing.T) {
	c := newClock()
	l := New(Options{Rate: PerMinute(60), Burst: 3, Now: c.Now})
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("a")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("fourth request: ok=%v wait=%v, want refused with a wait of at most 1 s", ok, wait)
	}
	// A refused request takes nothing: after the wait exactly one more fits.
	c.Advance(wait)
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("refused after waiting as told")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a second request fit into one refilled token")
	}
}

func TestAllow_AddressesHaveTheirOwnBuckets(t *testing.T) {
	l := New(Options{Rate: PerMinute(1), Burst: 1, Now: newClock().Now})
	if ok, _ := l.Allow("a"); !ok {
		t.Fatal("a refused")
	}
	if ok, _ := l.Allow("a"); ok {
		t.Fatal("a allowed twice")
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("b paid for a's requests")
	}
}

// A flood of distinct addresses cannot grow the map without bound; the
// address seen longest ago is forgotten first.
func TestAllow_MapIsBoundedAndForgetsTheLeastRecentlySeen(t *testing.T) {
	l := New(Options{Rate: PerMinute(1), Burst: 1, MaxClients: 100, Now: newClock().Now})
	l.Allow("kept")
	for i := range 1000 {
		l.Allow(fmt.Sprintf("flood-%d", i))
		if i%50 == 0 {
			l.Allow("kept") // seen again: stays remembered
		}
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("remembers %d addresses, want the bound 100", n)
	}
	if ok, _ := l.Allow("kept"); ok {
		t.Fatal("a recently seen address was forgotten (its bucket came back full)")
	}
	if ok, _ := l.Allow("flood-0"); !ok {
		t.Fatal("the oldest address was not the one forgotten")
	}
}

func TestWrap_Answers429WithRetryAfterAndAnOAuthError(t *testing.T) {
	l := New(Options{Rate: PerMinute(6), Burst: 1, ErrorCode: "temporarily_unavailable", Now: newClock().Now})
	h := l.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	do := func(method string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/oauth/register", nil)
		r.RemoteAddr = "203.0.113.9:5555"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := do(http.MethodPost); w.Code != http.StatusNoContent {
		t.Fatalf("first request: %d", w.Code)
	}
	if w := do(http.MethodOptions); w.Code != http.StatusNoContent {
		t.Fatalf("a CORS preflight was limited: %d", w.Code)
	}
	w := do(http.MethodPost)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "10" {
		t.Fatalf("second request: %d Retry-After %q, want 429 and 10", w.Code, w.Header().Get("Retry-After"))
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error != "temporarily_unavailable" || body.Description == "" {
		t.Fatalf("body %q (%v)", w.Body, err)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
}

func TestPaths_LimitsOnlyTheNamedPathsAndKeepsTheRouteName(t *testing.T) {
	l := New(Options{Rate: PerMinute(1), Burst: 1, Now: newClock().Now})
	var patterns []string
	h := Paths(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), map[string]*Limiter{"/oauth/token": l})
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		patterns = append(patterns, r.Pattern)
	})
	codes := map[string][]int{}
	for _, path := range []string{"/oauth/token", "/oauth/token", "/mcp", "/mcp"} {
		w := httptest.NewRecorder()
		outer.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, nil))
		codes[path] = append(codes[path], w.Code)
	}
	if c := codes["/oauth/token"]; c[0] != 200 || c[1] != 429 {
		t.Fatalf("/oauth/token answered %v", c)
	}
	if c := codes["/mcp"]; c[0] != 200 || c[1] != 200 {
		t.Fatalf("/mcp was limited: %v", c)
	}
	if patterns[1] != "/oauth/token" {
		t.Fatalf("a refused request's route is %q", patterns[1])
	}
}

func TestClientKey(t *testing.T) {
	for _, c := range []struct {
		name, remote, xff, want string
	}{
		{"direct IPv4", "198.51.100.7:4000", "", "198.51.100.7"},
		{"direct client cannot pick its key", "198.51.100.7:4000", "203.0.113.1", "198.51.100.7"},
		{"behind a local proxy", "127.0.0.1:4000", "10.0.0.1, 203.0.113.1", "203.0.113.1"},
		{"local proxy, garbage header", "127.0.0.1:4000", "nonsense", "127.0.0.1"},
		{"local, no proxy", "[::1]:4000", "", "::1"},
		{"IPv6 counts per /64", "[2001:db8:1:2:3:4:5:6]:4000", "", "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6", "[::ffff:198.51.100.7]:4000", "", "198.51.100.7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.RemoteAddr = c.remote
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			if got := ClientKey(r); got != c.want {
				t.Fatalf("ClientKey = %q, want %q", got, c.want)
			}
		})
	}
}

func TestAllow_ConcurrentCallersNeverExceedTheBurst(t *testing.T) {
	l := New(Options{Rate: PerMinute(1), Burst: 20, Now: newClock().Now})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if ok, _ := l.Allow("x"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 20 {
		t.Fatalf("%d requests allowed at one instant, want the burst of 20", allowed)
	}
}
