package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// These tests pin down what makes a Google refresh happen once: the updater
// of an account runs alone, in every process, and waiting for that is
// bounded by the caller's context.
var lockingTests = []test{
	{name: "UpdatesOfOneAccountAreSerialized", run: testUpdatesAreSerialized},
	{name: "ConcurrentUpsertsCreateOnce", run: testConcurrentUpsertsCreateOnce},
	{name: "ReadsDoNotWaitForAnUpdater", run: testReadsDoNotWaitForAnUpdater},
	{name: "LockWaitHonoursContext", run: testLockWaitHonoursContext},
	{name: "CanceledContextIsRespected", run: testCanceledContext},
	{name: "CancelDuringUpdaterWritesNothing", run: testCancelDuringUpdater},
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}

// counter reads the decimal counter the locking tests keep in SealedToken.
func counter(t *testing.T, a store.GoogleAccount) int {
	t.Helper()
	n, err := strconv.Atoi(string(a.SealedToken))
	if err != nil {
		t.Fatalf("SealedToken %q is not a counter: %v", a.SealedToken, err)
	}
	return n
}

// Each updater reads the counter, waits as a Google refresh would, and writes
// it back plus one. Any interleaving loses an increment.
func testUpdatesAreSerialized(t *testing.T, s store.Store) {
	const email, n = "ada@example.com", 50
	putAccount(t, s, store.GoogleAccount{Email: email, SealedToken: []byte("0")})

	var running atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := s.UpdateGoogleAccount(t.Context(), email, func(old store.GoogleAccount) (store.GoogleAccount, error) {
				if running.Add(1) > 1 {
					t.Error("two updaters of one account ran at once")
				}
				defer running.Add(-1)
				c, err := strconv.Atoi(string(old.SealedToken))
				if err != nil {
					return old, err
				}
				time.Sleep(time.Millisecond)
				old.SealedToken = []byte(strconv.Itoa(c + 1))
				return old, nil
			})
			if err != nil {
				t.Errorf("UpdateGoogleAccount: %v", err)
			}
		})
	}
	wg.Wait()
	if got := counter(t, mustGetAccount(t, s, email)); got != n {
		t.Errorf("counter = %d after %d serialized increments; updates interleaved", got, n)
	}
}

// Two callbacks racing to create one account must not both see it missing.
func testConcurrentUpsertsCreateOnce(t *testing.T, s store.Store) {
	const email, n = "ada@example.com", 20
	var creations atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := s.UpsertGoogleAccount(t.Context(), email, func(old store.GoogleAccount, exists bool) (store.GoogleAccount, error) {
				if !exists {
					creations.Add(1)
					old.SealedToken = []byte("1")
					return old, nil
				}
				c, err := strconv.Atoi(string(old.SealedToken))
				old.SealedToken = []byte(strconv.Itoa(c + 1))
				return old, err
			})
			if err != nil {
				t.Errorf("UpsertGoogleAccount: %v", err)
			}
		})
	}
	wg.Wait()
	if c := creations.Load(); c != 1 {
		t.Errorf("%d upserts saw the account missing, want 1", c)
	}
	if got := counter(t, mustGetAccount(t, s, email)); got != n {
		t.Errorf("counter = %d after %d upserts", got, n)
	}
}

// holdAccount runs an updater of email that blocks until release is called,
// and returns once the updater is running. release returns the update's
// error.
func holdAccount(t *testing.T, s store.Store, email string, change func(*store.GoogleAccount)) (release func() error) {
	t.Helper()
	inside, proceed, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := s.UpdateGoogleAccount(t.Context(), email, func(old store.GoogleAccount) (store.GoogleAccount, error) {
			close(inside)
			<-proceed
			change(&old)
			return old, nil
		})
		done <- err
	}()
	select {
	case <-inside:
	case err := <-done:
		t.Fatalf("holding update ended early: %v", err)
	}
	var once sync.Once
	release = func() error {
		once.Do(func() { close(proceed) })
		return <-done
	}
	t.Cleanup(func() { once.Do(func() { close(proceed) }) })
	return release
}

func testReadsDoNotWaitForAnUpdater(t *testing.T, s store.Store) {
	orig := putAccount(t, s, store.GoogleAccount{Email: "ada@example.com", SealedToken: []byte("before")})
	release := holdAccount(t, s, orig.Email, func(a *store.GoogleAccount) { a.SealedToken = []byte("after") })

	ctx, cancel := contextWithTimeout(t, 2*time.Second)
	defer cancel()
	got, err := s.GetGoogleAccount(ctx, orig.Email)
	if err != nil {
		t.Fatalf("Get while an updater runs: %v", err)
	}
	if string(got.SealedToken) != "before" {
		t.Errorf("Get while an updater runs saw %q, want the committed %q", got.SealedToken, "before")
	}
	if _, err := s.ListGoogleAccounts(ctx); err != nil {
		t.Errorf("List while an updater runs: %v", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if got := mustGetAccount(t, s, orig.Email); string(got.SealedToken) != "after" {
		t.Errorf("after the updater: %q", got.SealedToken)
	}
}

func testLockWaitHonoursContext(t *testing.T, s store.Store) {
	putAccount(t, s, store.GoogleAccount{Email: "ada@example.com", SealedToken: []byte("0")})
	release := holdAccount(t, s, "ada@example.com", func(a *store.GoogleAccount) { a.SealedToken = []byte("1") })

	ctx, cancel := contextWithTimeout(t, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.UpdateGoogleAccount(ctx, "ada@example.com", func(old store.GoogleAccount) (store.GoogleAccount, error) {
		t.Error("waiting updater ran while the account was held")
		return old, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting for a held account past the deadline: err = %v, want DeadlineExceeded", err)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("gave up after %v; the deadline was 100ms", waited)
	}
	if err := release(); err != nil {
		t.Errorf("holding update: %v", err)
	}
	if got := counter(t, mustGetAccount(t, s, "ada@example.com")); got != 1 {
		t.Errorf("counter = %d, want 1", got)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	putAccount(t, s, store.GoogleAccount{Email: "ada@example.com"})
	mustCreateClient(t, s, confidentialClient("mcp_client"))
	mustCreateAuthCode(t, s, authCode("code"))
	refresh := refreshToken("refresh", "fam")
	mustCreateTokens(t, s, refresh)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	updater := func(old store.GoogleAccount) (store.GoogleAccount, error) {
		t.Error("updater ran with a canceled context")
		return old, nil
	}
	calls := map[string]func() error{
		"GetGoogleAccount":   func() error { _, err := s.GetGoogleAccount(ctx, "ada@example.com"); return err },
		"ListGoogleAccounts": func() error { _, err := s.ListGoogleAccounts(ctx); return err },
		"UpsertGoogleAccount": func() error {
			_, err := s.UpsertGoogleAccount(ctx, "new@example.com", func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
				return updater(old)
			})
			return err
		},
		"UpdateGoogleAccount": func() error { _, err := s.UpdateGoogleAccount(ctx, "ada@example.com", updater); return err },
		"DeleteGoogleAccount": func() error { return s.DeleteGoogleAccount(ctx, "ada@example.com") },
		"CreateAuthTransaction": func() error {
			return s.CreateAuthTransaction(ctx, store.AuthTransaction{State: "st", Kind: store.FlowDirect, CreatedAt: at, ExpiresAt: at.Add(time.Hour)})
		},
		"TakeAuthTransaction": func() error { _, err := s.TakeAuthTransaction(ctx, "st", at); return err },
		"BindSession": func() error {
			return s.BindSession(ctx, store.SessionBinding{SessionID: "sid", Email: "ada@example.com", CreatedAt: at, ExpiresAt: at.Add(time.Hour)})
		},
		"GetSessionBinding":    func() error { _, err := s.GetSessionBinding(ctx, "sid", at); return err },
		"DeleteSessionBinding": func() error { return s.DeleteSessionBinding(ctx, "sid") },
		"DeleteExpired":        func() error { return s.DeleteExpired(ctx, at) },
		"Ping":                 func() error { return s.Ping(ctx) },
		"CreateClient":         func() error { return s.CreateClient(ctx, confidentialClient("mcp_new")) },
		"GetClient":            func() error { _, err := s.GetClient(ctx, "mcp_client"); return err },
		"CreateAuthCode":       func() error { return s.CreateAuthCode(ctx, authCode("new-code")) },
		"RedeemAuthCode":       func() error { _, err := s.RedeemAuthCode(ctx, "code", at, nil); return err },
		"CreateTokens":         func() error { return s.CreateTokens(ctx, accessToken("new-token", "fam")) },
		"GetToken":             func() error { _, err := s.GetToken(ctx, "refresh"); return err },
		"RotateRefreshToken": func() error {
			return s.RotateRefreshToken(ctx, "refresh", func(old store.Token) (store.Token, []store.Token, error) {
				t.Error("rotate ran with a canceled context")
				return old, nil, nil
			})
		},
		"RevokeToken":  func() error { return s.RevokeToken(ctx, "refresh", at) },
		"RevokeFamily": func() error { return s.RevokeFamily(ctx, "fam", at) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: err = %v, want context.Canceled", name, err)
		}
	}
	// Nothing above may have been written.
	mustGetAccount(t, s, "ada@example.com")
	wantAccountGone(t, s, "new@example.com")
	if _, err := s.TakeAuthTransaction(t.Context(), "st", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("transaction created under a canceled context: %v", err)
	}
	if _, err := s.GetSessionBinding(t.Context(), "sid", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session bound under a canceled context: %v", err)
	}
	if _, err := s.GetClient(t.Context(), "mcp_new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("client created under a canceled context: %v", err)
	}
	if _, err := s.RedeemAuthCode(t.Context(), "new-code", at, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("code created under a canceled context: %v", err)
	}
	if _, err := s.RedeemAuthCode(t.Context(), "code", at, nil); err != nil {
		t.Errorf("code redeemed under a canceled context: %v", err)
	}
	wantTokenGone(t, s, "new-token")
	wantTokens(t, s, refresh) // neither rotated nor revoked
}

// A caller that gives up while its updater runs (say, the Google refresh
// timed out the request) must not have the result written behind its back.
func testCancelDuringUpdater(t *testing.T, s store.Store) {
	orig := putAccount(t, s, store.GoogleAccount{Email: "ada@example.com", SealedToken: []byte("before")})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := s.UpdateGoogleAccount(ctx, orig.Email, func(old store.GoogleAccount) (store.GoogleAccount, error) {
		cancel()
		old.SealedToken = []byte("after")
		return old, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := accountDiff(mustGetAccount(t, s, orig.Email), orig); d != "" {
		t.Errorf("update canceled mid-way was written: %s", d)
	}
}
