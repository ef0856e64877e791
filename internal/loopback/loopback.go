// Package loopback answers one question the whole server asks in many
// places (may this be plain http? may --auth none listen here? is this
// redirect on the person's own computer?): does a host name this machine?
// One answer, so that the places cannot disagree (docs/architecture.md).
package loopback

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// IsHost reports whether host (a URL's Hostname(): no port, no brackets) is
// "localhost" in any case (host names are case-insensitive, RFC 4343) or a
// loopback IP literal, IPv4-mapped included. A zoned literal is not: a zone
// names an interface, and nothing needs one to reach this machine.
func IsHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Zone() == "" && a.Unmap().IsLoopback()
}

// IsURL reports whether raw parses as a URL whose host is this machine.
func IsURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && IsHost(u.Hostname())
}

// IsAddr reports whether a listen address (host:port) only accepts
// connections from this machine.
func IsAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && IsHost(host)
}
