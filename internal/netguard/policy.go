// Package netguard makes outbound HTTP requests to URLs that someone else
// chose (a client's metadata document, a file to copy into Drive) without
// letting that someone aim drivemcp at its own network: loopback, private
// ranges, link-local and the cloud metadata service are refused unless the
// operator allows them.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// ErrBlockedAddress is wrapped by every refusal to connect to an address
// the Policy does not allow; callers can tell the user "that URL points at
// a private or local address".
var ErrBlockedAddress = errors.New("netguard: address is not publicly routable")

// BlockedError says which address was refused and why.
type BlockedError struct {
	Host  string     // the host name being dialled, if there was one
	Addr  netip.Addr // the refused address
	Class string     // "a private address", "the cloud metadata address", …
}

func (e *BlockedError) Error() string {
	if e.Host != "" && e.Host != e.Addr.String() {
		return fmt.Sprintf("netguard: %s resolves to %s, %s, which is not allowed", e.Host, e.Addr, e.Class)
	}
	return fmt.Sprintf("netguard: %s is %s, which is not allowed", e.Addr, e.Class)
}

func (e *BlockedError) Unwrap() error { return ErrBlockedAddress }

// Resolver looks up a host's addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Policy says which addresses outbound requests may reach. The zero Policy
// allows only publicly routable unicast addresses.
type Policy struct {
	AllowLoopback bool // tests and --allow-private-urls
	AllowPrivate  bool // --allow-private-urls: private ranges (RFC 1918, CGNAT, ULA) too
	// Resolver is used to look up hosts; nil means net.DefaultResolver.
	Resolver Resolver
}

// Allowed returns nil if the policy lets a connection go to addr, or a
// *BlockedError naming the class of address. IPv4-mapped IPv6 addresses are
// judged as the IPv4 address they carry.
func (p Policy) Allowed(addr netip.Addr) error {
	if !addr.IsValid() {
		return &BlockedError{Addr: addr, Class: "not a valid address"}
	}
	r := classify(addr.Unmap().WithZone(""))
	switch {
	case r.reach == public,
		r.reach == loopback && p.AllowLoopback,
		r.reach == private && p.AllowPrivate:
		return nil
	}
	return &BlockedError{Addr: addr, Class: r.class}
}

// reach says who may connect to a class of addresses.
type reach int

const (
	public   reach = iota // anyone
	loopback              // only with AllowLoopback
	private               // only with AllowPrivate
	never                 // nobody: not a place an outside URL may send us
)

type addrRange struct {
	prefix netip.Prefix
	class  string
	reach  reach
}

const (
	classMetadata = "the cloud metadata address"
	classReserved = "a reserved address"
)

// ranges lists the special-use blocks of RFC 6890 and its successors (IANA
// special-purpose registries), most specific first. Metadata endpoints come
// before the ranges that contain them so that no allowance unlocks them.
var ranges = func() []addrRange {
	list := []struct {
		cidr, class string
		reach       reach
	}{
		// Cloud instance metadata: credentials live here.
		{"169.254.169.254/32", classMetadata, never},                      // AWS, GCP, Azure, OpenStack…
		{"169.254.170.2/32", classMetadata, never},                        // AWS ECS task metadata
		{"100.100.100.200/32", classMetadata, never},                      // Alibaba Cloud
		{"fd00:ec2::254/128", classMetadata, never},                       // AWS IMDS over IPv6
		{"0.0.0.0/8", "an unspecified (\"this network\") address", never}, // 0.0.0.0 reaches localhost on Linux
		{"127.0.0.0/8", "a loopback address", loopback},
		{"10.0.0.0/8", "a private address", private},
		{"172.16.0.0/12", "a private address", private},
		{"192.168.0.0/16", "a private address", private},
		{"100.64.0.0/10", "a shared (carrier-grade NAT) address", private},
		{"169.254.0.0/16", "a link-local address", never},
		{"192.0.0.0/24", "an IETF protocol assignment address", never},
		{"192.0.2.0/24", "a documentation address", never},
		{"198.51.100.0/24", "a documentation address", never},
		{"203.0.113.0/24", "a documentation address", never},
		{"192.88.99.0/24", "a 6to4 relay anycast address", never},
		{"198.18.0.0/15", "a benchmarking address", never},
		{"224.0.0.0/4", "a multicast address", never},
		{"255.255.255.255/32", "the broadcast address", never},
		{"240.0.0.0/4", classReserved, never},

		{"::/128", "the unspecified address", never},
		{"::1/128", "a loopback address", loopback},
		{"::/96", "an IPv4-compatible address", never}, // deprecated; after ::1 and ::
		// Local-use NAT64 (RFC 8215): where the IPv4 address sits depends on
		// the prefix length the network's translator was given (RFC 6052
		// allows /48 to /96 inside this /48), which drivemcp cannot know, so
		// the address it reaches — possibly the metadata service — cannot
		// be checked. The well-known 64:ff9b::/96 is judged in classify.
		{"64:ff9b:1::/48", "a local-use NAT64 address (its IPv4 destination cannot be checked)", never},
		{"100::/64", "a discard-only address", never},
		{"2001:db8::/32", "a documentation address", never},
		{"2001::/23", "an IETF protocol assignment address", never}, // Teredo, ORCHID, …
		{"2002::/16", "a 6to4 address", never},
		{"3fff::/20", "a documentation address", never},
		{"5f00::/16", "an SRv6 segment identifier", never},
		{"fc00::/7", "a private (unique local) address", private},
		{"fe80::/10", "a link-local address", never},
		{"fec0::/10", "a site-local address", never},
		{"ff00::/8", "a multicast address", never},
	}
	out := make([]addrRange, len(list))
	for i, r := range list {
		out[i] = addrRange{netip.MustParsePrefix(r.cidr), r.class, r.reach}
	}
	return out
}()

var (
	nat64           = netip.MustParsePrefix("64:ff9b::/96")
	globalUnicastV6 = netip.MustParsePrefix("2000::/3")
)

// classify names the class of an unmapped, zoneless address.
func classify(a netip.Addr) addrRange {
	if nat64.Contains(a) {
		// The well-known NAT64 prefix reaches whatever IPv4 address it
		// carries: judge that address.
		b := a.As16()
		return classify(netip.AddrFrom4([4]byte(b[12:])))
	}
	for _, r := range ranges {
		if r.prefix.Contains(a) {
			return r
		}
	}
	if a.Is6() && !globalUnicastV6.Contains(a) {
		return addrRange{class: classReserved, reach: never}
	}
	return addrRange{class: "a public address", reach: public}
}
