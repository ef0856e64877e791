package netguard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/drivemcp/drivemcp/internal/netguard/netguardtest"
)

// refusingDial stands in for the real dial in tests that must refuse before
// connecting: it records the call and connects nowhere.
func refusingDial(t *testing.T, called *int) dialFunc {
	return func(_ context.Context, network, address string) (net.Conn, error) {
		t.Errorf("dial(%s, %s) was called; the address should have been refused first", network, address)
		*called++
		return nil, errors.New("test dial refuses everything")
	}
}

func TestDialer_RefusesInternalAnswersWithoutDialling(t *testing.T) {
	tests := []struct {
		name    string
		answers []string
		policy  Policy
		class   string
	}{
		{"private", []string{"10.0.0.1"}, Policy{}, "a private address"},
		{"metadata", []string{"169.254.169.254"}, Policy{AllowLoopback: true, AllowPrivate: true}, "the cloud metadata address"},
		{"mapped metadata", []string{"::ffff:169.254.169.254"}, Policy{AllowLoopback: true, AllowPrivate: true}, "the cloud metadata address"},
		{"ula", []string{"fd00::1"}, Policy{AllowLoopback: true}, "a private (unique local) address"},
		{"loopback", []string{"127.0.0.1"}, Policy{}, "a loopback address"},
		{"unspecified", []string{"0.0.0.0"}, Policy{AllowLoopback: true, AllowPrivate: true}, `an unspecified ("this network") address`},
		// One bad answer spoils the lot: a rebinding attacker returns a
		// public address next to an internal one.
		{"public then private", []string{"93.184.215.14", "10.0.0.1"}, Policy{}, "a private address"},
		{"public then metadata", []string{"2001:4860::8888", "169.254.169.254"}, Policy{}, "the cloud metadata address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var called int
			tt.policy.Resolver = &netguardtest.Resolver{Answers: map[string][]string{"evil.test": tt.answers}}
			d := &dialer{policy: tt.policy, dial: refusingDial(t, &called)}
			_, err := d.DialContext(t.Context(), "tcp", "evil.test:443")
			if !errors.Is(err, ErrBlockedAddress) {
				t.Fatalf("DialContext = %v, want ErrBlockedAddress", err)
			}
			var be *BlockedError
			if !errors.As(err, &be) || be.Class != tt.class || be.Host != "evil.test" {
				t.Fatalf("error = %#v, want class %q for evil.test", be, tt.class)
			}
			if called != 0 {
				t.Fatalf("dial called %d times", called)
			}
		})
	}
}

func TestDialer_ChecksLiteralAddressesToo(t *testing.T) {
	var called int
	r := &netguardtest.Resolver{}
	d := &dialer{policy: Policy{Resolver: r}, dial: refusingDial(t, &called)}
	for _, addr := range []string{"10.0.0.1:80", "[fe80::1%25eth0]:80", "[::ffff:169.254.169.254]:80", "169.254.169.254:80"} {
		if _, err := d.DialContext(t.Context(), "tcp", addr); !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("DialContext(%s) = %v, want ErrBlockedAddress", addr, err)
		}
	}
	if len(r.Asked()) != 0 {
		t.Errorf("resolver asked about %v; literal addresses need no lookup", r.Asked())
	}
}

func TestDialer_DialsOnlyTheCheckedAddress(t *testing.T) {
	var dialled []string
	d := &dialer{
		policy: Policy{Resolver: &netguardtest.Resolver{Answers: map[string][]string{"docs.test": {"::ffff:93.184.215.14", "2001:4860::8888"}}}},
		dial: func(_ context.Context, _, address string) (net.Conn, error) {
			dialled = append(dialled, address) // never connects anywhere
			return nil, errors.New("test: unreachable")
		},
	}
	if _, err := d.DialContext(t.Context(), "tcp", "docs.test:443"); err == nil {
		t.Fatal("DialContext succeeded with a dial that always fails")
	}
	want := []string{"93.184.215.14:443", "[2001:4860::8888]:443"}
	if len(dialled) != 2 || dialled[0] != want[0] || dialled[1] != want[1] {
		t.Fatalf("dialled %v, want %v (resolved IPs, never the name)", dialled, want)
	}
}

func TestControl_RechecksTheSocketAddress(t *testing.T) {
	check := control(Policy{AllowLoopback: true})
	for address, allowed := range map[string]bool{
		"127.0.0.1:443":         true,
		"[::1]:443":             true,
		"10.0.0.1:443":          false,
		"169.254.169.254:80":    false,
		"[fd00::1]:443":         false,
		"[::ffff:10.0.0.1]:443": false,
		"0.0.0.0:80":            false,
		"not an address":        false,
	} {
		err := check("tcp", address, nil)
		if (err == nil) != allowed {
			t.Errorf("control(%s) = %v, want allowed=%v", address, err, allowed)
		}
		if err != nil && !errors.Is(err, ErrBlockedAddress) {
			t.Errorf("control(%s) = %v, want ErrBlockedAddress", address, err)
		}
	}
}

// A trailing dot makes a name fully qualified, but "127.0.0.1." is still the
// address 127.0.0.1: it must be judged as that address, not handed to a
// resolver (the system's would answer 127.0.0.1 without any check here).
func TestDialer_TrailingDotLiteralIsCheckedAsTheAddress(t *testing.T) {
	r := &netguardtest.Resolver{}
	var called int
	d := &dialer{policy: Policy{Resolver: r}, dial: refusingDial(t, &called)}
	for addr, want := range map[string]string{
		"127.0.0.1.:80":       "127.0.0.1",
		"169.254.169.254.:80": "169.254.169.254",
		"10.0.0.1.:443":       "10.0.0.1",
	} {
		_, err := d.DialContext(t.Context(), "tcp", addr)
		var be *BlockedError
		if !errors.As(err, &be) || be.Addr != netip.MustParseAddr(want) {
			t.Errorf("DialContext(%s) = %v, want %s refused", addr, err, want)
		}
	}
	if len(r.Asked()) != 0 {
		t.Errorf("resolver asked about %v; a literal with a trailing dot needs no lookup", r.Asked())
	}

	// Allowed, it is dialled as the address itself.
	var dialled []string
	d = &dialer{policy: Policy{AllowLoopback: true, Resolver: r}, dial: func(_ context.Context, _, address string) (net.Conn, error) {
		dialled = append(dialled, address) // connects nowhere
		return nil, errors.New("test: unreachable")
	}}
	d.DialContext(t.Context(), "tcp", "127.0.0.1.:8080")
	if len(dialled) != 1 || dialled[0] != "127.0.0.1:8080" || len(r.Asked()) != 0 {
		t.Fatalf("dialled %v (resolver asked %v), want 127.0.0.1:8080 without a lookup", dialled, r.Asked())
	}
}

// getaddrinfo (inet_aton) reads 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 as
// 127.0.0.1; Go's parser does not, so such a host used to reach the system
// resolver unchecked. A host whose last label is a number is no domain
// name (no top-level domain is numeric): it is refused without a lookup.
func TestDialer_NumericHostsThatAreNotAddressesRefused(t *testing.T) {
	r := &netguardtest.Resolver{Answers: map[string][]string{}}
	var called int
	d := &dialer{policy: Policy{AllowLoopback: true, AllowPrivate: true, Resolver: r}, dial: refusingDial(t, &called)}
	for _, host := range []string{
		"2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "127.1", "127.0.0.01",
		"0x7f.0.0.1.", "0251.0376.0251.0376", "2852039166", "1.2.3.4.5", "127.0.0.1..", ".127.0.0.1",
		"example.0x1", "files..example",
	} {
		_, err := d.DialContext(t.Context(), "tcp", net.JoinHostPort(host, "80"))
		if !errors.Is(err, ErrMalformedHost) {
			t.Errorf("DialContext(%s) = %v, want ErrMalformedHost", host, err)
		}
	}
	if len(r.Asked()) != 0 {
		t.Errorf("resolver asked about %v", r.Asked())
	}
	// Names that merely contain digits are names.
	for _, host := range []string{"1e100.net", "123.example.com", "example.com.", "0x.example", "xn--80ak6aa92e.com"} {
		r.Forget()
		_, err := d.DialContext(t.Context(), "tcp", net.JoinHostPort(host, "443"))
		if errors.Is(err, ErrMalformedHost) || len(r.Asked()) != 1 {
			t.Errorf("DialContext(%s) = %v, resolver asked %v; want a lookup", host, err, r.Asked())
		}
	}
}
