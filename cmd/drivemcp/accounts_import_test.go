package main

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/legacyimport/legacytest"
)

// emulatorGrant signs email in at the emulator as the older Python server
// did (offline access, full drive), and returns the tokens it got.
func emulatorGrant(t *testing.T, g *e2etest.Google, email string) *oauth2.Token {
	t.Helper()
	return emulatorGrantFor(t, g, email, googleemu.DemoClientID, googleemu.DemoClientSecret)
}

func emulatorGrantFor(t *testing.T, g *e2etest.Google, email, clientID, secret string) *oauth2.Token {
	t.Helper()
	cfg := oauth2.Config{
		ClientID: clientID, ClientSecret: secret,
		Endpoint:    oauth2.Endpoint{AuthURL: g.URL + "/o/oauth2/v2/auth", TokenURL: g.URL + "/token"},
		RedirectURL: "http://127.0.0.1:1/oauth2callback",
		Scopes:      []string{"openid", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/drive.file"},
	}
	resp, err := e2etest.NoRedirects.Get(cfg.AuthCodeURL("s", oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("login_hint", email)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("emulator grant: %v (refresh token %t)", err, tok != nil && tok.RefreshToken != "")
	}
	return tok
}

func newTestUpstream(g *e2etest.Google) *google.Upstream {
	return google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, "", google.EndpointsAt(g.URL), nil)
}

// startGoogleWithClients is the emulator knowing drivemcp's client and
// the extra ones given (id → secret).
func startGoogleWithClients(t *testing.T, extra map[string]string) *e2etest.Google {
	t.Helper()
	clients := map[string]string{googleemu.DemoClientID: googleemu.DemoClientSecret}
	for id, secret := range extra {
		clients[id] = secret
	}
	emu, err := googleemu.New(googleemu.Options{Dir: t.TempDir(), Clients: clients})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { srv.Close(); emu.Close() })
	return &e2etest.Google{Emulator: emu, URL: srv.URL}
}

func subOf(t *testing.T, g *e2etest.Google, tok *oauth2.Token) string {
	t.Helper()
	up := newTestUpstream(g)
	info, err := up.UserInfo(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return info.Subject
}

func demoCred(tok *oauth2.Token) legacytest.Cred {
	return legacytest.CredOf(tok, googleemu.DemoClientID, googleemu.DemoClientSecret)
}

// Every format the Python server writes imports from the checkout as a
// user points at it, the identity and scopes are Google's (drive.file,
// though the files claim drive), and an upload as each imported account
// lands in that account's Drive.
func TestAccountsImport_EveryPythonFormatImportsAndUploads(t *testing.T) {
	e := newCLIEnv(t)
	co := legacytest.NewCheckout(t, filepath.Join(t.TempDir(), "old-server"),
		map[string]string{"CREDENTIAL_STORAGE_MODE": "FILE_ENCRYPTED", "MCP_API_KEY": "old-api-key"})
	os.WriteFile(filepath.Join(co.Dir, "credentials.json"), []byte(`{"installed":{"client_id":"x","client_secret":"y"}}`), 0o600)
	os.WriteFile(filepath.Join(co.Dir, "fastmcp.json"), []byte(`{"name":"x"}`), 0o600)

	emails := map[string]func(email string, tok *oauth2.Token){
		"plain-old@example.com": func(m string, tok *oauth2.Token) { co.WritePlaintext(m, demoCred(tok), false) },
		"plain-new@example.com": func(m string, tok *oauth2.Token) { co.WritePlaintext(m, demoCred(tok), true) },
		"enc-key@example.com":   func(m string, tok *oauth2.Token) { co.WriteEncrypted(m, demoCred(tok), false, false) },
		"enc-api@example.com":   func(m string, tok *oauth2.Token) { co.WriteEncrypted(m, demoCred(tok), false, true) },
		"backup@example.com":    func(m string, tok *oauth2.Token) { co.WriteEncrypted(m, demoCred(tok), true, false) },
		"server@example.com":    func(m string, tok *oauth2.Token) { co.WriteServerEnvelope(m, demoCred(tok)) },
		"peruser@example.com": func(m string, tok *oauth2.Token) {
			co.WritePerUserEnvelope(m, subOf(t, e.google, tok), demoCred(tok), true)
		},
	}
	for m, write := range emails {
		write(m, emulatorGrant(t, e.google, m))
	}

	out, errOut, err := e.run([]string{"accounts", "import", co.Dir})
	if err != nil {
		t.Fatalf("import: %v\n%s%s", err, out, errOut)
	}
	for m := range emails {
		if !strings.Contains(out, ": "+m+" (Google scopes: openid, userinfo.email, drive.file)") {
			t.Errorf("import output lacks %s with Google's scopes:\n%s", m, out)
		}
	}
	for _, secret := range e.google.IssuedSecrets() {
		if strings.Contains(out+errOut, secret) {
			t.Fatalf("a token was printed:\n%s\n%s", out, errOut)
		}
	}
	e.google.ExpireAccessTokens()
	for m := range emails {
		path, sum := e2etest.WriteRandomFile(t, t.TempDir(), "from-"+m+".bin", 500)
		up, upErr, err := e.run([]string{"upload", path, "--account", m})
		if err != nil || !strings.Contains(up, "md5 "+sum) {
			t.Fatalf("upload as %s: %v\n%s%s", m, err, up, upErr)
		}
		if f := e2etest.FilesNamed(e.google, "from-"+m+".bin"); len(f) != 1 || f[0].Owner != m {
			t.Fatalf("%s's upload: %+v", m, f)
		}
	}
}

// Hostile and wrong files each fail with their own sentence and import
// nothing: alice's file holding bob's refresh token, a wrong drivemcp
// client secret, another client's token under drivemcp's client id, a
// FIFO (which must not hang the import), a link out of the folder, an
// oversized file, and a per_user envelope without an OAuth recipient.
func TestAccountsImport_HostileAndWrongFilesFailAlone(t *testing.T) {
	const otherID, otherSecret = "other.apps.googleusercontent.com", "other-secret"
	e := newCLIEnv(t)
	e.google = startGoogleWithClients(t, map[string]string{otherID: otherSecret})
	co := legacytest.NewCheckout(t, filepath.Join(t.TempDir(), "old"), nil)
	alice := emulatorGrant(t, e.google, "alice@example.com")
	bob := emulatorGrant(t, e.google, "bob@example.com")
	mixed := demoCred(alice)
	mixed.RefreshToken = bob.RefreshToken
	co.WritePlaintext("alice@example.com", mixed, false)

	other := emulatorGrantFor(t, e.google, "carol@example.com", otherID, otherSecret)
	co.WriteEncrypted("carol@example.com", demoCred(other), false, false) // claims drivemcp's client

	dave := emulatorGrant(t, e.google, "dave@example.com")
	co.WritePerUserEnvelope("dave@example.com", subOf(t, e.google, dave), demoCred(dave), false)

	if err := syscall.Mkfifo(co.Path("fifo_at_example_com_credentials.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A valid file of eve's, outside the folder, reached through a link.
	co2 := legacytest.NewCheckout(t, t.TempDir(), nil)
	outside := co2.WritePlaintext("eve@example.com", demoCred(emulatorGrant(t, e.google, "eve@example.com")), false)
	os.Symlink(outside, co.Path("eve_at_example_com_credentials.json"))
	os.WriteFile(co.Path("huge_at_example_com_credentials.json"), make([]byte, 300<<10), 0o600)

	out, _, err := e.run([]string{"accounts", "import", co.Dir})
	if err == nil || !strings.Contains(err.Error(), "6 of 6 credential files could not be imported") {
		t.Fatalf("err = %v\n%s", err, out)
	}
	for _, want := range []string{
		"FAILED   alice_at_example_com_credentials.json: is named for the account alice_at_example_com, but Google says its refresh token belongs to bob@example.com",
		"FAILED   carol_at_example_com_credentials.enc: holds a refresh token Google says was issued to another OAuth client",
		"FAILED   dave_at_example_com_credentials.enc: it is encrypted per user and .oauth_linkage_prefs.json records no Google sub for it, so only its user's own per-user API key opens it",
		"FAILED   eve_at_example_com_credentials.json: is a link that leads out of",
		"FAILED   fifo_at_example_com_credentials.json: is not a regular file",
		"FAILED   huge_at_example_com_credentials.json: is larger than 256 KiB",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	if list, _, _ := e.run([]string{"accounts", "list"}); strings.Contains(list, "@example.com") {
		t.Fatalf("something was imported:\n%s", list)
	}

	// A wrong drivemcp client secret is reported as such.
	out, _, err = e.run([]string{"accounts", "import", co2.Dir}, "--google-client-secret", "wrong")
	if err == nil || !strings.Contains(out, "FAILED   eve_at_example_com_credentials.json: could not be refreshed: Google refused drivemcp's own client secret") ||
		!strings.Contains(out, "the older server used another secret for this same client") {
		t.Fatalf("wrong secret: %v\n%s", err, out)
	}
}

// --dry-run says what would be imported and why, and stores nothing: not
// even the database file is created.
func TestAccountsImport_DryRunTouchesNothing(t *testing.T) {
	e := newCLIEnv(t)
	co := legacytest.NewCheckout(t, filepath.Join(t.TempDir(), "old"), map[string]string{"CREDENTIALS_DIR": "store"})
	co.WriteEncrypted("gina@example.com", demoCred(emulatorGrant(t, e.google, "gina@example.com")), false, false)
	out, _, err := e.run([]string{"accounts", "import", "--dry-run", co.Dir})
	if err != nil || !strings.Contains(out, "would import gina_at_example_com_credentials.enc: gina@example.com (Google scopes: openid, userinfo.email, drive.file) — encrypted with .auth_encryption_key") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if _, err := os.Stat(e.db); !os.IsNotExist(err) {
		t.Fatalf("dry run touched the database: %v", err)
	}
}
