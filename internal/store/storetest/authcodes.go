package storetest

import (
	"errors"
	"fmt"
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
	{name: "RedeemStoresTheIssuedTokens", run: testRedeemIssues},
	{name: "RefusedRedemptionUsesTheCodeUp", run: testRedeemRefused},
	{name: "FailedIssueLeavesTheCodeRedeemable", run: testRedeemIssueFails},
	{name: "ConcurrentRedeemersIssueOnce", run: testConcurrentRedeemersIssueOnce},
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
	got, err := s.RedeemAuthCode(t.Context(), hash, now, nil)
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

	got, err := s.RedeemAuthCode(t.Context(), want.Hash, at.Add(2*time.Second), nil)
	if !errors.Is(err, store.ErrCodeRedeemed) {
		t.Fatalf("second Redeem: err = %v, want ErrCodeRedeemed", err)
	}
	want.RedeemedAt = first // the replay does not move it
	if d := authCodeDiff(got, want); d != "" {
		t.Errorf("second Redeem returned: %s", d)
	}
	if _, err := s.RedeemAuthCode(t.Context(), want.Hash, at.Add(3*time.Second), nil); !errors.Is(err, store.ErrCodeRedeemed) {
		t.Errorf("third Redeem: err = %v, want ErrCodeRedeemed", err)
	}
}

func testReplayAfterExpiry(t *testing.T, s store.Store) {
	c := authCode("c0de")
	mustCreateAuthCode(t, s, c)
	mustRedeem(t, s, c.Hash, c.ExpiresAt)
	got, err := s.RedeemAuthCode(t.Context(), c.Hash, c.ExpiresAt.Add(time.Hour), nil)
	if !errors.Is(err, store.ErrCodeRedeemed) || got.FamilyID != c.FamilyID {
		t.Errorf("Redeem of a redeemed code after its expiry = %q, %v; want family %q and ErrCodeRedeemed", got.FamilyID, err, c.FamilyID)
	}
}

func testRedeemUnknownCode(t *testing.T, s store.Store) {
	mustCreateAuthCode(t, s, authCode("c0de"))
	for _, hash := range []string{"never-issued", "C0DE", ""} {
		if got, err := s.RedeemAuthCode(t.Context(), hash, at, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RedeemAuthCode(%q) = %+v, %v; want ErrNotFound", hash, got, err)
		}
	}
}

func testRedeemExpiredCode(t *testing.T, s store.Store) {
	c := authCode("c0de")
	mustCreateAuthCode(t, s, c)
	for range 2 {
		if got, err := s.RedeemAuthCode(t.Context(), c.Hash, c.ExpiresAt.Add(time.Millisecond), nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Redeem after expiry = %+v, %v; want ErrNotFound", got, err)
		}
	}
	// The failed attempts marked nothing: redeemed at an earlier instant,
	// the code is still fresh. ExpiresAt itself is the last valid instant.
	if _, err := s.RedeemAuthCode(t.Context(), c.Hash, c.ExpiresAt, nil); err != nil {
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
			got, err := s.RedeemAuthCode(t.Context(), c.Hash, at, nil)
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

// The tokens issue returns are stored with the redemption, and issue sees
// the code as redeemed.
func testRedeemIssues(t *testing.T, s store.Store) {
	c := authCode("c0de")
	mustCreateAuthCode(t, s, c)
	tokens := []store.Token{accessToken("access", c.FamilyID), refreshToken("refresh", c.FamilyID)}
	var seen store.AuthCode
	got, err := s.RedeemAuthCode(t.Context(), c.Hash, at, func(ac store.AuthCode) ([]store.Token, error) {
		seen = ac
		return tokens, nil
	})
	if err != nil {
		t.Fatalf("RedeemAuthCode: %v", err)
	}
	if seen.Hash != c.Hash || seen.RedeemedAt.IsZero() || got.Hash != c.Hash {
		t.Errorf("issue saw %+v, Redeem returned %+v", seen, got)
	}
	wantTokens(t, s, tokens...)
}

// issue's error comes back as is; the code is used up and nothing issued.
func testRedeemRefused(t *testing.T, s store.Store) {
	c := authCode("c0de")
	mustCreateAuthCode(t, s, c)
	refusal := errors.New("wrong PKCE verifier")
	_, err := s.RedeemAuthCode(t.Context(), c.Hash, at, func(store.AuthCode) ([]store.Token, error) {
		return []store.Token{accessToken("access", c.FamilyID)}, refusal
	})
	if err != refusal {
		t.Fatalf("RedeemAuthCode = %v; want issue's error as is", err)
	}
	wantTokenGone(t, s, "access")
	if _, err := s.RedeemAuthCode(t.Context(), c.Hash, at, nil); !errors.Is(err, store.ErrCodeRedeemed) {
		t.Errorf("after a refused redemption, Redeem = %v; want ErrCodeRedeemed", err)
	}
}

// When the tokens cannot be stored, nothing is: the code stays redeemable.
func testRedeemIssueFails(t *testing.T, s store.Store) {
	c := authCode("c0de")
	mustCreateAuthCode(t, s, c)
	taken := accessToken("taken", "another-family")
	mustCreateTokens(t, s, taken)
	_, err := s.RedeemAuthCode(t.Context(), c.Hash, at, func(store.AuthCode) ([]store.Token, error) {
		return []store.Token{refreshToken("refresh", c.FamilyID), accessToken("taken", c.FamilyID)}, nil
	})
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("RedeemAuthCode with a taken token hash = %v; want ErrAlreadyExists", err)
	}
	wantTokenGone(t, s, "refresh")
	wantTokens(t, s, taken)
	if _, err := s.RedeemAuthCode(t.Context(), c.Hash, at, nil); err != nil {
		t.Errorf("the code was used up by a redemption that stored nothing: %v", err)
	}
}

func testConcurrentRedeemersIssueOnce(t *testing.T, s store.Store) {
	const n = 10
	c := authCode("c0de")
	mustCreateAuthCode(t, s, c)
	var issued atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := s.RedeemAuthCode(t.Context(), c.Hash, at, func(store.AuthCode) ([]store.Token, error) {
				issued.Add(1)
				return []store.Token{accessToken(fmt.Sprintf("access-%d", i), c.FamilyID)}, nil
			})
			if err != nil && !errors.Is(err, store.ErrCodeRedeemed) {
				t.Errorf("Redeem: %v", err)
			}
		})
	}
	wg.Wait()
	if issued.Load() != 1 {
		t.Errorf("issue ran %d times for one code; want once", issued.Load())
	}
}
