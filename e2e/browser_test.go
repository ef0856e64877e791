package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/web"
)

// These tests put a real browser (headless Chromium) where a person sits:
// the pages are rendered, buttons clicked, cookies kept in a profile, and
// the browser itself enforces drivemcp's framing headers. Each page is
// saved as a screenshot under e2e/artifacts/.

// browserClient is the Go SDK's OAuth client whose authorization step is a
// person at Chromium: it opens the authorization URL, person acts on the
// pages, and the browser's arrival at the loopback redirect URI ends it.
type browserClient struct {
	base     string
	redirect *e2etest.RedirectReceiver
	// clientID, once the first authorization started, is the id the SDK
	// registered; a later connection may reuse it as a pre-registered client.
	clientID string
	// Back is the query the browser brought to the redirect URI last.
	Back url.Values
}

// connect runs the SDK's connection, calling person with the authorization
// URL. person may run on another goroutine than the test's, so it reports
// problems by returning an error (or with t.Errorf), never with t.Fatal.
func (c *browserClient) connect(t *testing.T, person func(authURL string) error) (*mcp.ClientSession, error) {
	t.Helper()
	asked, left := 0, error(nil)
	cfg := &auth.AuthorizationCodeHandlerConfig{
		RedirectURL: c.redirect.URL,
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			// After a failed authorization the SDK may ask again (to send a
			// cancellation); the person has already left.
			if asked++; asked > 1 {
				return nil, fmt.Errorf("asked to authorize again, but the person has left the browser (first attempt: %v)", left)
			}
			if u, err := url.Parse(args.URL); err == nil {
				c.clientID = u.Query().Get("client_id")
			}
			if left = person(args.URL); left != nil {
				return nil, left
			}
			wait, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			q, err := c.redirect.Wait(wait)
			if err != nil {
				return nil, err
			}
			c.Back = q
			if e := q.Get("error"); e != "" {
				return nil, fmt.Errorf("authorization refused: %s", e)
			}
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
	}
	if c.clientID != "" {
		cfg.PreregisteredClient = &oauthex.ClientCredentials{ClientID: c.clientID}
	} else {
		cfg.DynamicClientRegistrationConfig = &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName:              "Browser Test Client",
			RedirectURIs:            []string{c.redirect.URL},
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			TokenEndpointAuthMethod: "none",
		}}
	}
	handler, err := auth.NewAuthorizationCodeHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-browser", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: c.base + "/mcp", OAuthHandler: handler}, nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { session.Close() })
	return session, nil
}

// signInAtGoogle types email into the emulator's sign-in page and submits it.
func signInAtGoogle(b *e2etest.Chromium, email string) error {
	return b.Do(
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.Click(chromedp.ID("submit")),
	)
}

func startOAuthServer(t *testing.T) (*e2etest.Google, *e2etest.HTTPServer) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	return g, srv
}

// A person connects an MCP client: the consent page names the client and
// where the answer goes, they choose Allow, sign in at "Google", and the
// client's tools act as them.
func TestBrowser_ClientConnectsThroughConsentAndGoogle(t *testing.T) {
	_, srv := startOAuthServer(t)
	b := e2etest.NewChromium(t, t.TempDir())
	c := &browserClient{base: srv.BaseURL, redirect: e2etest.StartRedirectReceiver(t)}

	s, err := c.connect(t, func(authURL string) error {
		if err := b.Do(chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("consent"))); err != nil {
			return err
		}
		page, err := b.Texts("#client-name", "#redirect-host", "#scopes")
		if err != nil {
			return err
		}
		wantHost := strings.TrimPrefix(strings.TrimSuffix(c.redirect.URL, "/callback"), "http://")
		if page[0] != "Browser Test Client" || page[1] != wantHost || !strings.Contains(page[2], "Upload files") {
			t.Errorf("the consent page says client %q, returning to %q (want %q), for %q", page[0], page[1], wantHost, page[2])
		}
		b.Screenshot("consent", e2etest.Desktop, e2etest.PhoneDark)
		if err := b.Do(chromedp.Click(chromedp.ID("allow")), chromedp.WaitVisible(chromedp.ID("email"))); err != nil {
			return err
		}
		b.Screenshot("google-sign-in", e2etest.Desktop, e2etest.PhoneDark)
		return signInAtGoogle(b, "erin@example.com")
	})
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	b.Must(chromedp.WaitVisible(chromedp.ID("done")))
	if c.Back.Get("iss") != srv.BaseURL || c.Back.Get("code") == "" {
		t.Fatalf("the client got back %v", c.Back)
	}
	who := e2etest.Structured(t, e2etest.MustCall(t, s, "check_drive_auth", nil))
	if who["email"] != "erin@example.com" || who["method"] != "oauth" {
		t.Fatalf("check_drive_auth = %v", who)
	}
}

// Deny on the consent page sends the person back to the client with
// access_denied, and nothing is connected.
func TestBrowser_DenyReturnsAccessDenied(t *testing.T) {
	g, srv := startOAuthServer(t)
	b := e2etest.NewChromium(t, t.TempDir())
	c := &browserClient{base: srv.BaseURL, redirect: e2etest.StartRedirectReceiver(t)}

	_, err := c.connect(t, func(authURL string) error {
		return b.Do(chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("consent")),
			chromedp.Click(chromedp.ID("deny")), chromedp.WaitVisible(chromedp.ID("done")))
	})
	if err == nil {
		t.Fatal("the client connected although the person chose Deny")
	}
	b.Screenshot("deny-back-at-client")
	if c.Back.Get("error") != "access_denied" || c.Back.Get("state") == "" || c.Back.Has("code") {
		t.Fatalf("after Deny the client got %v, want error=access_denied with its state and no code", c.Back)
	}
	for _, l := range b.Loads() {
		if strings.HasPrefix(l.URL, g.URL) {
			t.Fatalf("Deny still went to Google: %s", l.URL)
		}
	}
}

// "Remember my answer" ticked once: after a browser restart with the same
// profile, the same client is sent straight to Google, with no consent page.
func TestBrowser_RememberedConsentSkipsThePage(t *testing.T) {
	_, srv := startOAuthServer(t)
	profile := t.TempDir()
	c := &browserClient{base: srv.BaseURL, redirect: e2etest.StartRedirectReceiver(t)}

	first := e2etest.NewChromium(t, profile)
	if _, err := c.connect(t, func(authURL string) error {
		if err := first.Do(chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("consent")),
			chromedp.Click(chromedp.ID("remember")), chromedp.Click(chromedp.ID("allow"))); err != nil {
			return err
		}
		return signInAtGoogle(first, "fay@example.com")
	}); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	first.Must(chromedp.WaitVisible(chromedp.ID("done")))
	first.Close()

	second := e2etest.NewChromium(t, profile)
	s, err := c.connect(t, func(authURL string) error {
		if err := second.Do(chromedp.Navigate(authURL)); err != nil {
			return err
		}
		if second.Has("#consent") {
			return errors.New("the consent page was shown again")
		}
		return signInAtGoogle(second, "fay@example.com")
	})
	if err != nil {
		t.Fatalf("second connection: %v", err)
	}
	for _, l := range second.Loads() {
		if strings.Contains(l.URL, "/oauth/consent") {
			t.Fatalf("the second run posted a consent form: %s", l.URL)
		}
	}
	if who := e2etest.Structured(t, e2etest.MustCall(t, s, "check_drive_auth", nil)); who["email"] != "fay@example.com" {
		t.Fatalf("check_drive_auth = %v", who)
	}
}

// A site that frames the consent page (to trick a click on Allow) gets an
// empty frame: the browser obeys drivemcp's headers. A frameable page on
// another origin, framed beside it, shows that the check can see inside a
// frame when the browser allows it.
func TestBrowser_ConsentRefusesToBeFramed(t *testing.T) {
	_, srv := startOAuthServer(t)
	b := e2etest.NewChromium(t, t.TempDir())
	c := &browserClient{base: srv.BaseURL, redirect: e2etest.StartRedirectReceiver(t)}
	control := e2etest.StartFrameablePage(t, "consent")

	var consentURL string
	_, err := c.connect(t, func(authURL string) error {
		consentURL = authURL
		framer := e2etest.StartFramingSite(t, authURL, control)
		if err := b.Do(chromedp.Navigate(framer)); err != nil {
			return err
		}
		b.Screenshot("framed-consent")
		return errors.New("the person left the framing site")
	})
	if err == nil || consentURL == "" {
		t.Fatalf("connect: %v", err)
	}
	target, err := b.Frame("frame0", "#consent")
	if err != nil {
		t.Fatalf("inspecting the framed consent page: %v", err)
	}
	if target.HasElement {
		t.Fatalf("the consent form rendered inside another site's frame (frame %+v)", target)
	}
	ok, err := b.Frame("frame1", "#consent")
	if err != nil || !ok.HasElement {
		t.Fatalf("control frame: %+v %v — the check cannot see into frames, so it proves nothing", ok, err)
	}
	// And the browser refused it for the reason we send.
	var seen bool
	for _, l := range b.Loads() {
		if l.URL == consentURL && l.Header != nil {
			seen = true
			if l.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(l.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Fatalf("consent response headers: %v", l.Header)
			}
		}
	}
	if !seen {
		t.Fatalf("no response recorded for %s; loads: %+v", consentURL, b.Loads())
	}
}

// The direct flow over stdio, with no login hint: the person opens the
// link from start_google_auth, first cancels at Google (an error page that
// says what to do), then signs in and lands on the connected page.
func TestBrowser_DirectFlowEndsOnConnectedPage(t *testing.T) {
	g := e2etest.StartGoogle(t)
	s := e2etest.StartStdio(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "drivemcp.db"), Google: g})
	b := e2etest.NewChromium(t, t.TempDir())
	authURL := func() string {
		res := e2etest.MustCall(t, s.Session, "start_google_auth", nil)
		u, _ := e2etest.Structured(t, res)["auth_url"].(string)
		if u == "" || strings.Contains(u, "login_hint") {
			t.Fatalf("start_google_auth: %s", e2etest.ResultText(res))
		}
		return u
	}

	b.Must(chromedp.Navigate(authURL()), chromedp.WaitVisible(chromedp.ID("email")))
	b.Must(chromedp.Click(chromedp.ID("deny")), chromedp.WaitVisible(chromedp.ID("message")))
	if msg := b.MustText("#message"); !strings.Contains(msg, "declined") {
		t.Errorf("after Cancel at Google the page says %q", msg)
	}
	ref := b.MustText("#reference")
	if ref == "" || !strings.Contains(s.Stderr(), ref) {
		t.Errorf("the page's reference %q is not in the server's log", ref)
	}
	b.Screenshot("deny", e2etest.Desktop, e2etest.PhoneDark)

	b.Must(chromedp.Navigate(authURL()))
	if err := signInAtGoogle(b, "gus@example.com"); err != nil {
		t.Fatal(err)
	}
	b.Must(chromedp.WaitVisible(chromedp.ID("account")))
	if got := b.MustText("#account"); got != "gus@example.com" {
		t.Fatalf("connected page shows %q", got)
	}
	b.Screenshot("connected", e2etest.Desktop, e2etest.PhoneDark)
	who := e2etest.Structured(t, e2etest.MustCall(t, s.Session, "check_drive_auth", nil))
	if who["email"] != "gus@example.com" || who["method"] != "session" {
		t.Fatalf("check_drive_auth = %v", who)
	}
}

// An error page says what went wrong and what to do, and its reference is
// the one in the server's log line.
func TestBrowser_ErrorPageReferenceMatchesLog(t *testing.T) {
	_, srv := startOAuthServer(t)
	b := e2etest.NewChromium(t, t.TempDir())
	b.Must(chromedp.Navigate(srv.BaseURL+"/oauth/authorize?response_type=code&client_id=mcp_unknown&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb"),
		chromedp.WaitVisible(chromedp.ID("message")))
	if msg := b.MustText("#message"); !strings.Contains(msg, "not registered") {
		t.Errorf("error page says %q", msg)
	}
	ref := b.MustText("#reference")
	var logged bool
	for _, line := range strings.Split(srv.Output(), "\n") {
		logged = logged || (strings.Contains(line, ref) && strings.Contains(line, "/oauth/authorize"))
	}
	if ref == "" || !logged {
		t.Fatalf("reference %q has no log line:\n%s", ref, srv.Output())
	}
	b.Screenshot("error", e2etest.Desktop, e2etest.PhoneDark)
}

// The browser in these tests cannot leave loopback: a page on another host,
// by name or by address, is refused before any packet is sent.
func TestBrowser_StaysOnLoopback(t *testing.T) {
	b := e2etest.NewChromium(t, t.TempDir())
	for _, u := range []string{"http://example.com/", "http://192.0.2.1/", "https://[2001:db8::1]/"} {
		if err := b.Do(chromedp.Navigate(u)); err == nil {
			t.Errorf("navigating to %s succeeded", u)
		}
	}
	if refused := b.TakeRefused(); len(refused) != 3 {
		t.Fatalf("refused %v, want the three URLs", refused)
	}
}

// A self-registered client's logo_uri is never loaded: the browser makes no
// request for it (a tracking pixel would learn of every consent page view),
// and the page shows the initial tile beside the name marked not verified.
func TestBrowser_UnverifiedClientLogoIsNeverRequested(t *testing.T) {
	_, srv := startOAuthServer(t)
	b := e2etest.NewChromium(t, t.TempDir())
	redirect := e2etest.StartRedirectReceiver(t)
	reg, _ := json.Marshal(map[string]any{"client_name": "Google Drive Official", "redirect_uris": []string{redirect.URL},
		"logo_uri": "https://logo.example/drive.png", "token_endpoint_auth_method": "none"})
	resp, err := http.Post(srv.BaseURL+"/oauth/register", "application/json", bytes.NewReader(reg))
	if err != nil {
		t.Fatal(err)
	}
	var client struct {
		ClientID string `json:"client_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&client)
	resp.Body.Close()
	authURL := srv.BaseURL + "/oauth/authorize?" + url.Values{"client_id": {client.ClientID}, "redirect_uri": {redirect.URL},
		"response_type": {"code"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"}}.Encode()
	b.Must(chromedp.Navigate(authURL), chromedp.WaitVisible(chromedp.ID("consent")))
	b.Screenshot("consent-unverified-client", e2etest.Desktop, e2etest.PhoneDark)
	if refused := b.TakeRefused(); len(refused) != 0 {
		t.Fatalf("the consent page of an unverified client made the browser fetch %v", refused)
	}
	if b.Has("img") || !b.Has(".logo.tile") || b.Has("#client-host") {
		t.Fatal("an unverified client's page shows an image, lacks the initial tile, or claims a host")
	}
}

// A client identified by an https metadata document is shown with that
// document's host right under its name, as large as the name's line, so
// a person reads who asks, not only what it calls itself.
func TestBrowser_MetadataDocumentClientShowsItsHost(t *testing.T) {
	pages := web.NewPages()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		pages.RenderConsent(w, web.Consent{ClientName: "Example MCP Client", ClientID: "https://app.example.com/oauth/client.json",
			ClientHost: "app.example.com", RedirectHost: "127.0.0.1:3000", Scopes: []string{"Upload files to your Google Drive"},
			ConsentID: "cid", CSRF: "tok", Action: "/oauth/consent", Verified: true})
	}))
	t.Cleanup(page.Close)
	b := e2etest.NewChromium(t, t.TempDir())
	b.Must(chromedp.Navigate(page.URL), chromedp.WaitVisible(chromedp.ID("client-host")))
	b.Screenshot("consent-metadata-document-client", e2etest.Desktop, e2etest.PhoneDark)
	texts, err := b.Texts("#client-name", "#client-host")
	if err != nil {
		t.Fatal(err)
	}
	if texts[0] != "Example MCP Client" || texts[1] != "app.example.com" {
		t.Fatalf("the page says %q from %q", texts[0], texts[1])
	}
	if !b.Has(".app #client-host") {
		t.Fatal("the host is not shown beside the name")
	}
}
