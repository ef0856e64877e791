package mcpserver

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// A grant sealed with a key the server does not hold (its --secret-key was
// changed, or another replica runs with another key) used to pass
// check_drive_auth ("Acting as …") and then fail every Drive call after
// eight retries with "try again in a moment". It is now reported as what it
// is, at once, and nothing reaches Google.
func TestGrant_SealedWithAnotherKeyIsReportedNotRetried(t *testing.T) {
	g := e2etest.StartGoogle(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	up := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, "http://127.0.0.1:1/oauth2callback", google.EndpointsAt(g.URL), nil)
	sealedWith, _ := secrets.NewKeyring(make([]byte, 32))
	signIn(t, up, google.NewGrants(st, sealedWith, up), alice, google.LoginScopes(google.ScopeDriveFile))

	other := make([]byte, 32)
	other[0] = 1
	serverKeys, _ := secrets.NewKeyring(other)
	f := connectFixture(t, g, New(Deps{Resolver: identity.NewResolver(st, true), Grants: google.NewGrants(st, serverKeys, up), Stdio: true, URLResolver: noLookups{t}}), nil)

	res := f.call(t, "check_drive_auth", nil)
	if !res.IsError || !strings.Contains(e2etest.ResultText(res), "secret key") {
		t.Fatalf("check_drive_auth: %s", e2etest.ResultText(res))
	}
	before := g.Stats().Requests
	res = f.call(t, "create_drive_file", map[string]any{"file_name": "a.txt", "content": "x"})
	if !res.IsError || !strings.Contains(e2etest.ResultText(res), "secret key") || strings.Contains(e2etest.ResultText(res), "in a moment") {
		t.Fatalf("create_drive_file: %s", e2etest.ResultText(res))
	}
	if n := g.Stats().Requests - before; n != 0 {
		t.Fatalf("%d requests reached Google", n)
	}
}
