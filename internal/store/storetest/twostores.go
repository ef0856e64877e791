package storetest

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// RunTwoStoreTests holds a backend to the store's promise (docs/architecture.md) that two
// replicas on one database behave as one server. openPair returns two
// Stores on the same fresh database that share nothing in Go memory, as two
// processes would: only the database's own locks keep them apart.
func RunTwoStoreTests(t *testing.T, openPair func(t *testing.T) (store.Store, store.Store)) {
	t.Run("UpdatesAreSerialized", func(t *testing.T) { twoStoresUpdatesAreSerialized(t, openPair) })
	t.Run("ConcurrentUpsertsCreateOnce", func(t *testing.T) { twoStoresUpsertsCreateOnce(t, openPair) })
	t.Run("OneTakerWins", func(t *testing.T) { twoStoresOneTakerWins(t, openPair) })
	t.Run("OneRedeemerWins", func(t *testing.T) { twoStoresOneRedeemerWins(t, openPair) })
	t.Run("RotationsSeeEachOther", func(t *testing.T) { twoStoresRotationsSeeEachOther(t, openPair) })
}

// A Google refresh inside an updater happens once across replicas only if
// updaters of one account never run at once.
func twoStoresUpdatesAreSerialized(t *testing.T, openPair func(*testing.T) (store.Store, store.Store)) {
	a, b := openPair(t)
	stores := []store.Store{a, b}
	ctx := t.Context()
	const email, perStore = "ada@example.com", 25
	if _, err := a.UpsertGoogleAccount(ctx, email, func(acct store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		acct.SealedToken = []byte("0")
		return acct, nil
	}); err != nil {
		t.Fatal(err)
	}
	var running atomic.Int32
	var wg sync.WaitGroup
	for _, s := range stores {
		for range perStore {
			wg.Go(func() {
				_, err := s.UpdateGoogleAccount(ctx, email, func(acct store.GoogleAccount) (store.GoogleAccount, error) {
					if running.Add(1) > 1 {
						t.Error("updaters in two replicas ran at once")
					}
					defer running.Add(-1)
					n, err := strconv.Atoi(string(acct.SealedToken))
					time.Sleep(time.Millisecond)
					acct.SealedToken = []byte(strconv.Itoa(n + 1))
					return acct, err
				})
				if err != nil {
					t.Errorf("UpdateGoogleAccount: %v", err)
				}
			})
		}
	}
	wg.Wait()
	for i, s := range stores {
		got, err := s.GetGoogleAccount(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.SealedToken) != strconv.Itoa(2*perStore) {
			t.Errorf("store %d sees counter %s, want %d", i, got.SealedToken, 2*perStore)
		}
	}
}

// Two replicas creating one account at once create it once.
func twoStoresUpsertsCreateOnce(t *testing.T, openPair func(*testing.T) (store.Store, store.Store)) {
	a, b := openPair(t)
	const perStore = 10
	var creations atomic.Int32
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b} {
		for range perStore {
			wg.Go(func() {
				_, err := s.UpsertGoogleAccount(t.Context(), "ada@example.com", func(acct store.GoogleAccount, exists bool) (store.GoogleAccount, error) {
					if !exists {
						creations.Add(1)
					}
					n, _ := strconv.Atoi(string(acct.SealedToken))
					acct.SealedToken = []byte(strconv.Itoa(n + 1))
					return acct, nil
				})
				if err != nil {
					t.Errorf("UpsertGoogleAccount: %v", err)
				}
			})
		}
	}
	wg.Wait()
	got, err := b.GetGoogleAccount(t.Context(), "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if c := creations.Load(); c != 1 || string(got.SealedToken) != strconv.Itoa(2*perStore) {
		t.Errorf("%d upserts saw the account missing and the counter is %s; want 1 and %d", c, got.SealedToken, 2*perStore)
	}
}

// A Google callback replayed to both replicas completes once.
func twoStoresOneTakerWins(t *testing.T, openPair func(*testing.T) (store.Store, store.Store)) {
	a, b := openPair(t)
	now := time.Now()
	if err := a.CreateAuthTransaction(t.Context(), store.AuthTransaction{State: "st", Kind: store.FlowDirect, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		s := []store.Store{a, b}[i%2]
		wg.Go(func() {
			_, err := s.TakeAuthTransaction(t.Context(), "st", now)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrNotFound):
				t.Errorf("Take: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d takers won across two replicas, want 1", wins.Load())
	}
}

// An authorization code sent to both replicas is redeemed once; every other
// attempt is seen as a replay.
func twoStoresOneRedeemerWins(t *testing.T, openPair func(*testing.T) (store.Store, store.Store)) {
	a, b := openPair(t)
	now := time.Now()
	if err := a.CreateAuthCode(t.Context(), store.AuthCode{Hash: "c0de", FamilyID: "fam", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var wins, replays atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		s := []store.Store{a, b}[i%2]
		wg.Go(func() {
			_, err := s.RedeemAuthCode(t.Context(), "c0de", now, nil)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrCodeRedeemed):
				replays.Add(1)
			default:
				t.Errorf("Redeem: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || replays.Load() != 9 {
		t.Errorf("%d redeemers won and %d saw a replay across two replicas, want 1 and 9", wins.Load(), replays.Load())
	}
}

// Refresh-token rotations on two replicas each see the previous one: the
// grace window and reuse detection depend on it.
func twoStoresRotationsSeeEachOther(t *testing.T, openPair func(*testing.T) (store.Store, store.Store)) {
	a, b := openPair(t)
	stores := []store.Store{a, b}
	ctx := t.Context()
	const perStore = 10
	now := time.Now()
	if err := a.CreateTokens(ctx, store.Token{Hash: "refresh", Kind: store.RefreshToken, FamilyID: "fam", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var sawCurrent atomic.Int32
	var wg sync.WaitGroup
	for si, s := range stores {
		for i := range perStore {
			wg.Go(func() {
				err := s.RotateRefreshToken(ctx, "refresh", func(old store.Token) (store.Token, []store.Token, error) {
					n := 0
					if old.RotatedAt.IsZero() {
						sawCurrent.Add(1)
					} else {
						var err error
						if n, err = strconv.Atoi(string(old.Successor)); err != nil {
							return old, nil, err
						}
					}
					time.Sleep(time.Millisecond)
					old.RotatedAt, old.Successor = time.Now(), []byte(strconv.Itoa(n+1))
					issued := store.Token{Hash: "access-" + strconv.Itoa(si) + "-" + strconv.Itoa(i), Kind: store.AccessToken,
						FamilyID: "fam", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
					return old, []store.Token{issued}, nil
				})
				if err != nil {
					t.Errorf("RotateRefreshToken: %v", err)
				}
			})
		}
	}
	wg.Wait()
	if c := sawCurrent.Load(); c != 1 {
		t.Errorf("%d rotations across two replicas saw the token unrotated, want 1", c)
	}
	for i, s := range stores {
		got, err := s.GetToken(ctx, "refresh")
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Successor) != strconv.Itoa(2*perStore) {
			t.Errorf("store %d sees rotation counter %q, want %d", i, got.Successor, 2*perStore)
		}
	}
}
