package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

const authCodeColumns = `hash, client_id, redirect_uri, code_challenge, resource, scopes, email, family_id,
	created_at, expires_at, redeemed_at`

// redeemAuthCode is prepared on the write pool (statements.go); its
// parameters are the redemption time, the hash and now.
const redeemAuthCode = `UPDATE auth_codes SET redeemed_at = ?
	WHERE hash = ? AND redeemed_at = 0 AND expires_at >= ?
	RETURNING ` + authCodeColumns

func scanAuthCode(row rowScanner) (store.AuthCode, error) {
	var (
		c                          store.AuthCode
		scopes                     string
		created, expires, redeemed int64
	)
	if err := row.Scan(&c.Hash, &c.ClientID, &c.RedirectURI, &c.CodeChallenge, &c.Resource, &scopes, &c.Email, &c.FamilyID,
		&created, &expires, &redeemed); err != nil {
		return store.AuthCode{}, err
	}
	var err error
	if c.Scopes, err = decodeList("auth_codes.scopes", scopes); err != nil {
		return store.AuthCode{}, err
	}
	c.CreatedAt, c.ExpiresAt, c.RedeemedAt = fromMillis(created), fromMillis(expires), fromMillis(redeemed)
	return c, nil
}

// CreateAuthCode stores a new code; store.ErrAlreadyExists if the hash is
// taken.
func (s *Store) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	res, err := s.write.ExecContext(ctx, `INSERT INTO auth_codes (`+authCodeColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO NOTHING`,
		c.Hash, c.ClientID, c.RedirectURI, c.CodeChallenge, c.Resource, encodeList(c.Scopes), c.Email, c.FamilyID,
		millis(c.CreatedAt), millis(c.ExpiresAt), millis(c.RedeemedAt))
	if err != nil {
		return fmt.Errorf("sqlite: creating authorization code: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: creating authorization code: %w", err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: authorization code: %w", store.ErrAlreadyExists)
	}
	return nil
}

// RedeemAuthCode marks the code redeemed at now and returns it, with the
// tokens issue returns for it stored in the same transaction. A code
// redeemed before comes back, as first redeemed, with store.ErrCodeRedeemed;
// an unknown code, or one expired at now and never redeemed, gives
// store.ErrNotFound. issue's error is returned as is, the redemption kept.
//
// The UPDATE ... RETURNING is the redemption: the transaction took the write
// lock before it read, so of several redeemers, in this process or another,
// exactly one finds redeemed_at still 0. A loser's second read comes after
// the winner's commit and so sees the code redeemed; redemption is never
// undone, only the row deleted by DeleteExpired, which reads as unknown.
func (s *Store) RedeemAuthCode(ctx context.Context, hash string, now time.Time, issue store.IssueFunc) (store.AuthCode, error) {
	redeemedAt, err := stamp(now)
	if err != nil {
		return store.AuthCode{}, fmt.Errorf("sqlite: redeeming authorization code: %w", err)
	}
	var c store.AuthCode
	var refused error // issue's verdict, returned once the redemption is committed
	err = s.inWriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanAuthCode(tx.StmtContext(ctx, s.stmts.redeemCode).QueryRowContext(ctx, redeemedAt, hash, now.UnixMilli()))
		if err != nil || issue == nil {
			return err
		}
		tokens, err := issue(c)
		if err != nil {
			refused = err
			return nil
		}
		return s.insertTokens(ctx, tx, tokens)
	})
	if err == nil {
		if refused != nil {
			return c, refused
		}
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.AuthCode{}, fmt.Errorf("sqlite: redeeming authorization code: %w", txErr(ctx, err))
	}

	c, err = scanAuthCode(s.read.QueryRowContext(ctx, `SELECT `+authCodeColumns+` FROM auth_codes WHERE hash = ?`, hash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.AuthCode{}, fmt.Errorf("sqlite: authorization code: %w", store.ErrNotFound)
	case err != nil:
		return store.AuthCode{}, fmt.Errorf("sqlite: reading authorization code: %w", err)
	case c.RedeemedAt.IsZero():
		// Expired, or created only after the UPDATE looked.
		return store.AuthCode{}, fmt.Errorf("sqlite: authorization code expired: %w", store.ErrNotFound)
	}
	return c, fmt.Errorf("sqlite: %w", store.ErrCodeRedeemed)
}
