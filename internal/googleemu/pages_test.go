package googleemu

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// loginPage fetches the sign-in page (no login_hint) and returns its form's pending id.
func fetchLoginPage(t *testing.T, authURL string) (string, string) {
	t.Helper()
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("login page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`id="email"`, `name="email"`, `id="submit"`, `value="deny"`, `<form method="post"`, `<label for="email">`, `<html lang="en">`} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	if regexp.MustCompile(`(src|href)=`).MatchString(page) {
		t.Error("login page loads external assets")
	}
	m := regexp.MustCompile(`name="pending" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no pending id in the form")
	}
	return m[1], page
}

func submitLogin(t *testing.T, authURL string, form url.Values) *http.Response {
	t.Helper()
	resp, err := noRedirect.PostForm(authURL, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestLoginPage_SignInRedirectsWithCode(t *testing.T) {
	_, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	authURL := cfg.AuthCodeURL("st-1")
	pending, page := fetchLoginPage(t, authURL)
	if strings.Contains(page, "not Google") {
		t.Error("non-demo page shows the demo notice")
	}
	// Scopes read as Google words them, with the scope itself beneath.
	if !strings.Contains(page, "See your primary Google Account email address") || !strings.Contains(page, "<code>openid</code>") {
		t.Errorf("scopes not described in words:\n%s", page)
	}

	// An invalid email re-renders the form.
	resp, err := noRedirect.PostForm(authURL, url.Values{"pending": {pending}, "email": {"nope"}, "action": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `id="email"`) {
		t.Fatalf("invalid email: %d", resp.StatusCode)
	}

	resp = submitLogin(t, authURL, url.Values{"pending": {pending}, "email": {"Person@Example.com"}, "action": {"allow"}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Query().Get("state") != "st-1" || loc.Query().Get("code") == "" {
		t.Fatalf("submit: %d %s", resp.StatusCode, loc)
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if _, info := userinfo(t, srv.URL, tok.AccessToken); info["email"] != "person@example.com" {
		t.Fatalf("signed in as %v", info["email"])
	}
	// The form is single use.
	resp = submitLogin(t, authURL, url.Values{"pending": {pending}, "email": {"person@example.com"}, "action": {"allow"}})
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
		t.Fatalf("resubmit: %d", resp.StatusCode)
	}
}

func TestLoginPage_DenyRedirectsAccessDenied(t *testing.T) {
	_, srv := start(t, Options{Demo: true})
	authURL := oauthConfig(srv.URL).AuthCodeURL("st-2")
	pending, page := fetchLoginPage(t, authURL)
	if !strings.Contains(page, "This is the drivemcp Google emulator — not Google") {
		t.Error("demo page lacks the notice")
	}
	resp := submitLogin(t, authURL, url.Values{"pending": {pending}, "action": {"deny"}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "st-2" || loc.Query().Has("code") {
		t.Fatalf("deny: %d %s", resp.StatusCode, loc)
	}
}
