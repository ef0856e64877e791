package sqlite

import (
	"context"
	"fmt"
	"time"
)

// replayMemory is how long authorization codes and tokens are kept past
// their expiry: a code or refresh token replayed late is then still
// recognised as used (and its family revoked) instead of looking unknown.
const replayMemory = 24 * time.Hour

// DeleteExpired removes transactions and bindings that expired before now,
// and codes and tokens that expired more than replayMemory before now. Each
// DELETE is atomic on its own; running it twice at once just finds less to
// do the second time.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	for _, table := range []struct {
		name   string
		before time.Time
	}{
		{"auth_transactions", now},
		{"session_bindings", now},
		{"auth_codes", now.Add(-replayMemory)},
		{"tokens", now.Add(-replayMemory)},
	} {
		if _, err := s.write.ExecContext(ctx, `DELETE FROM `+table.name+` WHERE expires_at < ?`, table.before.UnixMilli()); err != nil {
			return fmt.Errorf("sqlite: deleting expired %s: %w", table.name, err)
		}
	}
	return nil
}
