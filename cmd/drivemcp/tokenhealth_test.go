package main

import (
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// Google ends the refresh tokens of apps in "Testing" status after 7 days:
// doctor warns from day 5 and says how to publish the app, without failing
// (the grant still works), and accounts list shows the token's age.
func TestDoctor_GoogleTestingModeRefreshTokenNearSevenDaysIsWarned(t *testing.T) {
	e := newCLIEnv(t)
	e.login("dana@example.com")
	st, err := sqlite.Open(t.Context(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateGoogleAccount(t.Context(), "dana@example.com", func(a store.GoogleAccount) (store.GoogleAccount, error) {
		a.RefreshTokenObtainedAt = time.Now().Add(-(5*24 + 12) * time.Hour)
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, err := runDoctor(t, e.args()...)
	if err != nil {
		t.Fatalf("doctor failed on a grant that still works: %v\n%s", err, out)
	}
	if !strings.Contains(out, "! account dana@example.com:") || !strings.Contains(out, "Testing") || !strings.Contains(out, "Publish the app") {
		t.Errorf("doctor does not warn about the 7-day Testing limit:\n%s", out)
	}
	list, _, err := e.run([]string{"accounts", "list", "--json"})
	if err != nil || !strings.Contains(list, `"refresh_token_age_days": 5.5`) {
		t.Errorf("accounts list --json does not show the refresh token's age (%v):\n%s", err, list)
	}
}
