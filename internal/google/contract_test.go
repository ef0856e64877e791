package google

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// googleAuthParams are the query parameters Google's authorization endpoint
// documents ("Using OAuth 2.0 for Web Server Applications", Step 1: Set
// authorization parameters: developers.google.com/identity/protocols/oauth2/web-server;
// PKCE from "OAuth 2.0 for iOS & Desktop Apps"). A parameter outside this
// list would be one Google ignores or refuses.
var googleAuthParams = []string{
	"client_id", "redirect_uri", "response_type", "scope", "access_type", "state",
	"include_granted_scopes", "enable_granular_consent", "login_hint", "prompt",
	"code_challenge", "code_challenge_method",
}

// The consent URL drivemcp sends people to carries only parameters Google
// documents, with the values Google requires: response_type=code, PKCE with
// S256, offline access for a refresh token, and the prompt=consent that
// alone makes Google issue a new refresh token.
func TestContract_AuthURLHasOnlyGoogleDocumentedParameters(t *testing.T) {
	up := NewUpstream("id.apps.googleusercontent.com", "secret", "http://127.0.0.1:8080/oauth2callback", EndpointsAt(""), nil)
	for _, force := range []bool{false, true} {
		raw := up.AuthCodeURL(ConsentRequest{State: "st", Verifier: strings.Repeat("v", 43), Scopes: LoginScopes(ScopeDriveFile),
			LoginHint: "ada@example.com", ForceConsent: force})
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if u.Host != "accounts.google.com" || u.Path != "/o/oauth2/v2/auth" {
			t.Errorf("authorization endpoint %s://%s%s, Google's is https://accounts.google.com/o/oauth2/v2/auth", u.Scheme, u.Host, u.Path)
		}
		q := u.Query()
		for k := range q {
			if !slices.Contains(googleAuthParams, k) {
				t.Errorf("parameter %q is not one Google documents", k)
			}
		}
		for k, want := range map[string]string{
			"response_type": "code", "code_challenge_method": "S256", "access_type": "offline",
			"client_id": "id.apps.googleusercontent.com", "state": "st", "login_hint": "ada@example.com",
		} {
			if q.Get(k) != want {
				t.Errorf("%s=%q, want %q", k, q.Get(k), want)
			}
		}
		if q.Get("code_challenge") == "" || !strings.Contains(q.Get("scope"), ScopeDriveFile) {
			t.Errorf("no PKCE challenge or no drive.file scope in %s", raw)
		}
		if force != (q.Get("prompt") == "consent") {
			t.Errorf("force %v but prompt=%q", force, q.Get("prompt"))
		}
	}
}
