package netguard

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ErrSchemeNotAllowed is wrapped when a URL, or a redirect, uses a scheme the
// client was not built for (by default anything but https).
var ErrSchemeNotAllowed = errors.New("netguard: URL scheme is not allowed")

// ErrTooManyRedirects is wrapped when a request is redirected more often
// than Options.MaxRedirects allows.
var ErrTooManyRedirects = errors.New("netguard: too many redirects")

// Options shape a Client beyond its Policy.
type Options struct {
	// Timeout bounds a whole request, redirects and body included; default 10s.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed; default 3. A negative
	// value follows none: the caller gets the 3xx response itself.
	MaxRedirects int
	// Schemes are the URL schemes requests may use; default https only.
	Schemes []string
	// RootCAs verify servers' certificates; nil means the system roots.
	RootCAs *x509.CertPool
}

// NewClient returns an *http.Client that connects only where p allows, to
// URLs with an allowed scheme, ignoring proxy settings from the environment
// (a proxy would make the address checks meaningless).
func NewClient(p Policy, o Options) *http.Client {
	return newClient(newDialer(p), o)
}

func newClient(d *dialer, o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = 3
	}
	if len(o.Schemes) == 0 {
		o.Schemes = []string{"https"}
	}
	schemes := make([]string, len(o.Schemes))
	for i, s := range o.Schemes {
		schemes[i] = strings.ToLower(s)
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            d.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    o.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
	}
	return &http.Client{
		Transport: schemeGuard{schemes: schemes, next: transport},
		Timeout:   o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if o.MaxRedirects < 0 {
				return http.ErrUseLastResponse
			}
			if len(via) > o.MaxRedirects {
				return fmt.Errorf("%w: gave up after %d", ErrTooManyRedirects, o.MaxRedirects)
			}
			// The transport checks the scheme too; checking here names the
			// redirect as the culprit. The new host is checked when dialled.
			return checkScheme(schemes, req)
		},
	}
}

// schemeGuard refuses requests whose scheme is not allowed, before any
// connection is made.
type schemeGuard struct {
	schemes []string
	next    http.RoundTripper
}

func (g schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkScheme(g.schemes, req); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return g.next.RoundTrip(req)
}

func checkScheme(schemes []string, req *http.Request) error {
	if !slices.Contains(schemes, strings.ToLower(req.URL.Scheme)) {
		return fmt.Errorf("%w: %q (allowed: %s)", ErrSchemeNotAllowed, req.URL.Scheme, strings.Join(schemes, ", "))
	}
	return nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (g schemeGuard) CloseIdleConnections() {
	if c, ok := g.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
