package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// replayMemory is how long the contract keeps codes and tokens past expiry,
// so a late replay is still recognised and answered invalid_grant.
const replayMemory = 24 * time.Hour

func testDeleteExpiredCodesAndTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at.Add(48 * time.Hour)
	expiries := map[string]time.Time{
		"gone":        now.Add(-replayMemory - time.Millisecond),
		"long-gone":   at,
		"edge":        now.Add(-replayMemory),
		"yesterday":   now.Add(-time.Hour),
		"unexpired":   now.Add(time.Hour),
		"revoked":     now.Add(-time.Hour),
		"revoked-old": now.Add(-replayMemory - time.Hour),
	}
	removed := map[string]bool{"gone": true, "long-gone": true, "revoked-old": true}

	for id, expires := range expiries {
		c := authCode("code-" + id)
		c.CreatedAt, c.ExpiresAt = expires.Add(-time.Minute), expires
		mustCreateAuthCode(t, s, c)
		// Redeemed codes are the ones worth keeping: a replay of one
		// revokes what it issued.
		mustRedeem(t, s, c.Hash, c.CreatedAt)

		tok := refreshToken("token-"+id, "fam")
		tok.ExpiresAt = expires
		if id == "revoked" || id == "revoked-old" {
			tok.RevokedAt = at
		}
		mustCreateTokens(t, s, tok)
	}
	client := confidentialClient("mcp_client")
	mustCreateClient(t, s, client)

	if err := s.DeleteExpired(ctx, now); err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}

	for id := range expiries {
		_, err := s.RedeemAuthCode(ctx, "code-"+id, now, nil)
		switch {
		case removed[id] && !errors.Is(err, store.ErrNotFound):
			t.Errorf("code %s, expired over a day ago: Redeem err = %v, want ErrNotFound (deleted)", id, err)
		case !removed[id] && !errors.Is(err, store.ErrCodeRedeemed):
			t.Errorf("code %s, expired at most a day ago: Redeem err = %v, want ErrCodeRedeemed (kept)", id, err)
		}
		if removed[id] {
			wantTokenGone(t, s, "token-"+id)
		} else if _, err := s.GetToken(ctx, "token-"+id); err != nil {
			t.Errorf("token %s, expired at most a day ago: %v, want it kept", id, err)
		}
	}
	if d := clientDiff(mustGetClient(t, s, client.ID), client); d != "" {
		t.Errorf("DeleteExpired touched a client: %s", d)
	}
}
