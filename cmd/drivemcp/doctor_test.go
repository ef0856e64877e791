package main

import (
	"bytes"
	"encoding/base64"
	"os"
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

// A setup broken in many ways at once: doctor names every problem, where
// it was set, and what to do, and exits non-zero.
func TestDoctor_BrokenConfigNamesEachProblem(t *testing.T) {
	newCLIEnv(t) // clears DRIVEMCP_* of the developer's shell
	dir := t.TempDir()
	db := filepath.Join(dir, "drivemcp.db")
	seedAccounts(t, db)
	key := filepath.Join(dir, "secret.key")
	os.WriteFile(key, []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n"), 0o644)
	conf := filepath.Join(dir, "drivemcp.toml")
	os.WriteFile(conf, []byte("colour = \"blue\"\ngoogle-client-secret = \"s\"\n"), 0o644)
	t.Setenv("DRIVEMCP_LOG_LEVEL", "loud")
	closed := freeAddr(t)

	out, err := runDoctor(t, "--config", conf, "--db", db,
		"--drive-scope", "everything", "--base-url", "ftp://drive.example.com",
		"--google-endpoint", "http://"+closed)
	if err == nil {
		t.Fatalf("doctor passed a broken setup:\n%s", out)
	}
	for _, want := range []string{
		`✗ configuration: --drive-scope "everything" is not one of file, readonly, full`,
		`✗ configuration: --base-url "ftp://drive.example.com" must be an absolute http(s) URL`,
		`✗ configuration: DRIVEMCP_LOG_LEVEL "loud" is not one of debug, info, warn, error`,
		`unknown key "colour"`,
		"✗ configuration: --google-client-id is missing",
		"✗ configuration file: " + conf + " holds secrets but every user of this machine may read it",
		"fix: chmod o-rwx " + conf,
		"✗ sealing key: " + key + " is accessible to other users (mode 0644)",
		"fix: chmod 600 " + key,
		"✗ Google reachable: " + closed,
		"is the emulator running at --google-endpoint",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("doctor output:\n%s", out)
	}
}

// The client secrets file lists redirect URIs, but not ours: Google would
// answer redirect_uri_mismatch, and doctor says which URI to add. A wrong
// secret is caught by asking Google.
func TestDoctor_RedirectURIsAndClientSecretCheckedAgainstGoogle(t *testing.T) {
	e := newCLIEnv(t)
	secrets := filepath.Join(t.TempDir(), "client.json")
	os.WriteFile(secrets, []byte(`{"web":{"client_id":"`+googleemu.DemoClientID+`","client_secret":"wrong",
		"redirect_uris":["http://127.0.0.1:8080/oauth2callback"]}}`), 0o600)
	out, err := runDoctor(t, "--db", e.db, "--google-endpoint", e.google.URL, "--google-client-secrets", secrets, "--callback-addr", "127.0.0.1:9999")
	if err == nil {
		t.Fatalf("doctor passed:\n%s", out)
	}
	for _, want := range []string{
		"✗ Google redirect URIs: " + secrets + " lists http://127.0.0.1:8080/oauth2callback but not http://127.0.0.1:9999/oauth2callback",
		"fix: add http://127.0.0.1:9999/oauth2callback to the client's Authorized redirect URIs",
		"✗ Google OAuth client: Google (" + strings.TrimPrefix(e.google.URL, "http://") + ") does not accept the client id and secret",
		"✓ database: " + e.db + " does not exist yet",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(e.db); err == nil {
		t.Error("doctor created the database: it must only look")
	}
}
