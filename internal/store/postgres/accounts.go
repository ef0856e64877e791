package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drivemcp/drivemcp/internal/store"
)

const accountColumns = `email, subject, scopes, sealed_token, needs_reconsent, created_at, updated_at, last_refresh_at, refresh_token_obtained_at`

// accountLockSpace is the first key of the advisory locks that creators of an
// account take ("acct" in ASCII); the second is a hash of the email. Two
// emails whose hashes collide only take turns.
const accountLockSpace int32 = 0x61636374

func scanAccount(row pgx.Row) (store.GoogleAccount, error) {
	var (
		a                           store.GoogleAccount
		created, updated, refreshed *time.Time
		obtained                    *time.Time
	)
	if err := row.Scan(&a.Email, &a.Subject, &a.Scopes, &a.SealedToken, &a.NeedsReconsent, &created, &updated, &refreshed, &obtained); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return store.GoogleAccount{}, store.ErrNotFound
		}
		return store.GoogleAccount{}, err
	}
	a.Scopes = fromList(a.Scopes)
	a.CreatedAt, a.UpdatedAt, a.LastRefreshAt = fromDB(created), fromDB(updated), fromDB(refreshed)
	a.RefreshTokenObtainedAt = fromDB(obtained)
	return a, nil
}

// GetGoogleAccount returns the account, or store.ErrNotFound. It takes no
// lock, so it never waits for an updater: it sees the last commit.
func (s *Store) GetGoogleAccount(ctx context.Context, email string) (store.GoogleAccount, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM google_accounts WHERE email = $1`, email))
	if err != nil {
		return store.GoogleAccount{}, wrap(ctx, "google account "+email, err)
	}
	return a, nil
}

// ListGoogleAccounts returns every account ordered by email, byte-wise.
func (s *Store) ListGoogleAccounts(ctx context.Context) ([]store.GoogleAccount, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountColumns+` FROM google_accounts ORDER BY email`)
	if err != nil {
		return nil, wrap(ctx, "listing google accounts", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.GoogleAccount, error) {
		return scanAccount(row)
	})
	if err != nil {
		return nil, wrap(ctx, "listing google accounts", err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}

// UpsertGoogleAccount runs update on the account (or on a new one) while
// holding the account's locks, and writes the result.
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

// writeAccount reads the account FOR UPDATE, which excludes its other
// updaters, in every process, until the commit. A row lock cannot guard a
// row that does not exist yet, so an upsert first takes an advisory lock on
// the email: two callbacks creating one account take turns, and the second
// sees the first's row.
func (s *Store) writeAccount(ctx context.Context, email string, create bool,
	update func(old store.GoogleAccount, exists bool) (store.GoogleAccount, error)) (store.GoogleAccount, error) {
	var written store.GoogleAccount
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if create {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, accountLockSpace, email); err != nil {
				return wrap(ctx, "locking google account "+email, err)
			}
		}
		old, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM google_accounts WHERE email = $1 FOR UPDATE`, email))
		exists := err == nil
		switch {
		case errors.Is(err, store.ErrNotFound) && create:
			old = store.GoogleAccount{Email: email}
		case err != nil:
			return wrap(ctx, "google account "+email, err)
		}

		a, err := update(old, exists)
		if err != nil {
			return err
		}
		if a.Email == "" {
			a.Email = email
		}
		if a.Email != email {
			return fmt.Errorf("postgres: the updater of google account %s returned account %s; an update cannot change the email", email, a.Email)
		}
		a.UpdatedAt = now()
		a.CreatedAt = old.CreatedAt
		if !exists {
			a.CreatedAt = a.UpdatedAt
		}
		a.Scopes = fromList(a.Scopes)
		a.SealedToken = dbBytes(a.SealedToken)
		a.LastRefreshAt = fromDB(dbTime(a.LastRefreshAt))
		a.RefreshTokenObtainedAt = fromDB(dbTime(a.RefreshTokenObtainedAt))

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
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM google_accounts WHERE email = $1`, email)
		if err != nil {
			return wrap(ctx, "deleting google account "+email, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: google account %s: %w", email, store.ErrNotFound)
		}
		// Rows locked in key order, like every multi-row write here, so
		// that this and a concurrent DeleteExpired cannot deadlock.
		if _, err := tx.Exec(ctx, `DELETE FROM session_bindings WHERE session_hash IN (
			SELECT session_hash FROM session_bindings WHERE email = $1 ORDER BY session_hash FOR UPDATE)`, email); err != nil {
			return wrap(ctx, "deleting session bindings of "+email, err)
		}
		return nil
	})
}

// writeAccount inserts a (exists false) or overwrites its row: the one place
// that knows google_accounts' columns, for upserts and sign-ins alike.
func writeAccount(ctx context.Context, tx pgx.Tx, a store.GoogleAccount, exists bool) error {
	q := `UPDATE google_accounts SET subject = $2, scopes = $3, sealed_token = $4, needs_reconsent = $5,
		created_at = $6, updated_at = $7, last_refresh_at = $8, refresh_token_obtained_at = $9 WHERE email = $1`
	if !exists {
		q = `INSERT INTO google_accounts (` + accountColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	}
	if _, err := tx.Exec(ctx, q, a.Email, a.Subject, dbList(a.Scopes), a.SealedToken, a.NeedsReconsent,
		dbTime(a.CreatedAt), dbTime(a.UpdatedAt), dbTime(a.LastRefreshAt), dbTime(a.RefreshTokenObtainedAt)); err != nil {
		return wrap(ctx, "writing google account "+a.Email, err)
	}
	return nil
}
