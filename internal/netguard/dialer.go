package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

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
	if a, err := netip.ParseAddr(host); err == nil {
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
