package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drivemcp/drivemcp/internal/store"
)

// BindSession creates or replaces the binding for b.SessionID. Every session
// key here is store.HashSecret of the id.
func (s *Store) BindSession(ctx context.Context, b store.SessionBinding) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO session_bindings (session_hash, email, created_at, expires_at, replaced)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (session_hash) DO UPDATE SET email = excluded.email,
			created_at = excluded.created_at, expires_at = excluded.expires_at, replaced = excluded.replaced`,
		store.HashSecret(b.SessionID), b.Email, dbTime(b.CreatedAt), dbTime(b.ExpiresAt), b.Replaced); err != nil {
		return wrap(ctx, "binding session", err)
	}
	return nil
}

// GetSessionBinding returns the binding, or store.ErrNotFound if there is none
// or it has expired at now.
func (s *Store) GetSessionBinding(ctx context.Context, sessionID string, now time.Time) (store.SessionBinding, error) {
	b := store.SessionBinding{SessionID: sessionID}
	var created, expires *time.Time
	err := s.pool.QueryRow(ctx, `SELECT email, created_at, expires_at, replaced FROM session_bindings
		WHERE session_hash = $1 AND expires_at >= $2`, store.HashSecret(sessionID), instant(now)).Scan(&b.Email, &created, &expires, &b.Replaced)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.SessionBinding{}, fmt.Errorf("postgres: session binding: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.SessionBinding{}, wrap(ctx, "reading session binding", err)
	}
	b.CreatedAt, b.ExpiresAt = fromDB(created), fromDB(expires)
	return b, nil
}

// DeleteSessionBinding removes the binding if there is one.
func (s *Store) DeleteSessionBinding(ctx context.Context, sessionID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM session_bindings WHERE session_hash = $1`, store.HashSecret(sessionID)); err != nil {
		return wrap(ctx, "deleting session binding", err)
	}
	return nil
}
