package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

var sessionTests = []test{
	{name: "BindGetReplace", run: testBindGetReplace},
	{name: "GetUnknownIsNotFound", run: testGetUnknownBinding},
	{name: "ExpiredIsNotFound", run: testExpiredBinding},
	{name: "Delete", run: testDeleteBinding},
}

var deleteExpiredTests = []test{
	{name: "RemovesOnlyExpiredRows", run: testDeleteExpired},
	{name: "ConcurrentCallersAreFine", run: testDeleteExpiredConcurrently},
	{name: "KeepsCodesAndTokensADayPastExpiry", run: testDeleteExpiredCodesAndTokens},
}

func mustBind(t *testing.T, s store.Store, b store.SessionBinding) {
	t.Helper()
	if err := s.BindSession(t.Context(), b); err != nil {
		t.Fatalf("BindSession(%s): %v", b.SessionID, err)
	}
}

func wantNoBinding(t *testing.T, s store.Store, sessionID string, now time.Time) {
	t.Helper()
	if b, err := s.GetSessionBinding(t.Context(), sessionID, now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSessionBinding(%s) = %+v, %v; want ErrNotFound", sessionID, b, err)
	}
}

func testBindGetReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := store.SessionBinding{SessionID: "sid", Email: "ada@example.com", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	mustBind(t, s, first)
	got, err := s.GetSessionBinding(ctx, "sid", at)
	if err != nil {
		t.Fatal(err)
	}
	if d := bindingDiff(got, first); d != "" {
		t.Errorf("Get: %s", d)
	}

	// Connecting another account in the same session replaces the binding.
	second := store.SessionBinding{SessionID: "sid", Email: "bob@example.com", CreatedAt: at.Add(time.Minute), ExpiresAt: at.Add(2 * time.Hour)}
	mustBind(t, s, second)
	got, err = s.GetSessionBinding(ctx, "sid", at)
	if err != nil {
		t.Fatal(err)
	}
	if d := bindingDiff(got, second); d != "" {
		t.Errorf("Get after replace: %s", d)
	}
}

func testGetUnknownBinding(t *testing.T, s store.Store) {
	wantNoBinding(t, s, "no-such-session", at)
}

func testExpiredBinding(t *testing.T, s store.Store) {
	b := store.SessionBinding{SessionID: "sid", Email: "ada@example.com", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	mustBind(t, s, b)
	wantNoBinding(t, s, "sid", b.ExpiresAt.Add(time.Millisecond))
	if _, err := s.GetSessionBinding(t.Context(), "sid", b.ExpiresAt); err != nil {
		t.Errorf("Get at exactly ExpiresAt: %v, want the binding", err)
	}
}

func testDeleteBinding(t *testing.T, s store.Store) {
	mustBind(t, s, store.SessionBinding{SessionID: "sid", Email: "ada@example.com", CreatedAt: at, ExpiresAt: at.Add(time.Hour)})
	mustBind(t, s, store.SessionBinding{SessionID: "other", Email: "ada@example.com", CreatedAt: at, ExpiresAt: at.Add(time.Hour)})
	if err := s.DeleteSessionBinding(t.Context(), "sid"); err != nil {
		t.Fatal(err)
	}
	wantNoBinding(t, s, "sid", at)
	if _, err := s.GetSessionBinding(t.Context(), "other", at); err != nil {
		t.Errorf("deleting one binding removed another: %v", err)
	}
	if err := s.DeleteSessionBinding(t.Context(), "sid"); err != nil {
		t.Errorf("deleting a missing binding: %v, want no error", err)
	}
}

func testDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at.Add(time.Hour)

	stale, fresh, edge := proxyTransaction("stale"), proxyTransaction("fresh"), proxyTransaction("edge")
	stale.ExpiresAt = now.Add(-time.Millisecond)
	fresh.ExpiresAt = now.Add(time.Minute)
	edge.ExpiresAt = now
	for _, tx := range []store.AuthTransaction{stale, fresh, edge} {
		mustCreateTransaction(t, s, tx)
	}
	bindings := []store.SessionBinding{
		{SessionID: "stale", Email: "ada@example.com", CreatedAt: at, ExpiresAt: now.Add(-time.Millisecond)},
		{SessionID: "fresh", Email: "ada@example.com", CreatedAt: at, ExpiresAt: now.Add(time.Minute)},
		{SessionID: "edge", Email: "ada@example.com", CreatedAt: at, ExpiresAt: now},
	}
	for _, b := range bindings {
		mustBind(t, s, b)
	}
	account := putAccount(t, s, store.GoogleAccount{Email: "ada@example.com"})

	if err := s.DeleteExpired(ctx, now); err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	if err := s.DeleteExpired(ctx, now); err != nil {
		t.Fatalf("DeleteExpired again: %v", err)
	}

	// Asking "as of" a time before every expiry tells a deleted row from
	// one that is merely filtered out as expired.
	past := at
	if _, err := s.TakeAuthTransaction(ctx, "stale", past); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired transaction survived DeleteExpired: %v", err)
	}
	wantNoBinding(t, s, "stale", past)
	for _, sid := range []string{"fresh", "edge"} {
		if _, err := s.TakeAuthTransaction(ctx, sid, past); err != nil {
			t.Errorf("unexpired transaction %s: %v", sid, err)
		}
		if _, err := s.GetSessionBinding(ctx, sid, past); err != nil {
			t.Errorf("unexpired binding %s: %v", sid, err)
		}
	}
	if d := accountDiff(mustGetAccount(t, s, account.Email), account); d != "" {
		t.Errorf("DeleteExpired touched an account: %s", d)
	}
}

func testDeleteExpiredConcurrently(t *testing.T, s store.Store) {
	for _, id := range []string{"a", "b", "c"} {
		tx := proxyTransaction(id)
		tx.ExpiresAt = at
		mustCreateTransaction(t, s, tx)
		mustBind(t, s, store.SessionBinding{SessionID: id, Email: "ada@example.com", CreatedAt: at, ExpiresAt: at})
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := s.DeleteExpired(t.Context(), at.Add(time.Second)); err != nil {
				t.Errorf("DeleteExpired: %v", err)
			}
		})
	}
	wg.Wait()
	for _, id := range []string{"a", "b", "c"} {
		wantNoBinding(t, s, id, at.Add(-time.Hour))
	}
}
