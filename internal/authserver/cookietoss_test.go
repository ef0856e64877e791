package authserver

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// Cookie tossing: cookies ignore ports, so another web application on the
// same host (or, with Domain=, a sibling subdomain) can set drivemcp's
// cookies in a person's browser, with values the attacker copied from their
// own browser. These tests plant the attacker's cookies that way.

// siblingApp is another application on 127.0.0.1 (another port) that sets
// the given cookies in every browser that visits it.
func siblingApp(t *testing.T, cookies []*http.Cookie) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, c := range cookies {
			http.SetCookie(w, c)
		}
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// The attacker approves their own client once with "remember", copies the
// remembered-consent cookie from their browser, and has a page on the same
// host plant it in the victim's browser and send it to the authorize link
// with login_hint=victim. The victim must see the consent page (its Allow is
// what the Origin check then guards), not be sent straight to Google.
func TestConsent_PlantedRememberedConsentCookieStillAsks(t *testing.T) {
	for _, from := range []string{"the sibling app's page", "a browser without Fetch Metadata"} {
		t.Run(from, func(t *testing.T) {
			f := newFixture(t)
			id, _ := f.register("none")
			ctx := context.Background()
			attacker := e2etest.NewBrowser("attacker@example.com")
			attacker.Remember = true
			if _, err := attacker.Run(ctx, f.base+"/oauth/authorize?"+f.authorizeParams(id, oauth2.GenerateVerifier()).Encode(), testRedirect); err != nil {
				t.Fatal(err)
			}
			name := consentCookieName(id)
			value := cookieSentTo(t, attacker, "/oauth/authorize", name)

			victim := e2etest.NewBrowser("victim@example.com")
			site := siblingApp(t, []*http.Cookie{{Name: name, Value: value, Path: "/oauth/"}})
			if r, err := victim.Open(ctx, site); err != nil {
				t.Fatal(err)
			} else {
				r.Body.Close()
			}
			q := f.authorizeParams(id, oauth2.GenerateVerifier())
			q.Set("login_hint", "victim@example.com")
			victim.From = site // Sec-Fetch-Site: same-site, as for another port of the host
			victim.NoFetchMetadata = from == "a browser without Fetch Metadata"
			resp, err := victim.Open(ctx, f.base+"/oauth/authorize?"+q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(raw)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="consent"`) {
				t.Fatalf("a planted remembered consent skipped the consent page: %s Location=%s", resp.Status, resp.Header.Get("Location"))
			}
			if !strings.Contains(body, `name="remember" value="1" checked`) {
				t.Fatalf("the consent page shown instead of a remembered answer should keep \"remember\" ticked:\n%s", body)
			}
		})
	}
}

// cookieSentTo reads the named cookie the browser sends for path on the
// loopback host: the attacker reading their own browser's cookies. Cookies
// ignore ports, so a capturing server on another port sees them.
func cookieSentTo(t *testing.T, b *e2etest.Browser, path, name string) string {
	t.Helper()
	got := make(chan string, 1)
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie(name)
		if c != nil {
			got <- c.Value
		}
		close(got)
	}))
	defer capture.Close()
	u, _ := url.Parse(capture.URL)
	u.Path = path
	r, err := b.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	v := <-got
	if v == "" {
		t.Fatalf("the attacker's browser holds no cookie %s", name)
	}
	return v
}
