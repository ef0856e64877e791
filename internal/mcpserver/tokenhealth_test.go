package mcpserver

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/identity"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// healthFixture is alice signed in, whose refresh token Google issued age ago.
func healthFixture(t *testing.T, age time.Duration) *fixture {
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
	grants := google.NewGrants(st, ring, up, google.WithAccountCacheTTL(-1))
	signIn(t, up, grants, alice, google.LoginScopes(google.ScopeDriveFile))
	if _, err := st.UpdateGoogleAccount(ctx, alice, func(a store.GoogleAccount) (store.GoogleAccount, error) {
		if a.RefreshTokenObtainedAt.IsZero() {
			t.Error("signing in did not record when the refresh token was issued")
		}
		a.RefreshTokenObtainedAt = time.Now().Add(-age)
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
	deps := Deps{Resolver: identity.NewResolver(st, true), Grants: grants, URLResolver: noLookups{t}, Stdio: true}
	return connectFixture(t, g, New(deps), nil)
}

// Google ends the refresh tokens of apps in "Testing" status after 7 days;
// from day 5 check_drive_auth says so and how to publish the app, and not
// before, nor past day 7 (a token still working then is a published app's).
func TestCheckDriveAuth_GoogleTestingModeRefreshTokenNearSevenDaysIsWarnedAbout(t *testing.T) {
	for _, c := range []struct {
		age  time.Duration
		warn bool
	}{
		{4 * 24 * time.Hour, false},
		{5*24*time.Hour + 12*time.Hour, true},
		{30 * 24 * time.Hour, false},
	} {
		f := healthFixture(t, c.age)
		out := f.mustCall(t, "check_drive_auth", map[string]any{})
		msg, _ := out["message"].(string)
		warning, _ := out["refresh_token_warning"].(string)
		warned := strings.Contains(msg, "Testing") && strings.Contains(warning, "Publish the app")
		if warned != c.warn {
			t.Errorf("refresh token %v old: message %q warning %q; want a Testing-mode warning: %v", c.age, msg, warning, c.warn)
		}
		if c.warn && out["refresh_token_age_days"] == nil {
			t.Errorf("no refresh_token_age_days in %v", out)
		}
	}
}
