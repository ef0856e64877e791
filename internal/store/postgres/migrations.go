package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations is the schema history, applied in order; migration i brings the
// database to version i+1. It is append-only: a released migration is never
// edited, a change is a new one at the end.
//
// Conventions: times are timestamptz at millisecond precision, NULL for the
// zero time ("never"); string lists are text[], never NULL; byte strings are
// bytea, NULL when empty. The tables mirror the sqlite backend's; no
// Postgres database predated the sqlite backend's first three migrations,
// so version 1 is their final shape.
var migrations = []string{
	// 1: Google accounts, pending authorization transactions, MCP session
	// bindings, and the authorization server's clients, codes and tokens.
	`
-- COLLATE "C": ListGoogleAccounts orders by bytes, as the sqlite backend
-- does, whatever the database's locale; the primary key serves that order.
CREATE TABLE google_accounts (
	email           text COLLATE "C" PRIMARY KEY,
	subject         text        NOT NULL,
	scopes          text[]      NOT NULL,
	sealed_token    bytea,
	needs_reconsent boolean     NOT NULL,
	created_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL,
	last_refresh_at timestamptz
);

CREATE TABLE auth_transactions (
	state           text PRIMARY KEY,
	kind            text        NOT NULL,
	google_verifier text        NOT NULL,
	google_scopes   text[]      NOT NULL,
	login_hint      text        NOT NULL,
	force_consent   boolean     NOT NULL,
	session_id      text        NOT NULL,
	client_id       text        NOT NULL,
	redirect_uri    text        NOT NULL,
	client_state    text        NOT NULL,
	code_challenge  text        NOT NULL,
	resource        text        NOT NULL,
	scopes          text[]      NOT NULL,
	created_at      timestamptz,
	expires_at      timestamptz
);
CREATE INDEX auth_transactions_expires_at ON auth_transactions (expires_at);

-- No foreign key to google_accounts: a binding is written by whoever
-- connected the account, and DeleteGoogleAccount removes the bindings itself.
CREATE TABLE session_bindings (
	session_id text PRIMARY KEY,
	email      text NOT NULL,
	created_at timestamptz,
	expires_at timestamptz
);
CREATE INDEX session_bindings_email ON session_bindings (email);
CREATE INDEX session_bindings_expires_at ON session_bindings (expires_at);

-- Codes and tokens are keyed by the hex SHA-256 of their value; they are
-- marked redeemed, rotated or revoked rather than deleted, and DeleteExpired
-- removes them a day after expiry. No foreign keys to clients: a client_id
-- may be a metadata document URL that is never registered here.
CREATE TABLE clients (
	id                         text PRIMARY KEY,
	secret_hash                bytea,
	name                       text   NOT NULL,
	redirect_uris              text[] NOT NULL,
	grant_types                text[] NOT NULL,
	response_types             text[] NOT NULL,
	token_endpoint_auth_method text   NOT NULL,
	application_type           text   NOT NULL,
	scope                      text   NOT NULL,
	client_uri                 text   NOT NULL,
	logo_uri                   text   NOT NULL,
	created_at                 timestamptz
);

CREATE TABLE auth_codes (
	hash           text PRIMARY KEY,
	client_id      text   NOT NULL,
	redirect_uri   text   NOT NULL,
	code_challenge text   NOT NULL,
	resource       text   NOT NULL,
	scopes         text[] NOT NULL,
	email          text   NOT NULL,
	family_id      text   NOT NULL,
	created_at     timestamptz,
	expires_at     timestamptz,
	redeemed_at    timestamptz
);
CREATE INDEX auth_codes_expires_at ON auth_codes (expires_at);

CREATE TABLE tokens (
	hash       text PRIMARY KEY,
	kind       text   NOT NULL,
	family_id  text   NOT NULL,
	client_id  text   NOT NULL,
	email      text   NOT NULL,
	resource   text   NOT NULL,
	scopes     text[] NOT NULL,
	created_at timestamptz,
	expires_at timestamptz,
	rotated_at timestamptz,
	successor  bytea,
	revoked_at timestamptz
);
CREATE INDEX tokens_family_id ON tokens (family_id);
CREATE INDEX tokens_expires_at ON tokens (expires_at);
`,

	// 2: keep nothing in these two tables that a copy of the database could
	// use. Transactions are keyed by the hex SHA-256 of their state and hold
	// the Google PKCE verifier and the session id only sealed; bindings are
	// keyed by the hex SHA-256 of the session id. Rows written before held
	// those in the clear and sealing needs the key, which SQL does not have,
	// so they are dropped rather than converted: a login pending across the
	// upgrade (at most 10 minutes old) must be started again, and an MCP
	// session bound by start_google_auth must run it again.
	`
DROP TABLE auth_transactions;
CREATE TABLE auth_transactions (
	state_hash        text PRIMARY KEY,
	kind              text        NOT NULL,
	sealed_verifier   bytea,
	google_scopes     text[]      NOT NULL,
	login_hint        text        NOT NULL,
	force_consent     boolean     NOT NULL,
	sealed_session_id bytea,
	client_id         text        NOT NULL,
	redirect_uri      text        NOT NULL,
	client_state      text        NOT NULL,
	code_challenge    text        NOT NULL,
	resource          text        NOT NULL,
	scopes            text[]      NOT NULL,
	created_at        timestamptz,
	expires_at        timestamptz
);
CREATE INDEX auth_transactions_expires_at ON auth_transactions (expires_at);

DROP TABLE session_bindings;
CREATE TABLE session_bindings (
	session_hash text PRIMARY KEY,
	email        text NOT NULL,
	created_at   timestamptz,
	expires_at   timestamptz
);
CREATE INDEX session_bindings_email ON session_bindings (email);
CREATE INDEX session_bindings_expires_at ON session_bindings (expires_at);
`,

	// 3: Google's sub is who an account is: SignInGoogleAccount looks
	// accounts up by it, and finds a retired or moved account's tokens and
	// codes by email. Rows keep the subject they were stored with (every
	// sign-in stored one); a row whose subject is empty takes the first one
	// a sign-in at its address shows. A session bound to an account whose
	// address went to someone else is marked, not deleted, so that it is
	// told so instead of falling back to another account.
	`
CREATE INDEX google_accounts_subject ON google_accounts (subject);
CREATE INDEX tokens_email ON tokens (email);
CREATE INDEX auth_codes_email ON auth_codes (email);
ALTER TABLE session_bindings ADD COLUMN replaced boolean NOT NULL DEFAULT false;
`,

	// 4: when Google issued the refresh token held, so drivemcp can warn
	// before a "Testing" app's 7-day refresh token expires. For rows from
	// before, the account's creation is the closest time known.
	`
ALTER TABLE google_accounts ADD COLUMN refresh_token_obtained_at timestamptz;
UPDATE google_accounts SET refresh_token_obtained_at = created_at;
`,
}

// migrationLock is the advisory lock key that migrating processes take
// turns on: "drivemcp" in ASCII. It is per database, so drivemcps using
// different schemas of one database also take turns, which costs only a
// moment at start.
const migrationLock int64 = 0x64726976656d6370

// migrate brings the database up to the latest schema. Each migration runs in
// its own transaction that first takes migrationLock, so replicas starting
// together apply each migration exactly once: the second finds it done. The
// lock is transaction-scoped, so it cannot outlive a failed or canceled
// start on a pooled connection.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	for {
		done, err := migrateStep(ctx, pool)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migrateStep applies the next migration, if any, and reports whether the
// schema is now up to date.
func migrateStep(ctx context.Context, pool *pgxpool.Pool) (done bool, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return wrap(ctx, "waiting for other drivemcp processes to finish migrating", err)
		}
		// Under the lock: concurrent CREATE TABLE IF NOT EXISTS can fail.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	applied_at timestamptz NOT NULL
)`); err != nil {
			return wrap(ctx, "creating schema_migrations", err)
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return wrap(ctx, "reading the schema version", err)
		}
		if current > len(migrations) {
			return fmt.Errorf("the database is at schema version %d but this drivemcp knows only up to %d: run a newer drivemcp", current, len(migrations))
		}
		if current == len(migrations) {
			done = true
			return nil
		}
		version := current + 1
		if _, err := tx.Exec(ctx, migrations[current]); err != nil {
			return wrap(ctx, fmt.Sprintf("migration %d", version), err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())`, version); err != nil {
			return wrap(ctx, fmt.Sprintf("recording migration %d", version), err)
		}
		return nil
	})
	return done, err
}
