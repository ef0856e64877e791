package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// seedAccounts stores accounts as the server would have, with fixed times
// so that the listing is the same on every run.
func seedAccounts(t *testing.T, db string, accts ...store.GoogleAccount) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, a := range accts {
		_, err := st.UpsertGoogleAccount(ctx, a.Email, func(store.GoogleAccount, bool) (store.GoogleAccount, error) {
			a.SealedToken = []byte("sealed")
			return a, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAccountsList_GoldenTableAndJSON(t *testing.T) {
	e := newCLIEnv(t)
	seedAccounts(t, e.db,
		store.GoogleAccount{Email: "alice@example.com", Subject: "1",
			Scopes:        []string{google.ScopeOpenID, google.ScopeEmail, google.ScopeDriveFile},
			LastRefreshAt: time.Date(2026, 3, 1, 9, 30, 0, 0, time.FixedZone("CET", 3600))},
		store.GoogleAccount{Email: "bob.longer-name@example.org", Subject: "2",
			Scopes:        []string{google.ScopeOpenID, google.ScopeEmail, google.ScopeDrive},
			LastRefreshAt: time.Date(2026, 2, 14, 23, 5, 0, 0, time.UTC), NeedsReconsent: true},
		store.GoogleAccount{Email: "carol@example.com", Subject: "3", Scopes: []string{google.ScopeDriveReadonly}},
	)
	out, errOut, err := e.run([]string{"accounts", "list"})
	if err != nil {
		t.Fatalf("accounts list: %v\n%s", err, errOut)
	}
	golden(t, "accounts_list.golden", out)
	if !strings.Contains(errOut, "drivemcp login --force --email bob.longer-name@example.org") {
		t.Errorf("no advice for the account that needs consent again; stderr: %q", errOut)
	}

	out, _, err = e.run([]string{"accounts", "list", "--json"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "accounts_list.json.golden", out)
}

func TestAccountsList_MissingDatabaseIsExplained(t *testing.T) {
	e := newCLIEnv(t)
	_, _, err := e.run([]string{"accounts", "list"})
	if err == nil || !strings.Contains(err.Error(), "no drivemcp database at "+e.db) || !strings.Contains(err.Error(), "drivemcp login") {
		t.Fatalf("err = %v", err)
	}
}

func TestAccountsList_Empty(t *testing.T) {
	e := newCLIEnv(t)
	seedAccounts(t, e.db)
	out, _, err := e.run([]string{"accounts", "list"})
	if err != nil || !strings.Contains(out, "No Google account is connected") {
		t.Fatalf("out %q err %v", out, err)
	}
	out, _, err = e.run([]string{"accounts", "list", "--json"})
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("json out %q err %v", out, err)
	}
}

func TestAccountsRevoke_UnknownAccount(t *testing.T) {
	e := newCLIEnv(t)
	seedAccounts(t, e.db)
	_, errOut, err := e.run([]string{"accounts", "revoke", "nobody@example.com"})
	if err == nil || !strings.Contains(errOut, "nobody@example.com is not connected") {
		t.Fatalf("err %v stderr %q", err, errOut)
	}
}

func TestAccounts_HelpAndUnknownCommand(t *testing.T) {
	e := newCLIEnv(t)
	if _, _, err := e.run([]string{"accounts", "frobnicate"}); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("err = %v", err)
	}
	out, _, err := e.run([]string{"accounts", "list", "-h"})
	if err != nil || !strings.Contains(out, "-json") || !strings.Contains(out, "-db") {
		t.Fatalf("help: %v\n%s", err, out)
	}
}

// The table, not only --json, shows how old each refresh token is, and
// warns on stderr ahead of Google's 7-day limit for apps in Testing status.
func TestAccountsList_TableShowsRefreshTokenAgeAndWarnsBeforeTestingExpiry(t *testing.T) {
	e := newCLIEnv(t)
	seedAccounts(t, e.db,
		store.GoogleAccount{Email: "old@example.com", Subject: "1", Scopes: []string{google.ScopeDriveFile},
			RefreshTokenObtainedAt: time.Now().Add(-6 * 24 * time.Hour)},
		store.GoogleAccount{Email: "new@example.com", Subject: "2", Scopes: []string{google.ScopeDriveFile},
			RefreshTokenObtainedAt: time.Now().Add(-2 * 24 * time.Hour)},
	)
	out, errOut, err := e.run([]string{"accounts", "list"})
	if err != nil {
		t.Fatalf("accounts list: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "TOKEN AGE") || !strings.Contains(out, "6.0 days") || !strings.Contains(out, "2.0 days") {
		t.Errorf("table does not show the refresh tokens' ages:\n%s", out)
	}
	if !strings.Contains(errOut, "old@example.com") || !strings.Contains(errOut, "7 days") || !strings.Contains(errOut, "drivemcp login --force --email old@example.com") {
		t.Errorf("no warning ahead of the Testing limit for old@example.com; stderr: %q", errOut)
	}
	if strings.Contains(errOut, "new@example.com") {
		t.Errorf("a 2-day-old token is warned about; stderr: %q", errOut)
	}
}
