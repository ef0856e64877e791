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
	"github.com/drivemcp/drivemcp/internal/store"
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

// On https a sibling subdomain (evil.example.com beside
// drivemcp.example.com) can set cookies for drivemcp's host with
// Domain=example.com, but a browser refuses a __Host- cookie that names a
// Domain, is not Secure or has a Path other than "/" (RFC 6265bis §4.1.3.2,
// "The __Host- Prefix"). So on https drivemcp's cookies are __Host- cookies
// and a cookie under the plain name, which is all a sibling can plant, is
// ignored: the binding, the remembered consent and the CSRF nonce.
func TestConsent_CookiesPlantedBySiblingSubdomainIgnoredOnHTTPS(t *testing.T) {
	f := newFixtureWith(t, func(o *Options) { o.BaseURL = "https://drivemcp.example.com" })
	s := f.srv
	state := randomToken(32)
	rec := httptest.NewRecorder()
	s.bindToBrowser(rec, state)
	set := rec.Result().Cookies()
	if len(set) != 1 || !strings.HasPrefix(set[0].Name, "__Host-") || !set[0].Secure || set[0].Path != "/" || set[0].Domain != "" || !set[0].HttpOnly {
		t.Fatalf("binding cookie on https must be a __Host- cookie (Secure, Path=/, no Domain, HttpOnly): %+v", set)
	}

	// The sibling plants what it can: the plain name, holding a value the
	// attacker copied from a login they started (a valid MAC of its state).
	planted := &http.Cookie{Name: bindingCookieName(state), Value: set[0].Value}
	req := httptest.NewRequest(http.MethodGet, "https://drivemcp.example.com/oauth2callback?state="+state, nil)
	req.AddCookie(planted)
	if s.checkBrowserBinding(httptest.NewRecorder(), req, state, store.FlowProxy) {
		t.Fatal("a binding cookie planted under the plain name completed the login")
	}
	req = httptest.NewRequest(http.MethodGet, "https://drivemcp.example.com/oauth2callback?state="+state, nil)
	req.AddCookie(set[0])
	if !s.checkBrowserBinding(httptest.NewRecorder(), req, state, store.FlowProxy) {
		t.Fatal("the browser's own __Host- binding cookie was refused")
	}

	rec = httptest.NewRecorder()
	s.rememberConsent(rec, "client", testRedirect, []string{"drive.file"})
	set = rec.Result().Cookies()
	if len(set) != 1 || !strings.HasPrefix(set[0].Name, "__Host-") || !set[0].Secure || set[0].Path != "/" || set[0].Domain != "" {
		t.Fatalf("remembered-consent cookie on https must be a __Host- cookie: %+v", set)
	}
	req = httptest.NewRequest(http.MethodGet, "https://drivemcp.example.com/oauth/authorize", nil)
	req.AddCookie(&http.Cookie{Name: consentCookieName("client"), Value: set[0].Value})
	if s.consentRemembered(req, "client", testRedirect, []string{"drive.file"}) {
		t.Fatal("a remembered consent planted under the plain name was honoured")
	}

	rec = httptest.NewRecorder()
	nonce := s.csrfNonce(rec, httptest.NewRequest(http.MethodGet, "https://drivemcp.example.com/oauth/authorize", nil))
	set = rec.Result().Cookies()
	if len(set) != 1 || set[0].Name != "__Host-"+csrfCookie || !set[0].Secure || set[0].Path != "/" {
		t.Fatalf("CSRF cookie on https must be a __Host- cookie: %+v", set)
	}
	req = httptest.NewRequest(http.MethodGet, "https://drivemcp.example.com/oauth/authorize", nil)
	req.AddCookie(&http.Cookie{Name: csrfCookie, Value: nonce})
	if got := s.csrfNonce(httptest.NewRecorder(), req); got == nonce {
		t.Fatal("a CSRF nonce planted under the plain name was used")
	}
}
