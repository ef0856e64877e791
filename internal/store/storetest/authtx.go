package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

var authTransactionTests = []test{
	{name: "FieldsRoundTrip", run: testAuthTransactionRoundTrip},
	{name: "DuplicateStateIsRefused", run: testDuplicateState},
	{name: "TakeIsSingleUse", run: testTakeIsSingleUse},
	{name: "TakeUnknownIsNotFound", run: testTakeUnknown},
	{name: "TakeExpiredIsNotFound", run: testTakeExpired},
	{name: "ConcurrentTakersOneWins", run: testConcurrentTakers},
	{name: "PendingUntilTakenOrExpired", run: testPendingUntilTakenOrExpired},
}

// A process waiting for a sign-in whose callback another process serves
// learns from the store that it is over, without taking it.
func testPendingUntilTakenOrExpired(t *testing.T, s store.Store) {
	tx := proxyTransaction("pending")
	mustCreateTransaction(t, s, tx)
	for _, c := range []struct {
		when time.Time
		want bool
	}{{at, true}, {tx.ExpiresAt, true}, {tx.ExpiresAt.Add(time.Millisecond), false}} {
		got, err := s.AuthTransactionPending(t.Context(), "pending", c.when)
		if err != nil || got != c.want {
			t.Fatalf("Pending at %v = %v, %v; want %v", c.when, got, err, c.want)
		}
	}
	if _, err := s.TakeAuthTransaction(t.Context(), "pending", at); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AuthTransactionPending(t.Context(), "pending", at); err != nil || got {
		t.Fatalf("Pending after Take = %v, %v; want false", got, err)
	}
	if got, err := s.AuthTransactionPending(t.Context(), "never-issued", at); err != nil || got {
		t.Fatalf("Pending(unknown) = %v, %v; want false", got, err)
	}
}

func proxyTransaction(state string) store.AuthTransaction {
	return store.AuthTransaction{
		State:          state,
		Kind:           store.FlowProxy,
		SealedVerifier: []byte("sealed verifier of " + state),
		GoogleScopes:   []string{"openid", "email", "https://www.googleapis.com/auth/drive.file"},
		LoginHint:      "ada@example.com",
		ForceConsent:   true,
		ClientID:       "mcp_client",
		RedirectURI:    "http://127.0.0.1:33418/callback?x=1&y=two",
		ClientState:    "client state with spaces & symbols ✓",
		CodeChallenge:  "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Resource:       "https://drive.example.com/mcp",
		Scopes:         []string{"drive.upload", "drive.read"},
		CreatedAt:      at,
		ExpiresAt:      at.Add(10 * time.Minute),
	}
}

func mustCreateTransaction(t *testing.T, s store.Store, tx store.AuthTransaction) {
	t.Helper()
	if err := s.CreateAuthTransaction(t.Context(), tx); err != nil {
		t.Fatalf("CreateAuthTransaction(%s): %v", tx.State, err)
	}
}

func testAuthTransactionRoundTrip(t *testing.T, s store.Store) {
	direct := store.AuthTransaction{
		State:           "direct-state",
		Kind:            store.FlowDirect,
		SealedVerifier:  []byte{0, 1, 2, 0xff},
		GoogleScopes:    []string{"openid"},
		SealedSessionID: []byte("sealed mcp-session-1"),
		CreatedAt:       at,
		ExpiresAt:       at.Add(time.Minute),
	}
	for _, want := range []store.AuthTransaction{proxyTransaction("proxy-state"), direct} {
		mustCreateTransaction(t, s, want)
		got, err := s.TakeAuthTransaction(t.Context(), want.State, at)
		if err != nil {
			t.Fatalf("Take(%s): %v", want.State, err)
		}
		if d := authTransactionDiff(got, want); d != "" {
			t.Errorf("%s transaction: %s", want.Kind, d)
		}
	}
}

func testDuplicateState(t *testing.T, s store.Store) {
	first := proxyTransaction("st")
	mustCreateTransaction(t, s, first)
	second := proxyTransaction("st")
	second.ClientID = "mcp_attacker"
	if err := s.CreateAuthTransaction(t.Context(), second); !errors.Is(err, store.ErrAlreadyExists) {
		t.Errorf("second create with the same state: err = %v, want ErrAlreadyExists", err)
	}
	got, err := s.TakeAuthTransaction(t.Context(), "st", at)
	if err != nil {
		t.Fatal(err)
	}
	if d := authTransactionDiff(got, first); d != "" {
		t.Errorf("the refused create changed the stored transaction: %s", d)
	}
}

func testTakeIsSingleUse(t *testing.T, s store.Store) {
	mustCreateTransaction(t, s, proxyTransaction("st"))
	if _, err := s.TakeAuthTransaction(t.Context(), "st", at); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TakeAuthTransaction(t.Context(), "st", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Take (a replayed callback) = %+v, %v; want ErrNotFound", got, err)
	}
}

func testTakeUnknown(t *testing.T, s store.Store) {
	if _, err := s.TakeAuthTransaction(t.Context(), "never-issued", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func testTakeExpired(t *testing.T, s store.Store) {
	expired := proxyTransaction("expired")
	mustCreateTransaction(t, s, expired)
	if _, err := s.TakeAuthTransaction(t.Context(), "expired", expired.ExpiresAt.Add(time.Second)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Take after expiry: err = %v, want ErrNotFound", err)
	}
	// ExpiresAt itself is the last valid instant ("expired" is before now).
	edge := proxyTransaction("edge")
	mustCreateTransaction(t, s, edge)
	if _, err := s.TakeAuthTransaction(t.Context(), "edge", edge.ExpiresAt); err != nil {
		t.Errorf("Take at exactly ExpiresAt: %v, want success", err)
	}
}

func testConcurrentTakers(t *testing.T, s store.Store) {
	const n = 20
	mustCreateTransaction(t, s, proxyTransaction("st"))
	var wins, notFound atomic.Int32
	var start, wg sync.WaitGroup
	start.Add(1)
	for range n {
		wg.Go(func() {
			start.Wait()
			_, err := s.TakeAuthTransaction(t.Context(), "st", at)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrNotFound):
				notFound.Add(1)
			default:
				t.Errorf("Take: %v", err)
			}
		})
	}
	start.Done()
	wg.Wait()
	if wins.Load() != 1 || notFound.Load() != n-1 {
		t.Errorf("%d takers won and %d got ErrNotFound; want 1 and %d", wins.Load(), notFound.Load(), n-1)
	}
}
