package mcpserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
)

// newTokenFixture is the MCP server as the HTTP server runs it with OAuth
// on: streamable HTTP behind a bearer-token check, where every request
// carries a token of alice's with tokenScopes (drivemcp's own scopes, as
// its authorization server grants them).
func newTokenFixture(t *testing.T, tokenScopes []string) (*fixture, Deps) {
	t.Helper()
	deps, g := fixtureDeps(t, Deps{}, google.ScopeDriveFile)
	const token = "dmcp_at_test"
	verify := func(_ context.Context, got string, _ *http.Request) (*auth.TokenInfo, error) {
		if got != token {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{UserID: alice, Scopes: tokenScopes, Expiration: time.Now().Add(time.Hour)}, nil
	}
	server := New(deps)
	h := auth.RequireBearerToken(verify, nil)(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: bearer{token: token, next: http.DefaultTransport}}
	return connectFixture(t, g, server, &mcp.StreamableClientTransport{Endpoint: srv.URL, HTTPClient: client}), deps
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// Revoking at Google ends drivemcp's access to the account for every
// client, which is a change, not a read: a connection authorized only for
// drive.readonly may sign itself out but not revoke the grant.
func TestSignOut_ReadonlyTokenCannotRevokeTheGoogleGrant(t *testing.T) {
	f, deps := newTokenFixture(t, []string{"drive.readonly"})
	ctx := context.Background()

	res := f.call(t, "sign_out", map[string]any{"revoke": true})
	text := e2etest.ResultText(res)
	if !res.IsError || !strings.Contains(text, "drive.readonly") || !strings.Contains(text, "revoke: false") || !strings.HasSuffix(text, ".") {
		t.Fatalf("sign_out {revoke: true} with a read-only token = %q (error %v), want a tool error saying what to do", text, res.IsError)
	}
	if revoked := f.google.RevokedTokens(); len(revoked) != 0 {
		t.Fatalf("Google was asked to revoke %d tokens", len(revoked))
	}
	if _, err := deps.Grants.Account(ctx, alice); err != nil {
		t.Fatalf("the stored grant is gone: %v", err)
	}
	if who := e2etest.Structured(t, e2etest.MustCall(t, f.session, "check_drive_auth", nil)); who["email"] != alice || who["authenticated"] != true {
		t.Fatalf("after the refused revoke, check_drive_auth = %v", who)
	}

	// Signing this connection out alone is always allowed.
	if out := e2etest.Structured(t, e2etest.MustCall(t, f.session, "sign_out", nil)); out["revoked"] == true {
		t.Fatalf("sign_out without revoke = %v", out)
	}
	if _, err := deps.Grants.Account(ctx, alice); err != nil {
		t.Fatalf("sign_out without revoke deleted the grant: %v", err)
	}
}

// A connection that may write may revoke.
func TestSignOut_WritingTokenRevokes(t *testing.T) {
	f, deps := newTokenFixture(t, []string{"drive.file"})
	out := e2etest.Structured(t, e2etest.MustCall(t, f.session, "sign_out", map[string]any{"revoke": true}))
	if out["revoked"] != true || len(f.google.RevokedTokens()) == 0 {
		t.Fatalf("sign_out {revoke: true} = %v, Google revoked %v", out, f.google.RevokedTokens())
	}
	if _, err := deps.Grants.Account(context.Background(), alice); err == nil {
		t.Fatal("the stored grant survived a revoke")
	}
}
