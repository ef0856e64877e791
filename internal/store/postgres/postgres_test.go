package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/storetest"
)

// urlEnv names the database the tests use. Each test works in a schema of
// its own, created and dropped around it, so tests run in parallel and leave
// nothing behind.
const urlEnv = "DRIVEMCP_TEST_POSTGRES_URL"

func testURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv(urlEnv)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must run the Postgres tests, not skip them", urlEnv)
		}
		t.Skipf("%s is not set; point it at a PostgreSQL database to run these tests, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", urlEnv)
	}
	return u
}

// testSchema is an empty schema, dropped (with everything in it) when the
// test ends.
type testSchema struct {
	url, name string
}

func newSchema(t *testing.T) testSchema {
	t.Helper()
	u := testURL(t)
	b := make([]byte, 8)
	rand.Read(b)
	name := "drivemcp_test_" + hex.EncodeToString(b)
	admin(t, u, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() { admin(t, u, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE") })
	return testSchema{url: u, name: name}
}

// admin runs one statement on a connection of its own. It does not use
// t.Context, which has ended by the time cleanups run.
func admin(t *testing.T, u, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connecting to %s: %v", urlEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// config is a pool configuration whose connections work in the schema and
// name themselves after it in pg_stat_activity.
func (sc testSchema) config(t *testing.T) *pgxpool.Config {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(sc.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = sc.name
	cfg.ConnConfig.RuntimeParams["application_name"] = sc.name
	return cfg
}

// open opens a Store on the schema and closes it at the end of the test,
// before the schema is dropped; closing twice is harmless.
func (sc testSchema) open(t *testing.T) *Store {
	t.Helper()
	s, err := open(t.Context(), sc.config(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	testURL(t) // skip (or fail in CI) once, not in every subtest
	t.Parallel()
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return newSchema(t).open(t)
	})
}

// A dump of the schema (a backup, a replica's disk) must not hold a usable
// state or session id.
func TestStore_DatabaseCopyHoldsNoUsableLoginState(t *testing.T) {
	sc := newSchema(t)
	storetest.CheckDatabaseCopy(t, sc.open(t), func(t *testing.T) []string {
		conn, err := pgx.ConnectConfig(t.Context(), sc.config(t).ConnConfig)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		tables, err := conn.Query(t.Context(), `SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1`, sc.name)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(tables, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		var cells []string
		for _, name := range names {
			// A row cast to text is every column, bytea as hex, as pg_dump
			// would write it.
			rows, err := conn.Query(t.Context(), `SELECT t::text FROM `+pgx.Identifier{name}.Sanitize()+` t`)
			if err != nil {
				t.Fatal(err)
			}
			row, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			cells = append(cells, row...)
		}
		return cells
	})
}

func appliedVersions(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), "SELECT version::text || '@' || applied_at::text FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return versions
}

// Open with search_path in the URL is how an operator keeps drivemcp's
// tables in a schema of their own.
func TestOpen_MigrationsRunOnceAndReopenIsANoOp(t *testing.T) {
	t.Parallel()
	sc := newSchema(t)
	first := sc.open(t)
	versions := appliedVersions(t, first)
	if len(versions) != len(migrations) {
		t.Fatalf("applied %v, want %d migrations", versions, len(migrations))
	}
	first.Close()

	u, err := url.Parse(sc.url)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", sc.name)
	u.RawQuery = q.Encode()
	again, err := Open(t.Context(), u.String())
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer again.Close()
	if got := appliedVersions(t, again); strings.Join(got, ",") != strings.Join(versions, ",") {
		t.Errorf("reopen changed schema_migrations from %v to %v", versions, got)
	}
}

func TestOpen_RefusesANewerSchema(t *testing.T) {
	t.Parallel()
	sc := newSchema(t)
	s := sc.open(t)
	if _, err := s.pool.Exec(t.Context(), "INSERT INTO schema_migrations VALUES ($1, now())", len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err := open(t.Context(), sc.config(t))
	if err == nil {
		s.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "newer drivemcp") {
		t.Errorf("Open of a database from a newer release: err = %v, want one asking for a newer drivemcp", err)
	}
}

// Replicas starting together on an empty database: the advisory lock makes
// them take turns, so each migration runs once and neither fails.
func TestOpen_ConcurrentOpensOfAFreshSchemaAgree(t *testing.T) {
	t.Parallel()
	sc := newSchema(t)
	const n = 4
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			s, err := open(t.Context(), sc.config(t))
			if err != nil {
				t.Errorf("open: %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	if got := appliedVersions(t, sc.open(t)); len(got) != len(migrations) {
		t.Errorf("schema_migrations = %v after %d concurrent opens", got, n)
	}
}

func TestOpen_UnreachableDatabaseSaysSo(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := Open(ctx, "postgres://drivemcp:secret-pw@127.0.0.1:1/drivemcp?sslmode=disable&connect_timeout=5")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") || strings.Contains(err.Error(), "secret-pw") {
		t.Errorf("err = %v; want the address, and never the password", err)
	}
}

// A waiter that gives up must stop waiting on the server too, not only in
// Go: a backend left queued for the row lock would hold a connection slot
// until the lock came free.
func TestTwoStores_AbandonedLockWaitEndsOnTheServer(t *testing.T) {
	t.Parallel()
	sc := newSchema(t)
	a, b := sc.open(t), sc.open(t)
	ctx := t.Context()
	if _, err := a.UpsertGoogleAccount(ctx, "ada@example.com", func(acct store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		acct.SealedToken = []byte("0")
		return acct, nil
	}); err != nil {
		t.Fatal(err)
	}

	inside, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := a.UpdateGoogleAccount(ctx, "ada@example.com", func(acct store.GoogleAccount) (store.GoogleAccount, error) {
			close(inside)
			<-release
			acct.SealedToken = []byte("1")
			return acct, nil
		})
		done <- err
	}()
	<-inside

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.UpdateGoogleAccount(short, "ada@example.com", func(acct store.GoogleAccount) (store.GoogleAccount, error) {
		t.Error("the other replica's updater ran while the account was held")
		return acct, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting on another replica's lock past the deadline: err = %v, want DeadlineExceeded", err)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("gave up after %v; the deadline was 100ms", waited)
	}
	var waiting int
	if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND wait_event_type = 'Lock'`, sc.name).Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	if waiting != 0 {
		t.Errorf("%d backends still wait for the lock after the waiter gave up", waiting)
	}

	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, err := b.UpdateGoogleAccount(ctx, "ada@example.com", func(acct store.GoogleAccount) (store.GoogleAccount, error) {
		acct.SealedToken = append(acct.SealedToken, '+')
		return acct, nil
	})
	if err != nil || string(got.SealedToken) != "1+" {
		t.Errorf("update after the lock came free = %q, %v; want %q", got.SealedToken, err, "1+")
	}
}

// A replayed code revokes its family while another replica's cleaner deletes
// the family's long-expired tokens. Both write many of the same rows; were
// they to lock them in different orders (here the family index gives them
// in insertion order, the expiry index in reverse), Postgres would abort one
// as a deadlock, possibly the revocation.
func TestRevokeFamilyAndDeleteExpiredDoNotDeadlock(t *testing.T) {
	t.Parallel()
	sc := newSchema(t)
	// Plain index scans, as a larger table would get: the family index
	// gives the rows in insertion order, the expiry index in reverse.
	open := func() *Store {
		cfg := sc.config(t)
		cfg.ConnConfig.RuntimeParams["enable_bitmapscan"] = "off"
		cfg.ConnConfig.RuntimeParams["enable_seqscan"] = "off"
		s, err := open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	ctx := t.Context()
	now := time.Now()
	// Live tokens of other families make both statements use an index.
	var live []store.Token
	for i := range 2000 {
		live = append(live, store.Token{Hash: fmt.Sprintf("live-%04d", i), Kind: store.AccessToken,
			FamilyID: fmt.Sprintf("live-%d", i), ExpiresAt: now.Add(time.Hour)})
	}
	if err := a.CreateTokens(ctx, live...); err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		family := fmt.Sprintf("fam-%d", round)
		var expired []store.Token
		for i := range 300 {
			expired = append(expired, store.Token{Hash: fmt.Sprintf("r%d-%04d", round, i), Kind: store.AccessToken,
				FamilyID: family, ExpiresAt: now.Add(-48*time.Hour - time.Duration(i)*time.Minute)})
		}
		if err := a.CreateTokens(ctx, expired...); err != nil {
			t.Fatal(err)
		}
		if _, err := a.pool.Exec(ctx, "ANALYZE tokens"); err != nil {
			t.Fatal(err)
		}
		var start, wg sync.WaitGroup
		start.Add(1)
		wg.Go(func() {
			start.Wait()
			if err := a.RevokeFamily(ctx, family, now); err != nil {
				t.Errorf("round %d: RevokeFamily: %v", round, err)
			}
		})
		wg.Go(func() {
			start.Wait()
			if err := b.DeleteExpired(ctx, now); err != nil {
				t.Errorf("round %d: DeleteExpired: %v", round, err)
			}
		})
		start.Done()
		wg.Wait()
	}
}

// The zero time is stored as NULL, which reads as "never": redeeming or
// revoking "at" it would leave the code redeemable and the token live while
// the caller believes otherwise.
func TestZeroTimeIsRefusedWhereItWouldMeanNever(t *testing.T) {
	t.Parallel()
	s := newSchema(t).open(t)
	ctx := t.Context()
	expires := time.Now().Add(time.Hour)
	if err := s.CreateAuthCode(ctx, store.AuthCode{Hash: "c0de", FamilyID: "fam", ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTokens(ctx, store.Token{Hash: "tok", Kind: store.AccessToken, FamilyID: "fam", ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	var zero time.Time
	if _, err := s.RedeemAuthCode(ctx, "c0de", zero, nil); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("RedeemAuthCode at the zero time: err = %v, want a refusal", err)
	}
	if err := s.RevokeToken(ctx, "tok", zero); err == nil {
		t.Error("RevokeToken at the zero time: no error")
	}
	if err := s.RevokeFamily(ctx, "fam", zero); err == nil {
		t.Error("RevokeFamily at the zero time: no error")
	}
	if _, err := s.RedeemAuthCode(ctx, "c0de", time.Now(), nil); err != nil {
		t.Errorf("the code was spent by a refused redemption: %v", err)
	}
	if tok, err := s.GetToken(ctx, "tok"); err != nil || !tok.RevokedAt.IsZero() {
		t.Errorf("token after refused revocations = %+v, %v; want it live", tok, err)
	}
}

// Whatever the database's default, the store's transactions run at READ
// COMMITTED: under REPEATABLE READ a writer that waited for a row lock would
// fail with a serialization error instead of reading the new row.
func TestConnectionsUseReadCommitted(t *testing.T) {
	t.Parallel()
	sc := newSchema(t)
	cfg := sc.config(t)
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "serializable"
	s, err := open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var level string
	if err := s.pool.QueryRow(t.Context(), "SHOW transaction_isolation").Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != "read committed" {
		t.Errorf("transaction_isolation = %q, want read committed", level)
	}
}

func TestOpen_PoolSize(t *testing.T) {
	t.Parallel()
	sc := newSchema(t)
	for _, tc := range []struct {
		param string
		want  int32
	}{{"", maxConns}, {"3", 3}} {
		u, err := url.Parse(sc.url)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", sc.name)
		if tc.param != "" {
			q.Set("pool_max_conns", tc.param)
		}
		u.RawQuery = q.Encode()
		s, err := Open(t.Context(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		if got := s.pool.Config().MaxConns; got != tc.want {
			t.Errorf("pool_max_conns=%q: MaxConns = %d, want %d", tc.param, got, tc.want)
		}
		s.Close()
	}
}

// Two Stores on one schema stand in for two drivemcp replicas: nothing in Go
// memory is shared, so only PostgreSQL's locks keep them apart.
func TestTwoStores(t *testing.T) {
	storetest.RunTwoStoreTests(t, func(t *testing.T) (store.Store, store.Store) {
		sc := newSchema(t)
		return sc.open(t), sc.open(t)
	})
}

// A database written before accounts were checked by Google's sub opens
// with its accounts as they were; an account stored without a subject takes
// the first one a sign-in shows.
func TestOpen_UpgradeKeepsAccountsAndFillsSubjectAtNextSignIn(t *testing.T) {
	t.Parallel()
	sc := newSchema(t)
	pool, err := pgxpool.NewWithConfig(t.Context(), sc.config(t))
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{`CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`}
	for i, ddl := range migrations[:2] { // the schema before subjects were checked
		stmts = append(stmts, ddl, fmt.Sprintf(`INSERT INTO schema_migrations VALUES (%d, now())`, i+1))
	}
	stmts = append(stmts,
		`INSERT INTO google_accounts VALUES ('ada@example.com', '111', '{openid}', '\x01', false, now(), now(), NULL)`,
		`INSERT INTO google_accounts VALUES ('bob@example.com', '', '{openid}', '\x02', false, now(), now(), NULL)`)
	for _, q := range stmts {
		if _, err := pool.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	pool.Close()

	s := sc.open(t)
	list, err := s.ListGoogleAccounts(t.Context())
	if err != nil || len(list) != 2 || list[0].Subject != "111" || string(list[1].SealedToken) != "\x02" {
		t.Fatalf("accounts after the upgrade: %+v %v", list, err)
	}
	keep := func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) { return old, nil }
	res, err := s.SignInGoogleAccount(t.Context(), "bob@example.com", "222", keep)
	if err != nil || res.Replaced || res.Account.Subject != "222" || string(res.Account.SealedToken) != "\x02" {
		t.Fatalf("first sign-in of the account without a subject: %+v %v", res, err)
	}
	if res, err := s.SignInGoogleAccount(t.Context(), "bob@example.com", "333", keep); err != nil || !res.Replaced {
		t.Errorf("another sub at bob's address: %+v %v, want the account replaced", res, err)
	}
}
