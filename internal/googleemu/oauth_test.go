package googleemu

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func retrieveErrorCode(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not an *oauth2.RetrieveError", err)
	}
	return re.ErrorCode
}

func userinfo(t *testing.T, base, accessToken string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestOAuth_CodeFlowWithPKCE_RefreshAfterExpiry(t *testing.T) {
	e, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	ctx := context.Background()

	verifier := oauth2.GenerateVerifier()
	q := authorize(t, cfg, "Alice.Smith@example.com", "state-123", oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline)
	if q.Get("state") != "state-123" || q.Get("code") == "" {
		t.Fatalf("redirect query = %v", q)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
		t.Fatalf("token = %+v", tok)
	}
	if scope, _ := tok.Extra("scope").(string); !strings.Contains(scope, scopeEmail) || !strings.Contains(scope, scopeDriveFile) {
		t.Errorf("scope = %q, want userinfo.email and drive.file", scope)
	}

	status, info := userinfo(t, srv.URL, tok.AccessToken)
	if status != 200 || info["email"] != "alice.smith@example.com" || info["email_verified"] != true || info["sub"] == "" {
		t.Fatalf("userinfo = %d %v", status, info)
	}

	// The server expires the token; the client still thinks it is valid.
	e.ExpireAccessTokens()
	if status, _ := userinfo(t, srv.URL, tok.AccessToken); status != http.StatusUnauthorized {
		t.Fatalf("expired token: userinfo status %d, want 401", status)
	}
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, &stale).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken {
		t.Fatalf("refresh gave %+v", fresh)
	}
	if status, info2 := userinfo(t, srv.URL, fresh.AccessToken); status != 200 || info2["sub"] != info["sub"] {
		t.Fatalf("refreshed token: userinfo = %d %v", status, info2)
	}
	st := e.Stats()
	if st.TokenRequests["authorization_code"] != 1 || st.TokenRequests["refresh_token"] != 1 {
		t.Errorf("TokenRequests = %v", st.TokenRequests)
	}
	for _, s := range []string{tok.AccessToken, tok.RefreshToken, fresh.AccessToken, q.Get("code")} {
		if !slices.Contains(e.IssuedSecrets(), s) {
			t.Errorf("IssuedSecrets lacks %.12s…", s)
		}
	}
}

func TestOAuth_CodeReuseIsInvalidGrant(t *testing.T) {
	_, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	q := authorize(t, cfg, "bob@example.com", "s")
	if _, err := cfg.Exchange(context.Background(), q.Get("code")); err != nil {
		t.Fatal(err)
	}
	_, err := cfg.Exchange(context.Background(), q.Get("code"))
	if code := retrieveErrorCode(t, err); code != "invalid_grant" {
		t.Fatalf("second use: %q, want invalid_grant", code)
	}
}

func TestOAuth_PKCEStopsStolenCode(t *testing.T) {
	_, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	verifier := oauth2.GenerateVerifier()
	cases := []struct {
		name string
		opts []oauth2.AuthCodeOption
	}{
		{"wrong verifier", []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}},
		{"missing verifier", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := authorize(t, cfg, "carol@example.com", "s", oauth2.S256ChallengeOption(verifier))
			_, err := cfg.Exchange(context.Background(), q.Get("code"), tc.opts...)
			if code := retrieveErrorCode(t, err); code != "invalid_grant" {
				t.Fatalf("got %q, want invalid_grant", code)
			}
			// The attempt burned the code: the right verifier is too late now.
			_, err = cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
			if code := retrieveErrorCode(t, err); code != "invalid_grant" {
				t.Fatalf("after a failed attempt: %q, want invalid_grant", code)
			}
		})
	}
	t.Run("plain method", func(t *testing.T) {
		q := authorize(t, cfg, "carol@example.com", "s",
			oauth2.SetAuthURLParam("code_challenge", verifier), oauth2.SetAuthURLParam("code_challenge_method", "plain"))
		if _, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOAuth_WrongClientSecretIsInvalidClient(t *testing.T) {
	_, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	q := authorize(t, cfg, "dan@example.com", "s")
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		bad := *cfg
		bad.ClientSecret = "not-the-secret"
		bad.Endpoint.AuthStyle = style
		_, err := bad.Exchange(context.Background(), q.Get("code"))
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
			t.Fatalf("style %d: err = %v, want 401 invalid_client", style, err)
		}
	}
	// The client's failed authentication did not burn the code.
	if _, err := cfg.Exchange(context.Background(), q.Get("code")); err != nil {
		t.Fatalf("exchange by the rightful client: %v", err)
	}
}

func TestOAuth_RedirectURIMustMatchAuthorizeRequest(t *testing.T) {
	_, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	q := authorize(t, cfg, "erin@example.com", "s")
	other := *cfg
	other.RedirectURL = "http://127.0.0.1:9999/evil"
	_, err := other.Exchange(context.Background(), q.Get("code"))
	if code := retrieveErrorCode(t, err); code != "redirect_uri_mismatch" {
		t.Fatalf("got %q, want redirect_uri_mismatch", code)
	}
}

func TestOAuth_RefreshTokenOnlyWithOfflineAndOnFirstConsent(t *testing.T) {
	_, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	ctx := context.Background()
	exchange := func(opts ...oauth2.AuthCodeOption) *oauth2.Token {
		t.Helper()
		q := authorize(t, cfg, "frank@example.com", "s", opts...)
		tok, err := cfg.Exchange(ctx, q.Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if tok := exchange(); tok.RefreshToken != "" {
		t.Fatal("online access got a refresh token")
	}
	if tok := exchange(oauth2.AccessTypeOffline); tok.RefreshToken == "" {
		t.Fatal("first offline consent got no refresh token")
	}
	if tok := exchange(oauth2.AccessTypeOffline); tok.RefreshToken != "" {
		t.Fatal("repeat consent without prompt=consent got a refresh token")
	}
	if tok := exchange(oauth2.AccessTypeOffline, oauth2.ApprovalForce); tok.RefreshToken == "" {
		t.Fatal("prompt=consent got no refresh token")
	}
}

func TestOAuth_RevokedRefreshTokenIsInvalidGrant(t *testing.T) {
	e, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	tok := login(t, cfg, "gina@example.com")

	resp, err := http.PostForm(srv.URL+"/revoke", url.Values{"token": {tok.RefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if got := e.RevokedTokens(); len(got) < 2 || got[0] != tok.RefreshToken || !slices.Contains(got, tok.AccessToken) {
		t.Errorf("RevokedTokens = %d tokens, want the refresh token first and its access token", len(got))
	}
	// Access tokens minted from the refresh token die with it.
	if status, _ := userinfo(t, srv.URL, tok.AccessToken); status != 401 {
		t.Errorf("access token after revocation: %d, want 401", status)
	}
	stale := *tok
	stale.Expiry = time.Now().Add(-time.Minute)
	_, err = cfg.TokenSource(context.Background(), &stale).Token()
	if code := retrieveErrorCode(t, err); code != "invalid_grant" {
		t.Fatalf("refresh after revoke: %q, want invalid_grant", code)
	}
	// Revoking again: Google no longer knows the token.
	resp, err = http.PostForm(srv.URL+"/revoke", url.Values{"token": {tok.RefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != 400 || body["error"] != "invalid_token" {
		t.Fatalf("second revoke: %d %v", resp.StatusCode, body)
	}
	// With the grant gone, the next offline consent yields a new refresh token.
	if again := login(t, cfg, "gina@example.com"); again.RefreshToken == "" {
		t.Error("no refresh token after the grant was revoked")
	}
}

func TestOAuth_IncludeGrantedScopesMerges(t *testing.T) {
	_, srv := start(t, Options{})
	ctx := context.Background()
	first := oauthConfig(srv.URL, "openid", "email")
	q := authorize(t, first, "hana@example.com", "s")
	if _, err := first.Exchange(ctx, q.Get("code")); err != nil {
		t.Fatal(err)
	}
	second := oauthConfig(srv.URL, scopeDriveFile)
	q = authorize(t, second, "hana@example.com", "s", oauth2.SetAuthURLParam("include_granted_scopes", "true"))
	tok, err := second.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	scope, _ := tok.Extra("scope").(string)
	for _, want := range []string{"openid", scopeEmail, scopeDriveFile} {
		if !slices.Contains(strings.Fields(scope), want) {
			t.Errorf("scope %q lacks %s", scope, want)
		}
	}
}

func TestOAuth_CodeExpiresAfterTenMinutes(t *testing.T) {
	e, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	q := authorize(t, cfg, "ivan@example.com", "s")
	e.mu.Lock()
	e.now = func() time.Time { return time.Now().Add(authCodeTTL + time.Second) }
	e.mu.Unlock()
	_, err := cfg.Exchange(context.Background(), q.Get("code"))
	if code := retrieveErrorCode(t, err); code != "invalid_grant" {
		t.Fatalf("got %q, want invalid_grant", code)
	}
}

func TestOAuth_TokenEndpointErrors(t *testing.T) {
	_, srv := start(t, Options{Clients: map[string]string{"c1": "s1"}})
	cases := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantError  string
	}{
		{"missing grant_type", url.Values{"client_id": {"c1"}, "client_secret": {"s1"}}, 400, "invalid_request"},
		{"unknown grant_type", url.Values{"grant_type": {"password"}, "client_id": {"c1"}, "client_secret": {"s1"}}, 400, "unsupported_grant_type"},
		{"unknown client", url.Values{"grant_type": {"refresh_token"}, "client_id": {"nope"}, "client_secret": {"x"}, "refresh_token": {"r"}}, 401, "invalid_client"},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"c1"}, "client_secret": {"s1"}, "refresh_token": {"r"}}, 400, "invalid_grant"},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "client_id": {"c1"}, "client_secret": {"s1"}, "code": {"4/x"}, "redirect_uri": {testRedirect}}, 400, "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.PostForm(srv.URL+"/token", tc.form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tc.wantStatus || body["error"] != tc.wantError || body["error_description"] == "" {
				t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, tc.wantStatus, tc.wantError)
			}
		})
	}
}

func TestOAuth_AuthorizeErrors(t *testing.T) {
	_, srv := start(t, Options{})
	base := url.Values{"client_id": {DemoClientID}, "redirect_uri": {testRedirect}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"xyz"}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for k2, v2 := range base {
			q[k2] = v2
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	t.Run("never redirects to an unverified URI", func(t *testing.T) {
		for name, q := range map[string]url.Values{
			"unknown client":         with("client_id", "evil.apps.googleusercontent.com"),
			"missing client":         with("client_id", ""),
			"missing redirect":       with("redirect_uri", ""),
			"redirect with fragment": with("redirect_uri", "http://127.0.0.1/cb#frag"),
			"non-http redirect":      with("redirect_uri", "javascript:alert(1)"),
		} {
			resp, err := noRedirect.Get(srv.URL + "/o/oauth2/v2/auth?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s: %d Location=%q, want a 400 HTML page", name, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	})
	t.Run("other errors redirect with state", func(t *testing.T) {
		for q, want := range map[string]string{
			with("scope", "").Encode():                       "invalid_request",
			with("scope", "https://evil.example/x").Encode(): "invalid_scope",
			with("response_type", "token").Encode():          "unsupported_response_type",
			with("code_challenge_method", "S512").Encode():   "invalid_request",
			with("access_type", "forever").Encode():          "invalid_request",
			with("prompt", "none").Encode():                  "login_required",
		} {
			resp, err := noRedirect.Get(srv.URL + "/o/oauth2/v2/auth?" + q)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != 302 || loc.Query().Get("error") != want || loc.Query().Get("state") != "xyz" {
				t.Errorf("%s: %d %s, want redirect with error=%s", q, resp.StatusCode, loc, want)
			}
		}
	})
}

func TestUserinfo_ScopesDecideFields(t *testing.T) {
	_, srv := start(t, Options{})
	tok := login(t, oauthConfig(srv.URL, "openid", "profile"), "jo.king@example.com")
	status, info := userinfo(t, srv.URL, tok.AccessToken)
	if status != 200 || info["name"] != "Jo King" || info["email"] != nil {
		t.Fatalf("userinfo with profile only = %d %v", status, info)
	}
	resp, err := http.Get(srv.URL + "/v1/userinfo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// refreshForm refreshes rt with a raw form (x/oauth2 cannot send scope on a
// refresh) and returns the status and the JSON answer.
func refreshForm(t *testing.T, base, rt, scope string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {DemoClientID}, "client_secret": {DemoClientSecret}}
	if scope != "" {
		form.Set("scope", scope)
	}
	resp, err := http.PostForm(base+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// A refresh token stands for the whole grant, as at Google: a scope added
// by a later consent that issued no new refresh token comes with it, a
// refresh may ask for fewer scopes, and never for one not granted.
func TestOAuth_RefreshFollowsTheGrantAndMayNarrowIt(t *testing.T) {
	_, srv := start(t, Options{})
	rt := login(t, oauthConfig(srv.URL, "openid", "email", scopeDriveFile), "ines@example.com").RefreshToken
	if code, body := refreshForm(t, srv.URL, rt, scopeDrive); code != http.StatusBadRequest || body["error"] != "invalid_scope" {
		t.Fatalf("asking for a scope not granted: %d %v", code, body)
	}
	more := oauthConfig(srv.URL, scopeDrive)
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, more, "ines@example.com", "s", oauth2.SetAuthURLParam("include_granted_scopes", "true"),
		oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline)
	if tok, err := more.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier)); err != nil || tok.RefreshToken != "" {
		t.Fatalf("second consent: %v, refresh token %q (Google sends none)", err, tok.RefreshToken)
	}
	code, body := refreshForm(t, srv.URL, rt, "")
	if scope, _ := body["scope"].(string); code != http.StatusOK || !slices.Contains(strings.Fields(scope), scopeDrive) {
		t.Fatalf("old refresh token after the grant grew: %d %v", code, body)
	}
	code, body = refreshForm(t, srv.URL, rt, scopeDriveFile)
	if code != http.StatusOK || body["scope"] != scopeDriveFile {
		t.Fatalf("narrowed refresh: %d %v", code, body)
	}
}
