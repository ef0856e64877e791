package e2etest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresURLEnv names the database the PostgreSQL tests use, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresURLEnv = "DRIVEMCP_TEST_POSTGRES_URL"

// PostgresURL returns the URL of an empty schema of its own in the test
// database (search_path names it, so drivemcp creates its tables there), and
// drops the schema with everything in it when the test ends. Without
// DRIVEMCP_TEST_POSTGRES_URL the test is skipped, except under CI, where it
// fails: CI must run what needs PostgreSQL.
//
// Connections through the URL also carry the schema's name as
// application_name: pg_stat_activity shows which test holds them, and the
// cleanup ends any that a killed process left behind.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresURLEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL tests, not skip them", PostgresURLEnv)
		}
		t.Skipf("%s is not set; point it at a PostgreSQL database to run this test, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", PostgresURLEnv)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "drivemcp_e2e_" + hex.EncodeToString(b)
	ident := pgx.Identifier{schema}.Sanitize()
	postgresExec(t, base, "CREATE SCHEMA "+ident)
	// Cleanups run last-in first-out: servers started after this call are
	// stopped before the schema goes.
	t.Cleanup(func() {
		postgresExec(t, base,
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()", schema)
		postgresExec(t, base, "DROP SCHEMA "+ident+" CASCADE")
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// postgresExec runs one statement on a connection of its own, with a
// context of its own: t.Context has ended by the time cleanups run.
func postgresExec(t testing.TB, dbURL, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connecting to %s: %v", PostgresURLEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// SecretKey returns a fresh --secret-key value (base64 of 32 random bytes).
// Replicas of one deployment must share it: it seals the Google tokens and
// the rotated refresh tokens in the database, and signs consent cookies.
func SecretKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
