package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// ErrMalformedHost is wrapped when a host is neither an IP address in
// standard form nor a domain name: a number in another notation
// ("2130706433", "0x7f.1", "127.1", which the system resolver would read
// as 127.0.0.1), or a name with an empty label.
var ErrMalformedHost = errors.New("netguard: host is neither an IP address in standard form nor a host name")

// MalformedHostError names the host that was refused with ErrMalformedHost,
// which may be a redirect's rather than the first URL's.
type MalformedHostError struct{ Host string }

func (e *MalformedHostError) Error() string {
	return fmt.Sprintf("netguard: %q is neither an IP address in standard form nor a host name", e.Host)
}

func (e *MalformedHostError) Unwrap() error { return ErrMalformedHost }

// dialFunc connects to one literal ip:port; net.Dialer.DialContext in
// production, a recorder in tests.
type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// dialer resolves a host itself, checks every address it gets, and connects
// only to an address it has checked, so DNS cannot answer differently
// between the check and the connection (rebinding).
type dialer struct {
	policy Policy
	dial   dialFunc
}

func newDialer(p Policy) *dialer {
	nd := &net.Dialer{Control: control(p)}
	return &dialer{policy: p, dial: nd.DialContext}
}

func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("netguard: bad port in %q", address)
	}
	addrs, err := d.resolve(ctx, network, host)
	if err != nil {
		return nil, err
	}
	// Refuse the host if any of its addresses is refused: a name that
	// mixes public and internal answers is an attack, not a fallback.
	for _, a := range addrs {
		if err := d.policy.Allowed(a); err != nil {
			var be *BlockedError
			if errors.As(err, &be) {
				be.Host = host
			}
			return nil, err
		}
	}
	var errs []error
	for _, a := range addrs {
		conn, err := d.dial(ctx, network, netip.AddrPortFrom(a.Unmap(), uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (d *dialer) resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	a, ok, err := literal(host)
	switch {
	case err != nil:
		return nil, err
	case ok:
		return []netip.Addr{a}, nil
	}
	ipNetwork := "ip"
	switch network {
	case "tcp4":
		ipNetwork = "ip4"
	case "tcp6":
		ipNetwork = "ip6"
	}
	r := d.policy.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, ipNetwork, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
	}
	return addrs, nil
}

// literal returns the address host names when it is an IP address, with or
// without the trailing dot of a fully qualified name, so that it is judged
// as that address without any lookup. A host that is not a standard
// address but ends in a number is refused rather than resolved: what it
// means is up to each resolver (getaddrinfo reads "2130706433", "0x7f.1"
// and "127.1" as 127.0.0.1, a DNS server sees a name), and no real domain
// name ends in a numeric label.
func literal(host string) (netip.Addr, bool, error) {
	name := strings.TrimSuffix(host, ".")
	if a, err := netip.ParseAddr(name); err == nil {
		return a, true, nil
	}
	labels := strings.Split(name, ".")
	if slices.Contains(labels, "") || numeric(labels[len(labels)-1]) {
		return netip.Addr{}, false, &MalformedHostError{Host: host}
	}
	return netip.Addr{}, false, nil
}

// numeric reports whether a label is a number as inet_aton reads one:
// decimal or octal digits, or 0x followed by hex digits (or nothing).
func numeric(label string) bool {
	digits, base := label, "0123456789"
	if len(label) >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X') {
		digits, base = label[2:], "0123456789abcdefABCDEF"
		if digits == "" {
			return true
		}
	}
	if digits == "" {
		return false
	}
	for _, c := range digits {
		if !strings.ContainsRune(base, c) {
			return false
		}
	}
	return true
}

// control re-checks the address a socket is about to connect to: a second
// line of defence should anything ever dial without going through
// dialer.DialContext's checks.
func control(p Policy) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: cannot check %q", ErrBlockedAddress, address)
		}
		return p.Allowed(ap.Addr())
	}
}
