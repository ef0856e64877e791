package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

const tokenColumns = `hash, kind, family_id, client_id, email, resource, scopes,
	created_at, expires_at, rotated_at, successor, revoked_at`

// Prepared statements (statements.go); insertToken and updateToken take
// tokenArgs.
const (
	selectToken = `SELECT ` + tokenColumns + ` FROM tokens WHERE hash = ?`
	insertToken = `INSERT INTO tokens (` + tokenColumns + `)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
		ON CONFLICT (hash) DO NOTHING`
	updateToken = `UPDATE tokens SET kind = ?2, family_id = ?3, client_id = ?4, email = ?5,
		resource = ?6, scopes = ?7, created_at = ?8, expires_at = ?9, rotated_at = ?10, successor = ?11,
		revoked_at = ?12 WHERE hash = ?1`
)

func scanToken(row rowScanner) (store.Token, error) {
	var (
		t                                  store.Token
		kind, scopes                       string
		created, expires, rotated, revoked int64
	)
	if err := row.Scan(&t.Hash, &kind, &t.FamilyID, &t.ClientID, &t.Email, &t.Resource, &scopes,
		&created, &expires, &rotated, &t.Successor, &revoked); err != nil {
		return store.Token{}, err
	}
	var err error
	if t.Scopes, err = decodeList("tokens.scopes", scopes); err != nil {
		return store.Token{}, err
	}
	if len(t.Successor) == 0 {
		t.Successor = nil
	}
	t.Kind = store.TokenKind(kind)
	t.CreatedAt, t.ExpiresAt = fromMillis(created), fromMillis(expires)
	t.RotatedAt, t.RevokedAt = fromMillis(rotated), fromMillis(revoked)
	return t, nil
}

// tokenArgs are t's values in tokenColumns order, for ?1 to ?12.
func tokenArgs(t store.Token) []any {
	return []any{t.Hash, string(t.Kind), t.FamilyID, t.ClientID, t.Email, t.Resource, encodeList(t.Scopes),
		millis(t.CreatedAt), millis(t.ExpiresAt), millis(t.RotatedAt), nullBytes(t.Successor), millis(t.RevokedAt)}
}

// insertTokens adds tokens inside tx; store.ErrAlreadyExists if a hash is
// taken, and then the caller's rollback undoes the others.
func (s *Store) insertTokens(ctx context.Context, tx *sql.Tx, tokens []store.Token) error {
	insert := tx.StmtContext(ctx, s.stmts.insertToken)
	for _, t := range tokens {
		res, err := insert.ExecContext(ctx, tokenArgs(t)...)
		if err != nil {
			return fmt.Errorf("sqlite: creating %s token: %w", t.Kind, txErr(ctx, err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: creating %s token: %w", t.Kind, err)
		} else if n == 0 {
			return fmt.Errorf("sqlite: %s token: %w", t.Kind, store.ErrAlreadyExists)
		}
	}
	return nil
}

// CreateTokens stores newly issued tokens in one transaction: all of them,
// or, if one hash is taken (store.ErrAlreadyExists), none.
func (s *Store) CreateTokens(ctx context.Context, tokens ...store.Token) error {
	if len(tokens) == 0 {
		return nil
	}
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		return s.insertTokens(ctx, tx, tokens)
	})
}

// GetToken returns a token in whatever state it is, or store.ErrNotFound.
func (s *Store) GetToken(ctx context.Context, hash string) (store.Token, error) {
	t, err := getToken(s.stmts.token.QueryRowContext(ctx, hash))
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlite: token: %w", err)
	}
	return t, nil
}

// getToken reads the answer to selectToken, from the read pool or from a
// write transaction that already holds the lock.
func getToken(row *sql.Row) (store.Token, error) {
	t, err := scanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, store.ErrNotFound
	}
	return t, err
}

// RotateRefreshToken reads the token, calls rotate, and writes the updated
// token and the issued ones, all in one BEGIN IMMEDIATE transaction: it holds
// the database's write lock from the read to the commit, so a rotation of the
// same token in this process or another sees this one's result. rotate's
// error is returned as is, and nothing is written.
//
// The store checks neither kind, expiry nor revocation: rotate sees old and
// decides. updated is written under hash whatever else it changes; it may
// leave Hash empty, but naming another token is an error.
func (s *Store) RotateRefreshToken(ctx context.Context, hash string,
	rotate func(old store.Token) (updated store.Token, issued []store.Token, err error)) error {
	return s.inWriteTx(ctx, func(tx *sql.Tx) error {
		old, err := getToken(tx.StmtContext(ctx, s.stmts.tokenToRotate).QueryRowContext(ctx, hash))
		if err != nil {
			return fmt.Errorf("sqlite: rotating token: %w", txErr(ctx, err))
		}
		updated, issued, err := rotate(old)
		if err != nil {
			return err
		}
		if updated.Hash == "" {
			updated.Hash = hash
		}
		if updated.Hash != hash {
			return errors.New("sqlite: rotating token: the rotate function returned another token as the updated one; rotation cannot change the hash")
		}
		if _, err := tx.StmtContext(ctx, s.stmts.updateToken).ExecContext(ctx, tokenArgs(updated)...); err != nil {
			return fmt.Errorf("sqlite: writing rotated token: %w", txErr(ctx, err))
		}
		return s.insertTokens(ctx, tx, issued)
	})
}

// RevokeToken marks one token revoked at now; store.ErrNotFound if unknown.
// A token revoked before keeps its first RevokedAt.
func (s *Store) RevokeToken(ctx context.Context, hash string, now time.Time) error {
	revokedAt, err := stamp(now)
	if err != nil {
		return fmt.Errorf("sqlite: revoking token: %w", err)
	}
	// SQLite counts every row the WHERE matched as changed, so an
	// already revoked token is found too.
	res, err := s.write.ExecContext(ctx, `UPDATE tokens
		SET revoked_at = CASE revoked_at WHEN 0 THEN ? ELSE revoked_at END WHERE hash = ?`, revokedAt, hash)
	if err != nil {
		return fmt.Errorf("sqlite: revoking token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: revoking token: %w", err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: token: %w", store.ErrNotFound)
	}
	return nil
}

// RevokeFamily marks every token of the family revoked at now; tokens
// revoked before keep their first RevokedAt. An unknown family is not an
// error: there is nothing left to revoke.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, now time.Time) error {
	revokedAt, err := stamp(now)
	if err != nil {
		return fmt.Errorf("sqlite: revoking token family: %w", err)
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE tokens SET revoked_at = ?
		WHERE family_id = ? AND revoked_at = 0`, revokedAt, familyID); err != nil {
		return fmt.Errorf("sqlite: revoking token family: %w", err)
	}
	return nil
}
