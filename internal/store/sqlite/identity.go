package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/drivemcp/drivemcp/internal/store"
)

// errNoSubject refuses a sign-in that does not say who signed in: without
// Google's sub an address given to someone else could not be told apart.
var errNoSubject = errors.New("sqlite: a Google sign-in needs the account's subject (sub)")

// SignInGoogleAccount records a sign-in by subject at email (see
// store.Store): under the database's write lock it retires another person's
// account at the address, moves the same person's account from an old
// address, and writes update's result.
func (s *Store) SignInGoogleAccount(ctx context.Context, email, subject string,
	update func(old store.GoogleAccount, exists bool) (store.GoogleAccount, error)) (store.SignIn, error) {
	if subject == "" {
		return store.SignIn{}, errNoSubject
	}
	var res store.SignIn
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		here, err := getAccount(tx.QueryRowContext(ctx, selectAccount, email))
		hereExists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("sqlite: google account %s: %w", email, err)
		}
		elsewhere, err := accountsOfSubject(ctx, tx, subject, email)
		if err != nil {
			return err
		}
		stamped := now()
		res, err = store.ApplySignIn(email, subject, store.SignInRows{Here: here, HereExists: hereExists, Elsewhere: elsewhere}, stamped,
			store.SignInWrites{
				Retire: func(e string) error { return retireAccount(ctx, tx, e, millis(stamped)) },
				Move:   func(from, to string) error { return moveAccount(ctx, tx, from, to) },
				Write:  func(a store.GoogleAccount, exists bool) error { return writeAccount(ctx, tx, a, exists) },
			}, update, func(a *store.GoogleAccount) {
				if len(a.Scopes) == 0 {
					a.Scopes = nil
				}
				if len(a.SealedToken) == 0 {
					a.SealedToken = nil
				}
			})
		return err
	})
	if err != nil {
		return store.SignIn{}, err
	}
	return res, nil
}

// accountsOfSubject returns the accounts of subject stored at addresses
// other than email, the most recently written first.
func accountsOfSubject(ctx context.Context, tx *sql.Tx, subject, email string) ([]store.GoogleAccount, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM google_accounts
		WHERE subject = ? AND email <> ? ORDER BY updated_at DESC, email`, subject, email)
	return collectAccounts(rows, err, "google accounts of a subject")
}

// retireAccount ends everything issued for the account at email: its tokens
// are revoked (kept, so that a replay is still recognised), its unredeemed
// codes deleted, its session bindings marked replaced, and its row removed.
func retireAccount(ctx context.Context, tx *sql.Tx, email string, revokedAt int64) error {
	for _, q := range []string{
		`UPDATE tokens SET revoked_at = ?2 WHERE email = ?1 AND revoked_at = 0`,
		`DELETE FROM auth_codes WHERE email = ?1 AND redeemed_at = 0`,
		`UPDATE session_bindings SET replaced = 1 WHERE email = ?1`,
		`DELETE FROM google_accounts WHERE email = ?1`,
	} {
		if _, err := tx.ExecContext(ctx, q, email, revokedAt); err != nil {
			return fmt.Errorf("sqlite: retiring google account %s: %w", email, err)
		}
	}
	return nil
}

// moveAccount makes everything that names from name to instead, and removes
// from's row (the caller writes the account at to).
func moveAccount(ctx context.Context, tx *sql.Tx, from, to string) error {
	for _, q := range []string{
		`UPDATE tokens SET email = ?2 WHERE email = ?1`,
		`UPDATE auth_codes SET email = ?2 WHERE email = ?1`,
		`UPDATE session_bindings SET email = ?2 WHERE email = ?1 AND replaced = 0`,
		`DELETE FROM google_accounts WHERE email = ?1`,
	} {
		if _, err := tx.ExecContext(ctx, q, from, to); err != nil {
			return fmt.Errorf("sqlite: moving google account %s to %s: %w", from, to, err)
		}
	}
	return nil
}
