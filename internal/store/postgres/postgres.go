// Package postgres is drivemcp's store for deployments that run several
// replicas on one PostgreSQL database, through a pgx connection pool.
//
// Postgres does the locking: every read-modify-write is a transaction that
// locks the row it reads (SELECT … FOR UPDATE) before the caller's function
// sees it, so an updater of one account or one refresh token runs alone
// across every process while others go on. Single-step operations (taking an
// auth transaction, redeeming a code) are one atomic statement. Connections
// run at READ COMMITTED whatever the database's default: a writer that waited
// for a row lock then reads the row as the holder committed it, which is
// what makes the waiting updater see the previous one's result.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/drivemcp/drivemcp/internal/store"
)

var _ store.Store = (*Store)(nil)

// maxConns bounds the pool unless the URL sets pool_max_conns. An updater
// holds a connection while it runs (a Google refresh, say), so this is also
// how many account or token updaters one process can run at once.
const maxConns = 8

// cancelGrace is how long a statement whose context ended may take to stop
// after Postgres was asked to cancel it, before the connection is cut.
const cancelGrace = 3 * time.Second

// rollbackTimeout bounds the rollback of a failed transaction, which runs
// even when the caller's context has ended.
const rollbackTimeout = 5 * time.Second

// Store is a store.Store on a PostgreSQL database.
//
// An updater passed to UpsertGoogleAccount or UpdateGoogleAccount, like the
// rotate function passed to RotateRefreshToken, holds its row's lock and one
// pooled connection while it runs. It may read through the Store (on a
// second connection), but writing the row it holds would wait for itself
// until its context ends.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url and brings its schema up to date.
// The URL is postgres://user:password@host:port/database?…, where the query
// takes libpq's parameters (sslmode, search_path: the tables are created in
// its first schema) and pgxpool's (pool_max_conns).
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return open(ctx, cfg)
}

// open is Open for a parsed configuration; tests use it to set search_path.
func open(ctx context.Context, cfg *pgxpool.Config) (*Store, error) {
	if !strings.Contains(cfg.ConnString(), "pool_max_conns") {
		cfg.MaxConns = maxConns
	}
	params := cfg.ConnConfig.RuntimeParams
	// The store's locking relies on READ COMMITTED; under REPEATABLE READ
	// a writer that waited for a row lock would fail instead of reading on.
	params["default_transaction_isolation"] = "read committed"
	if params["application_name"] == "" {
		params["application_name"] = "drivemcp"
	}
	// pgx's default answer to a canceled context is to cut the connection,
	// which leaves the server-side statement running: a backend waiting for
	// a row lock would go on waiting (and holding a connection slot) until
	// the lock came free. Asking the server to cancel it ends the wait there
	// too, and keeps the connection for reuse.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelGrace}
	}

	where := fmt.Sprintf("database %s on %s:%d", cfg.ConnConfig.Database, cfg.ConnConfig.Host, cfg.ConnConfig.Port)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connecting to %s (is it running, and is the --db URL right?): %w", where, err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrating %s: %w", where, err)
	}
	return &Store{pool: pool}, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return wrap(ctx, "ping", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// execer is the pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// inTx runs fn in a transaction and commits if fn succeeds. fn's error is
// returned as is. If fn fails or panics, or the context ends, the
// transaction is rolled back, so nothing fn wrote is kept.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(ctx, "begin", err)
	}
	defer func() {
		// After Commit this returns pgx.ErrTxClosed without a round trip.
		// The caller's context may be what ended the transaction, so the
		// rollback must not depend on it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap(ctx, "commit", err)
	}
	return nil
}

// uniqueViolation is SQLSTATE 23505.
const uniqueViolation = "23505"

// wrap says what failed. A duplicate key becomes store.ErrAlreadyExists. If
// the context has ended, its error joins the chain: a statement that the
// server canceled on our request reports only "canceling statement due to
// user request", and callers test for context.Canceled or DeadlineExceeded.
func wrap(ctx context.Context, what string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("postgres: %s: %w (%w)", what, ctxErr, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		// Not pgErr itself: its detail quotes the key, a token hash.
		return fmt.Errorf("postgres: %s: %w (%s)", what, store.ErrAlreadyExists, pgErr.ConstraintName)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}
