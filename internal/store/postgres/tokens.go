package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drivemcp/drivemcp/internal/store"
)

const tokenColumns = `hash, kind, family_id, client_id, email, resource, scopes,
	created_at, expires_at, rotated_at, successor, revoked_at`

// tokenColumnCount is how many columns tokenColumns names.
const tokenColumnCount = 12

func scanToken(row pgx.Row) (store.Token, error) {
	var (
		t                                  store.Token
		kind                               string
		created, expires, rotated, revoked *time.Time
	)
	if err := row.Scan(&t.Hash, &kind, &t.FamilyID, &t.ClientID, &t.Email, &t.Resource, &t.Scopes,
		&created, &expires, &rotated, &t.Successor, &revoked); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return store.Token{}, store.ErrNotFound
		}
		return store.Token{}, err
	}
	t.Kind = store.TokenKind(kind)
	t.Scopes = fromList(t.Scopes)
	t.CreatedAt, t.ExpiresAt = fromDB(created), fromDB(expires)
	t.RotatedAt, t.RevokedAt = fromDB(rotated), fromDB(revoked)
	return t, nil
}

// tokenArgs are t's values in tokenColumns order.
func tokenArgs(t store.Token) []any {
	return []any{t.Hash, string(t.Kind), t.FamilyID, t.ClientID, t.Email, t.Resource, dbList(t.Scopes),
		dbTime(t.CreatedAt), dbTime(t.ExpiresAt), dbTime(t.RotatedAt), dbBytes(t.Successor), dbTime(t.RevokedAt)}
}

// insertTokens adds tokens in one INSERT, which is atomic by itself: a taken
// hash, or one named twice, fails it whole with store.ErrAlreadyExists.
func insertTokens(ctx context.Context, q execer, tokens []store.Token) error {
	if len(tokens) == 0 {
		return nil
	}
	var sql strings.Builder
	sql.WriteString(`INSERT INTO tokens (` + tokenColumns + `) VALUES `)
	args := make([]any, 0, len(tokens)*tokenColumnCount)
	for i, t := range tokens {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(")
		for c := range tokenColumnCount {
			if c > 0 {
				sql.WriteString(", ")
			}
			fmt.Fprintf(&sql, "$%d", len(args)+c+1)
		}
		sql.WriteString(")")
		args = append(args, tokenArgs(t)...)
	}
	if _, err := q.Exec(ctx, sql.String(), args...); err != nil {
		return wrap(ctx, "creating tokens", err)
	}
	return nil
}

// CreateTokens stores newly issued tokens: all of them, or, if one hash is
// taken (store.ErrAlreadyExists), none.
func (s *Store) CreateTokens(ctx context.Context, tokens ...store.Token) error {
	return insertTokens(ctx, s.pool, tokens)
}

// GetToken returns a token in whatever state it is, or store.ErrNotFound.
func (s *Store) GetToken(ctx context.Context, hash string) (store.Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1`, hash))
	if err != nil {
		return store.Token{}, wrap(ctx, "token", err)
	}
	return t, nil
}

// RotateRefreshToken reads the token FOR UPDATE, calls rotate, and writes the
// updated token and the issued ones, in one transaction: the row lock keeps
// other rotations of the same token, in this process or another, waiting
// until the commit, and they then read this one's result. rotate's error is
// returned as is, and nothing is written.
//
// The store checks neither kind, expiry nor revocation: rotate sees old and
// decides. Every column of updated is written under hash; it may leave Hash
// empty, but naming another token is an error.
func (s *Store) RotateRefreshToken(ctx context.Context, hash string,
	rotate func(old store.Token) (updated store.Token, issued []store.Token, err error)) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := scanToken(tx.QueryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = $1 FOR UPDATE`, hash))
		if err != nil {
			return wrap(ctx, "rotating token", err)
		}
		updated, issued, err := rotate(old)
		if err != nil {
			return err
		}
		if updated.Hash == "" {
			updated.Hash = hash
		}
		if updated.Hash != hash {
			return errors.New("postgres: rotating token: the rotate function returned another token as the updated one; rotation cannot change the hash")
		}
		if _, err := tx.Exec(ctx, `UPDATE tokens SET kind = $2, family_id = $3, client_id = $4, email = $5,
			resource = $6, scopes = $7, created_at = $8, expires_at = $9, rotated_at = $10, successor = $11,
			revoked_at = $12 WHERE hash = $1`, tokenArgs(updated)...); err != nil {
			return wrap(ctx, "writing rotated token", err)
		}
		return insertTokens(ctx, tx, issued)
	})
}

// RevokeToken marks one token revoked at now; store.ErrNotFound if unknown.
// A token revoked before keeps its first RevokedAt. The zero now is refused.
func (s *Store) RevokeToken(ctx context.Context, hash string, now time.Time) error {
	revokedAt, err := stamp(now)
	if err != nil {
		return fmt.Errorf("postgres: revoking token: %w", err)
	}
	// Postgres counts every row the WHERE matched, changed or not, so an
	// already revoked token is found too.
	tag, err := s.pool.Exec(ctx, `UPDATE tokens SET revoked_at = coalesce(revoked_at, $1) WHERE hash = $2`, revokedAt, hash)
	if err != nil {
		return wrap(ctx, "revoking token", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: token: %w", store.ErrNotFound)
	}
	return nil
}

// RevokeFamily marks every token of the family revoked at now; tokens
// revoked before keep their first RevokedAt. An unknown family is not an
// error: there is nothing left to revoke. The zero now is refused.
//
// The rows are locked in hash order, as DeleteExpired locks them, so the two
// cannot deadlock over a family's expired tokens: a replayed code's
// revocation must not be the statement Postgres aborts.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, now time.Time) error {
	revokedAt, err := stamp(now)
	if err != nil {
		return fmt.Errorf("postgres: revoking token family: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE tokens SET revoked_at = $1 WHERE hash IN (
		SELECT hash FROM tokens WHERE family_id = $2 AND revoked_at IS NULL ORDER BY hash FOR UPDATE)`,
		revokedAt, familyID); err != nil {
		return wrap(ctx, "revoking token family", err)
	}
	return nil
}
