package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// cliEnv is a drivemcp configuration on a fresh database, with "Google"
// played by the emulator on loopback.
type cliEnv struct {
	t      *testing.T
	db     string
	google *e2etest.Google
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DRIVEMCP_") {
			k, _, _ := strings.Cut(kv, "=")
			t.Setenv(k, "") // a developer's settings must not leak into the tests
		}
	}
	return &cliEnv{t: t, db: filepath.Join(t.TempDir(), "drivemcp.db"), google: e2etest.StartGoogle(t)}
}

// args are the settings every command of the test shares.
func (e *cliEnv) args(extra ...string) []string {
	base := []string{"--db", e.db, "--google-endpoint", e.google.URL,
		"--google-client-id", googleemu.DemoClientID, "--google-client-secret", googleemu.DemoClientSecret}
	return append(base, extra...)
}

// run runs one command (its name first, then its arguments) in process.
func (e *cliEnv) run(command []string, extra ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = run(ctx, append(command, e.args(extra...)...), strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// login runs `drivemcp login` and plays the person in the browser: open
// the printed URL, sign in on the emulator's page as email, and come back
// to the callback.
func (e *cliEnv) login(email string, extra ...string) string {
	t := e.t
	t.Helper()
	callback := e2etest.FreeAddr(t)
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		args := append([]string{"login", "--no-browser", "--callback-addr", callback}, e.args(extra...)...)
		err := run(ctx, args, strings.NewReader(""), pw, &errOut)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	var transcript strings.Builder
	lines := bufio.NewScanner(pr)
	authURL := ""
	for authURL == "" && lines.Scan() {
		transcript.WriteString(lines.Text() + "\n")
		if l := strings.TrimSpace(lines.Text()); strings.HasPrefix(l, "http") {
			authURL = l
		}
	}
	if authURL == "" {
		t.Fatalf("login printed no URL:\n%s\nstderr: %s", transcript.String(), errOut.String())
	}
	// Google sends the browser to the redirect URI login asked for: the
	// callback address, or a port of its own with a Desktop app client.
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	back, err := e2etest.NewBrowser(email).Run(ctx, authURL, u.Query().Get("redirect_uri"))
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	resp, err := http.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), email) {
		t.Fatalf("callback page: %s\n%s", resp.Status, page)
	}
	for lines.Scan() {
		transcript.WriteString(lines.Text() + "\n")
	}
	if err := <-done; err != nil {
		t.Fatalf("login: %v\n%s\nstderr: %s", err, transcript.String(), errOut.String())
	}
	return transcript.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s--- want\n%s", name, got, want)
	}
}
