package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drivemcp/drivemcp/internal/store"
)

// authTransactionColumns are all but the key, state_hash: a taken
// transaction is returned with the state it was taken by.
const authTransactionColumns = `kind, sealed_verifier, google_scopes, login_hint, force_consent, sealed_session_id,
	client_id, redirect_uri, client_state, code_challenge, resource, scopes, created_at, expires_at`

// CreateAuthTransaction stores a pending flow under the hash of its state;
// store.ErrAlreadyExists if the state is taken.
func (s *Store) CreateAuthTransaction(ctx context.Context, t store.AuthTransaction) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_transactions (state_hash, `+authTransactionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		store.HashSecret(t.State), string(t.Kind), t.SealedVerifier, dbList(t.GoogleScopes), t.LoginHint, t.ForceConsent, t.SealedSessionID,
		t.ClientID, t.RedirectURI, t.ClientState, t.CodeChallenge, t.Resource, dbList(t.Scopes),
		dbTime(t.CreatedAt), dbTime(t.ExpiresAt)); err != nil {
		return wrap(ctx, "creating auth transaction", err)
	}
	return nil
}

// TakeAuthTransaction removes and returns the transaction for state, or
// store.ErrNotFound if it is unknown or expired at now.
//
// DELETE … RETURNING is the whole transaction: of two takers, in this
// process or another, the second waits for the first's row lock and then
// finds the row gone. An expired transaction is deleted as well, being of no
// further use.
func (s *Store) TakeAuthTransaction(ctx context.Context, state string, now time.Time) (store.AuthTransaction, error) {
	var (
		t                = store.AuthTransaction{State: state}
		kind             string
		created, expires *time.Time
	)
	err := s.pool.QueryRow(ctx, `DELETE FROM auth_transactions WHERE state_hash = $1 RETURNING `+authTransactionColumns, store.HashSecret(state)).
		Scan(&kind, &t.SealedVerifier, &t.GoogleScopes, &t.LoginHint, &t.ForceConsent, &t.SealedSessionID,
			&t.ClientID, &t.RedirectURI, &t.ClientState, &t.CodeChallenge, &t.Resource, &t.Scopes, &created, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AuthTransaction{}, fmt.Errorf("postgres: auth transaction: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.AuthTransaction{}, wrap(ctx, "taking auth transaction", err)
	}
	t.Kind = store.FlowKind(kind)
	t.GoogleScopes, t.Scopes = fromList(t.GoogleScopes), fromList(t.Scopes)
	t.CreatedAt, t.ExpiresAt = fromDB(created), fromDB(expires)
	if t.ExpiresAt.Before(instant(now)) {
		return store.AuthTransaction{}, fmt.Errorf("postgres: auth transaction expired: %w", store.ErrNotFound)
	}
	return t, nil
}

// AuthTransactionPending reports whether the transaction for state exists
// and has not expired at now.
func (s *Store) AuthTransactionPending(ctx context.Context, state string, now time.Time) (bool, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM auth_transactions WHERE state_hash = $1 AND expires_at >= $2`,
		store.HashSecret(state), instant(now)).Scan(&n)
	if err != nil {
		return false, wrap(ctx, "reading auth transaction", err)
	}
	return n > 0, nil
}
