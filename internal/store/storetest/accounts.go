package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

var accountTests = []test{
	{name: "GetMissing", run: testGetMissingAccount},
	{name: "UpsertCreatesThenUpdates", run: testUpsertCreatesThenUpdates},
	{name: "FieldsRoundTrip", run: testAccountFieldsRoundTrip},
	{name: "EmptyScopesAndToken", run: testAccountEmptyScopesAndToken},
	{name: "UpdaterErrorWritesNothing", run: testUpdaterErrorWritesNothing},
	{name: "UpdaterPanicWritesNothingAndReleasesLock", run: testUpdaterPanic},
	{name: "UpdateMissingIsNotFound", run: testUpdateMissingAccount},
	{name: "UpdaterCannotChangeTheKey", run: testUpdaterCannotChangeTheKey},
	{name: "EmailsAreExactKeys", run: testEmailsAreExactKeys},
	{name: "ListOrderedByEmail", run: testListOrderedByEmail},
	{name: "DeleteRemovesAccountAndItsBindings", run: testDeleteAccount},
}

// putAccount stores a as the whole new state of its account.
func putAccount(t *testing.T, s store.Store, a store.GoogleAccount) store.GoogleAccount {
	t.Helper()
	got, err := s.UpsertGoogleAccount(t.Context(), a.Email, func(store.GoogleAccount, bool) (store.GoogleAccount, error) {
		return a, nil
	})
	if err != nil {
		t.Fatalf("UpsertGoogleAccount(%s): %v", a.Email, err)
	}
	return got
}

func mustGetAccount(t *testing.T, s store.Store, email string) store.GoogleAccount {
	t.Helper()
	got, err := s.GetGoogleAccount(t.Context(), email)
	if err != nil {
		t.Fatalf("GetGoogleAccount(%s): %v", email, err)
	}
	return got
}

func wantAccountGone(t *testing.T, s store.Store, email string) {
	t.Helper()
	if got, err := s.GetGoogleAccount(t.Context(), email); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetGoogleAccount(%s) = %+v, %v; want ErrNotFound", email, got, err)
	}
}

// within reports whether a backend-set timestamp lies between two readings
// of the clock taken around the call.
func within(ts, before, after time.Time) bool {
	return !ts.Before(before.Truncate(time.Millisecond)) && !ts.After(after)
}

func testGetMissingAccount(t *testing.T, s store.Store) {
	wantAccountGone(t, s, "nobody@example.com")
}

func testUpsertCreatesThenUpdates(t *testing.T, s store.Store) {
	ctx := t.Context()
	const email = "ada@example.com"

	calls := 0
	before := time.Now()
	created, err := s.UpsertGoogleAccount(ctx, email, func(old store.GoogleAccount, exists bool) (store.GoogleAccount, error) {
		calls++
		if exists {
			t.Error("new account: exists = true")
		}
		if d := accountDiff(old, store.GoogleAccount{Email: email}); d != "" {
			t.Errorf("new account: old should be zero but for Email: %s", d)
		}
		old.Subject = "sub-ada"
		old.Scopes = []string{"openid", "email"}
		old.SealedToken = []byte("sealed-1")
		return old, nil
	})
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("updater ran %d times, want 1", calls)
	}
	if !within(created.CreatedAt, before, after) {
		t.Errorf("CreatedAt = %v, want between %v and %v", created.CreatedAt, before, after)
	}
	if !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Errorf("new account: UpdatedAt = %v, want CreatedAt %v", created.UpdatedAt, created.CreatedAt)
	}
	if d := accountDiff(mustGetAccount(t, s, email), created); d != "" {
		t.Errorf("Get after create differs from what Upsert returned: %s", d)
	}

	time.Sleep(5 * time.Millisecond) // let the millisecond clock move
	updated, err := s.UpsertGoogleAccount(ctx, email, func(old store.GoogleAccount, exists bool) (store.GoogleAccount, error) {
		if !exists {
			t.Error("existing account: exists = false")
		}
		if d := accountDiff(old, created); d != "" {
			t.Errorf("existing account: old differs from stored: %s", d)
		}
		old.SealedToken = []byte("sealed-2")
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !updated.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("update moved CreatedAt from %v to %v", created.CreatedAt, updated.CreatedAt)
	}
	if !updated.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("update left UpdatedAt at %v, want after %v", updated.UpdatedAt, created.UpdatedAt)
	}
	if string(updated.SealedToken) != "sealed-2" || updated.Subject != "sub-ada" {
		t.Errorf("update returned %+v", updated)
	}
	if d := accountDiff(mustGetAccount(t, s, email), updated); d != "" {
		t.Errorf("Get after update differs from what Upsert returned: %s", d)
	}
}

func testAccountFieldsRoundTrip(t *testing.T, s store.Store) {
	token := make([]byte, 256) // every byte value, NUL included
	for i := range token {
		token[i] = byte(i)
	}
	want := store.GoogleAccount{
		Email:          "ada@example.com",
		Subject:        "117000000000000000001",
		Scopes:         []string{"https://www.googleapis.com/auth/drive.file", "openid", "email"},
		SealedToken:    token,
		NeedsReconsent: true,
		LastRefreshAt:  at,
		// A Testing app's refresh token dies 7 days after this.
		RefreshTokenObtainedAt: at.Add(-5 * 24 * time.Hour),
	}
	got := putAccount(t, s, want)
	want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
	if d := accountDiff(got, want); d != "" {
		t.Errorf("Upsert returned: %s", d)
	}
	if d := accountDiff(mustGetAccount(t, s, want.Email), want); d != "" {
		t.Errorf("Get: %s", d)
	}

	// And back: false, zero time and another order must round-trip too.
	updated, err := s.UpdateGoogleAccount(t.Context(), want.Email, func(old store.GoogleAccount) (store.GoogleAccount, error) {
		old.NeedsReconsent = false
		old.LastRefreshAt = time.Time{}
		old.RefreshTokenObtainedAt = time.Time{}
		old.Scopes = []string{"email", "openid"}
		return old, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got = mustGetAccount(t, s, want.Email)
	if d := accountDiff(got, updated); d != "" {
		t.Errorf("Get after update: %s", d)
	}
	if got.NeedsReconsent || !got.LastRefreshAt.IsZero() || !got.RefreshTokenObtainedAt.IsZero() || !sameStrings(got.Scopes, []string{"email", "openid"}) {
		t.Errorf("after update got NeedsReconsent=%v LastRefreshAt=%v Scopes=%q; want false, zero, [email openid]",
			got.NeedsReconsent, got.LastRefreshAt, got.Scopes)
	}
}

func testAccountEmptyScopesAndToken(t *testing.T, s store.Store) {
	for i, a := range []store.GoogleAccount{
		{Email: "nil@example.com"},
		{Email: "empty@example.com", Scopes: []string{}, SealedToken: []byte{}},
	} {
		putAccount(t, s, a)
		got := mustGetAccount(t, s, a.Email)
		if len(got.Scopes) != 0 || len(got.SealedToken) != 0 {
			t.Errorf("case %d: Scopes = %q, SealedToken = %q; want both empty", i, got.Scopes, got.SealedToken)
		}
	}
}

func testUpdaterErrorWritesNothing(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.UpsertGoogleAccount(ctx, "new@example.com", func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		old.Subject = "written?"
		return old, errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Upsert of new account: err = %v, want the updater's error", err)
	}
	wantAccountGone(t, s, "new@example.com")

	orig := putAccount(t, s, store.GoogleAccount{Email: "ada@example.com", Subject: "s", SealedToken: []byte("t1")})
	time.Sleep(2 * time.Millisecond)
	_, err = s.UpdateGoogleAccount(ctx, orig.Email, func(old store.GoogleAccount) (store.GoogleAccount, error) {
		old.SealedToken = []byte("t2")
		return old, errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Update: err = %v, want the updater's error", err)
	}
	_, err = s.UpsertGoogleAccount(ctx, orig.Email, func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		old.SealedToken = []byte("t3")
		return old, errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Upsert of existing account: err = %v, want the updater's error", err)
	}
	if d := accountDiff(mustGetAccount(t, s, orig.Email), orig); d != "" {
		t.Errorf("failed updates changed the account: %s", d)
	}
}

func testUpdaterPanic(t *testing.T, s store.Store) {
	orig := putAccount(t, s, store.GoogleAccount{Email: "ada@example.com", SealedToken: []byte("t1")})
	err := func() (err error) {
		defer func() {
			if recover() != nil {
				err = errBoom
			}
		}()
		_, err = s.UpdateGoogleAccount(t.Context(), orig.Email, func(old store.GoogleAccount) (store.GoogleAccount, error) {
			old.SealedToken = []byte("t2")
			panic("updater panics")
		})
		return err
	}()
	if err == nil {
		t.Error("a panicking updater neither panicked nor returned an error")
	}
	if d := accountDiff(mustGetAccount(t, s, orig.Email), orig); d != "" {
		t.Errorf("panicking updater changed the account: %s", d)
	}
	// A lock leaked by the panic would block this until the deadline.
	ctx, cancel := contextWithTimeout(t, 5*time.Second)
	defer cancel()
	if _, err := s.UpdateGoogleAccount(ctx, orig.Email, func(old store.GoogleAccount) (store.GoogleAccount, error) {
		return old, nil
	}); err != nil {
		t.Errorf("update after a panic: %v (was the lock released?)", err)
	}
}

func testUpdateMissingAccount(t *testing.T, s store.Store) {
	calls := 0
	_, err := s.UpdateGoogleAccount(t.Context(), "nobody@example.com", func(old store.GoogleAccount) (store.GoogleAccount, error) {
		calls++
		return old, nil
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	if calls != 0 {
		t.Errorf("updater ran %d times for a missing account", calls)
	}
	wantAccountGone(t, s, "nobody@example.com")
}

// The email argument is the key: an updater that leaves Email empty still
// writes that account, and one that names another account is refused
// rather than writing a row the caller did not lock.
func testUpdaterCannotChangeTheKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.UpsertGoogleAccount(ctx, "ada@example.com", func(store.GoogleAccount, bool) (store.GoogleAccount, error) {
		return store.GoogleAccount{Subject: "s"}, nil
	})
	if err != nil {
		t.Fatalf("updater returning an empty Email: %v", err)
	}
	if got.Email != "ada@example.com" || mustGetAccount(t, s, "ada@example.com").Subject != "s" {
		t.Errorf("updater returning an empty Email: stored %+v", got)
	}

	_, err = s.UpdateGoogleAccount(ctx, "ada@example.com", func(old store.GoogleAccount) (store.GoogleAccount, error) {
		old.Email = "eve@example.com"
		old.Subject = "moved"
		return old, nil
	})
	if err == nil {
		t.Error("updater changing Email: want an error")
	}
	wantAccountGone(t, s, "eve@example.com")
	if a := mustGetAccount(t, s, "ada@example.com"); a.Subject != "s" {
		t.Errorf("updater changing Email still wrote: %+v", a)
	}
}

func testEmailsAreExactKeys(t *testing.T, s store.Store) {
	// Lower-casing is the caller's job; the store keeps exactly what it is given.
	putAccount(t, s, store.GoogleAccount{Email: "Ada@Example.com", Subject: "upper"})
	putAccount(t, s, store.GoogleAccount{Email: "ada@example.com", Subject: "lower"})
	if a := mustGetAccount(t, s, "Ada@Example.com"); a.Email != "Ada@Example.com" || a.Subject != "upper" {
		t.Errorf("Get(Ada@Example.com) = %+v", a)
	}
	if a := mustGetAccount(t, s, "ada@example.com"); a.Email != "ada@example.com" || a.Subject != "lower" {
		t.Errorf("Get(ada@example.com) = %+v", a)
	}
	wantAccountGone(t, s, "ADA@EXAMPLE.COM")
}

func testListOrderedByEmail(t *testing.T, s store.Store) {
	list, err := s.ListGoogleAccounts(t.Context())
	if err != nil || len(list) != 0 {
		t.Fatalf("List on an empty store = %v, %v; want nothing", list, err)
	}
	// Lower-case letters only, so every collation agrees on the order.
	var want []store.GoogleAccount
	for _, email := range []string{"cy@example.com", "ada@example.com", "bob@example.com"} {
		want = append(want, putAccount(t, s, store.GoogleAccount{
			Email: email, Subject: "sub-" + email, Scopes: []string{"openid"}, SealedToken: []byte(email),
		}))
	}
	want = []store.GoogleAccount{want[1], want[2], want[0]}
	list, err = s.ListGoogleAccounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(want) {
		t.Fatalf("List returned %d accounts, want %d", len(list), len(want))
	}
	for i := range want {
		if d := accountDiff(list[i], want[i]); d != "" {
			t.Errorf("List[%d]: %s", i, d)
		}
	}
}

func testDeleteAccount(t *testing.T, s store.Store) {
	ctx := t.Context()
	putAccount(t, s, store.GoogleAccount{Email: "ada@example.com"})
	putAccount(t, s, store.GoogleAccount{Email: "bob@example.com"})
	for sid, email := range map[string]string{"s1": "ada@example.com", "s2": "ada@example.com", "s3": "bob@example.com"} {
		if err := s.BindSession(ctx, store.SessionBinding{SessionID: sid, Email: email, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	if err := s.DeleteGoogleAccount(ctx, "ada@example.com"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAccountGone(t, s, "ada@example.com")
	for _, sid := range []string{"s1", "s2"} {
		if b, err := s.GetSessionBinding(ctx, sid, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("binding %s of the deleted account: %+v, %v; want ErrNotFound", sid, b, err)
		}
	}
	mustGetAccount(t, s, "bob@example.com")
	if _, err := s.GetSessionBinding(ctx, "s3", at); err != nil {
		t.Errorf("another account's binding went too: %v", err)
	}

	if err := s.DeleteGoogleAccount(ctx, "ada@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Delete: err = %v, want ErrNotFound", err)
	}
}
