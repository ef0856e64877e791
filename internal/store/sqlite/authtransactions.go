package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// CreateAuthTransaction stores a pending flow under the hash of its state;
// store.ErrAlreadyExists if the state is taken.
func (s *Store) CreateAuthTransaction(ctx context.Context, t store.AuthTransaction) error {
	res, err := s.write.ExecContext(ctx, `INSERT INTO auth_transactions (
		state_hash, kind, sealed_verifier, google_scopes, login_hint, sealed_session_id, client_id,
		redirect_uri, client_state, code_challenge, resource, scopes, created_at, expires_at, force_consent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (state_hash) DO NOTHING`,
		store.HashSecret(t.State), string(t.Kind), t.SealedVerifier, encodeList(t.GoogleScopes), t.LoginHint, t.SealedSessionID, t.ClientID,
		t.RedirectURI, t.ClientState, t.CodeChallenge, t.Resource, encodeList(t.Scopes), millis(t.CreatedAt), millis(t.ExpiresAt), t.ForceConsent)
	if err != nil {
		return fmt.Errorf("sqlite: creating auth transaction: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: creating auth transaction: %w", err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: auth transaction: %w", store.ErrAlreadyExists)
	}
	return nil
}

// TakeAuthTransaction removes and returns the transaction for state, or
// store.ErrNotFound if it is unknown or expired at now.
//
// One DELETE ... RETURNING statement is the whole transaction: it takes the
// write lock before it reads, so of two takers, in this process or another,
// the second finds nothing. An expired transaction is deleted as well, being
// of no further use.
func (s *Store) TakeAuthTransaction(ctx context.Context, state string, now time.Time) (store.AuthTransaction, error) {
	var (
		t                     = store.AuthTransaction{State: state}
		kind, gScopes, scopes string
		created, expires      int64
	)
	err := s.write.QueryRowContext(ctx, `DELETE FROM auth_transactions WHERE state_hash = ?
		RETURNING kind, sealed_verifier, google_scopes, login_hint, sealed_session_id, client_id,
		redirect_uri, client_state, code_challenge, resource, scopes, created_at, expires_at, force_consent`, store.HashSecret(state)).
		Scan(&kind, &t.SealedVerifier, &gScopes, &t.LoginHint, &t.SealedSessionID, &t.ClientID,
			&t.RedirectURI, &t.ClientState, &t.CodeChallenge, &t.Resource, &scopes, &created, &expires, &t.ForceConsent)
	if errors.Is(err, sql.ErrNoRows) {
		return store.AuthTransaction{}, fmt.Errorf("sqlite: auth transaction: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.AuthTransaction{}, fmt.Errorf("sqlite: taking auth transaction: %w", err)
	}
	if expires < now.UnixMilli() {
		return store.AuthTransaction{}, fmt.Errorf("sqlite: auth transaction expired: %w", store.ErrNotFound)
	}
	t.Kind = store.FlowKind(kind)
	if t.GoogleScopes, err = decodeList("auth_transactions.google_scopes", gScopes); err != nil {
		return store.AuthTransaction{}, fmt.Errorf("sqlite: taking auth transaction: %w", err)
	}
	if t.Scopes, err = decodeList("auth_transactions.scopes", scopes); err != nil {
		return store.AuthTransaction{}, fmt.Errorf("sqlite: taking auth transaction: %w", err)
	}
	t.CreatedAt, t.ExpiresAt = fromMillis(created), fromMillis(expires)
	return t, nil
}

// AuthTransactionPending reports whether the transaction for state exists
// and has not expired at now.
func (s *Store) AuthTransactionPending(ctx context.Context, state string, now time.Time) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM auth_transactions WHERE state_hash = ? AND expires_at >= ?`,
		store.HashSecret(state), now.UnixMilli()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: reading auth transaction: %w", err)
	}
	return n > 0, nil
}
