package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migrations is the schema history, applied in order; migration i brings the
// database to version i+1. It is append-only: a released migration is never
// edited, a change is a new one at the end.
//
// Conventions: STRICT tables; times are INTEGER unix milliseconds (0 for the
// zero time); string lists are JSON arrays in TEXT.
var migrations = []string{
	// 1: Google accounts, pending authorization transactions, MCP session
	// bindings.
	`
CREATE TABLE google_accounts (
	email           TEXT    NOT NULL PRIMARY KEY,
	subject         TEXT    NOT NULL,
	scopes          TEXT    NOT NULL,
	sealed_token    BLOB,
	needs_reconsent INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL,
	last_refresh_at INTEGER NOT NULL
) STRICT;

CREATE TABLE auth_transactions (
	state           TEXT    NOT NULL PRIMARY KEY,
	kind            TEXT    NOT NULL,
	google_verifier TEXT    NOT NULL,
	google_scopes   TEXT    NOT NULL,
	login_hint      TEXT    NOT NULL,
	session_id      TEXT    NOT NULL,
	client_id       TEXT    NOT NULL,
	redirect_uri    TEXT    NOT NULL,
	client_state    TEXT    NOT NULL,
	code_challenge  TEXT    NOT NULL,
	resource        TEXT    NOT NULL,
	scopes          TEXT    NOT NULL,
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX auth_transactions_expires_at ON auth_transactions (expires_at);

-- No foreign key to google_accounts: a binding is written by whoever
-- connected the account, and DeleteGoogleAccount removes the bindings itself.
CREATE TABLE session_bindings (
	session_id TEXT    NOT NULL PRIMARY KEY,
	email      TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX session_bindings_email ON session_bindings (email);
CREATE INDEX session_bindings_expires_at ON session_bindings (expires_at);
`,

	// 2: the authorization server's clients, authorization codes and tokens.
	// Codes and tokens are keyed by the hex SHA-256 of their value; they are
	// marked redeemed, rotated or revoked rather than deleted, and
	// DeleteExpired removes them a day after expiry. No foreign keys to
	// clients: a client_id may be a metadata document URL that is never
	// registered here.
	`
CREATE TABLE clients (
	id                         TEXT    NOT NULL PRIMARY KEY,
	secret_hash                BLOB,
	name                       TEXT    NOT NULL,
	redirect_uris              TEXT    NOT NULL,
	grant_types                TEXT    NOT NULL,
	response_types             TEXT    NOT NULL,
	token_endpoint_auth_method TEXT    NOT NULL,
	application_type           TEXT    NOT NULL,
	scope                      TEXT    NOT NULL,
	client_uri                 TEXT    NOT NULL,
	logo_uri                   TEXT    NOT NULL,
	created_at                 INTEGER NOT NULL
) STRICT;

CREATE TABLE auth_codes (
	hash           TEXT    NOT NULL PRIMARY KEY,
	client_id      TEXT    NOT NULL,
	redirect_uri   TEXT    NOT NULL,
	code_challenge TEXT    NOT NULL,
	resource       TEXT    NOT NULL,
	scopes         TEXT    NOT NULL,
	email          TEXT    NOT NULL,
	family_id      TEXT    NOT NULL,
	created_at     INTEGER NOT NULL,
	expires_at     INTEGER NOT NULL,
	redeemed_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX auth_codes_expires_at ON auth_codes (expires_at);

CREATE TABLE tokens (
	hash       TEXT    NOT NULL PRIMARY KEY,
	kind       TEXT    NOT NULL,
	family_id  TEXT    NOT NULL,
	client_id  TEXT    NOT NULL,
	email      TEXT    NOT NULL,
	resource   TEXT    NOT NULL,
	scopes     TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	rotated_at INTEGER NOT NULL,
	successor  BLOB,
	revoked_at INTEGER NOT NULL
) STRICT;
CREATE INDEX tokens_family_id ON tokens (family_id);
CREATE INDEX tokens_expires_at ON tokens (expires_at);
`,

	// 3: whether a trip to Google asked for consent again (prompt=consent),
	// so the callback can ask once more when Google withheld a refresh token.
	`ALTER TABLE auth_transactions ADD COLUMN force_consent INTEGER NOT NULL DEFAULT 0;`,

	// 4: keep nothing in these two tables that a copy of the database could
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
	state_hash        TEXT    NOT NULL PRIMARY KEY,
	kind              TEXT    NOT NULL,
	sealed_verifier   BLOB,
	google_scopes     TEXT    NOT NULL,
	login_hint        TEXT    NOT NULL,
	force_consent     INTEGER NOT NULL,
	sealed_session_id BLOB,
	client_id         TEXT    NOT NULL,
	redirect_uri      TEXT    NOT NULL,
	client_state      TEXT    NOT NULL,
	code_challenge    TEXT    NOT NULL,
	resource          TEXT    NOT NULL,
	scopes            TEXT    NOT NULL,
	created_at        INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX auth_transactions_expires_at ON auth_transactions (expires_at);

DROP TABLE session_bindings;
CREATE TABLE session_bindings (
	session_hash TEXT    NOT NULL PRIMARY KEY,
	email        TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX session_bindings_email ON session_bindings (email);
CREATE INDEX session_bindings_expires_at ON session_bindings (expires_at);
`,

	// 5: Google's sub is who an account is: SignInGoogleAccount looks
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
ALTER TABLE session_bindings ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;
`,

	// 6: when Google issued the refresh token held, so drivemcp can warn
	// before a "Testing" app's 7-day refresh token expires. For rows from
	// before, the account's creation is the closest time known.
	`
ALTER TABLE google_accounts ADD COLUMN refresh_token_obtained_at INTEGER NOT NULL DEFAULT 0;
UPDATE google_accounts SET refresh_token_obtained_at = created_at;
`,
}

// migrate brings db up to the latest schema. Each migration runs in its own
// BEGIN IMMEDIATE transaction (db is the write pool), so processes opening
// the same file at once apply each migration exactly once.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	applied_at INTEGER NOT NULL
) STRICT`); err != nil {
		return err
	}
	var current int
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return err
	}
	if current > len(migrations) {
		return fmt.Errorf("the database is at schema version %d but this drivemcp knows only up to %d: run a newer drivemcp", current, len(migrations))
	}
	for i := current; i < len(migrations); i++ {
		if err := applyMigration(ctx, db, i+1, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, version int, ddl string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Another process may have applied it since we looked.
	var applied int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&applied); err != nil {
		return err
	}
	if applied > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", version, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}
