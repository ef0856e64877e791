package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

var authCodeTests = []test{
	{name: "RedeemReturnsEveryField", run: testRedeemReturnsEveryField},
	{name: "DuplicateHashIsRefused", run: testDuplicateAuthCode},
	{name: "ReplayedCodeIsRedeemedWithItsFamily", run: testReplayedCode},
	{name: "ReplayAfterExpiryIsStillRedeemed", run: testReplayAfterExpiry},
	{name: "UnknownCodeIsNotFound", run: testRedeemUnknownCode},
	{name: "ExpiredCodeIsNotFoundAndStaysUnredeemed", run: testRedeemExpiredCode},
	{name: "ConcurrentRedeemersOneWins", run: testConcurrentRedeemers},
}

func authCode(hash string) store.AuthCode {
	return store.AuthCode{
		Hash:          hash,
		ClientID:      "mcp_client",
		RedirectURI:   "http://127.0.0.1:33418/callback?x=1&y=two",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Resource:      "https://drive.example.com/mcp",
		Scopes:        []string{"drive.upload", "drive.read"},
		Email:         "ada@example.com",
		FamilyID:      "family-" + hash,
		CreatedAt:     at,
		ExpiresAt:     at.Add(time.Minute),
	}
}

func mustCreateAuthCode(t *testing.T, s store.Store, c store.AuthCode) {
	t.Helper()
	if err := s.CreateAuthCode(t.Context(), c); err != nil {
		t.Fatalf("CreateAuthCode(%s): %v", c.Hash, err)
	}
}

func mustRedeem(t *testing.T, s store.Store, hash string, now time.Time) store.AuthCode {
	t.Helper()
	got, err := s.RedeemAuthCode(t.Context(), hash, now)
	if err != nil {
		t.Fatalf("RedeemAuthCode(%s): %v", hash, err)
	}
	return got
}

func testRedeemReturnsEveryField(t *testing.T, s store.Store) {
	want := authCode("c0de")
	mustCreateAuthCode(t, s, want)
	redeemAt := at.Add(10 * time.Second)
	got := mustRedeem(t, s, want.Hash, redeemAt)
	want.RedeemedAt = redeemAt
	if d := authCodeDiff(got, want); d != "" {
		t.Errorf("Redeem: %s", d)
	}

	// Nil and empty scopes both come back empty.
	for _, c := range []store.AuthCode{{Hash: "nil", ExpiresAt: at}, {Hash: "empty", Scopes: []string{}, ExpiresAt: at}} {
		mustCreateAuthCode(t, s, c)
		if got := mustRedeem(t, s, c.Hash, at); len(got.Scopes) != 0 {
			t.Errorf("code %s: Scopes = %q, want none", c.Hash, got.Scopes)
		}
	}
}

func testDuplicateAuthCode(t *testing.T, s store.Store) {
	first := authCode("c0de")
	mustCreateAuthCode(t, s, first)
	second := authCode("c0de")
	second.ClientID = "mcp_attacker"
	if err := s.CreateAuthCode(t.Context(), second); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("second create with the same hash: err = %v, want ErrAlreadyExists", err)
	}
	got := mustRedeem(t, s, first.Hash, at)
	first.RedeemedAt = at
	if d := authCodeDiff(got, first); d != "" {
		t.Errorf("the refused create changed the stored code: %s", d)
	}

	// A redeemed code cannot be created afresh either.
	if err := s.CreateAuthCode(t.Context(), authCode("c0de")); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("recreating a redeemed code: err = %v, want ErrAlreadyExists", err)
	}
}

// A code presented twice has leaked; the second answer must carry the
// family, so the caller can revoke what the first use issued.
func testReplayedCode(t *testing.T, s store.Store) {
	want := authCode("c0de")
	mustCreateAuthCode(t, s, want)
	first := at.Add(time.Second)
	mustRedeem(t, s, want.Hash, first)

	got, err := s.RedeemAuthCode(t.Context(), want.Hash, at.Add(2*time.Second))
	if !errors.Is(err, store.ErrCodeRedeemed) {
		t.Fatalf("second Redeem: err = %v, want ErrCodeRedeemed", err)
	}
	want.RedeemedAt = first // the replay does not move it
	if d := authCodeDiff(got, want); d != "" {
		t.Errorf("second Redeem returned: %s", d)
	}
	if _, err := s.RedeemAuthCode(t.Context(), want.Hash, at.Add(3*time.Second)); !errors.Is(err, store.ErrCodeRedeemed) {
		t.Errorf("third Redeem: err = %v, want ErrCodeRedeemed", err)
	}
}

func testReplayAfterExpiry(t *testing.T, s store.Store) {
	c := authCode("c0de")
	mustCreateAuthCode(t, s, c)
	mustRedeem(t, s, c.Hash, c.ExpiresAt)
	got, err := s.RedeemAuthCode(t.Context(), c.Hash, c.ExpiresAt.Add(time.Hour))
	if !errors.Is(err, store.ErrCodeRedeemed) || got.FamilyID != c.FamilyID {
		t.Errorf("Redeem of a redeemed code after its expiry = %q, %v; want family %q and ErrCodeRedeemed", got.FamilyID, err, c.FamilyID)
	}
}

func testRedeemUnknownCode(t *testing.T, s store.Store) {
	mustCreateAuthCode(t, s, authCode("c0de"))
	for _, hash := range []string{"never-issued", "C0DE", ""} {
		if got, err := s.RedeemAuthCode(t.Context(), hash, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RedeemAuthCode(%q) = %+v, %v; want ErrNotFound", hash, got, err)
		}
	}
}

func testRedeemExpiredCode(t *testing.T, s store.Store) {
	c := authCode("c0de")
	mustCreateAuthCode(t, s, c)
	for range 2 {
		if got, err := s.RedeemAuthCode(t.Context(), c.Hash, c.ExpiresAt.Add(time.Millisecond)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Redeem after expiry = %+v, %v; want ErrNotFound", got, err)
		}
	}
	// The failed attempts marked nothing: redeemed at an earlier instant,
	// the code is still fresh. ExpiresAt itself is the last valid instant.
	if _, err := s.RedeemAuthCode(t.Context(), c.Hash, c.ExpiresAt); err != nil {
		t.Errorf("Redeem at exactly ExpiresAt after failed late attempts: %v, want success", err)
	}
}

func testConcurrentRedeemers(t *testing.T, s store.Store) {
	const n = 20
	c := authCode("c0de")
	mustCreateAuthCode(t, s, c)
	var wins, replays atomic.Int32
	var start, wg sync.WaitGroup
	start.Add(1)
	for range n {
		wg.Go(func() {
			start.Wait()
			got, err := s.RedeemAuthCode(t.Context(), c.Hash, at)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrCodeRedeemed):
				replays.Add(1)
				if got.FamilyID != c.FamilyID || got.RedeemedAt.IsZero() {
					t.Errorf("a losing redeemer got family %q, RedeemedAt %v", got.FamilyID, got.RedeemedAt)
				}
			default:
				t.Errorf("Redeem: %v", err)
			}
		})
	}
	start.Done()
	wg.Wait()
	if wins.Load() != 1 || replays.Load() != n-1 {
		t.Errorf("%d redeemers won and %d got ErrCodeRedeemed; want 1 and %d", wins.Load(), replays.Load(), n-1)
	}
}
