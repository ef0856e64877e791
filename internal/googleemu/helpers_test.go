package googleemu

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
	"google.golang.org/api/drive/v3"
	"google.golang.org/api/option"
)

const testRedirect = "http://127.0.0.1:8765/oauth2callback"

// start runs an emulator behind an httptest.Server for the test's lifetime.
func start(t *testing.T, opts Options) (*Emulator, *httptest.Server) {
	t.Helper()
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(func() {
		srv.Close()
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e, srv
}

func oauthConfig(base string, scopes ...string) *oauth2.Config {
	if len(scopes) == 0 {
		scopes = []string{"openid", "email", scopeDriveFile}
	}
	return &oauth2.Config{
		ClientID:     DemoClientID,
		ClientSecret: DemoClientSecret,
		RedirectURL:  testRedirect,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:  base + "/o/oauth2/v2/auth",
			TokenURL: base + "/token",
			// As golang.org/x/oauth2/google.Endpoint does; auto-detection
			// would retry a failed exchange and mask its first error.
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// noRedirect is an http.Client that hands redirects back instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize walks the authorization endpoint with login_hint and returns the
// redirect's query (code, state, or error).
func authorize(t *testing.T, cfg *oauth2.Config, email, state string, opts ...oauth2.AuthCodeOption) url.Values {
	t.Helper()
	if email != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", email))
	}
	resp, err := noRedirect.Get(cfg.AuthCodeURL(state, opts...))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != cfg.RedirectURL {
		t.Fatalf("redirected to %s, want %s", got, cfg.RedirectURL)
	}
	return loc.Query()
}

// login runs the whole authorization-code + PKCE flow for email (offline access).
func login(t *testing.T, cfg *oauth2.Config, email string) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, cfg, email, "st", oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline)
	tok, err := cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// driveFor returns a real Drive client acting as email with the given scopes.
func driveFor(t *testing.T, srv *httptest.Server, email string, scopes ...string) *drive.Service {
	t.Helper()
	cfg := oauthConfig(srv.URL, scopes...)
	tok := login(t, cfg, email)
	ctx := context.Background()
	svc, err := drive.NewService(ctx, option.WithEndpoint(srv.URL+"/drive/v3/"), option.WithHTTPClient(cfg.Client(ctx, tok)))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func optionsFor(base string, hc *http.Client) []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(base + "/drive/v3/"), option.WithHTTPClient(hc)}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
