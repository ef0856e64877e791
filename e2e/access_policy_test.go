package e2e

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// Through the real binary: a Google account outside --allow-domains
// finishes Google's sign-in with an MCP client and gets no code and no
// stored grant; an allowed account cannot read another account's upload
// root; and a server that would expose a root to every account does not
// start.
func TestAccessPolicy_OutsiderGetsNothingAndRootsStayTheirOwners(t *testing.T) {
	g := e2etest.StartGoogle(t)
	alices, bobs := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(alices, "alice-only.txt"), []byte("alice's notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "db")
	srv := e2etest.StartHTTP(t, e2etest.Config{Binary: binary, DB: db, Google: g,
		UploadRoots: []string{"alice@example.com=" + alices, "bob@example.com=" + bobs},
		ExtraArgs:   []string{"--allow-domains", "example.com"}})

	// dave@gmail.com is a personal account: no Workspace, so not example.com's.
	var answer url.Values
	_, err := connectOAuthAnswer(t, srv.BaseURL, e2etest.NewBrowser("dave@gmail.com"), &answer)
	if err == nil || answer.Get("code") != "" || answer.Get("error") != "access_denied" {
		t.Fatalf("outsider: connect err %v, authorization answer %v; want access_denied and no code", err, answer)
	}
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.GetGoogleAccount(context.Background(), "dave@gmail.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the outsider's grant was stored (err %v)", err)
	}

	bob := connectOAuth(t, srv.BaseURL, e2etest.NewBrowser("bob@example.com"))
	res := e2etest.Call(t, bob, "upload_file_to_drive", map[string]any{"filepath": filepath.Join(alices, "alice-only.txt")})
	if !res.IsError {
		t.Fatalf("bob uploaded from alice's root: %s", e2etest.ResultText(res))
	}

	// The same roots without a scope and without a policy: serve refuses.
	cmd := exec.Command(binary, "serve", "--db", filepath.Join(t.TempDir(), "db"), "--addr", e2etest.FreeAddr(t),
		"--google-endpoint", g.URL, "--google-client-id", googleemu.DemoClientID, "--google-client-secret", googleemu.DemoClientSecret,
		"--upload-root", alices)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--allow-accounts") {
		t.Fatalf("serve with a root open to every account: err %v, output %s", err, out)
	}
}

// connectOAuthAnswer is connectOAuth that keeps the authorization answer
// and returns the connection error instead of failing.
func connectOAuthAnswer(t *testing.T, base string, browser *e2etest.Browser, answer *url.Values) (*mcp.ClientSession, error) {
	t.Helper()
	const redirect = "http://127.0.0.1:47913/callback"
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName: "drivemcp e2e (policy)", RedirectURIs: []string{redirect},
			GrantTypes: []string{"authorization_code", "refresh_token"}, TokenEndpointAuthMethod: "none",
		}},
		RedirectURL: redirect,
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			back, err := browser.Run(ctx, args.URL, redirect)
			if err != nil {
				return nil, err
			}
			*answer = back.Query()
			if e := answer.Get("error"); e != "" {
				return nil, errors.New(e)
			}
			return &auth.AuthorizationResult{Code: answer.Get("code"), State: answer.Get("state"), Iss: answer.Get("iss")}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return mcp.NewClient(&mcp.Implementation{Name: "e2e-policy", Version: "1"}, nil).Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", OAuthHandler: handler}, nil)
}
