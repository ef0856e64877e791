package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

func runDoctor(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), append([]string{"doctor"}, args...), strings.NewReader(""), &out, &errOut)
	if errOut.Len() > 0 {
		t.Logf("stderr: %s", errOut.String())
	}
	return out.String(), err
}

// A working setup: every check passes, including a real round trip to
// (emulated) Google with the client and the stored account's grant.
func TestDoctor_HealthySetupPasses(t *testing.T) {
	e := newCLIEnv(t)
	e.login("dana@example.com")
	out, err := runDoctor(t, e.args()...)
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	for _, want := range []string{
		"✓ configuration: valid",
		"✓ Google OAuth client: " + googleemu.DemoClientID,
		"http://127.0.0.1:8080/oauth2callback and http://127.0.0.1:8765/oauth2callback",
		"✓ sealing key: " + filepath.Join(filepath.Dir(e.db), "secret.key") + " (mode 0600)",
		"✓ database: " + e.db + " is reachable",
		"✓ account dana@example.com: its Google grant works",
		"accepts the client id and secret",
		"All checks passed.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "✗") {
		t.Errorf("a healthy setup has a ✗:\n%s", out)
	}
}
