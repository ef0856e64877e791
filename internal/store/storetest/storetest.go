// Package storetest is the conformance suite for store.Store. Every backend
// runs it from its own tests, so a behaviour that differs between backends
// fails here rather than in production behind a load balancer.
package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/drivemcp/drivemcp/internal/store"
)

// RunTests runs the suite. newStore must return a new, empty store each time;
// the suite closes it at the end of the subtest.
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"GoogleAccount", accountTests},
		{"GoogleAccountLocking", lockingTests},
		{"GoogleIdentity", identityTests},
		{"AuthTransaction", authTransactionTests},
		{"SessionBinding", sessionTests},
		{"Client", clientTests},
		{"AuthCode", authCodeTests},
		{"Token", tokenTests},
		{"TokenRotation", rotationTests},
		{"DeleteExpired", deleteExpiredTests},
		{"Lifecycle", lifecycleTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := newStore(t)
					if !tc.closes {
						t.Cleanup(func() {
							if err := s.Close(); err != nil {
								t.Errorf("Close: %v", err)
							}
						})
					}
					tc.run(t, s)
				})
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, s store.Store)
	// closes marks a test that closes the store itself.
	closes bool
}

var lifecycleTests = []test{
	{name: "Ping", run: func(t *testing.T, s store.Store) {
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping: %v", err)
		}
	}},
	{name: "Close", closes: true, run: func(t *testing.T, s store.Store) {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}},
}

// errBoom is what failing updaters return; the store must hand it back as is.
var errBoom = errors.New("storetest: updater failed on purpose")

// at is a fixed instant with millisecond precision in a zone other than UTC,
// so a backend that drops the zone or the milliseconds is caught.
var at = time.Date(2031, time.March, 4, 5, 6, 7, 891_000_000, time.FixedZone("UTC+5:30", 5*3600+1800))

// sameInstant compares times at the millisecond precision the contract
// promises, ignoring location.
func sameInstant(a, b time.Time) bool {
	return a.Truncate(time.Millisecond).Equal(b.Truncate(time.Millisecond))
}

// sameStrings treats nil and empty alike but keeps order significant.
func sameStrings(a, b []string) bool {
	return len(a) == 0 && len(b) == 0 || slices.Equal(a, b)
}

// recordOptions compare records the way the contract promises: times at
// millisecond precision in any location, nil and empty slices alike (order
// stays significant). Every other field, present or added later, is
// compared exactly.
var recordOptions = cmp.Options{
	cmp.Comparer(sameInstant),
	cmpopts.EquateEmpty(),
}

// recordDiff reports every field in which got differs from want, or "".
func recordDiff[T any](got, want T) string {
	return cmp.Diff(want, got, recordOptions)
}

func accountDiff(got, want store.GoogleAccount) string           { return recordDiff(got, want) }
func authTransactionDiff(got, want store.AuthTransaction) string { return recordDiff(got, want) }
func bindingDiff(got, want store.SessionBinding) string          { return recordDiff(got, want) }
func clientDiff(got, want store.Client) string                   { return recordDiff(got, want) }
func authCodeDiff(got, want store.AuthCode) string               { return recordDiff(got, want) }
func tokenDiff(got, want store.Token) string                     { return recordDiff(got, want) }
