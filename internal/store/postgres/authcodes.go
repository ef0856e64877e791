package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drivemcp/drivemcp/internal/store"
)

const authCodeColumns = `hash, client_id, redirect_uri, code_challenge, resource, scopes, email, family_id,
	created_at, expires_at, redeemed_at`

func scanAuthCode(row pgx.Row) (store.AuthCode, error) {
	var (
		c                          store.AuthCode
		created, expires, redeemed *time.Time
	)
	if err := row.Scan(&c.Hash, &c.ClientID, &c.RedirectURI, &c.CodeChallenge, &c.Resource, &c.Scopes, &c.Email, &c.FamilyID,
		&created, &expires, &redeemed); err != nil {
		return store.AuthCode{}, err
	}
	c.Scopes = fromList(c.Scopes)
	c.CreatedAt, c.ExpiresAt, c.RedeemedAt = fromDB(created), fromDB(expires), fromDB(redeemed)
	return c, nil
}

// CreateAuthCode stores a new code; store.ErrAlreadyExists if the hash is
// taken.
func (s *Store) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO auth_codes (`+authCodeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.Hash, c.ClientID, c.RedirectURI, c.CodeChallenge, c.Resource, dbList(c.Scopes), c.Email, c.FamilyID,
		dbTime(c.CreatedAt), dbTime(c.ExpiresAt), dbTime(c.RedeemedAt)); err != nil {
		return wrap(ctx, "creating authorization code", err)
	}
	return nil
}

// RedeemAuthCode marks the code redeemed at now and returns it, with the
// tokens issue returns for it stored in the same transaction. A code
// redeemed before comes back, as first redeemed, with store.ErrCodeRedeemed;
// an unknown code, or one expired at now and never redeemed, gives
// store.ErrNotFound. issue's error is returned as is, the redemption kept.
// The zero now is refused.
//
// The UPDATE … RETURNING is the redemption. Of several redeemers, in this
// process or another, one locks the row first; the others wait for its
// commit, re-check the row as committed, find redeemed_at set and update
// nothing. Their second read therefore sees the code redeemed: redemption is
// never undone, only the row deleted by DeleteExpired, which reads as unknown.
func (s *Store) RedeemAuthCode(ctx context.Context, hash string, now time.Time, issue store.IssueFunc) (store.AuthCode, error) {
	redeemedAt, err := stamp(now)
	if err != nil {
		return store.AuthCode{}, fmt.Errorf("postgres: redeeming authorization code: %w", err)
	}
	const redeem = `UPDATE auth_codes SET redeemed_at = $1
		WHERE hash = $2 AND redeemed_at IS NULL AND expires_at >= $1
		RETURNING ` + authCodeColumns
	var c store.AuthCode
	if issue == nil {
		c, err = scanAuthCode(s.pool.QueryRow(ctx, redeem, redeemedAt, hash))
	} else {
		var refused error // issue's verdict, returned once the redemption is committed
		err = s.inTx(ctx, func(tx pgx.Tx) error {
			var err error
			if c, err = scanAuthCode(tx.QueryRow(ctx, redeem, redeemedAt, hash)); err != nil {
				return err
			}
			tokens, err := issue(c)
			if err != nil {
				refused = err
				return nil
			}
			return insertTokens(ctx, tx, tokens)
		})
		if err == nil && refused != nil {
			return c, refused
		}
	}
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.AuthCode{}, wrap(ctx, "redeeming authorization code", err)
	}

	c, err = scanAuthCode(s.pool.QueryRow(ctx, `SELECT `+authCodeColumns+` FROM auth_codes WHERE hash = $1`, hash))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.AuthCode{}, fmt.Errorf("postgres: authorization code: %w", store.ErrNotFound)
	case err != nil:
		return store.AuthCode{}, wrap(ctx, "reading authorization code", err)
	case c.RedeemedAt.IsZero():
		// Expired, or created only after the UPDATE looked.
		return store.AuthCode{}, fmt.Errorf("postgres: authorization code expired: %w", store.ErrNotFound)
	}
	return c, fmt.Errorf("postgres: %w", store.ErrCodeRedeemed)
}
