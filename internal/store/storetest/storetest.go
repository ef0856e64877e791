// Package storetest is the conformance suite for store.Store. Every backend
// runs it from its own tests, so a behaviour that differs between backends
// fails here rather than in production behind a load balancer.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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

func sameBytes(a, b []byte) bool {
	return len(a) == 0 && len(b) == 0 || string(a) == string(b)
}

// diffs collects field mismatches so one failure reports all of them.
type diffs []string

func (d *diffs) check(ok bool, field string, got, want any) {
	if !ok {
		*d = append(*d, fmt.Sprintf("%s = %v, want %v", field, got, want))
	}
}

func (d diffs) String() string { return strings.Join(d, "; ") }

func accountDiff(got, want store.GoogleAccount) string {
	var d diffs
	d.check(got.Email == want.Email, "Email", got.Email, want.Email)
	d.check(got.Subject == want.Subject, "Subject", got.Subject, want.Subject)
	d.check(sameStrings(got.Scopes, want.Scopes), "Scopes", got.Scopes, want.Scopes)
	d.check(sameBytes(got.SealedToken, want.SealedToken), "SealedToken", got.SealedToken, want.SealedToken)
	d.check(got.NeedsReconsent == want.NeedsReconsent, "NeedsReconsent", got.NeedsReconsent, want.NeedsReconsent)
	d.check(sameInstant(got.CreatedAt, want.CreatedAt), "CreatedAt", got.CreatedAt, want.CreatedAt)
	d.check(sameInstant(got.UpdatedAt, want.UpdatedAt), "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	d.check(sameInstant(got.LastRefreshAt, want.LastRefreshAt), "LastRefreshAt", got.LastRefreshAt, want.LastRefreshAt)
	d.check(sameInstant(got.RefreshTokenObtainedAt, want.RefreshTokenObtainedAt), "RefreshTokenObtainedAt", got.RefreshTokenObtainedAt, want.RefreshTokenObtainedAt)
	return d.String()
}

func authTransactionDiff(got, want store.AuthTransaction) string {
	var d diffs
	d.check(got.State == want.State, "State", got.State, want.State)
	d.check(got.Kind == want.Kind, "Kind", got.Kind, want.Kind)
	d.check(sameBytes(got.SealedVerifier, want.SealedVerifier), "SealedVerifier", got.SealedVerifier, want.SealedVerifier)
	d.check(sameStrings(got.GoogleScopes, want.GoogleScopes), "GoogleScopes", got.GoogleScopes, want.GoogleScopes)
	d.check(got.LoginHint == want.LoginHint, "LoginHint", got.LoginHint, want.LoginHint)
	d.check(got.ForceConsent == want.ForceConsent, "ForceConsent", got.ForceConsent, want.ForceConsent)
	d.check(sameBytes(got.SealedSessionID, want.SealedSessionID), "SealedSessionID", got.SealedSessionID, want.SealedSessionID)
	d.check(got.ClientID == want.ClientID, "ClientID", got.ClientID, want.ClientID)
	d.check(got.RedirectURI == want.RedirectURI, "RedirectURI", got.RedirectURI, want.RedirectURI)
	d.check(got.ClientState == want.ClientState, "ClientState", got.ClientState, want.ClientState)
	d.check(got.CodeChallenge == want.CodeChallenge, "CodeChallenge", got.CodeChallenge, want.CodeChallenge)
	d.check(got.Resource == want.Resource, "Resource", got.Resource, want.Resource)
	d.check(sameStrings(got.Scopes, want.Scopes), "Scopes", got.Scopes, want.Scopes)
	d.check(sameInstant(got.CreatedAt, want.CreatedAt), "CreatedAt", got.CreatedAt, want.CreatedAt)
	d.check(sameInstant(got.ExpiresAt, want.ExpiresAt), "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	return d.String()
}

func bindingDiff(got, want store.SessionBinding) string {
	var d diffs
	d.check(got.SessionID == want.SessionID, "SessionID", got.SessionID, want.SessionID)
	d.check(got.Email == want.Email, "Email", got.Email, want.Email)
	d.check(sameInstant(got.CreatedAt, want.CreatedAt), "CreatedAt", got.CreatedAt, want.CreatedAt)
	d.check(sameInstant(got.ExpiresAt, want.ExpiresAt), "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.check(got.Replaced == want.Replaced, "Replaced", got.Replaced, want.Replaced)
	return d.String()
}

func clientDiff(got, want store.Client) string {
	var d diffs
	d.check(got.ID == want.ID, "ID", got.ID, want.ID)
	d.check(sameBytes(got.SecretHash, want.SecretHash), "SecretHash", got.SecretHash, want.SecretHash)
	d.check(got.Name == want.Name, "Name", got.Name, want.Name)
	d.check(sameStrings(got.RedirectURIs, want.RedirectURIs), "RedirectURIs", got.RedirectURIs, want.RedirectURIs)
	d.check(sameStrings(got.GrantTypes, want.GrantTypes), "GrantTypes", got.GrantTypes, want.GrantTypes)
	d.check(sameStrings(got.ResponseTypes, want.ResponseTypes), "ResponseTypes", got.ResponseTypes, want.ResponseTypes)
	d.check(got.TokenEndpointAuthMethod == want.TokenEndpointAuthMethod, "TokenEndpointAuthMethod", got.TokenEndpointAuthMethod, want.TokenEndpointAuthMethod)
	d.check(got.ApplicationType == want.ApplicationType, "ApplicationType", got.ApplicationType, want.ApplicationType)
	d.check(got.Scope == want.Scope, "Scope", got.Scope, want.Scope)
	d.check(got.ClientURI == want.ClientURI, "ClientURI", got.ClientURI, want.ClientURI)
	d.check(got.LogoURI == want.LogoURI, "LogoURI", got.LogoURI, want.LogoURI)
	d.check(sameInstant(got.CreatedAt, want.CreatedAt), "CreatedAt", got.CreatedAt, want.CreatedAt)
	return d.String()
}

func authCodeDiff(got, want store.AuthCode) string {
	var d diffs
	d.check(got.Hash == want.Hash, "Hash", got.Hash, want.Hash)
	d.check(got.ClientID == want.ClientID, "ClientID", got.ClientID, want.ClientID)
	d.check(got.RedirectURI == want.RedirectURI, "RedirectURI", got.RedirectURI, want.RedirectURI)
	d.check(got.CodeChallenge == want.CodeChallenge, "CodeChallenge", got.CodeChallenge, want.CodeChallenge)
	d.check(got.Resource == want.Resource, "Resource", got.Resource, want.Resource)
	d.check(sameStrings(got.Scopes, want.Scopes), "Scopes", got.Scopes, want.Scopes)
	d.check(got.Email == want.Email, "Email", got.Email, want.Email)
	d.check(got.FamilyID == want.FamilyID, "FamilyID", got.FamilyID, want.FamilyID)
	d.check(sameInstant(got.CreatedAt, want.CreatedAt), "CreatedAt", got.CreatedAt, want.CreatedAt)
	d.check(sameInstant(got.ExpiresAt, want.ExpiresAt), "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.check(sameInstant(got.RedeemedAt, want.RedeemedAt), "RedeemedAt", got.RedeemedAt, want.RedeemedAt)
	return d.String()
}

func tokenDiff(got, want store.Token) string {
	var d diffs
	d.check(got.Hash == want.Hash, "Hash", got.Hash, want.Hash)
	d.check(got.Kind == want.Kind, "Kind", got.Kind, want.Kind)
	d.check(got.FamilyID == want.FamilyID, "FamilyID", got.FamilyID, want.FamilyID)
	d.check(got.ClientID == want.ClientID, "ClientID", got.ClientID, want.ClientID)
	d.check(got.Email == want.Email, "Email", got.Email, want.Email)
	d.check(got.Resource == want.Resource, "Resource", got.Resource, want.Resource)
	d.check(sameStrings(got.Scopes, want.Scopes), "Scopes", got.Scopes, want.Scopes)
	d.check(sameInstant(got.CreatedAt, want.CreatedAt), "CreatedAt", got.CreatedAt, want.CreatedAt)
	d.check(sameInstant(got.ExpiresAt, want.ExpiresAt), "ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.check(sameInstant(got.RotatedAt, want.RotatedAt), "RotatedAt", got.RotatedAt, want.RotatedAt)
	d.check(sameBytes(got.Successor, want.Successor), "Successor", got.Successor, want.Successor)
	d.check(sameInstant(got.RevokedAt, want.RevokedAt), "RevokedAt", got.RevokedAt, want.RevokedAt)
	return d.String()
}
