package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// CheckDatabaseCopy is the backend half of the "someone with the database"
// threat: after a transaction is created and a session bound, dump (every
// value of every table, read as a copy of the database would be) must hold
// neither the state nor the session id, while the store itself still finds
// both by the clear value. Sealing the verifier is the caller's part; it is
// checked in internal/authserver.
func CheckDatabaseCopy(t *testing.T, s store.Store, dump func(t *testing.T) []string) {
	t.Helper()
	ctx := t.Context()
	const (
		state      = "state-7d1f0c9e4b2a"
		consentID  = "consent-5e8a3b6c1d0f"
		sessionKey = "session-2c4e6a8b0d1f"
	)
	tx := proxyTransaction(state)
	tx.SealedVerifier = []byte{0x01, 0xde, 0xad, 0xbe, 0xef} // opaque, as the authorization server hands it over
	mustCreateTransaction(t, s, tx)
	consent := store.AuthTransaction{State: consentID, Kind: store.FlowConsent, ClientID: "mcp_client",
		CreatedAt: at, ExpiresAt: at.Add(10 * time.Minute)}
	mustCreateTransaction(t, s, consent)
	mustBind(t, s, store.SessionBinding{SessionID: sessionKey, Email: "ada@example.com", CreatedAt: at, ExpiresAt: at.Add(time.Hour)})

	cells := dump(t)
	if len(cells) == 0 {
		t.Fatal("the dump of the database is empty")
	}
	for _, c := range cells {
		for name, secret := range map[string]string{"state": state, "consent id": consentID, "session id": sessionKey} {
			if strings.Contains(c, secret) {
				t.Errorf("a copy of the database holds the %s in the clear: %q", name, c)
			}
		}
	}

	if b, err := s.GetSessionBinding(ctx, sessionKey, at); err != nil || b.SessionID != sessionKey || b.Email != "ada@example.com" {
		t.Errorf("GetSessionBinding(%s) = %+v, %v; want the binding back under its id", sessionKey, b, err)
	}
	got, err := s.TakeAuthTransaction(ctx, state, at)
	if err != nil {
		t.Fatalf("TakeAuthTransaction(%s): %v", state, err)
	}
	if d := authTransactionDiff(got, tx); d != "" {
		t.Errorf("transaction taken by its state: %s", d)
	}
	if _, err := s.TakeAuthTransaction(ctx, store.HashSecret(consentID), at); err == nil {
		t.Error("the hash of a consent id, as a copy of the database shows it, took the transaction")
	}
}
