package mcpserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// oauthFixture serves the MCP server over streamable HTTP behind a bearer
// check, as `drivemcp serve` does, with fixed bearer tokens standing for
// MCP tokens of ours: each names alice and the scopes its client was
// granted. Alice's one Google grant is what every Google call starts from.
type oauthFixture struct {
	google *e2etest.Google
	grants *google.Grants
	url    string
	tokens map[string][]string // bearer → its OAuth scopes
}

func newOAuthFixture(t *testing.T, tokens map[string][]string) *oauthFixture {
	t.Helper()
	g := e2etest.StartGoogle(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ring, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	up := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, "http://127.0.0.1:1/oauth2callback", google.EndpointsAt(g.URL), nil)
	grants := google.NewGrants(st, ring, up)
	server := New(Deps{Resolver: identity.NewResolver(st, false), Grants: grants})
	verify := func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		scopes, ok := tokens[token]
		if !ok {
			return nil, fmt.Errorf("%w: unknown test token", auth.ErrInvalidToken)
		}
		return &auth.TokenInfo{UserID: alice, Scopes: scopes, Expiration: time.Now().Add(time.Hour)}, nil
	}
	h := auth.RequireBearerToken(verify, nil)(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &oauthFixture{google: g, grants: grants, url: srv.URL, tokens: tokens}
}

// consent is alice consenting at Google for one more MCP client: drivemcp
// asks with include_granted_scopes, so her grant adds these scopes.
func (f *oauthFixture) consent(t *testing.T, driveScopes ...string) {
	t.Helper()
	signIn(t, f.grants.Upstream(), f.grants, alice, google.LoginScopes(driveScopes...))
}

// session connects an MCP client that presents bearer.
func (f *oauthFixture) session(t *testing.T, bearer string) *mcp.ClientSession {
	t.Helper()
	client := &http.Client{Transport: bearerHeader(bearer)}
	s, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).
		Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: f.url, HTTPClient: client}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type bearerHeader string

func (b bearerHeader) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(r)
}

// Alice connected client A with drive.file (its consent page said "only
// files it creates"), then client B with drive. Google holds one grant for
// drivemcp with both scopes. Client A's token must still reach only what
// drive.file reaches: not a file alice made in Drive herself, by reading,
// publishing, sharing or searching it; client B can read it.
func TestScope_DriveFileTokenCannotReachFilesGrantedToAnotherClient(t *testing.T) {
	f := newOAuthFixture(t, map[string][]string{"token-a": {"drive.file"}, "token-b": {"drive"}})
	f.consent(t, google.ScopeDriveFile)
	f.consent(t, google.ScopeDrive)
	secret := f.google.SeedFile(alice, "payroll-2026.txt", "salaries")

	a := f.session(t, "token-a")
	res := e2etest.Call(t, a, "get_drive_file_content", map[string]any{"file_id": secret})
	if text := e2etest.ResultText(res); !res.IsError || strings.Contains(text, "salaries") {
		t.Errorf("client A (drive.file) read alice's own file: %s", text)
	}
	e2etest.Call(t, a, "make_drive_files_public", map[string]any{"file_ids": []string{secret}})
	e2etest.Call(t, a, "share_drive_files", map[string]any{"file_ids": []string{secret}, "email_addresses": []string{"mallory@example.com"}})
	if perms := f.google.Permissions(secret); len(perms) != 1 {
		t.Errorf("client A changed who may read alice's file: %+v", perms)
	}
	found := e2etest.ResultText(e2etest.MustCall(t, a, "search_drive_files", map[string]any{"query": "name contains 'payroll'"}))
	if strings.Contains(found, secret) {
		t.Errorf("client A's search lists alice's own file: %s", found)
	}

	// Client A still works on what it created.
	up := e2etest.Structured(t, e2etest.MustCall(t, a, "create_drive_file", map[string]any{"file_name": "notes.txt", "content": "mine"}))
	mine, _ := up["file_id"].(string)
	if text := e2etest.ResultText(e2etest.MustCall(t, a, "get_drive_file_content", map[string]any{"file_id": mine})); !strings.Contains(text, "mine") {
		t.Errorf("client A cannot read its own upload: %s", text)
	}

	// Client B, granted drive, reads alice's file.
	b := f.session(t, "token-b")
	if text := e2etest.ResultText(e2etest.MustCall(t, b, "get_drive_file_content", map[string]any{"file_id": secret})); !strings.Contains(text, "salaries") {
		t.Errorf("client B (drive) cannot read alice's file: %s", text)
	}
}

// A token whose scope the account's Google grant lacks (taken back at
// Google, or never given) gets a sentence saying to connect again, and is
// never served from the rest of the grant.
func TestScope_TokenScopeNotGrantedAtGoogleSaysConnectAgain(t *testing.T) {
	f := newOAuthFixture(t, map[string][]string{"token-ro": {"drive.readonly"}})
	f.consent(t, google.ScopeDriveFile)
	secret := f.google.SeedFile(alice, "payroll-2026.txt", "salaries")
	s := f.session(t, "token-ro")
	res := e2etest.Call(t, s, "get_drive_file_content", map[string]any{"file_id": secret})
	text := e2etest.ResultText(res)
	if !res.IsError || strings.Contains(text, "salaries") || !strings.Contains(text, "does not grant drivemcp drive.readonly") || !strings.Contains(text, "Connect again") {
		t.Fatalf("a drive.readonly token on a drive.file grant: %s", text)
	}
}

// check_drive_auth over OAuth names the scopes this connection's calls use,
// not everything the account granted other connections.
func TestScope_CheckDriveAuthShowsTheConnectionsOwnScopes(t *testing.T) {
	f := newOAuthFixture(t, map[string][]string{"token-a": {"drive.file"}})
	f.consent(t, google.ScopeDriveFile)
	f.consent(t, google.ScopeDrive)
	who := e2etest.Structured(t, e2etest.MustCall(t, f.session(t, "token-a"), "check_drive_auth", nil))
	if scopes, _ := who["scopes"].([]any); len(scopes) != 1 || scopes[0] != google.ScopeDriveFile {
		t.Fatalf("check_drive_auth scopes = %v, want only drive.file", who["scopes"])
	}
}
