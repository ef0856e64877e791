package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// selectSessionBinding is prepared on the read pool (statements.go). Its
// argument, like every session key here, is store.HashSecret of the id.
const selectSessionBinding = `SELECT email, created_at, expires_at, replaced FROM session_bindings
	WHERE session_hash = ? AND expires_at >= ?`

// BindSession creates or replaces the binding for b.SessionID.
func (s *Store) BindSession(ctx context.Context, b store.SessionBinding) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO session_bindings (session_hash, email, created_at, expires_at, replaced)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (session_hash) DO UPDATE SET email = excluded.email,
			created_at = excluded.created_at, expires_at = excluded.expires_at, replaced = excluded.replaced`,
		store.HashSecret(b.SessionID), b.Email, millis(b.CreatedAt), millis(b.ExpiresAt), b.Replaced)
	if err != nil {
		return fmt.Errorf("sqlite: binding session: %w", err)
	}
	return nil
}

// GetSessionBinding returns the binding, or store.ErrNotFound if there is none
// or it has expired at now.
func (s *Store) GetSessionBinding(ctx context.Context, sessionID string, now time.Time) (store.SessionBinding, error) {
	b := store.SessionBinding{SessionID: sessionID}
	var created, expires int64
	err := s.stmts.sessionBinding.QueryRowContext(ctx, store.HashSecret(sessionID), now.UnixMilli()).Scan(&b.Email, &created, &expires, &b.Replaced)
	if errors.Is(err, sql.ErrNoRows) {
		return store.SessionBinding{}, fmt.Errorf("sqlite: session binding: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.SessionBinding{}, fmt.Errorf("sqlite: reading session binding: %w", err)
	}
	b.CreatedAt, b.ExpiresAt = fromMillis(created), fromMillis(expires)
	return b, nil
}

// DeleteSessionBinding removes the binding if there is one.
func (s *Store) DeleteSessionBinding(ctx context.Context, sessionID string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM session_bindings WHERE session_hash = ?`, store.HashSecret(sessionID)); err != nil {
		return fmt.Errorf("sqlite: deleting session binding: %w", err)
	}
	return nil
}
