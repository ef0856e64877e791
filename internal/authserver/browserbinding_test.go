package authserver

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/identity"
)

// The login CSRF of the proxy flow: the attacker approves their own client
// in their own browser with login_hint=victim, copies the Google link
// drivemcp redirects to, and gets the victim to open it. Google (here the
// emulator, which signs in a login_hint at once, as Google does for a user
// who already granted drivemcp) returns the victim to /oauth2callback; the
// code must not travel on to the attacker's redirect URI.
func TestConsent_ForwardedGoogleLinkRefusedInAnotherBrowser(t *testing.T) {
	for _, remembered := range []bool{false, true} {
		name := "through the consent page"
		if remembered {
			name = "through a remembered consent"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			id := f.registerPublic()
			verifier := oauth2.GenerateVerifier()
			q := f.authorizeParams(id, verifier)
			q.Set("login_hint", "victim@example.com")
			start := f.base + "/oauth/authorize?" + q.Encode()

			attacker := e2etest.NewBrowser("attacker@example.com")
			if remembered {
				attacker.Remember = true
				if _, err := attacker.Run(context.Background(), f.base+"/oauth/authorize?"+f.authorizeParams(id, oauth2.GenerateVerifier()).Encode(), testRedirect); err != nil {
					t.Fatal(err)
				}
			}
			googleLink, err := attacker.Run(context.Background(), start, f.google.URL)
			if err != nil {
				t.Fatal(err)
			}

			victim := e2etest.NewBrowser("victim@example.com")
			back, err := victim.Run(context.Background(), googleLink.String(), testRedirect)
			if err == nil {
				code := back.Query().Get("code")
				if st, out := f.exchange(id, code, verifier, nil); st == http.StatusOK {
					t.Fatalf("the attacker redeemed the victim's login: %v", out)
				}
				t.Fatalf("the victim's browser was sent to the attacker's redirect URI: %v", back)
			}
			if !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), "another browser") {
				t.Fatalf("the victim's browser should end on an error page saying what happened: %v", err)
			}
		})
	}
}

// One browser may run several logins at once (two MCP clients connecting
// side by side); each Google return finds its own binding, in any order.
func TestConsent_ConcurrentLoginsInOneBrowserBothComplete(t *testing.T) {
	f := newFixture(t)
	first := f.registerPublic()
	second := f.registerPublic()
	b := e2etest.NewBrowser("alice@example.com")
	var links []*url.URL
	for _, id := range []string{first, second} {
		q := f.authorizeParams(id, oauth2.GenerateVerifier())
		q.Set("login_hint", "alice@example.com")
		link, err := b.Run(context.Background(), f.base+"/oauth/authorize?"+q.Encode(), f.google.URL)
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, link)
	}
	for i := len(links) - 1; i >= 0; i-- {
		back, err := b.Run(context.Background(), links[i].String(), testRedirect)
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		if back.Query().Get("code") == "" {
			t.Fatalf("login %d: %v", i, back)
		}
	}
}

// The binding cookie is spent with its transaction and is not readable by
// scripts or sent off the callback path.
func TestConsent_BrowserBindingCookieIsScopedAndCleared(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noFollow.CheckRedirect}
	resp, err := c.Get(f.base + "/oauth/authorize?" + f.authorizeParams(id, oauth2.GenerateVerifier()).Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"consent_id": {between(string(body), `name="consent_id" value="`, `"`)},
		"csrf": {between(string(body), `name="csrf" value="`, `"`)}, "decision": {"allow"}}
	req, _ := http.NewRequest(http.MethodPost, f.base+"/oauth/consent", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.base)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var binding *http.Cookie
	for _, ck := range resp.Cookies() {
		if strings.HasPrefix(ck.Name, bindingCookiePrefix) {
			binding = ck
		}
	}
	if binding == nil {
		t.Fatalf("no browser-binding cookie set with the redirect to Google: %v", resp.Header["Set-Cookie"])
	}
	if !binding.HttpOnly || binding.SameSite != http.SameSiteLaxMode || binding.Path != "/oauth2callback" || binding.MaxAge <= 0 {
		t.Fatalf("binding cookie attributes: %+v", binding)
	}
	google, _ := url.Parse(resp.Header.Get("Location"))
	q := google.Query()
	q.Set("login_hint", "alice@example.com")
	google.RawQuery = q.Encode()
	resp, err = c.Get(google.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), testRedirect) {
		t.Fatalf("callback in the approving browser: %s %q", resp.Status, resp.Header.Get("Location"))
	}
	cleared := false
	for _, ck := range resp.Cookies() {
		cleared = cleared || (ck.Name == binding.Name && ck.MaxAge < 0)
	}
	if !cleared {
		t.Fatalf("the callback did not clear the binding cookie: %v", resp.Header["Set-Cookie"])
	}
}

// The direct flow is not bound to a browser (its link starts at Google).
// Over HTTP with OAuth a forwarded start_google_auth link still gives the
// attacker nothing: the victim's login binds the attacker's MCP session,
// but every call on it carries the attacker's bearer token, and the token
// decides the account.
func TestDirect_ForwardedLinkGivesAnOAuthSessionNoOtherAccount(t *testing.T) {
	f := newFixture(t)
	link, err := f.srv.StartDirect(context.Background(), DirectRequest{SessionKey: "mallory-session", LoginHint: "victim@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noFollow.Get(link) // the victim opens it; the emulator signs them in at once
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = noFollow.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the direct callback: %s", resp.Status)
	}
	id, err := f.srv.resolver.Resolve(context.Background(), identity.Call{TokenSubject: "mallory@example.com", SessionKey: "mallory-session"})
	if err != nil || id.Email != "mallory@example.com" {
		t.Fatalf("a call with the attacker's token on the bound session acts as %q (%v)", id.Email, err)
	}
}
