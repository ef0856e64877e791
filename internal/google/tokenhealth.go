package google

import (
	"context"
	"fmt"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// TestingRefreshTokenLifetime is how long Google honours a refresh token
// issued to an app whose OAuth consent screen is in the "Testing"
// publishing status; after it the token answers invalid_grant (Google's
// "Using OAuth 2.0 to Access Google APIs", Refresh token expiration:
// developers.google.com/identity/protocols/oauth2#expiration).
const TestingRefreshTokenLifetime = 7 * 24 * time.Hour

// RefreshTokenWarnAge is when drivemcp starts warning that a Testing app's
// refresh token is about to end: two days ahead, time enough to publish
// the app or sign in again.
const RefreshTokenWarnAge = 5 * 24 * time.Hour

// RefreshTokenAge is how long ago Google issued the refresh token the
// account holds; ok is false when that is not known or there is none.
func (g *Grants) RefreshTokenAge(acct store.GoogleAccount) (age time.Duration, ok bool) {
	if acct.RefreshTokenObtainedAt.IsZero() || acct.NeedsReconsent {
		return 0, false
	}
	return max(g.now().Sub(acct.RefreshTokenObtainedAt), 0), true
}

// RefreshTokenAges lists the age of every account's refresh token, for the
// metric: ages only, never who they belong to.
func (g *Grants) RefreshTokenAges(ctx context.Context) ([]time.Duration, error) {
	accts, err := g.store.ListGoogleAccounts(ctx)
	if err != nil {
		return nil, err
	}
	ages := make([]time.Duration, 0, len(accts))
	for _, a := range accts {
		if age, ok := g.RefreshTokenAge(a); ok {
			ages = append(ages, age)
		}
	}
	return ages, nil
}

// TestingExpiryWarning is a sentence warning that a refresh token of this
// age ends soon if the Google app is in Testing status, or "" when there is
// nothing to warn about: younger than RefreshTokenWarnAge, or past the
// 7 days and still working, which only a published app's token does.
func TestingExpiryWarning(age time.Duration) string {
	if age < RefreshTokenWarnAge || age > TestingRefreshTokenLifetime {
		return ""
	}
	left := (TestingRefreshTokenLifetime - age).Round(time.Hour)
	return fmt.Sprintf("This account's Google refresh token is %.1f days old. If the Google OAuth app is in the \"Testing\" publishing status, "+
		"Google ends its refresh tokens 7 days after issuing them, so this one stops working in about %s. "+
		"Publish the app (Google Cloud console, Google Auth Platform, Audience, Publish app; see docs/google-setup.md) "+
		"or sign in again before then (start_google_auth with force: true).", age.Hours()/24, left)
}

// TestingExpiredHint explains an invalid_grant on a refresh token at least
// 7 days old: most likely the Testing status, which signing in again only
// postpones by another 7 days. "" for younger tokens.
func TestingExpiredHint(acct store.GoogleAccount, now time.Time) string {
	if acct.RefreshTokenObtainedAt.IsZero() || now.Sub(acct.RefreshTokenObtainedAt) < TestingRefreshTokenLifetime {
		return ""
	}
	return " Its refresh token was 7 days old or more: Google ends those of apps in the \"Testing\" publishing status, " +
		"so publish the app (see docs/google-setup.md) to stop this recurring every week."
}
