package e2e

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// Google as strict as it is documented to be: login_hint only pre-fills
// the sign-in page, and the person may untick each Drive scope there
// (Google's "How to handle granular permissions").
func startStrictGoogle(t *testing.T) *e2etest.Google {
	t.Helper()
	g := e2etest.StartGoogle(t)
	g.SetLoginHintOnlyPrefills(true)
	return g
}

// signInAt plays the person from a Google consent URL to drivemcp's
// callback page, and returns that page's status and text.
func signInAt(t *testing.T, b *e2etest.Browser, authURL string) (int, string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	callback := u.Query().Get("redirect_uri")
	back, err := b.Run(context.Background(), authURL, callback)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.Open(context.Background(), back.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, html.UnescapeString(string(body))
}

func authURLOf(t *testing.T, res map[string]any) string {
	t.Helper()
	u, _ := res["auth_url"].(string)
	if u == "" {
		t.Fatalf("start_google_auth gave no auth_url: %v", res)
	}
	return u
}

// A user who unticks the Drive box at Google over the direct flow gets a
// page that says so, a tool error that says the same, and no grant
// claiming drive.file; connecting again with the box ticked works.
func TestDirectFlow_DriveBoxUntickedGetsClearPageAndToolError(t *testing.T) {
	g := startStrictGoogle(t)
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g})

	link := authURLOf(t, e2etest.Structured(t, e2etest.MustCall(t, s.Session, "start_google_auth", map[string]any{"user_google_email": "alice@example.com"})))
	b := e2etest.NewBrowser("alice@example.com")
	b.Untick = []string{"drive.file"}
	status, page := signInAt(t, b, link)
	if status != http.StatusForbidden || !strings.Contains(page, "leave the Google Drive box ticked") {
		t.Fatalf("callback page: %d\n%s", status, page)
	}

	res := e2etest.Call(t, s.Session, "create_drive_file", map[string]any{"file_name": "unticked.txt", "content": "x"})
	if text := e2etest.ResultText(res); !res.IsError || !strings.Contains(text, "leave the Google Drive box ticked") {
		t.Fatalf("create_drive_file: %v %s", res.IsError, text)
	}
	if len(e2etest.FilesNamed(g, "unticked.txt")) != 0 {
		t.Fatal("a file reached Drive")
	}
	who := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "check_drive_auth", nil))
	scopes, _ := json.Marshal(who["scopes"])
	if who["email"] != "alice@example.com" || strings.Contains(string(scopes), "drive") || len(scopes) < 5 {
		t.Fatalf("check_drive_auth = %v", who)
	}

	// Connecting again is not "already connected"; this time the box stays ticked.
	again := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "start_google_auth", nil))
	status, page = signInAt(t, e2etest.NewBrowser("alice@example.com"), authURLOf(t, again))
	if status != http.StatusOK {
		t.Fatalf("second sign-in: %d\n%s", status, page)
	}
	e2etest.MustCall(t, s.Session, "create_drive_file", map[string]any{"file_name": "ticked.txt", "content": "x"})
	if files := e2etest.FilesNamed(g, "ticked.txt"); len(files) != 1 || files[0].Owner != "alice@example.com" {
		t.Fatalf("files = %+v", files)
	}
}

var returnLink = regexp.MustCompile(`id="return" href="([^"]+)"`)

// The same over OAuth: the login ends on drivemcp's page saying what
// happened, its link hands the client access_denied, no code is ever
// issued; the client's next login, box ticked, works.
func TestOAuth_DriveBoxUntickedGetsClearPageAndAccessDenied(t *testing.T) {
	g := startStrictGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	const redirect = "http://127.0.0.1:47914/callback"
	reg, _ := json.Marshal(map[string]any{"client_name": "unticked", "redirect_uris": []string{redirect},
		"grant_types": []string{"authorization_code"}, "token_endpoint_auth_method": "none"})
	resp, err := http.Post(srv.BaseURL+"/oauth/register", "application/json", strings.NewReader(string(reg)))
	if err != nil {
		t.Fatal(err)
	}
	var client struct {
		ClientID string `json:"client_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&client)
	resp.Body.Close()
	q := url.Values{"client_id": {client.ClientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"state": {"st"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"}, "scope": {"drive.file"}}

	b := e2etest.NewBrowser("carol@example.com")
	b.Untick = []string{"drive.file"}
	back, err := b.Run(context.Background(), srv.BaseURL+"/oauth/authorize?"+q.Encode(), srv.BaseURL+"/oauth2callback")
	if err != nil {
		t.Fatal(err)
	}
	page, err := b.Open(context.Background(), back.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	text := html.UnescapeString(string(body))
	if page.StatusCode != http.StatusForbidden || !strings.Contains(text, "leave the Google Drive box ticked") || !strings.Contains(text, "carol@example.com") {
		t.Fatalf("callback: %d %s\n%s", page.StatusCode, page.Header.Get("Location"), text)
	}
	m := returnLink.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no link back to the client:\n%s", text)
	}
	ret, _ := url.Parse(m[1])
	if !strings.HasPrefix(m[1], redirect) || ret.Query().Get("error") != "access_denied" || ret.Query().Get("code") != "" || ret.Query().Get("state") != "st" {
		t.Fatalf("link back: %s", m[1])
	}

	// The client tries again; this time the box stays ticked.
	s := connectOAuth(t, srv.BaseURL, e2etest.NewBrowser("carol@example.com"))
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "after-retry.txt", "content": "x"})
	if len(e2etest.FilesNamed(g, "after-retry.txt")) != 1 {
		t.Fatal("the write after a ticked retry did not happen")
	}
}

// The client asks for drive.file and drive.readonly; the person unticks
// drive.file at Google. The token carries drive.readonly only (asked ∩
// granted), so a write steps up, and when the person ticks drive.file
// that time, the write goes through.
func TestOAuth_AskedIntersectGrantedThenStepUpWhenGrantedLater(t *testing.T) {
	g := startStrictGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g,
		ExtraArgs: []string{"--drive-scope", "full"}})
	browser := e2etest.NewBrowser("erin@example.com")
	browser.Untick = []string{"drive.file"}
	s := connectOAuthScoped(t, srv.BaseURL, browser, func(discovered []string) []string {
		if browser.Untick != nil {
			return []string{"drive.file", "drive.readonly"}
		}
		return discovered
	})
	who := e2etest.Structured(t, e2etest.MustCall(t, s, "check_drive_auth", nil))
	scopes, _ := who["scopes"].([]any)
	var names []string
	for _, sc := range scopes {
		names = append(names, sc.(string))
	}
	if slices.ContainsFunc(names, func(s string) bool { return strings.HasSuffix(s, "drive.file") }) ||
		!slices.ContainsFunc(names, func(s string) bool { return strings.HasSuffix(s, "drive.readonly") }) {
		t.Fatalf("check_drive_auth scopes %v, want drive.readonly only", names)
	}

	browser.Untick = nil // this time the person leaves every box ticked
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "granted-later.txt", "content": "w"})
	if files := e2etest.FilesNamed(g, "granted-later.txt"); len(files) != 1 || files[0].Owner != "erin@example.com" {
		t.Fatalf("files = %+v", files)
	}
}

// Google's OpenID Connect guide: login_hint only suggests an account.
// start_google_auth asked for bob, the person in the browser signed in as
// alice: drivemcp binds alice, says so on the page, and bob is never bound.
func TestDirectFlow_StartAuthForBobSignedInAsAliceBindsAlice(t *testing.T) {
	g := startStrictGoogle(t)
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g})
	link := authURLOf(t, e2etest.Structured(t, e2etest.MustCall(t, s.Session, "start_google_auth", map[string]any{"user_google_email": "bob@example.com"})))
	if u, _ := url.Parse(link); u.Query().Get("login_hint") != "bob@example.com" {
		t.Fatalf("the Google link does not suggest bob: %s", link)
	}
	status, page := signInAt(t, e2etest.NewBrowser("alice@example.com"), link)
	if status != http.StatusOK || !strings.Contains(page, "You signed in as alice@example.com, not bob@example.com") {
		t.Fatalf("callback page: %d\n%s", status, page)
	}
	who := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "check_drive_auth", nil))
	if who["email"] != "alice@example.com" || who["method"] != "session" {
		t.Fatalf("check_drive_auth = %v", who)
	}
	e2etest.MustCall(t, s.Session, "create_drive_file", map[string]any{"file_name": "whose.txt", "content": "x"})
	if files := e2etest.FilesNamed(g, "whose.txt"); len(files) != 1 || files[0].Owner != "alice@example.com" {
		t.Fatalf("files = %+v", files)
	}
	res := e2etest.Call(t, s.Session, "create_drive_file", map[string]any{"file_name": "as-bob.txt", "content": "x", "user_google_email": "bob@example.com"})
	if !res.IsError || len(e2etest.FilesNamed(g, "as-bob.txt")) != 0 {
		t.Fatalf("acting as bob: %s", e2etest.ResultText(res))
	}
}
