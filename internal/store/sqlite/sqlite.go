// Package sqlite is drivemcp's embedded default store: one SQLite file in WAL
// mode, opened with the pure-Go modernc.org/sqlite driver.
//
// SQLite admits one writer per database file at a time. The store leans on
// that rather than fighting it: each Store writes through a single connection,
// so writers in one process queue in Go (and give up when their context
// ends), and every read-modify-write runs in a BEGIN IMMEDIATE transaction,
// which takes the file's write lock before reading and so also excludes
// writers in other processes sharing the file. Reads use a separate pool and
// never wait for writers.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/drivemcp/drivemcp/internal/store"
)

var _ store.Store = (*Store)(nil)

// busyTimeout bounds how long a writer waits for another process's write
// lock. An updater holding the lock through a Google refresh must finish
// well within it.
const busyTimeout = 10 * time.Second

// readConns is the size of the read pool; WAL lets readers run in parallel.
const readConns = 4

// Store is a store.Store on one SQLite file.
//
// An updater passed to UpsertGoogleAccount or UpdateGoogleAccount, like the
// rotate function passed to RotateRefreshToken, holds the database's only
// write lock while it runs: it may read through the Store, but a write
// through it would wait for the updater itself until its context ends. And
// it should be quick (a Google refresh with a timeout well under
// busyTimeout), since every other write waits for it.
type Store struct {
	path string
	// write has exactly one connection: every write in this process queues
	// for it, so they never spin on SQLITE_BUSY against each other.
	write *sql.DB
	read  *sql.DB
	stmts *statements
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: no database path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: database path %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: creating database directory: %w", err)
	}
	// The file holds sealed Google grants and token hashes: create it
	// private. SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening database file: %w", err)
	}
	f.Close()

	if err := enableWAL(ctx, abs); err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", abs, err)
	}
	s := &Store{path: abs}
	if s.write, err = openPool(ctx, abs, 1, "_txlock=immediate"); err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.write); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: migrating %s: %w", abs, err)
	}
	// query_only guards against a write slipping into the read pool, where
	// it would bypass the writer queue.
	if s.read, err = openPool(ctx, abs, readConns, "_pragma=query_only(1)"); err != nil {
		s.write.Close()
		return nil, err
	}
	if s.stmts, err = prepareStatements(ctx, s.read, s.write); err != nil {
		return nil, errors.Join(err, s.read.Close(), s.write.Close())
	}
	return s, nil
}

func openPool(ctx context.Context, path string, conns int, extra string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(path, true, extra))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	return db, nil
}

// dsn builds a file: URI, so that a path containing '?' or '#' survives, with
// PRAGMAs that the driver runs on every new connection of a pool. With pool
// false it sets only the busy timeout, for enableWAL.
func dsn(path string, pool bool, extra string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: file:///C:/...
	}
	// busy_timeout first: the PRAGMAs after it may need a lock.
	pragmas := []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds())}
	if pool {
		pragmas = append(pragmas,
			"journal_mode(WAL)",   // already so (enableWAL); a no-op that keeps it so
			"synchronous(NORMAL)", // safe in WAL mode: a power cut can lose the last commits, never corrupt
			"foreign_keys(1)",
			// Reads of a large database (100k accounts, a million tokens)
			// come from the page cache through a mapping instead of a
			// system call per page: token lookups stay as fast as on a
			// small one. Address space, not memory: only touched pages load.
			"mmap_size(268435456)",
		)
	}
	q := url.Values{"_pragma": pragmas}.Encode()
	if extra != "" {
		q += "&" + extra
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: q}
	return u.String()
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Ping reports whether the database answers. It uses the read pool, so a
// long write does not make the server look unready.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes the prepared statements and both pools.
func (s *Store) Close() error {
	return errors.Join(s.stmts.close(), s.read.Close(), s.write.Close())
}

// inWriteTx runs fn in a BEGIN IMMEDIATE transaction (the write pool's
// _txlock), which holds the database's write lock from the first read, and
// commits if fn succeeds. fn's error is returned as is. If fn panics or the
// context ends, the transaction is rolled back.
func (s *Store) inWriteTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback() // after Commit, a harmless sql.ErrTxDone
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", txErr(ctx, err))
	}
	return nil
}

// txErr adds the context's error to err from a write transaction. When the
// context ends, database/sql rolls the transaction back and closes its
// statements, and then reports a commit as merely "done" and a statement
// from tx.StmtContext as merely "closed".
func txErr(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w (%w)", ctxErr, err)
	}
	return err
}
