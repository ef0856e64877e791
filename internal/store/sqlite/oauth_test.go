package sqlite

import (
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// Two Stores on one file stand in for two drivemcp replicas: only SQLite's
// lock decides which redemption of a code wins.
func TestTwoStoresOnOneFile_OneRedeemerWins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	a, b := openAt(t, path), openAt(t, path)
	now := time.Now()
	if err := a.CreateAuthCode(t.Context(), store.AuthCode{Hash: "c0de", FamilyID: "fam", ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var wins, replays atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			_, err := s.RedeemAuthCode(t.Context(), "c0de", now)
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
		t.Errorf("%d redeemers won and %d saw a replay across two processes, want 1 and 9", wins.Load(), replays.Load())
	}
}

func TestTwoStoresOnOneFile_RotationsSeeEachOther(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	stores := []*Store{openAt(t, path), openAt(t, path)}
	ctx := t.Context()
	const perStore = 10
	if err := stores[0].CreateTokens(ctx, store.Token{Hash: "refresh", Kind: store.RefreshToken, FamilyID: "fam"}); err != nil {
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
					issued := store.Token{Hash: "access-" + strconv.Itoa(si) + "-" + strconv.Itoa(i), Kind: store.AccessToken, FamilyID: "fam"}
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
		t.Errorf("%d rotations across two processes saw the token unrotated, want 1", c)
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

// The zero time is stored as 0, which reads as "never": redeeming or
// revoking "at" it would leave the code redeemable and the token live while
// the caller believes otherwise.
func TestZeroTimeIsRefusedWhereItWouldMeanNever(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "drivemcp.db"))
	ctx := t.Context()
	expires := time.Now().Add(time.Hour)
	if err := s.CreateAuthCode(ctx, store.AuthCode{Hash: "c0de", FamilyID: "fam", ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTokens(ctx, store.Token{Hash: "tok", Kind: store.AccessToken, FamilyID: "fam", ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	for _, zero := range []time.Time{{}, time.UnixMilli(0)} {
		if _, err := s.RedeemAuthCode(ctx, "c0de", zero); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("RedeemAuthCode at %v: err = %v, want a refusal", zero, err)
		}
		if err := s.RevokeToken(ctx, "tok", zero); err == nil {
			t.Errorf("RevokeToken at %v: no error", zero)
		}
		if err := s.RevokeFamily(ctx, "fam", zero); err == nil {
			t.Errorf("RevokeFamily at %v: no error", zero)
		}
	}
	if _, err := s.RedeemAuthCode(ctx, "c0de", time.Now()); err != nil {
		t.Errorf("the code was spent by a refused redemption: %v", err)
	}
}
