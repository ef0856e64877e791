package netguard

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/drivemcp/drivemcp/internal/netguard/netguardtest"
)

// countingServer is a loopback server that counts the requests it gets.
type countingServer struct {
	*httptest.Server
	hits atomic.Int32
}

func newCountingServer(t *testing.T, tls bool, h http.HandlerFunc) *countingServer {
	t.Helper()
	s := &countingServer{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	})
	if tls {
		s.Server = httptest.NewTLSServer(handler)
	} else {
		s.Server = httptest.NewServer(handler)
	}
	t.Cleanup(s.Close)
	return s
}

func ok(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }

func port(t *testing.T, s *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func roots(s *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return pool
}

func get(t *testing.T, c *http.Client, u string) (string, error) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestClient_LoopbackAllowedWhenPolicySaysSo(t *testing.T) {
	srv := newCountingServer(t, true, ok)
	c := NewClient(Policy{AllowLoopback: true}, Options{RootCAs: roots(srv.Server)})
	body, err := get(t, c, srv.URL+"/doc")
	if err != nil || body != "hello" {
		t.Fatalf("GET = %q, %v", body, err)
	}
}

func TestClient_HostNameIsVerifiedAgainstTheCertificate(t *testing.T) {
	srv := newCountingServer(t, true, ok)
	// httptest's certificate names example.com; the fake resolver sends that
	// name to the loopback server, so TLS is checked against the URL's host.
	r := &netguardtest.Resolver{Answers: map[string][]string{"example.com": {"127.0.0.1"}, "other.test": {"127.0.0.1"}}}
	c := NewClient(Policy{AllowLoopback: true, Resolver: r}, Options{RootCAs: roots(srv.Server)})
	if body, err := get(t, c, "https://example.com:"+port(t, srv.Server)+"/"); err != nil || body != "hello" {
		t.Fatalf("GET example.com = %q, %v", body, err)
	}
	if _, err := get(t, c, "https://other.test:"+port(t, srv.Server)+"/"); err == nil {
		t.Fatal("GET other.test succeeded with a certificate for example.com")
	}
}

func TestClient_LoopbackRefusedByDefault(t *testing.T) {
	srv := newCountingServer(t, true, ok)
	c := NewClient(Policy{}, Options{RootCAs: roots(srv.Server)})
	_, err := get(t, c, srv.URL+"/doc")
	if !errors.Is(err, ErrBlockedAddress) {
		t.Fatalf("GET = %v, want ErrBlockedAddress", err)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("server got %d requests", n)
	}
}

func TestClient_LocalhostRefusedByDefault(t *testing.T) {
	srv := newCountingServer(t, false, ok)
	// A fake resolver: the test must not depend on (or send) a DNS query.
	r := &netguardtest.Resolver{Answers: map[string][]string{"localhost": {"::1", "127.0.0.1"}}}
	c := NewClient(Policy{Resolver: r}, Options{Schemes: []string{"http"}})
	_, err := get(t, c, "http://localhost:"+port(t, srv.Server)+"/")
	if !errors.Is(err, ErrBlockedAddress) {
		t.Fatalf("GET = %v, want ErrBlockedAddress", err)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("server got %d requests", n)
	}
}

// An allowed origin must not be able to bounce us onto an internal host.
func TestClient_RedirectToInternalHostIsRefused(t *testing.T) {
	bait := newCountingServer(t, false, ok)
	baitURL := "http://bait.test:" + port(t, bait.Server) + "/"
	origin := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, baitURL, http.StatusFound)
	})
	// origin.test resolves to a public address, which the test dial maps
	// onto the loopback origin server; nothing is ever sent to the public
	// address itself. bait.test resolves to loopback, which this policy
	// refuses.
	const standIn = "93.184.215.14"
	originPort := port(t, origin.Server)
	r := &netguardtest.Resolver{Answers: map[string][]string{"origin.test": {standIn}, "bait.test": {"127.0.0.1"}}}
	d := &dialer{policy: Policy{Resolver: r}, dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		if address != net.JoinHostPort(standIn, originPort) {
			t.Errorf("unexpected dial to %s", address)
			return nil, errors.New("test: unexpected dial")
		}
		var nd net.Dialer
		return nd.DialContext(ctx, network, origin.Listener.Addr().String())
	}}
	c := newClient(d, Options{Schemes: []string{"http"}})

	_, err := get(t, c, "http://origin.test:"+originPort+"/start")
	if !errors.Is(err, ErrBlockedAddress) {
		t.Fatalf("GET = %v, want ErrBlockedAddress", err)
	}
	if n := origin.hits.Load(); n != 1 {
		t.Errorf("origin got %d requests, want 1", n)
	}
	if n := bait.hits.Load(); n != 0 {
		t.Fatalf("bait server got %d requests", n)
	}
}

func TestClient_TooManyRedirects(t *testing.T) {
	srv := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		http.Redirect(w, r, "/?n="+strconv.Itoa(n+1), http.StatusFound)
	})
	c := NewClient(Policy{AllowLoopback: true}, Options{Schemes: []string{"http"}, MaxRedirects: 3})
	_, err := get(t, c, srv.URL+"/?n=0")
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("GET = %v, want ErrTooManyRedirects", err)
	}
	if n := srv.hits.Load(); n != 4 {
		t.Fatalf("server got %d requests, want 4 (the first and 3 redirects)", n)
	}
}

func TestClient_NegativeMaxRedirectsReturnsTheRedirect(t *testing.T) {
	srv := newCountingServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	c := NewClient(Policy{AllowLoopback: true}, Options{Schemes: []string{"http"}, MaxRedirects: -1})
	resp, err := c.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || srv.hits.Load() != 1 {
		t.Fatalf("status %d after %d requests, want 302 after 1", resp.StatusCode, srv.hits.Load())
	}
}

func TestClient_HTTPRefusedWhenOnlyHTTPSAllowed(t *testing.T) {
	srv := newCountingServer(t, false, ok)
	c := NewClient(Policy{AllowLoopback: true}, Options{})
	_, err := get(t, c, srv.URL+"/")
	if !errors.Is(err, ErrSchemeNotAllowed) {
		t.Fatalf("GET = %v, want ErrSchemeNotAllowed", err)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("server got %d requests", n)
	}
}

func TestClient_RedirectDowngradeToHTTPRefused(t *testing.T) {
	plain := newCountingServer(t, false, ok)
	secure := newCountingServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/", http.StatusFound)
	})
	c := NewClient(Policy{AllowLoopback: true}, Options{RootCAs: roots(secure.Server)})
	_, err := get(t, c, secure.URL+"/")
	if !errors.Is(err, ErrSchemeNotAllowed) {
		t.Fatalf("GET = %v, want ErrSchemeNotAllowed", err)
	}
	if n := plain.hits.Load(); n != 0 {
		t.Fatalf("http server got %d requests", n)
	}
}

func TestClient_IgnoresProxyEnvironment(t *testing.T) {
	// A proxy would connect on our behalf, past every address check.
	proxy := newCountingServer(t, false, ok)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("HTTPS_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")
	srv := newCountingServer(t, true, ok)
	// A name, not an IP: Go never proxies requests to loopback IPs anyway.
	r := &netguardtest.Resolver{Answers: map[string][]string{"example.com": {"127.0.0.1"}}}
	c := NewClient(Policy{AllowLoopback: true, Resolver: r}, Options{RootCAs: roots(srv.Server)})
	if _, err := get(t, c, "https://example.com:"+port(t, srv.Server)+"/"); err != nil {
		t.Fatal(err)
	}
	if n := proxy.hits.Load(); n != 0 {
		t.Fatalf("proxy got %d requests", n)
	}
}
