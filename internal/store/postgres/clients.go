package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drivemcp/drivemcp/internal/store"
)

const clientColumns = `id, secret_hash, name, redirect_uris, grant_types, response_types,
	token_endpoint_auth_method, application_type, scope, client_uri, logo_uri, created_at`

// CreateClient stores a registration; store.ErrAlreadyExists if the id is
// taken. It never overwrites: a registration picking a known id would take
// over that client's redirect URIs.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.ID, dbBytes(c.SecretHash), c.Name, dbList(c.RedirectURIs), dbList(c.GrantTypes), dbList(c.ResponseTypes),
		c.TokenEndpointAuthMethod, c.ApplicationType, c.Scope, c.ClientURI, c.LogoURI, dbTime(c.CreatedAt)); err != nil {
		return wrap(ctx, "creating client "+c.ID, err)
	}
	return nil
}

// GetClient returns a client or store.ErrNotFound.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	var (
		c       store.Client
		created *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id).
		Scan(&c.ID, &c.SecretHash, &c.Name, &c.RedirectURIs, &c.GrantTypes, &c.ResponseTypes,
			&c.TokenEndpointAuthMethod, &c.ApplicationType, &c.Scope, &c.ClientURI, &c.LogoURI, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Client{}, fmt.Errorf("postgres: client %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Client{}, wrap(ctx, "reading client "+id, err)
	}
	c.SecretHash = dbBytes(c.SecretHash)
	c.RedirectURIs, c.GrantTypes, c.ResponseTypes = fromList(c.RedirectURIs), fromList(c.GrantTypes), fromList(c.ResponseTypes)
	c.CreatedAt = fromDB(created)
	return c, nil
}
