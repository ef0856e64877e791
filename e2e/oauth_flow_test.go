package e2e

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// connectOAuth connects the official Go SDK client to drivemcp over HTTP; the
// SDK discovers the authorization server, registers, and runs the
// authorization code flow with PKCE, while browser plays the user.
func connectOAuth(t *testing.T, base string, browser *e2etest.Browser) *mcp.ClientSession {
	t.Helper()
	return connectOAuthScoped(t, base, browser, nil)
}

// connectOAuthScoped is connectOAuth with a ScopeFilter: the client may ask
// for other scopes than the server suggests.
func connectOAuthScoped(t *testing.T, base string, browser *e2etest.Browser, scopeFilter func([]string) []string) *mcp.ClientSession {
	t.Helper()
	return connectOAuthWith(t, base, browser, scopeFilter, nil, nil)
}

// connectOAuthWith is connectOAuthScoped with the client's options (an
// elicitation handler, say) and the protocol revision it asks for.
func connectOAuthWith(t *testing.T, base string, browser *e2etest.Browser, scopeFilter func([]string) []string,
	opts *mcp.ClientOptions, sessOpts *mcp.ClientSessionOptions) *mcp.ClientSession {
	t.Helper()
	const redirect = "http://127.0.0.1:47913/callback"
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName:              "drivemcp e2e (Go SDK)",
			RedirectURIs:            []string{redirect},
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			TokenEndpointAuthMethod: "none",
		}},
		RedirectURL: redirect,
		ScopeFilter: scopeFilter,
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			back, err := browser.Run(ctx, args.URL, redirect)
			if err != nil {
				return nil, err
			}
			q := back.Query()
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-oauth", Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", OAuthHandler: handler}, sessOpts)
	if err != nil {
		t.Fatalf("connecting with OAuth: %v", err)
	}
	t.Cleanup(func() { session.Close() })
	return session
}

// A remote MCP client logs in through drivemcp's authorization server; the
// tools act as the Google account that logged in, with no start_google_auth
// and no email argument.
func TestOAuth_GoSDKClientLogsInAndUploads(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	browser := e2etest.NewBrowser("carol@example.com")
	s := connectOAuth(t, srv.BaseURL, browser)

	who := e2etest.Structured(t, e2etest.MustCall(t, s, "check_drive_auth", nil))
	if who["email"] != "carol@example.com" || who["method"] != "oauth" {
		t.Fatalf("check_drive_auth = %v", who)
	}
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "from-oauth.txt", "content": "hello"})
	files := e2etest.FilesNamed(g, "from-oauth.txt")
	if len(files) != 1 || files[0].Owner != "carol@example.com" {
		t.Fatalf("files = %+v", files)
	}
	// The consent page was shown, and Google was visited: the user saw who asked.
	var sawConsent, sawGoogle bool
	for _, u := range browser.Visited {
		sawConsent = sawConsent || strings.Contains(u, "/oauth/consent")
		sawGoogle = sawGoogle || strings.HasPrefix(u, g.URL)
	}
	if !sawConsent || !sawGoogle {
		t.Fatalf("browser path: %v", browser.Visited)
	}
	// An explicit email cannot reach another account over OAuth.
	res := e2etest.Call(t, s, "create_drive_file", map[string]any{"file_name": "as-bob.txt", "content": "x", "user_google_email": "bob@example.com"})
	if !res.IsError || len(e2etest.FilesNamed(g, "as-bob.txt")) != 0 {
		t.Fatalf("cross-user call: %s", e2etest.ResultText(res))
	}
}

// Without a token, /mcp answers 401 with a challenge that tells the client
// where to find the authorization server and which scope to ask for.
func TestOAuth_UnauthenticatedChallenge(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	for name, header := range map[string]string{"no token": "", "bad token": "Bearer dmcp_at_forged"} {
		req, _ := http.NewRequest(http.MethodPost, srv.BaseURL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ch := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusUnauthorized ||
			!strings.Contains(ch, `resource_metadata="`+srv.BaseURL+`/.well-known/oauth-protected-resource/mcp"`) ||
			!strings.Contains(ch, `scope="drive.file"`) {
			t.Fatalf("%s: %s %q", name, resp.Status, ch)
		}
		if header != "" && !strings.Contains(ch, `error="invalid_token"`) {
			t.Fatalf("%s: challenge lacks error=invalid_token: %q", name, ch)
		}
	}
}

// A client that asked only to read is stepped up when it calls a tool that
// writes: drivemcp answers 403 insufficient_scope naming the scope, the SDK
// re-authorizes with both scopes, and the call goes through.
func TestOAuth_StepUpFromReadonlyToWrite(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g,
		ExtraArgs: []string{"--drive-scope", "full"}})
	browser := e2etest.NewBrowser("dora@example.com")
	first := true
	s := connectOAuthScoped(t, srv.BaseURL, browser, func(discovered []string) []string {
		if first {
			first = false
			return []string{"drive.readonly"}
		}
		return discovered
	})
	logins := func() int {
		n := 0
		for _, u := range browser.Visited {
			if strings.Contains(u, "/oauth/authorize?") {
				n++
			}
		}
		return n
	}
	if who := e2etest.Structured(t, e2etest.MustCall(t, s, "check_drive_auth", nil)); who["email"] != "dora@example.com" {
		t.Fatalf("check_drive_auth = %v", who)
	}
	before := logins()
	e2etest.MustCall(t, s, "create_drive_file", map[string]any{"file_name": "stepped-up.txt", "content": "w"})
	if logins() != before+1 {
		t.Fatalf("expected one step-up authorization, browser saw %d → %d", before, logins())
	}
	var stepUpURL string
	for _, u := range browser.Visited {
		if strings.Contains(u, "/oauth/authorize?") {
			stepUpURL = u
		}
	}
	if !strings.Contains(stepUpURL, "drive.file") || !strings.Contains(stepUpURL, "drive.readonly") {
		t.Fatalf("step-up did not ask for both scopes: %s", stepUpURL)
	}
	if len(e2etest.FilesNamed(g, "stepped-up.txt")) != 1 {
		t.Fatal("the write did not happen after step-up")
	}
}

// Login CSRF through the real binary: an attacker approves their own
// client in their own browser with login_hint set to the victim, copies
// the Google link drivemcp sends them to, and has the victim open it. The
// emulator signs the victim in at once (as Google does for someone who
// already granted drivemcp). drivemcp must end the victim's trip on an
// error page, and the attacker must get no code for the victim.
func TestOAuth_ForwardedGoogleLinkRefusedInAnotherBrowser(t *testing.T) {
	g := e2etest.StartGoogle(t)
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: filepath.Join(t.TempDir(), "db"), Google: g})
	attacker := registerHandClient(t, srv.BaseURL)
	authURL, verifier := attacker.authorizeURL(srv.BaseURL)
	authURL += "&login_hint=" + url.QueryEscape("victim@example.com")
	googleLink, err := e2etest.NewBrowser("mallory@example.com").Run(t.Context(), authURL, g.URL)
	if err != nil {
		t.Fatal(err)
	}

	back, err := e2etest.NewBrowser("victim@example.com").Run(t.Context(), googleLink.String(), handClientRedirect)
	if err == nil {
		tok, _ := attacker.redeem(srv.BaseURL, back.Query().Get("code"), verifier)
		t.Fatalf("the victim's browser was sent to the attacker's redirect URI (%v); redeeming it: %d", back, tok.Status)
	}
	if !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), "another browser") {
		t.Fatalf("the victim should see an error page that says what happened: %v", err)
	}
	// The attacker, in their own browser, still completes their own logins.
	if tok := attacker.login(t, srv.BaseURL, "mallory@example.com"); tok.AccessToken == "" {
		t.Fatalf("the attacker's own login: %+v", tok)
	}
}
