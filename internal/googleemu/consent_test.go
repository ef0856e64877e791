package googleemu

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
)

// Google's "How to handle granular permissions": when an app asks for
// sign-in scopes and others, the person may untick the others; the token
// response's scope lists only what they granted.
func TestGranularConsent_UntickedDriveScopeIsNotGranted(t *testing.T) {
	_, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL, "openid", "email", scopeDriveFile, scopeDriveReadonly)
	authURL := cfg.AuthCodeURL("st")
	pending, page := fetchLoginPage(t, authURL)
	for _, want := range []string{
		`type="checkbox" name="scope" value="` + scopeDriveFile + `" checked`,
		`type="checkbox" name="scope" value="` + scopeDriveReadonly + `" checked`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("consent page lacks a ticked box %s:\n%s", want, page)
		}
	}
	// Sign-in scopes cannot be unticked (the same document).
	if strings.Contains(page, `value="openid"`) || strings.Contains(page, `value="`+scopeEmail+`"`) {
		t.Errorf("sign-in scopes offered as optional:\n%s", page)
	}

	// The person leaves drive.readonly ticked and unticks drive.file.
	resp := submitLogin(t, authURL, url.Values{"pending": {pending}, "email": {"alice@example.com"},
		"action": {"allow"}, "scope": {scopeDriveReadonly}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		t.Fatalf("submit: %d %s", resp.StatusCode, loc)
	}
	if got := loc.Query().Get("scope"); strings.Contains(got, scopeDriveFile) {
		t.Errorf("redirect's scope %q names the unticked drive.file", got)
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	granted := strings.Fields(tok.Extra("scope").(string))
	if slices.Contains(granted, scopeDriveFile) || !slices.Contains(granted, scopeDriveReadonly) ||
		!slices.Contains(granted, "openid") || !slices.Contains(granted, scopeEmail) {
		t.Fatalf("token response scope %v, want the sign-in scopes and drive.readonly only", granted)
	}

	// A write then meets Google's scope refusal, with its details and challenge.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/drive/v3/files", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("write without drive.file: %d %s", res.StatusCode, body)
	}
	if h := res.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) {
		t.Errorf("WWW-Authenticate %q lacks insufficient_scope", h)
	}
	var env struct {
		Error struct {
			Errors  []struct{ Reason string }
			Details []struct {
				Type   string `json:"@type"`
				Reason string
				Domain string
			}
		}
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if len(env.Error.Errors) == 0 || env.Error.Errors[0].Reason != "insufficientPermissions" {
		t.Errorf("errors[].reason: %s", body)
	}
	if len(env.Error.Details) == 0 || env.Error.Details[0].Reason != "ACCESS_TOKEN_SCOPE_INSUFFICIENT" ||
		env.Error.Details[0].Type != "type.googleapis.com/google.rpc.ErrorInfo" {
		t.Errorf("details lack ErrorInfo ACCESS_TOKEN_SCOPE_INSUFFICIENT: %s", body)
	}
}

// Every Drive box unticked: Google still signs the person in (sign-in
// scopes only), and Drive refuses every call for want of scope.
func TestGranularConsent_AllDriveUntickedSignsInWithoutDrive(t *testing.T) {
	_, srv := start(t, Options{})
	cfg := oauthConfig(srv.URL)
	authURL := cfg.AuthCodeURL("st")
	pending, _ := fetchLoginPage(t, authURL)
	resp := submitLogin(t, authURL, url.Values{"pending": {pending}, "email": {"alice@example.com"}, "action": {"allow"}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Extra("scope").(string); got != "openid "+scopeEmail {
		t.Fatalf("scope %q, want the sign-in scopes only", got)
	}
	svc, _ := drive.NewService(t.Context(), optionsFor(srv.URL, cfg.Client(t.Context(), tok))...)
	_, err = svc.Files.List().Do()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != 403 || ge.Errors[0].Reason != "insufficientPermissions" {
		t.Fatalf("list without a Drive scope: %v", err)
	}
}

// Google's OpenID Connect guide: login_hint only pre-fills the sign-in
// page. In strict mode a hint neither skips the page nor decides who signs
// in; the person does.
func TestLoginHint_StrictOnlyPrefillsThePage(t *testing.T) {
	e, srv := start(t, Options{LoginHintOnlyPrefills: true})
	cfg := oauthConfig(srv.URL)
	authURL := cfg.AuthCodeURL("st") + "&login_hint=" + url.QueryEscape("bob@example.com")
	pending, page := fetchLoginPage(t, authURL)
	if !strings.Contains(page, `value="bob@example.com"`) {
		t.Errorf("the hint does not pre-fill the email field:\n%s", page)
	}
	resp := submitLogin(t, authURL, url.Values{"pending": {pending}, "email": {"alice@example.com"},
		"action": {"allow"}, "scope": {scopeDriveFile}})
	loc, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if who := userinfoEmail(t, srv.URL, tok.AccessToken); who != "alice@example.com" {
		t.Fatalf("signed in as %s, want alice (who typed), not bob (the hint)", who)
	}

	// The control method turns the lenient shortcut back on.
	e.SetLoginHintOnlyPrefills(false)
	q := authorize(t, cfg, "bob@example.com", "st2")
	if q.Get("code") == "" {
		t.Fatalf("lenient login_hint did not skip the page: %v", q)
	}
}

func userinfoEmail(t *testing.T, base, access string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var info struct{ Email string }
	if err := json.NewDecoder(res.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	return info.Email
}
