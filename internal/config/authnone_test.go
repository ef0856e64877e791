package config

import (
	"strings"
	"testing"
)

// --auth none trusts whoever reaches the listener. Behind a reverse proxy
// on the same host the listener is loopback but the people reaching it are
// the internet's, and a public --base-url says exactly that: refuse it.
func TestAuthNone_PublicBaseURLRefused(t *testing.T) {
	for _, base := range []string{"https://drive.example.com", "http://192.168.1.10:8080", "https://[2001:db8::1]"} {
		_, err := ParseServe(append(append([]string{}, client...), "--auth", "none", "--addr", "127.0.0.1:8080", "--base-url", base), env(nil))
		if err == nil {
			t.Errorf("--auth none with --base-url %s was accepted", base)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "--base-url") || !strings.Contains(msg, "--auth oauth") {
			t.Errorf("--base-url %s: the error should name --base-url and say to use --auth oauth: %v", base, err)
		}
	}
	for _, base := range []string{"", "http://localhost:8080", "http://[::1]:8080", "http://127.0.0.1:9000"} {
		args := append(append([]string{}, client...), "--auth", "none", "--addr", "127.0.0.1:8080")
		if base != "" {
			args = append(args, "--base-url", base)
		}
		if _, err := ParseServe(args, env(nil)); err != nil {
			t.Errorf("--auth none with loopback --base-url %q refused: %v", base, err)
		}
	}
}

// Host names are case-insensitive: http://LOCALHOST is this computer as
// much as http://localhost, for --auth none and for OAuth's plain-http
// exception alike (the authorization server already agreed).
func TestAuthNone_LocalhostBaseURLInAnyCaseIsLoopback(t *testing.T) {
	for _, auth := range []string{"none", "oauth"} {
		args := append(append([]string{}, client...), "--auth", auth, "--addr", "127.0.0.1:8080", "--base-url", "http://LOCALHOST:8080")
		if _, err := ParseServe(args, env(nil)); err != nil {
			t.Errorf("--auth %s with --base-url http://LOCALHOST:8080 refused: %v", auth, err)
		}
	}
}
