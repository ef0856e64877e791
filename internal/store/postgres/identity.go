package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drivemcp/drivemcp/internal/store"
)

// subjectLockSpace is the first key of the advisory lock a sign-in takes on
// Google's sub ("subj" in ASCII), before the one on the address: every
// sign-in takes the two in that order, so two of them cannot deadlock.
const subjectLockSpace int32 = 0x7375626a

// errNoSubject refuses a sign-in that does not say who signed in: without
// Google's sub an address given to someone else could not be told apart.
var errNoSubject = errors.New("postgres: a Google sign-in needs the account's subject (sub)")

// SignInGoogleAccount records a sign-in by subject at email (see
// store.Store): it retires another person's account at the address, moves
// the same person's account from an old address, and writes update's
// result, in one transaction holding the locks of both the subject and the
// address.
func (s *Store) SignInGoogleAccount(ctx context.Context, email, subject string,
	update func(old store.GoogleAccount, exists bool) (store.GoogleAccount, error)) (store.SignIn, error) {
	if subject == "" {
		return store.SignIn{}, errNoSubject
	}
	var res store.SignIn
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, subjectLockSpace, subject); err != nil {
			return wrap(ctx, "locking a google subject", err)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, accountLockSpace, email); err != nil {
			return wrap(ctx, "locking google account "+email, err)
		}
		here, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM google_accounts WHERE email = $1 FOR UPDATE`, email))
		hereExists := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return wrap(ctx, "google account "+email, err)
		}
		rows, err := tx.Query(ctx, `SELECT `+accountColumns+` FROM google_accounts
			WHERE subject = $1 AND email <> $2 ORDER BY updated_at DESC, email FOR UPDATE`, subject, email)
		if err != nil {
			return wrap(ctx, "google accounts of a subject", err)
		}
		elsewhere, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.GoogleAccount, error) { return scanAccount(row) })
		if err != nil {
			return wrap(ctx, "google accounts of a subject", err)
		}
		stamped := now()
		res, err = store.ApplySignIn(email, subject, store.SignInRows{Here: here, HereExists: hereExists, Elsewhere: elsewhere}, stamped,
			store.SignInWrites{
				Retire: func(e string) error { return retireAccount(ctx, tx, e, stamped) },
				Move:   func(from, to string) error { return moveAccount(ctx, tx, from, to) },
				Write:  func(a store.GoogleAccount, exists bool) error { return writeAccount(ctx, tx, a, exists) },
			}, update, func(a *store.GoogleAccount) {
				a.Scopes = fromList(a.Scopes)
				a.SealedToken = dbBytes(a.SealedToken)
				a.LastRefreshAt = fromDB(dbTime(a.LastRefreshAt))
				a.RefreshTokenObtainedAt = fromDB(dbTime(a.RefreshTokenObtainedAt))
			})
		return err
	})
	if err != nil {
		return store.SignIn{}, err
	}
	return res, nil
}

// retireAccount ends everything issued for the account at email: its tokens
// are revoked (kept, so that a replay is still recognised), its unredeemed
// codes deleted, its session bindings marked replaced, and its row removed. Rows are
// locked in key order, as in every multi-row write here.
func retireAccount(ctx context.Context, tx pgx.Tx, email string, revokedAt time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = $2 WHERE hash IN (
		SELECT hash FROM tokens WHERE email = $1 AND revoked_at IS NULL ORDER BY hash FOR UPDATE)`, email, revokedAt); err != nil {
		return wrap(ctx, "revoking the tokens of "+email, err)
	}
	for _, q := range []string{
		`DELETE FROM auth_codes WHERE hash IN (
			SELECT hash FROM auth_codes WHERE email = $1 AND redeemed_at IS NULL ORDER BY hash FOR UPDATE)`,
		`UPDATE session_bindings SET replaced = true WHERE session_hash IN (
			SELECT session_hash FROM session_bindings WHERE email = $1 ORDER BY session_hash FOR UPDATE)`,
		`DELETE FROM google_accounts WHERE email = $1`,
	} {
		if _, err := tx.Exec(ctx, q, email); err != nil {
			return wrap(ctx, "retiring google account "+email, err)
		}
	}
	return nil
}

// moveAccount makes everything that names from name to instead, and removes
// from's row (the caller writes the account at to).
func moveAccount(ctx context.Context, tx pgx.Tx, from, to string) error {
	for _, q := range []string{
		`UPDATE tokens SET email = $2 WHERE hash IN (
			SELECT hash FROM tokens WHERE email = $1 ORDER BY hash FOR UPDATE)`,
		`UPDATE auth_codes SET email = $2 WHERE hash IN (
			SELECT hash FROM auth_codes WHERE email = $1 ORDER BY hash FOR UPDATE)`,
		`UPDATE session_bindings SET email = $2 WHERE session_hash IN (
			SELECT session_hash FROM session_bindings WHERE email = $1 AND NOT replaced ORDER BY session_hash FOR UPDATE)`,
	} {
		if _, err := tx.Exec(ctx, q, from, to); err != nil {
			return wrap(ctx, "moving google account "+from, err)
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM google_accounts WHERE email = $1`, from); err != nil {
		return wrap(ctx, "moving google account "+from, err)
	}
	return nil
}
