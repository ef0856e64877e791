package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// emulatorGrant signs email in at the emulator as the older Python server
// did (offline access), and returns the tokens it got.
func emulatorGrant(t *testing.T, g *e2etest.Google, email string) *oauth2.Token {
	t.Helper()
	cfg := oauth2.Config{
		ClientID: googleemu.DemoClientID, ClientSecret: googleemu.DemoClientSecret,
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

// writeLegacyCredential writes a file the way google-auth's
// Credentials.to_json() does.
func writeLegacyCredential(t *testing.T, path string, tok *oauth2.Token, fields map[string]any) {
	t.Helper()
	f := map[string]any{
		"token": tok.AccessToken, "refresh_token": tok.RefreshToken,
		"token_uri": "https://oauth2.googleapis.com/token", "client_id": googleemu.DemoClientID,
		"client_secret":   googleemu.DemoClientSecret,
		"scopes":          []string{"openid", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/drive.file"},
		"universe_domain": "googleapis.com", "account": "",
		"expiry": tok.Expiry.UTC().Format("2006-01-02T15:04:05.000000") + "Z",
	}
	for k, v := range fields {
		f[k] = v
	}
	raw, _ := json.Marshal(f)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Every kind of file the older server's directory may hold: each is
// reported on its own line, good ones are imported (an expired one by
// refreshing it), no token is ever printed, and the user is told to delete
// the plaintext files.
func TestAccountsImport_ReportsEachFile(t *testing.T) {
	e := newCLIEnv(t)
	dir := filepath.Join(t.TempDir(), "credentials")
	os.Mkdir(dir, 0o700)
	alice := emulatorGrant(t, e.google, "alice@example.com")
	writeLegacyCredential(t, filepath.Join(dir, "alice@example.com.json"), alice, nil)
	bob := emulatorGrant(t, e.google, "bob@example.com")
	// Expired an hour ago, in the naive format older google-auth wrote.
	writeLegacyCredential(t, filepath.Join(dir, "bob@example.com_credentials.json"), bob, map[string]any{
		"expiry": time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.999999"),
	})
	other := emulatorGrant(t, e.google, "erin@example.com")
	writeLegacyCredential(t, filepath.Join(dir, "erin@example.com.json"), other, map[string]any{"client_id": "someone-else.apps.googleusercontent.com"})
	writeLegacyCredential(t, filepath.Join(dir, "frank@example.com.json"), &oauth2.Token{AccessToken: "ya29.x"}, map[string]any{"refresh_token": nil})
	os.WriteFile(filepath.Join(dir, "client_secret.json"), []byte(`{"installed":{"client_id":"x","client_secret":"y"}}`), 0o600)

	out, errOut, err := e.run([]string{"accounts", "import", filepath.Dir(dir)}) // the server's directory: credentials/ is found
	if err == nil || !strings.Contains(err.Error(), "2 of 5 credential files could not be imported") {
		t.Fatalf("err = %v\n%s", err, out)
	}
	for _, want := range []string{
		"imported alice@example.com.json: alice@example.com (Google scopes: openid, userinfo.email, drive.file)",
		"imported bob@example.com_credentials.json: bob@example.com",
		"FAILED   erin@example.com.json: was issued to the OAuth client someone-else.apps.googleusercontent.com",
		"FAILED   frank@example.com.json: has no refresh_token",
		"skipped  client_secret.json: a client secrets file",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "delete them") {
		t.Errorf("no advice to delete the plaintext files: %q", errOut)
	}
	for _, secret := range e.google.IssuedSecrets() {
		if strings.Contains(out+errOut, secret) {
			t.Fatalf("a token was printed:\n%s\n%s", out, errOut)
		}
	}
	list, _, err := e.run([]string{"accounts", "list"})
	if err != nil || !strings.Contains(list, "alice@example.com") || !strings.Contains(list, "bob@example.com") || strings.Contains(list, "erin@") {
		t.Fatalf("accounts after import: %v\n%s", err, list)
	}

	// The imported grant works: an upload as bob succeeds with the token
	// drivemcp refreshed.
	path, sum := e2etest.WriteRandomFile(t, t.TempDir(), "after-import.bin", 1000)
	up, upErr, err := e.run([]string{"upload", path, "--account", "bob@example.com"})
	if err != nil || !strings.Contains(up, "md5 "+sum) {
		t.Fatalf("upload after import: %v\n%s%s", err, up, upErr)
	}

	// A second import of the same file updates the account.
	out, _, err = e.run([]string{"accounts", "import", filepath.Join(dir, "alice@example.com.json")})
	if err != nil || !strings.Contains(out, "updated  alice@example.com.json: alice@example.com") {
		t.Fatalf("re-import: %v\n%s", err, out)
	}
}

func TestLegacyCredential_ExpiryFormats(t *testing.T) {
	want := time.Date(2025, 5, 1, 12, 34, 56, 123456000, time.UTC)
	for _, s := range []string{"2025-05-01T12:34:56.123456Z", "2025-05-01T12:34:56.123456", "2025-05-01T14:34:56.123456+02:00", "2025-05-01 12:34:56.123456"} {
		raw, _ := json.Marshal(s)
		if got := (legacyCredential{Expiry: raw}).expiry(); !got.Equal(want) {
			t.Errorf("%s → %v", s, got)
		}
	}
	if got := (legacyCredential{ExpiryDate: want.UnixMilli()}).expiry(); !got.Equal(want.Truncate(time.Millisecond)) {
		t.Errorf("expiry_date → %v", got)
	}
	if !(legacyCredential{Expiry: json.RawMessage("null")}).expiry().IsZero() {
		t.Error("null expiry should be unknown")
	}
}

func TestEmailFromFile(t *testing.T) {
	for path, want := range map[string]string{
		"/c/Alice@Example.com.json":             "alice@example.com",
		"/c/bob@example.com_credentials.json":   "bob@example.com",
		"/c/token.json":                         "",
		"/c/carol@example.com-credentials.json": "carol@example.com",
	} {
		if got := emailFromFile(path, legacyCredential{}); got != want {
			t.Errorf("%s → %q, want %q", path, got, want)
		}
	}
	if got := emailFromFile("/c/token.json", legacyCredential{Account: "Dana@example.com"}); got != "dana@example.com" {
		t.Errorf("account field → %q", got)
	}
}
