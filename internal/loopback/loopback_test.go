package loopback

import "testing"

// Host names are case-insensitive (RFC 4343), so every place that asks "is
// this this machine?" must agree on LOCALHOST; before this package, config,
// web, e2etest and mcpserver said no where authserver said yes.
func TestIsHost_LocalhostInAnyCaseAndLoopbackLiterals(t *testing.T) {
	for _, h := range []string{"localhost", "LOCALHOST", "LocalHost", "127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"} {
		if !IsHost(h) {
			t.Errorf("IsHost(%q) = false, want true", h)
		}
	}
}

// A name that only looks like localhost, a zoned literal or a private
// address is someone else's machine: treating it as loopback would widen
// what http:// and --auth none are allowed to reach.
func TestIsHost_LookalikesAreNotLoopback(t *testing.T) {
	for _, h := range []string{"", "localhost.example.com", "localhost.", "notlocalhost", "127.0.0.1.nip.io", "::1%lo", "fe80::1", "10.0.0.1", "0.0.0.0", "::", "[::1]"} {
		if IsHost(h) {
			t.Errorf("IsHost(%q) = true, want false", h)
		}
	}
}

func TestIsURL_AndIsAddr(t *testing.T) {
	for raw, want := range map[string]bool{
		"http://localhost:8080/mcp":   true,
		"http://LOCALHOST:8080":       true,
		"https://[::1]:9000":          true,
		"http://127.0.0.1":            true,
		"https://drive.example.com":   false,
		"http://192.168.1.10:8080":    false,
		"http://localhost@evil.test/": false,
		"::not a url":                 false,
	} {
		if got := IsURL(raw); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", raw, got, want)
		}
	}
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true,
		"[::1]:8080":     true,
		"localhost:0":    true,
		":8080":          false, // every interface
		"0.0.0.0:8080":   false,
		"127.0.0.1":      false, // no port: not a listen address
	} {
		if got := IsAddr(addr); got != want {
			t.Errorf("IsAddr(%q) = %v, want %v", addr, got, want)
		}
	}
}
