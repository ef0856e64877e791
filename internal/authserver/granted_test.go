package authserver

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/identity"
)

// openCallback runs b from start until Google sends it back to drivemcp's
// callback, then loads the callback and returns its status and page.
func (f *fixture) openCallback(b *e2etest.Browser, start string) (int, string) {
	f.t.Helper()
	back, err := b.Run(context.Background(), start, f.base+"/oauth2callback")
	if err != nil {
		f.t.Fatal(err)
	}
	resp, err := b.Open(context.Background(), back.String())
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, "redirect to " + loc
	}
	return resp.StatusCode, string(body)
}

var returnLink = regexp.MustCompile(`id="return" href="([^"]+)"`)

// Google's granular consent: a person who unticks the Drive box signs in
// with no Drive scope. The proxy flow must end on a page that says so and
// what to do, hand the client access_denied (through a link on that page
// to its verified redirect URI), and mint no token claiming drive.file.
func TestProxyFlow_UntickedDriveScopeEndsOnPageAndClientGetsAccessDenied(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	b := e2etest.NewBrowser("alice@example.com")
	b.Untick = []string{"drive.file"}
	status, page := f.openCallback(b, f.base+"/oauth/authorize?"+f.authorizeParams(id, oauth2.GenerateVerifier()).Encode())
	if status != http.StatusForbidden {
		t.Fatalf("callback: %d, want 403 and a page\n%s", status, page)
	}
	for _, want := range []string{"alice@example.com", "Google Drive", "leave the Google Drive box ticked"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	m := returnLink.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no link back to the client:\n%s", page)
	}
	back, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	q := back.Query()
	if !strings.HasPrefix(back.String(), testRedirect) || q.Get("error") != "access_denied" ||
		q.Get("state") != "client-state" || q.Get("iss") != f.base || q.Get("code") != "" {
		t.Fatalf("link back to the client: %s", back)
	}
	acct, err := f.srv.grants.Account(context.Background(), "alice@example.com")
	if err == nil && slices.Contains(acct.Scopes, google.ScopeDriveFile) {
		t.Fatalf("stored grant claims drive.file: %v", acct.Scopes)
	}
}

// The client asked for drive.file and drive.readonly; the person unticked
// drive.readonly at Google. The MCP token carries what was asked and
// granted: drive.file only.
func TestProxyFlow_TokenScopesAreAskedIntersectGranted(t *testing.T) {
	f := newFixtureWith(t, func(o *Options) {
		o.AllowedDriveScopes = []string{google.ScopeDriveFile, google.ScopeDriveReadonly, google.ScopeDrive}
	})
	id := f.registerPublic()
	verifier := oauth2.GenerateVerifier()
	params := f.authorizeParams(id, verifier)
	params.Set("scope", "drive.file drive.readonly")
	b := e2etest.NewBrowser("alice@example.com")
	b.Untick = []string{"drive.readonly"}
	back, err := b.Run(context.Background(), f.base+"/oauth/authorize?"+params.Encode(), testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	status, out := f.exchange(id, back.Query().Get("code"), verifier, nil)
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, out)
	}
	if out["scope"] != "drive.file" {
		t.Fatalf("token scope %q, want drive.file (asked ∩ granted)", out["scope"])
	}
	info, err := f.srv.VerifyAccessToken(context.Background(), out["access_token"].(string), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.Scopes, []string{"drive.file"}) {
		t.Fatalf("verified token scopes %v", info.Scopes)
	}
}

// The direct flow (start_google_auth) with the Drive box unticked: the
// page says Drive was not connected and what to do, and the stored grant
// claims no Drive scope.
func TestDirectFlow_UntickedDriveScopeSaysSoOnThePage(t *testing.T) {
	f := newFixture(t)
	f.google.SetLoginHintOnlyPrefills(true)
	link, err := f.srv.StartDirect(context.Background(), DirectRequest{SessionKey: "session-1", LoginHint: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	b := e2etest.NewBrowser("alice@example.com")
	b.Untick = []string{"drive.file"}
	status, page := f.openCallback(b, link)
	if status != http.StatusForbidden {
		t.Fatalf("callback: %d, want 403\n%s", status, page)
	}
	for _, want := range []string{"alice@example.com", "leave the Google Drive box ticked", "start_google_auth"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	acct, err := f.srv.grants.Account(context.Background(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(acct.Scopes, func(s string) bool { return strings.Contains(s, "/auth/drive") }) {
		t.Fatalf("stored grant claims a Drive scope: %v", acct.Scopes)
	}
	// The session knows who signed in, so its tools can say what is missing.
	who, err := f.srv.resolver.Resolve(context.Background(), identity.Call{SessionKey: "session-1"})
	if err != nil || who.Email != "alice@example.com" {
		t.Fatalf("session binding: %v %v", who, err)
	}
}
