package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/drivemcp/drivemcp/internal/store"
)

const clientColumns = `id, secret_hash, name, redirect_uris, grant_types, response_types,
	token_endpoint_auth_method, application_type, scope, client_uri, logo_uri, created_at`

// selectClient is prepared on the read pool (statements.go).
const selectClient = `SELECT ` + clientColumns + ` FROM clients WHERE id = ?`

// CreateClient stores a registration; store.ErrAlreadyExists if the id is
// taken.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	res, err := s.write.ExecContext(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		c.ID, nullBytes(c.SecretHash), c.Name, encodeList(c.RedirectURIs), encodeList(c.GrantTypes), encodeList(c.ResponseTypes),
		c.TokenEndpointAuthMethod, c.ApplicationType, c.Scope, c.ClientURI, c.LogoURI, millis(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("sqlite: creating client %s: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: creating client %s: %w", c.ID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: client %s: %w", c.ID, store.ErrAlreadyExists)
	}
	return nil
}

// GetClient returns a client or store.ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	var (
		c                                   store.Client
		redirectURIs, grants, responseTypes string
		created                             int64
	)
	err := s.stmts.client.QueryRowContext(ctx, id).
		Scan(&c.ID, &c.SecretHash, &c.Name, &redirectURIs, &grants, &responseTypes,
			&c.TokenEndpointAuthMethod, &c.ApplicationType, &c.Scope, &c.ClientURI, &c.LogoURI, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Client{}, fmt.Errorf("sqlite: client %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Client{}, fmt.Errorf("sqlite: reading client %s: %w", id, err)
	}
	if len(c.SecretHash) == 0 {
		c.SecretHash = nil
	}
	for _, l := range []struct {
		column string
		value  string
		into   *[]string
	}{
		{"clients.redirect_uris", redirectURIs, &c.RedirectURIs},
		{"clients.grant_types", grants, &c.GrantTypes},
		{"clients.response_types", responseTypes, &c.ResponseTypes},
	} {
		if *l.into, err = decodeList(l.column, l.value); err != nil {
			return store.Client{}, fmt.Errorf("sqlite: reading client %s: %w", id, err)
		}
	}
	c.CreatedAt = fromMillis(created)
	return c, nil
}
