package sqlite

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

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
		if _, err := s.RedeemAuthCode(ctx, "c0de", zero, nil); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("RedeemAuthCode at %v: err = %v, want a refusal", zero, err)
		}
		if err := s.RevokeToken(ctx, "tok", zero); err == nil {
			t.Errorf("RevokeToken at %v: no error", zero)
		}
		if err := s.RevokeFamily(ctx, "fam", zero); err == nil {
			t.Errorf("RevokeFamily at %v: no error", zero)
		}
	}
	if _, err := s.RedeemAuthCode(ctx, "c0de", time.Now(), nil); err != nil {
		t.Errorf("the code was spent by a refused redemption: %v", err)
	}
}
