package e2etest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
)

// errNoSystemDNS is what a lookup through the system resolver gets in a test
// run guarded by MainWithoutSystemDNS.
var errNoSystemDNS = errors.New("e2etest: this test run may not send DNS queries; give the code a resolver hook")

// MainWithoutSystemDNS runs a package's tests with net.DefaultResolver
// replaced by Go's own resolver whose connections to name servers all fail,
// and fails the run if any test tried one: tests only ever talk to
// loopback, so a name that reaches DNS is a test (or code) that forgot the
// resolver hook. /etc/hosts is still read, as it sends nothing.
func MainWithoutSystemDNS(m *testing.M) {
	var queries atomic.Int64
	net.DefaultResolver = &net.Resolver{
		PreferGo: true, // the cgo resolver (getaddrinfo) would not call Dial
		Dial: func(_ context.Context, network, address string) (net.Conn, error) {
			queries.Add(1)
			return nil, fmt.Errorf("%w (query to %s %s)", errNoSystemDNS, network, address)
		},
	}
	code := m.Run()
	if n := queries.Load(); n > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d DNS queries were attempted through the system resolver; tests must use a resolver hook\n", n)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}
