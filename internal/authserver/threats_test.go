package authserver

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/store"
)

func TestToken_CodeReuseRevokesIssuedTokens(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	verifier := oauth2.GenerateVerifier()
	code := f.login(id, verifier, "alice@example.com")
	status, first := f.exchange(id, code, verifier, nil)
	if status != http.StatusOK {
		t.Fatalf("first redemption: %d %v", status, first)
	}
	status, second := f.exchange(id, code, verifier, nil)
	if status != http.StatusBadRequest || second["error"] != "invalid_grant" {
		t.Fatalf("replayed code: %d %v", status, second)
	}
	if resp, _ := f.callMCP(first["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("access token of a replayed code still works: %s", resp.Status)
	}
	if st, out := f.refresh(id, first["refresh_token"].(string)); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("refresh token of a replayed code still works: %d %v", st, out)
	}
}

func TestToken_PKCEMismatchRefused(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	verifier := oauth2.GenerateVerifier()
	code := f.login(id, verifier, "alice@example.com")
	status, out := f.exchange(id, code, oauth2.GenerateVerifier(), nil)
	if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", status, out)
	}
	// The code is spent: an attacker who stole it cannot retry with guesses.
	if status, _ := f.exchange(id, code, verifier, nil); status == http.StatusOK {
		t.Fatal("a code survived a failed PKCE check")
	}
}

func TestToken_CodeOfAnotherClientRefused(t *testing.T) {
	f := newFixture(t)
	victim := f.registerPublic()
	attacker := f.registerPublic()
	verifier := oauth2.GenerateVerifier()
	code := f.login(victim, verifier, "alice@example.com")
	if status, out := f.exchange(attacker, code, verifier, nil); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("code redeemed by another client: %d %v", status, out)
	}
}

// A redirect URI the client did not register must never receive a redirect
// (open redirector); the user sees an error page instead.
func TestAuthorize_RedirectURIMismatchNeverRedirects(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	for name, uri := range map[string]string{
		"other host":      "https://attacker.example/callback",
		"other path":      "http://127.0.0.1:51234/evil",
		"javascript":      "javascript:alert(1)",
		"extra query":     testRedirect + "?x=1",
		"userinfo trick":  "http://127.0.0.1:51234@attacker.example/callback",
		"encoded newline": "http://127.0.0.1:51234/callback%0d%0aLocation:%20https://attacker.example",
	} {
		q := f.authorizeParams(id, oauth2.GenerateVerifier())
		q.Set("redirect_uri", uri)
		resp, err := noFollow.Get(f.base + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %s Location=%q", name, resp.Status, resp.Header.Get("Location"))
		}
	}
}

func TestAuthorize_UnknownClientShowsPageNoRedirect(t *testing.T) {
	f := newFixture(t)
	q := f.authorizeParams("mcp_doesnotexist", oauth2.GenerateVerifier())
	resp, err := noFollow.Get(f.base + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(string(body), "invalid_client") {
		t.Fatalf("%s %s", resp.Status, body)
	}
}

// After a server move or database loss, clients must learn to re-register.
func TestToken_UnknownClientIsInvalidClient401(t *testing.T) {
	f := newFixture(t)
	status, out := f.postForm("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {"mcp_gone"}})
	if status != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Fatalf("%d %v", status, out)
	}
}

// Errors after the redirect URI is verified go back to the client, with the
// client's state and our issuer.
func TestAuthorize_RequestErrorsRedirectWithStateAndIss(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	cases := map[string]struct {
		mutate func(url.Values)
		want   string
	}{
		"PKCE missing":        {func(q url.Values) { q.Del("code_challenge") }, "invalid_request"},
		"PKCE plain":          {func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		"token response type": {func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
		"other resource":      {func(q url.Values) { q.Set("resource", "https://other.example/mcp") }, "invalid_target"},
		"unknown scope":       {func(q url.Values) { q.Set("scope", "gmail.send") }, "invalid_scope"},
		"repeated parameter":  {func(q url.Values) { q.Add("scope", "drive.file") }, "invalid_request"},
	}
	for name, c := range cases {
		q := f.authorizeParams(id, oauth2.GenerateVerifier())
		c.mutate(q)
		resp, err := noFollow.Get(f.base + "/oauth/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), testRedirect) ||
			loc.Query().Get("error") != c.want || loc.Query().Get("state") != "client-state" || loc.Query().Get("iss") != f.base {
			t.Errorf("%s: %s %s", name, resp.Status, loc)
		}
	}
}

func TestMCP_TokenForAnotherResourceRefused(t *testing.T) {
	f := newFixture(t)
	tok := "dmcp_at_" + randomToken(32)
	now := time.Now()
	err := f.srv.store.CreateTokens(context.Background(), store.Token{
		Hash: hashToken(tok), Kind: store.AccessToken, FamilyID: "f", ClientID: "mcp_x", Email: "alice@example.com",
		Resource: "https://other-server.example/mcp", Scopes: []string{"drive.file"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.callMCP(tok); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("token for another resource: %s", resp.Status)
	}
}

func TestMCP_TamperedAndRefreshTokensRefused(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	access, refresh := f.tokens(id, "alice@example.com")
	if resp, who := f.callMCP(access); resp.StatusCode != http.StatusOK || who != "alice@example.com" {
		t.Fatalf("valid token: %s %q", resp.Status, who)
	}
	flip := byte('A')
	if access[len(access)-1] == 'A' {
		flip = 'B'
	}
	tampered := access[:len(access)-1] + string(flip)
	for name, tok := range map[string]string{"tampered": tampered, "refresh as access": refresh, "empty": "", "google-looking": "ya29.abc"} {
		resp, _ := f.callMCP(tok)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s token: %s", name, resp.Status)
		}
	}
}

func TestToken_RefreshRotatesAndGraceReturnsSamePair(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	_, refresh := f.tokens(id, "alice@example.com")
	st1, first := f.refresh(id, refresh)
	st2, again := f.refresh(id, refresh) // a client refreshing twice at once
	if st1 != http.StatusOK || st2 != http.StatusOK || first["access_token"] != again["access_token"] || first["refresh_token"] != again["refresh_token"] {
		t.Fatalf("within grace: %d %v / %d %v", st1, first, st2, again)
	}
	if first["refresh_token"] == refresh {
		t.Fatal("refresh token was not rotated")
	}
	if resp, _ := f.callMCP(first["access_token"].(string)); resp.StatusCode != http.StatusOK {
		t.Fatalf("new access token: %s", resp.Status)
	}
}

func TestToken_RefreshReuseAfterGraceRevokesFamily(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	_, refresh := f.tokens(id, "alice@example.com")
	_, rotated := f.refresh(id, refresh)
	f.srv.now = func() time.Time { return time.Now().Add(time.Minute) } // past the 30 s grace
	status, out := f.refresh(id, refresh)
	if status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("reuse after grace: %d %v", status, out)
	}
	if resp, _ := f.callMCP(rotated["access_token"].(string)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the family's newest access token survived a reuse: %s", resp.Status)
	}
	if status, _ := f.refresh(id, rotated["refresh_token"].(string)); status == http.StatusOK {
		t.Fatal("the family's newest refresh token survived a reuse")
	}
}

func TestRevoke_RefreshTokenEndsFamily(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	access, refresh := f.tokens(id, "alice@example.com")
	if status, _ := f.postForm("/oauth/revoke", url.Values{"token": {refresh}, "client_id": {id}}); status != http.StatusOK {
		t.Fatalf("revoke: %d", status)
	}
	if resp, _ := f.callMCP(access); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("access token after family revocation: %s", resp.Status)
	}
	// Unknown tokens are answered 200 too (RFC 7009 §2.2).
	if status, _ := f.postForm("/oauth/revoke", url.Values{"token": {"nonsense"}, "client_id": {id}}); status != http.StatusOK {
		t.Fatalf("revoking an unknown token: %d", status)
	}
}

func TestRevoke_AnotherClientsTokenUntouched(t *testing.T) {
	f := newFixture(t)
	victim := f.registerPublic()
	attacker := f.registerPublic()
	access, refresh := f.tokens(victim, "alice@example.com")
	f.postForm("/oauth/revoke", url.Values{"token": {refresh}, "client_id": {attacker}})
	if resp, _ := f.callMCP(access); resp.StatusCode != http.StatusOK {
		t.Fatalf("another client revoked the victim's tokens: %s", resp.Status)
	}
}

func TestToken_ConfidentialClientAuthentication(t *testing.T) {
	f := newFixture(t)
	id, secret := f.register("client_secret_basic")
	if secret == "" {
		t.Fatal("no secret issued to a confidential client")
	}
	verifier := oauth2.GenerateVerifier()
	code := f.login(id, verifier, "alice@example.com")
	// Wrong secret: 401 invalid_client, and the code is not spent.
	status, out := f.exchange(id, code, verifier, url.Values{"client_secret": {"wrong"}})
	if status != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", status, out)
	}
	req, _ := http.NewRequest(http.MethodPost, f.base+"/oauth/token", strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {testRedirect}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("basic auth: %s", resp.Status)
	}
}

// A consent form posted by another site (or from a browser that did not load
// the page) is refused: the confused-deputy defence.
func TestConsent_CSRFForgedFormRefused(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	q := f.authorizeParams(id, oauth2.GenerateVerifier())
	resp, err := http.Get(f.base + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	consentID := between(string(body), `name="consent_id" value="`, `"`)
	csrf := between(string(body), `name="csrf" value="`, `"`)
	if consentID == "" || csrf == "" {
		t.Fatalf("consent page without its form fields: %s", body)
	}
	form := url.Values{"consent_id": {consentID}, "csrf": {csrf}, "decision": {"allow"}}
	// The attacker's browser has its own CSRF cookie, not the victim's.
	for name, cookie := range map[string]string{"no cookie": "", "other browser": randomToken(32)} {
		req, _ := http.NewRequest(http.MethodPost, f.base+"/oauth/consent", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: csrfCookie, Value: cookie})
		}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %s Location=%q", name, resp.Status, resp.Header.Get("Location"))
		}
	}
}

func TestConsent_PageForbidsFraming(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	resp, err := http.Get(f.base + "/oauth/authorize?" + f.authorizeParams(id, oauth2.GenerateVerifier()).Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("framing headers: %v", resp.Header)
	}
	for _, want := range []string{"Test Client", "127.0.0.1:51234", "Upload files to your Google Drive"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("consent page does not show %q", want)
		}
	}
}

func TestConsent_DenyRedirectsAccessDenied(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	b := e2etest.NewBrowser("alice@example.com")
	b.Deny = true
	back, err := b.Run(context.Background(), f.base+"/oauth/authorize?"+f.authorizeParams(id, oauth2.GenerateVerifier()).Encode(), testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	if q := back.Query(); q.Get("error") != "access_denied" || q.Get("state") != "client-state" || q.Get("iss") != f.base {
		t.Fatalf("deny: %v", q)
	}
}

func TestConsent_RememberedPerBrowserAndClient(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	b := e2etest.NewBrowser("alice@example.com")
	b.Remember = true
	start := f.base + "/oauth/authorize?" + f.authorizeParams(id, oauth2.GenerateVerifier()).Encode()
	if _, err := b.Run(context.Background(), start, testRedirect); err != nil {
		t.Fatal(err)
	}
	b.Visited = nil
	if _, err := b.Run(context.Background(), start, testRedirect); err != nil {
		t.Fatal(err)
	}
	for _, u := range b.Visited {
		if strings.Contains(u, "/oauth/consent") {
			t.Fatalf("remembered consent was asked again: %v", b.Visited)
		}
	}
	// Another client is asked, even in the same browser.
	other := f.registerPublic()
	b.Visited = nil
	if _, err := b.Run(context.Background(), f.base+"/oauth/authorize?"+f.authorizeParams(other, oauth2.GenerateVerifier()).Encode(), testRedirect); err != nil {
		t.Fatal(err)
	}
	asked := false
	for _, u := range b.Visited {
		asked = asked || strings.Contains(u, "/oauth/consent")
	}
	if !asked {
		t.Fatal("consent remembered for one client was used for another")
	}
}

func TestCallback_ExpiredTransactionRefused(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	b := e2etest.NewBrowser("alice@example.com")
	// Stop at Google's redirect back to us, then arrive 11 minutes late.
	back, err := b.Run(context.Background(), f.base+"/oauth/authorize?"+f.authorizeParams(id, oauth2.GenerateVerifier()).Encode(), f.base+"/oauth2callback")
	if err != nil {
		t.Fatal(err)
	}
	f.srv.now = func() time.Time { return time.Now().Add(11 * time.Minute) }
	resp, err := noFollow.Get(back.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Fatalf("late callback: %s %q", resp.Status, resp.Header.Get("Location"))
	}
}

func TestRegister_RejectsDangerousMetadata(t *testing.T) {
	f := newFixture(t)
	for name, body := range map[string]map[string]any{
		"javascript redirect": {"redirect_uris": []string{"javascript:alert(1)"}},
		"data redirect":       {"redirect_uris": []string{"data:text/html,hi"}},
		"file redirect":       {"redirect_uris": []string{"file:///etc/passwd"}},
		"plain http":          {"redirect_uris": []string{"http://attacker.example/cb"}},
		"fragment":            {"redirect_uris": []string{"https://app.example/cb#x"}},
		"no redirect":         {"client_name": "x"},
		"implicit grant":      {"redirect_uris": []string{testRedirect}, "grant_types": []string{"implicit"}},
		"unknown auth method": {"redirect_uris": []string{testRedirect}, "token_endpoint_auth_method": "private_key_jwt"},
		"http logo":           {"redirect_uris": []string{testRedirect}, "logo_uri": "http://evil.example/x.png"},
	} {
		resp, out := f.postJSON("/oauth/register", body)
		if resp.StatusCode != http.StatusBadRequest || (out["error"] != "invalid_redirect_uri" && out["error"] != "invalid_client_metadata") {
			t.Errorf("%s: %s %v", name, resp.Status, out)
		}
	}
}

func TestMetadata_DiscoveryDocuments(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"} {
		resp, err := http.Get(f.base + path)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(raw), `"resource":"`+f.base+`/mcp"`) || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%s: %s", path, raw)
		}
	}
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		resp, err := http.Get(f.base + path)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`"issuer":"` + f.base + `"`, `"code_challenge_methods_supported":["S256"]`,
			`"authorization_response_iss_parameter_supported":true`, `"registration_endpoint":"` + f.base + `/oauth/register"`,
			`"client_id_metadata_document_supported":true`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("%s lacks %s: %s", path, want, raw)
			}
		}
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// Google withholds the refresh token on a repeat consent. When this server
// no longer holds one (a new database), it asks Google once more with
// prompt=consent instead of storing a grant that dies within the hour.
func TestCallback_WithheldRefreshTokenAsksConsentAgain(t *testing.T) {
	f := newFixture(t)
	id := f.registerPublic()
	f.tokens(id, "alice@example.com")
	if err := f.srv.store.DeleteGoogleAccount(context.Background(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	b := e2etest.NewBrowser("alice@example.com")
	verifier := oauth2.GenerateVerifier()
	back, err := b.Run(context.Background(), f.base+"/oauth/authorize?"+f.authorizeParams(id, verifier).Encode(), testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	if back.Query().Get("code") == "" {
		t.Fatalf("no code: %v", back)
	}
	prompted := false
	for _, u := range b.Visited {
		prompted = prompted || (strings.HasPrefix(u, f.google.URL) && strings.Contains(u, "prompt=consent"))
	}
	acct, err := f.srv.store.GetGoogleAccount(context.Background(), "alice@example.com")
	if err != nil || acct.NeedsReconsent || !prompted {
		t.Fatalf("prompted=%v needsReconsent=%v err=%v\n%v", prompted, acct.NeedsReconsent, err, b.Visited)
	}
}

// A remembered consent covers the scopes approved, no more: a client that
// steps up to a wider scope is asked again.
func TestConsent_RememberedConsentDoesNotCoverWiderScope(t *testing.T) {
	f := newFixture(t)
	f.srv.scopes = []string{"drive.file", "drive.readonly", "drive"}
	id := f.registerPublic()
	b := e2etest.NewBrowser("alice@example.com")
	b.Remember = true
	q := f.authorizeParams(id, oauth2.GenerateVerifier())
	q.Set("scope", "drive.readonly")
	if _, err := b.Run(context.Background(), f.base+"/oauth/authorize?"+q.Encode(), testRedirect); err != nil {
		t.Fatal(err)
	}
	b.Visited = nil
	q.Set("scope", "drive.readonly drive")
	if _, err := b.Run(context.Background(), f.base+"/oauth/authorize?"+q.Encode(), testRedirect); err != nil {
		t.Fatal(err)
	}
	asked := false
	for _, u := range b.Visited {
		asked = asked || strings.Contains(u, "/oauth/consent")
	}
	if !asked {
		t.Fatal("a consent remembered for drive.readonly was used for drive")
	}
}
