package googleemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// authorizeStatus opens the authorization endpoint for clientID with
// redirectURI and login_hint, and returns Google's answer: a redirect back
// (302) or an error page (400).
func authorizeStatus(t *testing.T, base, clientID, redirectURI string) (int, string) {
	t.Helper()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid email " + scopeDriveFile}, "login_hint": {"alice@example.com"}, "state": {"s"}}
	resp, err := noRedirect.Get(base + "/o/oauth2/v2/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// A Web application client reaches only the redirect URIs registered for it,
// character for character, and a Desktop app client any port of a loopback
// IP literal; anything else stops on Google's redirect_uri_mismatch page.
func TestAuthorize_RedirectURIRulesPerClientType(t *testing.T) {
	_, srv := start(t, Options{Registrations: map[string]Registration{
		"web.apps.googleusercontent.com":     {Secret: "w", Type: ClientWeb, RedirectURIs: []string{"http://127.0.0.1:8765/oauth2callback"}},
		"desktop.apps.googleusercontent.com": {Secret: "d", Type: ClientInstalled},
	}})
	cases := []struct {
		client, redirect string
		ok               bool
	}{
		{"web", "http://127.0.0.1:8765/oauth2callback", true},
		{"web", "http://127.0.0.1:8766/oauth2callback", false},
		{"web", "http://127.0.0.1:0/oauth2callback", false},
		{"web", "http://127.0.0.1:8765/oauth2callback/", false},
		{"desktop", "http://127.0.0.1:51004/oauth2callback", true},
		{"desktop", "http://[::1]:61023/oauth2callback", true},
		{"desktop", "http://127.0.0.1:0/oauth2callback", false},
		{"desktop", "http://127.0.0.1/oauth2callback", false},
		{"desktop", "https://127.0.0.1:51004/oauth2callback", false},
		{"desktop", "http://192.168.1.2:51004/oauth2callback", false},
		{"desktop", "http://example.com:51004/oauth2callback", false},
	}
	for _, c := range cases {
		status, loc := authorizeStatus(t, srv.URL, c.client+".apps.googleusercontent.com", c.redirect)
		if got := status == http.StatusFound && strings.HasPrefix(loc, c.redirect+"?"); got != c.ok {
			t.Errorf("%s client, redirect %s: status %d location %q, want accepted=%v", c.client, c.redirect, status, loc, c.ok)
		}
	}
}

// The switch tests use to let clients registered with Clients (id → secret)
// reach any redirect URI stays as it was: the demo client is friendly.
func TestAuthorize_UnregisteredRedirectsStayFriendly(t *testing.T) {
	_, srv := start(t, Options{})
	if status, _ := authorizeStatus(t, srv.URL, DemoClientID, "http://127.0.0.1:9/anything"); status != http.StatusFound {
		t.Fatalf("demo client refused a loopback redirect: %d", status)
	}
}
