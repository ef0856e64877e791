package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/drivemcp/drivemcp/internal/store"
)

const accountColumns = `email, subject, scopes, sealed_token, needs_reconsent, created_at, updated_at, last_refresh_at, refresh_token_obtained_at`

// selectAccount is prepared on the read pool (statements.go).
const selectAccount = `SELECT ` + accountColumns + ` FROM google_accounts WHERE email = ?`

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanAccount(row rowScanner) (store.GoogleAccount, error) {
	var (
		a                           store.GoogleAccount
		scopes                      string
		created, updated, refreshed int64
		obtained                    int64
	)
	if err := row.Scan(&a.Email, &a.Subject, &scopes, &a.SealedToken, &a.NeedsReconsent, &created, &updated, &refreshed, &obtained); err != nil {
		return store.GoogleAccount{}, err
	}
	var err error
	if a.Scopes, err = decodeList("google_accounts.scopes", scopes); err != nil {
		return store.GoogleAccount{}, err
	}
	if len(a.SealedToken) == 0 {
		a.SealedToken = nil
	}
	a.CreatedAt, a.UpdatedAt, a.LastRefreshAt = fromMillis(created), fromMillis(updated), fromMillis(refreshed)
	a.RefreshTokenObtainedAt = fromMillis(obtained)
	return a, nil
}

// GetGoogleAccount returns the account, or store.ErrNotFound.
func (s *Store) GetGoogleAccount(ctx context.Context, email string) (store.GoogleAccount, error) {
	a, err := getAccount(s.stmts.account.QueryRowContext(ctx, email))
	if err != nil {
		return store.GoogleAccount{}, fmt.Errorf("sqlite: google account %s: %w", email, err)
	}
	return a, nil
}

// getAccount reads the answer to selectAccount, from the read pool or from
// a write transaction that already holds the lock.
func getAccount(row *sql.Row) (store.GoogleAccount, error) {
	a, err := scanAccount(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.GoogleAccount{}, store.ErrNotFound
	}
	return a, err
}

// ListGoogleAccounts returns every account ordered by email.
func (s *Store) ListGoogleAccounts(ctx context.Context) ([]store.GoogleAccount, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+accountColumns+` FROM google_accounts ORDER BY email`)
	return collectAccounts(rows, err, "listing google accounts")
}

// collectAccounts reads every account of a query's rows (err is the
// query's own), naming what failed as doing.
func collectAccounts(rows *sql.Rows, err error, doing string) ([]store.GoogleAccount, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", doing, err)
	}
	defer rows.Close()
	var list []store.GoogleAccount
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: %s: %w", doing, err)
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", doing, err)
	}
	return list, nil
}

// UpsertGoogleAccount runs update on the account (or on a new one) while
// holding the database's write lock, and writes the result.
func (s *Store) UpsertGoogleAccount(ctx context.Context, email string,
	update func(old store.GoogleAccount, exists bool) (store.GoogleAccount, error)) (store.GoogleAccount, error) {
	return s.writeAccount(ctx, email, true, update)
}

// UpdateGoogleAccount is UpsertGoogleAccount for an account that must exist.
func (s *Store) UpdateGoogleAccount(ctx context.Context, email string,
	update func(old store.GoogleAccount) (store.GoogleAccount, error)) (store.GoogleAccount, error) {
	return s.writeAccount(ctx, email, false, func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		return update(old)
	})
}

func (s *Store) writeAccount(ctx context.Context, email string, create bool,
	update func(old store.GoogleAccount, exists bool) (store.GoogleAccount, error)) (store.GoogleAccount, error) {
	var written store.GoogleAccount
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		// Not prepared: accounts are written at login and at a Google
		// refresh, not on every call.
		old, err := getAccount(tx.QueryRowContext(ctx, selectAccount, email))
		exists := err == nil
		switch {
		case errors.Is(err, store.ErrNotFound) && create:
			old = store.GoogleAccount{Email: email}
		case err != nil:
			return fmt.Errorf("sqlite: google account %s: %w", email, err)
		}

		a, err := update(old, exists)
		if err != nil {
			return err
		}
		if a.Email == "" {
			a.Email = email
		}
		if a.Email != email {
			return fmt.Errorf("sqlite: the updater of google account %s returned account %s; an update cannot change the email", email, a.Email)
		}
		a.UpdatedAt = now()
		a.CreatedAt = old.CreatedAt
		if !exists {
			a.CreatedAt = a.UpdatedAt
		}
		if len(a.Scopes) == 0 {
			a.Scopes = nil
		}
		if len(a.SealedToken) == 0 {
			a.SealedToken = nil
		}
		if err := writeAccount(ctx, tx, a, exists); err != nil {
			return err
		}
		written = a
		return nil
	})
	if err != nil {
		return store.GoogleAccount{}, err
	}
	return written, nil
}

// DeleteGoogleAccount removes the account and every session bound to it.
func (s *Store) DeleteGoogleAccount(ctx context.Context, email string) error {
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM google_accounts WHERE email = ?`, email)
		if err != nil {
			return fmt.Errorf("sqlite: deleting google account %s: %w", email, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: deleting google account %s: %w", email, err)
		} else if n == 0 {
			return fmt.Errorf("sqlite: google account %s: %w", email, store.ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM session_bindings WHERE email = ?`, email); err != nil {
			return fmt.Errorf("sqlite: deleting session bindings of %s: %w", email, err)
		}
		return nil
	})
}

// writeAccount inserts a (exists false) or overwrites its row: the one place
// that knows google_accounts' columns, for upserts and sign-ins alike.
func writeAccount(ctx context.Context, tx *sql.Tx, a store.GoogleAccount, exists bool) error {
	var token any // NULL when empty, so reads give nil
	if len(a.SealedToken) > 0 {
		token = a.SealedToken
	}
	q := `UPDATE google_accounts SET subject = ?2, scopes = ?3, sealed_token = ?4, needs_reconsent = ?5,
		created_at = ?6, updated_at = ?7, last_refresh_at = ?8, refresh_token_obtained_at = ?9 WHERE email = ?1`
	if !exists {
		q = `INSERT INTO google_accounts (` + accountColumns + `) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`
	}
	if _, err := tx.ExecContext(ctx, q, a.Email, a.Subject, encodeList(a.Scopes), token, a.NeedsReconsent,
		millis(a.CreatedAt), millis(a.UpdatedAt), millis(a.LastRefreshAt), millis(a.RefreshTokenObtainedAt)); err != nil {
		return fmt.Errorf("sqlite: writing google account %s: %w", a.Email, err)
	}
	return nil
}
