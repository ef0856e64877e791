package doctor_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/doctor"
	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// check parses args as drivemcp doctor does, with no environment, and runs
// every check.
func check(t *testing.T, env map[string]string, args ...string) (string, int) {
	t.Helper()
	cfg, err := config.Doctor().Parse(args, func(k string) string { return env[k] })
	if cfg == nil {
		t.Fatalf("doctor's command line: %v", err)
	}
	var out bytes.Buffer
	failed := doctor.Run(t.Context(), cfg, err, &out, doctor.Options{})
	return out.String(), failed
}

func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("doctor output lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("doctor output:\n%s", out)
	}
}

// A setup broken in many ways at once: doctor names every problem, where
// it was set, and what to do.
func TestDoctor_BrokenConfigNamesEachProblem(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "drivemcp.db")
	st, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpsertGoogleAccount(t.Context(), "dana@example.com", func(a store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		a.Subject, a.SealedToken = "1", []byte("sealed")
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	key := filepath.Join(dir, "secret.key")
	if err := os.WriteFile(key, []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "drivemcp.toml")
	if err := os.WriteFile(conf, []byte("colour = \"blue\"\ngoogle-client-secret = \"s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	closed := e2etest.FreeAddr(t)

	out, failed := check(t, map[string]string{"DRIVEMCP_LOG_LEVEL": "loud"}, "--config", conf, "--db", db,
		"--drive-scope", "everything", "--base-url", "ftp://drive.example.com",
		"--google-endpoint", "http://"+closed)
	if failed == 0 {
		t.Fatalf("doctor passed a broken setup:\n%s", out)
	}
	wantLines(t, out,
		`✗ configuration: --drive-scope "everything" is not one of file, readonly, full`,
		`✗ configuration: --base-url "ftp://drive.example.com" must be an absolute http(s) URL`,
		`✗ configuration: DRIVEMCP_LOG_LEVEL "loud" is not one of debug, info, warn, error`,
		`unknown key "colour"`,
		"✗ configuration: --google-client-id is missing",
		"✗ configuration file: "+conf+" holds secrets but every user of this machine may read it",
		"fix: chmod o-rwx "+conf,
		"✗ sealing key: "+key+" is accessible to other users (mode 0644)",
		"fix: chmod 600 "+key,
		"✗ Google reachable: "+closed,
		"is the emulator running at --google-endpoint",
	)
}

// The client secrets file lists redirect URIs, but not ours: Google would
// answer redirect_uri_mismatch, and doctor says which URI to add. A wrong
// secret is caught by asking Google; doctor only looks (creates no
// database).
func TestDoctor_RedirectURIsAndClientSecretCheckedAgainstGoogle(t *testing.T) {
	g := e2etest.StartGoogle(t)
	db := filepath.Join(t.TempDir(), "drivemcp.db")
	secrets := filepath.Join(t.TempDir(), "client.json")
	if err := os.WriteFile(secrets, []byte(`{"web":{"client_id":"`+googleemu.DemoClientID+`","client_secret":"wrong",
		"redirect_uris":["http://127.0.0.1:8080/oauth2callback"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, failed := check(t, nil, "--db", db, "--google-endpoint", g.URL, "--google-client-secrets", secrets, "--callback-addr", "127.0.0.1:9999")
	if failed == 0 {
		t.Fatalf("doctor passed:\n%s", out)
	}
	wantLines(t, out,
		"✗ Google redirect URIs: "+secrets+" lists http://127.0.0.1:8080/oauth2callback but not http://127.0.0.1:9999/oauth2callback",
		"fix: add http://127.0.0.1:9999/oauth2callback to the client's Authorized redirect URIs",
		"✗ Google OAuth client: Google ("+strings.TrimPrefix(g.URL, "http://")+") does not accept the client id and secret",
		"✓ database: "+db+" does not exist yet",
	)
	if _, err := os.Stat(db); err == nil {
		t.Error("doctor created the database: it must only look")
	}
}

// Doctor classifies the token endpoint's answer by its OAuth error code,
// never by text: an answer that only quotes "invalid_grant" in a page is
// not Google accepting the client, and an unauthorized_client is a wrong
// client.
func TestDoctor_TokenEndpointAnswerClassifiedByErrorCodeNotText(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		want                    string
	}{
		{"page quoting invalid_grant", "text/html", "<p>see invalid_grant and invalid_client</p>", http.StatusNotFound, "✗ Google reachable: "},
		{"unauthorized_client", "application/json", `{"error":"unauthorized_client"}`, http.StatusBadRequest, "✗ Google OAuth client: "},
		{"invalid_grant", "application/json", `{"error":"invalid_grant","error_description":"Bad Request"}`, http.StatusBadRequest, "answers, and accepts the client id and secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/token" {
					return // the other Google hosts only need to answer
				}
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			out, _ := check(t, nil, "--db", filepath.Join(t.TempDir(), "d.db"), "--google-endpoint", srv.URL,
				"--google-client-id", "id", "--google-client-secret", "secret")
			wantLines(t, out, tc.want)
		})
	}
}

// doctor with no flags reaches real Google, which is what a person running
// it by hand wants; it now says so on its first Google line, and --offline
// checks only local things: not one request leaves the machine.
func TestDoctor_SaysWhereItGoesAndOfflineSendsNothing(t *testing.T) {
	var requests atomic.Int32
	google := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	t.Cleanup(google.Close)
	dir := t.TempDir()
	args := []string{"--google-endpoint", google.URL, "--google-client-id", "id.apps.googleusercontent.com", "--google-client-secret", "s",
		"--db", filepath.Join(dir, "drivemcp.db"), "--secret-key", base64.StdEncoding.EncodeToString(make([]byte, 32))}

	out, _ := check(t, nil, args...)
	wantLines(t, out, "checking against the Google endpoint "+google.URL, "--offline checks only local things")
	if requests.Load() == 0 {
		t.Fatalf("doctor without --offline sent no request to its Google endpoint:\n%s", out)
	}

	requests.Store(0)
	cfg, err := config.Doctor().Parse(args, func(string) string { return "" })
	if cfg == nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	failed := doctor.Run(t.Context(), cfg, err, &buf, doctor.Options{Offline: true})
	if n := requests.Load(); n != 0 || failed != 0 || !strings.Contains(buf.String(), "--offline: only local things") {
		t.Fatalf("--offline: %d requests, %d failed:\n%s", n, failed, buf.String())
	}
}
