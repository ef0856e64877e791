package postgres

import (
	"context"
	"time"
)

// replayMemory is how long authorization codes and tokens are kept past
// their expiry: a code or refresh token replayed late is then still
// recognised as used (and its family revoked) instead of looking unknown.
const replayMemory = 24 * time.Hour

// DeleteExpired removes transactions and bindings that expired before now,
// and codes and tokens that expired more than replayMemory before now. A
// row with no expiry (the zero time, NULL) counts as long expired, as it
// does everywhere else.
//
// Each DELETE is its own transaction and locks its rows in key order before
// deleting them. Two processes cleaning at once therefore queue on the first
// row they share instead of deadlocking, and the second finds those rows
// gone; the same order in RevokeFamily and DeleteGoogleAccount keeps them
// out of deadlocks with it too.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	for _, table := range []struct {
		name, key string
		before    time.Time
	}{
		{"auth_transactions", "state_hash", now},
		{"session_bindings", "session_hash", now},
		{"auth_codes", "hash", now.Add(-replayMemory)},
		{"tokens", "hash", now.Add(-replayMemory)},
	} {
		if _, err := s.pool.Exec(ctx, `DELETE FROM `+table.name+` WHERE `+table.key+` IN (
			SELECT `+table.key+` FROM `+table.name+` WHERE expires_at < $1 OR expires_at IS NULL
			ORDER BY `+table.key+` FOR UPDATE)`, instant(table.before)); err != nil {
			return wrap(ctx, "deleting expired "+table.name, err)
		}
	}
	return nil
}
