package netguard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// These tests judge addresses only; nothing is ever sent to them.
func TestAllowed(t *testing.T) {
	none := Policy{}
	lo := Policy{AllowLoopback: true}
	all := Policy{AllowLoopback: true, AllowPrivate: true}
	tests := []struct {
		addr     string
		class    string // "" = allowed by the zero Policy
		loopback bool   // allowed with AllowLoopback
		private  bool   // allowed with AllowLoopback and AllowPrivate
	}{
		// Public addresses are what the client exists for.
		{addr: "8.8.8.8", loopback: true, private: true},
		{addr: "1.1.1.1", loopback: true, private: true},
		{addr: "2001:4860::8888", loopback: true, private: true},
		{addr: "2606:4700:4700::1111", loopback: true, private: true},
		{addr: "64:ff9b::808:808", loopback: true, private: true}, // NAT64 of 8.8.8.8

		// Loopback: only with AllowLoopback.
		{addr: "127.0.0.1", class: "a loopback address", loopback: true, private: true},
		{addr: "127.255.0.9", class: "a loopback address", loopback: true, private: true},
		{addr: "::1", class: "a loopback address", loopback: true, private: true},
		{addr: "::ffff:127.0.0.1", class: "a loopback address", loopback: true, private: true},

		// Private networks: only with AllowPrivate.
		{addr: "10.0.0.1", class: "a private address", private: true},
		{addr: "172.16.0.1", class: "a private address", private: true},
		{addr: "172.31.255.254", class: "a private address", private: true},
		{addr: "192.168.1.1", class: "a private address", private: true},
		{addr: "100.64.0.1", class: "a shared (carrier-grade NAT) address", private: true},
		{addr: "fd00::1", class: "a private (unique local) address", private: true},
		{addr: "fc00::1", class: "a private (unique local) address", private: true},
		{addr: "::ffff:10.0.0.1", class: "a private address", private: true},
		{addr: "::ffff:192.168.0.1", class: "a private address", private: true},
		{addr: "64:ff9b::a00:1", class: "a private address", private: true}, // NAT64 of 10.0.0.1

		// Never, whatever the operator allows.
		{addr: "169.254.169.254", class: "the cloud metadata address"},
		{addr: "::ffff:169.254.169.254", class: "the cloud metadata address"},
		{addr: "64:ff9b::a9fe:a9fe", class: "the cloud metadata address"},
		{addr: "fd00:ec2::254", class: "the cloud metadata address"},
		{addr: "100.100.100.200", class: "the cloud metadata address"},
		{addr: "169.254.170.2", class: "the cloud metadata address"},
		{addr: "169.254.1.1", class: "a link-local address"},
		{addr: "fe80::1", class: "a link-local address"},
		{addr: "fe80::1%eth0", class: "a link-local address"},
		{addr: "0.0.0.0", class: `an unspecified ("this network") address`},
		{addr: "0.1.2.3", class: `an unspecified ("this network") address`},
		{addr: "::", class: "the unspecified address"},
		{addr: "::ffff:0.0.0.0", class: `an unspecified ("this network") address`},
		{addr: "::127.0.0.1", class: "an IPv4-compatible address"},
		{addr: "224.0.0.1", class: "a multicast address"},
		{addr: "239.255.255.250", class: "a multicast address"},
		{addr: "ff02::1", class: "a multicast address"},
		{addr: "255.255.255.255", class: "the broadcast address"},
		{addr: "240.0.0.1", class: "a reserved address"},
		{addr: "192.0.2.1", class: "a documentation address"},
		{addr: "2001:db8::1", class: "a documentation address"},
		{addr: "198.18.0.1", class: "a benchmarking address"},
		{addr: "192.0.0.8", class: "an IETF protocol assignment address"},
		{addr: "2001::1", class: "an IETF protocol assignment address"}, // Teredo
		{addr: "2002:a00:1::1", class: "a 6to4 address"},
		{addr: "fec0::1", class: "a site-local address"},
		{addr: "100::1", class: "a discard-only address"},
		{addr: "4000::1", class: "a reserved address"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a := netip.MustParseAddr(tt.addr)
			err := none.Allowed(a)
			if tt.class == "" {
				if err != nil {
					t.Fatalf("Allowed = %v, want nil", err)
				}
			} else {
				if !errors.Is(err, ErrBlockedAddress) {
					t.Fatalf("Allowed = %v, want ErrBlockedAddress", err)
				}
				var be *BlockedError
				if !errors.As(err, &be) || be.Class != tt.class {
					t.Fatalf("class = %v, want %q", err, tt.class)
				}
				if !strings.Contains(err.Error(), tt.class) {
					t.Errorf("message %q does not name the class", err)
				}
			}
			if got := lo.Allowed(a) == nil; got != tt.loopback {
				t.Errorf("AllowLoopback: allowed = %v, want %v", got, tt.loopback)
			}
			if got := all.Allowed(a) == nil; got != tt.private {
				t.Errorf("AllowLoopback+AllowPrivate: allowed = %v, want %v", got, tt.private)
			}
		})
	}
}

func TestAllowed_InvalidAddressIsRefused(t *testing.T) {
	if err := (Policy{AllowLoopback: true, AllowPrivate: true}).Allowed(netip.Addr{}); !errors.Is(err, ErrBlockedAddress) {
		t.Fatalf("Allowed(zero Addr) = %v, want ErrBlockedAddress", err)
	}
}

// The local-use NAT64 prefix (RFC 8215) carries an IPv4 address the way the
// network's translator was configured to (any RFC 6052 prefix length inside
// the /48), so a DNS answer in it can lead to the metadata service or to
// loopback; no allowance may open it. The addresses below embed
// 169.254.169.254 and 127.0.0.1 with the /48 layout (the IPv4 address split
// around the reserved u octet, bits 64–71) and with the /96 layout.
func TestAllowed_LocalUseNAT64CannotReachMetadataOrLoopback(t *testing.T) {
	all := Policy{AllowLoopback: true, AllowPrivate: true}
	for _, s := range []string{
		"64:ff9b:1:a9fe:a9:fe00::",   // /48 layout of 169.254.169.254
		"64:ff9b:1:7f00:0:100::",     // /48 layout of 127.0.0.1
		"64:ff9b:1::a9fe:a9fe",       // /96 layout of 169.254.169.254
		"64:ff9b:1::7f00:1",          // /96 layout of 127.0.0.1
		"64:ff9b:1:808:8:800::",      // /48 layout of 8.8.8.8: public, but the layout is the network's choice
		"64:ff9b:1:ffff:ffff:ffff::", // anywhere in the /48
	} {
		a := netip.MustParseAddr(s)
		for _, p := range []Policy{{}, {AllowLoopback: true}, all} {
			err := p.Allowed(a)
			var be *BlockedError
			if !errors.Is(err, ErrBlockedAddress) || !errors.As(err, &be) {
				t.Fatalf("%+v.Allowed(%s) = %v, want a refusal", p, s, err)
			}
		}
	}
}
