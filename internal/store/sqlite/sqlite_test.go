package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return openAt(t, filepath.Join(t.TempDir(), "drivemcp.db"))
	})
}

// A backup of the SQLite file must not hold a usable state or session id.
func TestStore_DatabaseCopyHoldsNoUsableLoginState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	storetest.CheckDatabaseCopy(t, openAt(t, path), func(t *testing.T) []string {
		return fileCells(t, path)
	})
}

// fileCells reads every value of every table through a read-only connection
// of its own, as a copy of the file would be read.
func fileCells(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tables, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var name string
		if err := tables.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	tables.Close()
	var cells []string
	for _, name := range names {
		rows, err := db.QueryContext(t.Context(), `SELECT * FROM "`+name+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					cells = append(cells, string(b))
				} else {
					cells = append(cells, fmt.Sprint(v))
				}
			}
		}
		rows.Close()
	}
	return cells
}

// openAt opens path and closes it at the end of the test; closing twice is
// harmless.
func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpen_CreatesPrivateFileAndDirectory(t *testing.T) {
	// '?', '#' and '%' would be taken for URI syntax if not escaped.
	dir := filepath.Join(t.TempDir(), "data dir?#%", "drivemcp")
	s := openAt(t, filepath.Join(dir, "drivemcp.db"))
	if !filepath.IsAbs(s.Path()) || s.Path() != filepath.Join(dir, "drivemcp.db") {
		t.Errorf("Path() = %q", s.Path())
	}
	if _, err := os.Stat(s.Path()); err != nil {
		t.Fatalf("database file not at Path(): %v", err)
	}
	if runtime.GOOS != "windows" {
		for path, want := range map[string]os.FileMode{dir: 0o700, s.Path(): 0o600} {
			if info, err := os.Stat(path); err != nil || info.Mode().Perm() != want {
				t.Errorf("%s: mode %v, %v; want %#o", path, info.Mode().Perm(), err, want)
			}
		}
	}
}

func TestOpen_EveryConnectionHasThePragmas(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "drivemcp.db"))
	want := map[string]string{
		"journal_mode": "wal",
		"busy_timeout": strconv.FormatInt(busyTimeout.Milliseconds(), 10),
		"foreign_keys": "1",
		"synchronous":  "1", // NORMAL
	}
	for name, pool := range map[string]struct {
		db    *sql.DB
		conns int
	}{"write": {s.write, 1}, "read": {s.read, readConns}} {
		// Hold every connection of the pool at once, so each one is
		// checked, not just the first idle one again and again.
		var held []*sql.Conn
		for i := range pool.conns {
			conn, err := pool.db.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, conn)
			for pragma, value := range want {
				var got string
				if err := conn.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
					t.Fatalf("%s pool conn %d: PRAGMA %s: %v", name, i, pragma, err)
				}
				if got != value {
					t.Errorf("%s pool conn %d: %s = %s, want %s", name, i, pragma, got, value)
				}
			}
		}
		for _, conn := range held {
			conn.Close()
		}
	}
	if _, err := s.read.ExecContext(t.Context(), "DELETE FROM google_accounts"); err == nil {
		t.Error("the read pool accepted a write; it must be query_only")
	}
}

// Upgrading drops the transactions and bindings written in the clear by
// earlier versions: they cannot be sealed in SQL, and they are short-lived.
func TestOpen_UpgradeDropsLoginStateKeptInTheClear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	old, err := sql.Open("sqlite", dsn(path, false, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(t.Context(), `CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for i, ddl := range migrations[:3] { // the schema before states were hashed
		if err := applyMigration(t.Context(), old, i+1, ddl); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	if _, err := old.ExecContext(t.Context(), `INSERT INTO auth_transactions VALUES
		('old-state', 'direct', 'old-verifier', '[]', '', 'old-session', '', '', '', '', '', '[]', 0, 9999999999999, 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(t.Context(), `INSERT INTO session_bindings VALUES ('old-session', 'ada@example.com', 0, 9999999999999)`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	s := openAt(t, path)
	for _, c := range fileCells(t, path) {
		if strings.Contains(c, "old-") {
			t.Errorf("after the upgrade the database still holds %q", c)
		}
	}
	if _, err := s.GetSessionBinding(t.Context(), "old-session", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSessionBinding(old-session) after the upgrade: %v; want ErrNotFound", err)
	}
}

func TestOpen_MigrationsRunOnceAndReopenIsANoOp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	first := openAt(t, path)
	versions := appliedVersions(t, first)
	if len(versions) != len(migrations) {
		t.Fatalf("applied %v, want %d migrations", versions, len(migrations))
	}
	first.Close()

	again := openAt(t, path)
	if got := appliedVersions(t, again); strings.Join(got, ",") != strings.Join(versions, ",") {
		t.Errorf("reopen changed schema_migrations from %v to %v", versions, got)
	}
}

func appliedVersions(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), "SELECT version || '@' || applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpen_RefusesANewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	s := openAt(t, path)
	if _, err := s.write.ExecContext(t.Context(), "INSERT INTO schema_migrations VALUES (?, 0)", len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "newer drivemcp") {
		t.Errorf("Open of a database from a newer release: err = %v, want one asking for a newer drivemcp", err)
	}
}

func TestOpen_ConcurrentOpensOfAFreshFileAgree(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			s, err := Open(t.Context(), path)
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			s.Close()
		})
	}
	wg.Wait()
	if got := appliedVersions(t, openAt(t, path)); len(got) != len(migrations) {
		t.Errorf("schema_migrations = %v after concurrent opens", got)
	}
}

func TestDataPersistsAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	s := openAt(t, path)
	ctx := t.Context()
	want, err := s.UpsertGoogleAccount(ctx, "ada@example.com", func(a store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		a.Subject, a.Scopes, a.SealedToken = "sub", []string{"openid"}, []byte{0, 1, 2}
		return a, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(time.Hour)
	if err := s.BindSession(ctx, store.SessionBinding{SessionID: "sid", Email: want.Email, CreatedAt: time.Now(), ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAuthTransaction(ctx, store.AuthTransaction{State: "st", Kind: store.FlowDirect, ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path)
	got, err := s.GetGoogleAccount(ctx, want.Email)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != want.Subject || string(got.SealedToken) != string(want.SealedToken) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("after reopen: %+v, want %+v", got, want)
	}
	if _, err := s.GetSessionBinding(ctx, "sid", time.Now()); err != nil {
		t.Errorf("binding after reopen: %v", err)
	}
	if _, err := s.TakeAuthTransaction(ctx, "st", time.Now()); err != nil {
		t.Errorf("transaction after reopen: %v", err)
	}
}

func TestTwoStoresOnOneFile_LockWaitHonoursContextAndReadsGoOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	a, b := openAt(t, path), openAt(t, path)
	ctx := t.Context()
	if _, err := a.UpsertGoogleAccount(ctx, "ada@example.com", func(acct store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		acct.SealedToken = []byte("before")
		return acct, nil
	}); err != nil {
		t.Fatal(err)
	}

	inside, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := a.UpdateGoogleAccount(ctx, "ada@example.com", func(acct store.GoogleAccount) (store.GoogleAccount, error) {
			close(inside)
			<-release
			acct.SealedToken = []byte("after")
			return acct, nil
		})
		done <- err
	}()
	<-inside

	got, err := b.GetGoogleAccount(ctx, "ada@example.com")
	if err != nil || string(got.SealedToken) != "before" {
		t.Errorf("read from the other process while locked = %q, %v; want the committed value", got.SealedToken, err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.UpdateGoogleAccount(short, "ada@example.com", func(acct store.GoogleAccount) (store.GoogleAccount, error) {
		t.Error("the other process's updater ran while the account was held")
		return acct, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting on another process's lock past the deadline: err = %v, want DeadlineExceeded", err)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("gave up after %v; the deadline was 100ms", waited)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, err := b.GetGoogleAccount(ctx, "ada@example.com"); err != nil || string(got.SealedToken) != "after" {
		t.Errorf("after release the other process reads %q, %v", got.SealedToken, err)
	}
}

// Two Stores on one file stand in for two drivemcp processes: only SQLite's
// own lock (BEGIN IMMEDIATE) keeps them apart.
func TestTwoStoresOnOneFile(t *testing.T) {
	storetest.RunTwoStoreTests(t, func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "drivemcp.db")
		return openAt(t, path), openAt(t, path)
	})
}

// A database written before accounts were checked by Google's sub opens
// with its accounts and tokens as they were; an account stored without a
// subject takes the first one a sign-in shows, and from then on another sub
// at that address is another person.
func TestOpen_UpgradeKeepsAccountsAndFillsSubjectAtNextSignIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drivemcp.db")
	old, err := sql.Open("sqlite", dsn(path, false, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(t.Context(), `CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for i, ddl := range migrations[:4] { // the schema before subjects were checked
		if err := applyMigration(t.Context(), old, i+1, ddl); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	for _, q := range []string{
		`INSERT INTO google_accounts VALUES ('ada@example.com', '111', '["openid"]', x'01', 0, 1, 2, 3)`,
		`INSERT INTO google_accounts VALUES ('bob@example.com', '', '["openid"]', x'02', 0, 1, 2, 3)`,
		`INSERT INTO tokens VALUES ('h-bob', 'access', 'fam', 'mcp_c', 'bob@example.com', 'r', '[]', 1, 9999999999999, 0, NULL, 0)`,
	} {
		if _, err := old.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	s := openAt(t, path)
	list, err := s.ListGoogleAccounts(t.Context())
	if err != nil || len(list) != 2 || list[0].Subject != "111" || string(list[1].SealedToken) != "\x02" {
		t.Fatalf("accounts after the upgrade: %+v %v", list, err)
	}
	keep := func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) { return old, nil }
	res, err := s.SignInGoogleAccount(t.Context(), "bob@example.com", "222", keep)
	if err != nil || res.Replaced || res.Account.Subject != "222" || string(res.Account.SealedToken) != "\x02" {
		t.Fatalf("first sign-in of the account without a subject: %+v %v", res, err)
	}
	if tok, err := s.GetToken(t.Context(), "h-bob"); err != nil || !tok.RevokedAt.IsZero() {
		t.Errorf("bob's token after adopting the subject: %+v %v", tok, err)
	}
	if res, err := s.SignInGoogleAccount(t.Context(), "bob@example.com", "333", keep); err != nil || !res.Replaced {
		t.Errorf("another sub at bob's address: %+v %v, want the account replaced", res, err)
	}
}
