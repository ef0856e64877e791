package config

import (
	"strings"
	"testing"
)

// `--callback-addr 127.0.0.1:0` used to start and send Google
// redirect_uri=http://127.0.0.1:0/oauth2callback: a Web application
// client's redirect URI is the registered one, so port 0 is refused with
// what to do; a Desktop app client takes any port, so it is fine there.
func TestParseServe_CallbackPortZeroNeedsADesktopAppClient(t *testing.T) {
	home := env(map[string]string{"HOME": t.TempDir()}) // stdio reads $HOME by default
	_, err := ParseServe(append(client, "--stdio", "--callback-addr", "127.0.0.1:0"), home)
	if err == nil || !strings.Contains(err.Error(), "--google-client-type installed") {
		t.Fatalf("web client with port 0: err = %v", err)
	}
	c, err := ParseServe(append(client, "--stdio", "--callback-addr", "127.0.0.1:0", "--google-client-type", "installed"), home)
	if err != nil || !c.EphemeralCallback() {
		t.Fatalf("desktop client with port 0: %v", err)
	}
}

// The demo's default database lives apart from the real one, and only
// that default may be cleared; a --db the user names is theirs.
func TestParseServe_DemoHasItsOwnDatabase(t *testing.T) {
	c, err := ParseServe([]string{"--demo"}, env(map[string]string{"HOME": "/home/u"}))
	if err != nil || c.DB != "/home/u/.local/share/drivemcp/demo/drivemcp.db" || !c.DemoDB {
		t.Fatalf("demo db = %q (own: %v), %v", c.DB, c.DemoDB, err)
	}
	c, err = ParseServe([]string{"--demo", "--db", "/tmp/x.db"}, env(map[string]string{"HOME": "/home/u"}))
	if err != nil || c.DB != "/tmp/x.db" || c.DemoDB {
		t.Fatalf("demo with --db = %q (own: %v), %v", c.DB, c.DemoDB, err)
	}
}

func TestParseServe_ClientTypeMustMatchTheSecretsFile(t *testing.T) {
	if _, err := ParseServe(append(client, "--google-client-type", "desktop"), env(map[string]string{"HOME": "/home/u"})); err == nil ||
		!strings.Contains(err.Error(), "not one of web, installed") {
		t.Fatalf("err = %v", err)
	}
}
