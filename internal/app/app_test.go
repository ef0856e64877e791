package app_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/drivemcp/drivemcp/internal/app"
	"github.com/drivemcp/drivemcp/internal/config"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/metrics"
)

func parse(t *testing.T, cmd *config.Command, args ...string) *config.Config {
	t.Helper()
	base := []string{"--google-endpoint", "http://127.0.0.1:9", "--google-client-id", "id", "--google-client-secret", "secret"}
	cfg, err := cmd.Parse(append(base, args...), func(string) string { return "" })
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return cfg
}

func redirectOf(t *testing.T, b *app.Backend) string {
	t.Helper()
	u, err := url.Parse(b.Upstream.AuthCodeURL(google.ConsentRequest{State: "s", Verifier: "v"}))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("redirect_uri")
}

// A local command on a mistyped --db says there is no database (a
// classifiable error) and creates no file.
func TestOpen_MissingDatabaseIsErrNoDatabaseAndCreatesNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "typo.db")
	_, err := app.Open(t.Context(), parse(t, config.Local("accounts", "", true), "--db", db), app.Options{})
	if !errors.Is(err, app.ErrNoDatabase) {
		t.Fatalf("Open = %v, want ErrNoDatabase", err)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open created %s", db)
	}
}

// serve over HTTP and drivemcp login are built by the same Open: the
// server sends Google to its own /oauth2callback through an instrumented
// transport; login (a local command) to the loopback callback, with the
// machine's own user allowed to name the account.
func TestOpen_ServeAndLoginShareOneWiring(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "drivemcp.db")
	serve := parse(t, config.Serve(), "--db", db, "--base-url", "https://drive.example.com", "--callback-addr", "127.0.0.1:8765")
	s, err := app.Open(t.Context(), serve, app.Options{Create: true, Serve: true, Metrics: metrics.New()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := redirectOf(t, s); got != "https://drive.example.com/oauth2callback" {
		t.Errorf("serve's redirect URI = %q", got)
	}
	if s.GoogleTransport == nil {
		t.Error("serve has no Google transport of its own")
	}
	if _, err := s.Resolver.Resolve(t.Context(), identity.Call{ExplicitEmail: "a@example.com"}); !errors.Is(err, identity.ErrEmailNotAllowed) {
		t.Error("serve over HTTP with OAuth trusts user_google_email")
	}
	auth := s.AuthServer(app.AuthOptions{})
	if deps := s.MCPDeps(auth, nil); deps.Grants != s.Grants || deps.Resolver != s.Resolver || deps.Auth != auth {
		t.Error("the tools get other grants, resolver or login server than the login server")
	}

	login := parse(t, config.Local("login", "", true), "--db", db, "--callback-addr", "127.0.0.1:8765")
	l, err := app.Open(t.Context(), login, app.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := redirectOf(t, l); got != "http://127.0.0.1:8765/oauth2callback" {
		t.Errorf("login's redirect URI = %q", got)
	}
	if _, err := l.Resolver.Resolve(t.Context(), identity.Call{ExplicitEmail: "a@example.com"}); errors.Is(err, identity.ErrEmailNotAllowed) {
		t.Errorf("a local command may not name its account: %v", err)
	}
}
