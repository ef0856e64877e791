package bench

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drivemcp/drivemcp/internal/authserver"
	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/google"
	"github.com/drivemcp/drivemcp/internal/googleemu"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/postgres"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// scaleSettings size the store-scale run.
type scaleSettings struct {
	Accounts, Tokens int // of the large deployment; the small one has 100 accounts, 2 tokens each
	Samples          int // per operation, deployment and backend
}

func scaleSettingsFromEnv(tb testing.TB) scaleSettings {
	s := scaleSettings{Accounts: 100_000, Tokens: 1_000_000, Samples: 3000}
	for name, dst := range map[string]*int{"BENCH_SCALE_ACCOUNTS": &s.Accounts, "BENCH_SCALE_TOKENS": &s.Tokens, "BENCH_SCALE_SAMPLES": &s.Samples} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 10_000_000 {
				tb.Fatalf("%s: %q is not a number in [1, 10000000]", name, v)
			}
			*dst = n
		}
	}
	if s.Tokens < s.Accounts {
		tb.Fatalf("BENCH_SCALE_TOKENS (%d) must be at least BENCH_SCALE_ACCOUNTS (%d): every account has a live access token", s.Tokens, s.Accounts)
	}
	return s
}

// TestLoadStoreScale times the two store reads every authenticated tool
// call makes, token validation (VerifyAccessToken, with its cache off so
// that every call reads the store) and grant lookup (Grants.Account), in a
// small deployment (100 accounts, 200 tokens) and a large one (100,000
// accounts, 1,000,000 issued tokens: each account's live access token and
// nine more, as rotations leave them), on SQLite and, when
// DRIVEMCP_TEST_POSTGRES_URL is set, PostgreSQL. Calls alternate between
// the two deployments on random accounts. Reported: p50 and p99 of each,
// and the large/small ratio of the p50s (a lookup by key should not grow
// with the table: target ≤ 1.2).
//
// Loading the million tokens takes seconds (rows copied in the database from ones the
// Store wrote, in batches of 50,000 per statement). Sizes:
// BENCH_SCALE_ACCOUNTS, BENCH_SCALE_TOKENS, BENCH_SCALE_SAMPLES.
func TestLoadStoreScale(t *testing.T) {
	l := newLoadRunner(t)
	runStoreScale(l, scaleSettingsFromEnv(t))
}

func runStoreScale(b runner, set scaleSettings) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Sub(backend, func(b runner) {
			small := newScaleDeployment(b, backend, 100, 200)
			large := newScaleDeployment(b, backend, set.Accounts, set.Tokens)
			rng := rand.New(rand.NewPCG(1, 2))
			for range set.Samples / 5 { // warm: connections, pages
				small.sample(b, rng)
				large.sample(b, rng)
			}
			var smallTimes, largeTimes scaleTimes
			for range set.Samples {
				smallTimes.add(small.sample(b, rng))
				largeTimes.add(large.sample(b, rng))
			}
			b.Logf("%s, %d accounts: %s", backend, 100, smallTimes)
			b.Logf("%s, %d accounts, %d tokens: %s", backend, set.Accounts, set.Tokens, largeTimes)
			{
				for _, m := range []struct {
					unit string
					v    time.Duration
				}{
					{"verify-p50-µs", largeTimes.verify.q(0.5)}, {"verify-p99-µs", largeTimes.verify.q(0.99)},
					{"grant-p50-µs", largeTimes.grant.q(0.5)}, {"grant-p99-µs", largeTimes.grant.q(0.99)},
					{"small-verify-p50-µs", smallTimes.verify.q(0.5)}, {"small-grant-p50-µs", smallTimes.grant.q(0.5)},
				} {
					b.Figure(float64(m.v.Nanoseconds())/1e3, m.unit)
				}
				b.Figure(float64(largeTimes.verify.q(0.5))/float64(smallTimes.verify.q(0.5)), "verify-ratio")
				b.Figure(float64(largeTimes.grant.q(0.5))/float64(smallTimes.grant.q(0.5)), "grant-ratio")
			}
		})
	}
}

type durations []time.Duration

func (d durations) q(q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*q))]
}

type scaleTimes struct{ verify, grant durations }

func (t *scaleTimes) add(verify, grant time.Duration) {
	t.verify = append(t.verify, verify)
	t.grant = append(t.grant, grant)
}

func (t scaleTimes) String() string {
	return fmt.Sprintf("verify p50 %v p99 %v; grant lookup p50 %v p99 %v",
		t.verify.q(0.5), t.verify.q(0.99), t.grant.q(0.5), t.grant.q(0.99))
}

// scaleDeployment is an authorization server and the Google grants over a
// store holding accounts and tokens.
type scaleDeployment struct {
	auth   *authserver.Server
	grants *google.Grants
	emails []string
	access []string // each account's live access token, as its client holds it
}

const scaleBase = "https://drivemcp.example"

func newScaleDeployment(tb testing.TB, backend string, accounts, tokens int) *scaleDeployment {
	tb.Helper()
	ctx := context.Background()
	var st store.Store
	var cp scaleCopier
	switch backend {
	case "sqlite":
		path := filepath.Join(tb.TempDir(), "drivemcp.db")
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			tb.Fatal(err)
		}
		st = s
		db, err := sql.Open("sqlite", path) // the driver the store registered
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		cp = sqliteScaleCopier{db}
	case "postgres":
		url := e2etest.PostgresURL(tb)
		s, err := postgres.Open(ctx, url)
		if err != nil {
			tb.Fatal(err)
		}
		st = s
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { conn.Close(context.Background()) })
		cp = postgresScaleCopier{conn}
	}
	tb.Cleanup(func() { st.Close() })
	keys, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	up := google.NewUpstream(googleemu.DemoClientID, googleemu.DemoClientSecret, scaleBase+"/oauth2callback", google.EndpointsAt("http://127.0.0.1:1"), nil)
	d := &scaleDeployment{
		auth:   authserver.New(authserver.Options{Store: st, BaseURL: scaleBase, Keys: keys, AccessTokenCacheTTL: -1}),
		grants: google.NewGrants(st, keys, up, google.WithAccountCacheTTL(-1)), // this measures the store
		emails: make([]string, accounts), access: make([]string, accounts),
	}
	start := time.Now()
	if err := d.seed(ctx, st, cp, tokens); err != nil {
		tb.Fatalf("seeding %d accounts and %d tokens: %v", accounts, tokens, err)
	}
	tb.Logf("%s: %d accounts and %d tokens stored in %v", backend, accounts, tokens, time.Since(start).Round(time.Millisecond))
	return d
}

// seed stores the deployment: account 0 and its two tokens (an access
// token, a refresh token) through the Store, as a login leaves them; every
// other row is a copy of one of those made in the database under new keys,
// so every column the store encodes is the store's own. Each account gets
// a live access token; the other tokens are copies of the refresh token
// spread over the accounts.
func (d *scaleDeployment) seed(ctx context.Context, st store.Store, cp scaleCopier, tokens int) error {
	n := len(d.emails)
	for i := range n {
		d.emails[i] = fmt.Sprintf("user%07d@example.com", i)
		d.access[i] = "dmcp_at_" + randomString(32)
	}
	now := time.Now()
	_, err := st.UpsertGoogleAccount(ctx, d.emails[0], func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
		old.Email, old.Subject = d.emails[0], "sub-0"
		old.Scopes = []string{"openid", "email", google.ScopeDriveFile}
		old.SealedToken, old.LastRefreshAt = make([]byte, 320), now // about what a sealed Google token weighs
		return old, nil
	})
	if err != nil {
		return err
	}
	template := func(kind store.TokenKind, hash string) store.Token {
		return store.Token{Hash: hash, Kind: kind, FamilyID: "family-0", ClientID: "mcp_scale_client", Email: d.emails[0],
			Resource: scaleBase + "/mcp", Scopes: []string{"drive.file"}, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	refreshTemplate := tokenHash("dmcp_rt_" + randomString(32))
	if err := st.CreateTokens(ctx, template(store.AccessToken, tokenHash(d.access[0])), template(store.RefreshToken, refreshTemplate)); err != nil {
		return err
	}
	const batch = 50_000
	for lo := 1; lo < n; lo += batch {
		hi := min(lo+batch, n)
		subjects := make([]string, hi-lo)
		for k := range subjects {
			subjects[k] = "sub-" + strconv.Itoa(lo+k)
		}
		if err := cp.copyAccount(ctx, d.emails[0], d.emails[lo:hi], subjects); err != nil {
			return fmt.Errorf("copying accounts: %w", err)
		}
	}
	copyTokens := func(template string, total int, hashOf func(k int) (hash, email string)) error {
		for lo := 0; lo < total; lo += batch {
			hi := min(lo+batch, total)
			hashes, families, emails := make([]string, hi-lo), make([]string, hi-lo), make([]string, hi-lo)
			for k := range hashes {
				hashes[k], emails[k] = hashOf(lo + k)
				families[k] = "family-" + strconv.Itoa(lo+k)
			}
			if err := cp.copyToken(ctx, template, hashes, families, emails); err != nil {
				return err
			}
		}
		return nil
	}
	if err := copyTokens(tokenHash(d.access[0]), n-1, func(k int) (string, string) {
		return tokenHash(d.access[k+1]), d.emails[k+1]
	}); err != nil {
		return fmt.Errorf("copying access tokens: %w", err)
	}
	if err := copyTokens(refreshTemplate, tokens-n-1, func(k int) (string, string) {
		return tokenHash(randomString(24)), d.emails[k%n]
	}); err != nil {
		return fmt.Errorf("copying refresh tokens: %w", err)
	}
	return cp.analyze(ctx)
}

// tokenHash is how drivemcp stores its tokens (docs/architecture.md, "Where state lives"): hex SHA-256.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// sample validates a random account's token and looks up a random
// account's grant, and returns how long each took.
func (d *scaleDeployment) sample(tb testing.TB, rng *rand.Rand) (verify, grant time.Duration) {
	ctx := context.Background()
	i := rng.IntN(len(d.access))
	start := time.Now()
	info, err := d.auth.VerifyAccessToken(ctx, d.access[i], nil)
	verify = time.Since(start)
	if err != nil || info.UserID != d.emails[i] {
		tb.Fatalf("VerifyAccessToken of account %d: %v %v", i, info, err)
	}
	j := rng.IntN(len(d.emails))
	start = time.Now()
	acct, err := d.grants.Account(ctx, d.emails[j])
	grant = time.Since(start)
	if err != nil || acct.Email != d.emails[j] {
		tb.Fatalf("Grants.Account(%s): %v %v", d.emails[j], acct.Email, err)
	}
	return verify, grant
}

// scaleCopier copies rows the Store wrote under other keys, a batch per
// statement: what differs per row is given, the rest is the template's.
type scaleCopier interface {
	copyAccount(ctx context.Context, template string, emails, subjects []string) error
	copyToken(ctx context.Context, template string, hashes, families, emails []string) error
	analyze(ctx context.Context) error
}

type sqliteScaleCopier struct{ db *sql.DB }

func (c sqliteScaleCopier) copyAccount(ctx context.Context, template string, emails, subjects []string) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO google_accounts
		(email, subject, scopes, sealed_token, needs_reconsent, created_at, updated_at, last_refresh_at)
		SELECT r.value ->> 0, r.value ->> 1, a.scopes, a.sealed_token, a.needs_reconsent, a.created_at, a.updated_at, a.last_refresh_at
		FROM google_accounts a, json_each(?1) r WHERE a.email = ?2`, jsonRows(emails, subjects), template)
	return err
}

func (c sqliteScaleCopier) copyToken(ctx context.Context, template string, hashes, families, emails []string) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO tokens
		(hash, kind, family_id, client_id, email, resource, scopes, created_at, expires_at, rotated_at, successor, revoked_at)
		SELECT r.value ->> 0, t.kind, r.value ->> 1, t.client_id, r.value ->> 2, t.resource, t.scopes, t.created_at, t.expires_at, t.rotated_at, t.successor, t.revoked_at
		FROM tokens t, json_each(?1) r WHERE t.hash = ?2`, jsonRows(hashes, families, emails), template)
	return err
}

func (c sqliteScaleCopier) analyze(ctx context.Context) error {
	_, err := c.db.ExecContext(ctx, `ANALYZE`)
	return err
}

// jsonRows zips columns into a JSON array of rows, for json_each.
func jsonRows(cols ...[]string) string {
	rows := make([][]string, len(cols[0]))
	for i := range rows {
		for _, c := range cols {
			rows[i] = append(rows[i], c[i])
		}
	}
	raw, _ := json.Marshal(rows)
	return string(raw)
}

type postgresScaleCopier struct{ conn *pgx.Conn }

func (c postgresScaleCopier) copyAccount(ctx context.Context, template string, emails, subjects []string) error {
	_, err := c.conn.Exec(ctx, `INSERT INTO google_accounts
		(email, subject, scopes, sealed_token, needs_reconsent, created_at, updated_at, last_refresh_at)
		SELECT r.e, r.s, a.scopes, a.sealed_token, a.needs_reconsent, a.created_at, a.updated_at, a.last_refresh_at
		FROM google_accounts a, unnest($1::text[], $2::text[]) AS r(e, s) WHERE a.email = $3`, emails, subjects, template)
	return err
}

func (c postgresScaleCopier) copyToken(ctx context.Context, template string, hashes, families, emails []string) error {
	_, err := c.conn.Exec(ctx, `INSERT INTO tokens
		(hash, kind, family_id, client_id, email, resource, scopes, created_at, expires_at, rotated_at, successor, revoked_at)
		SELECT r.h, t.kind, r.f, t.client_id, r.e, t.resource, t.scopes, t.created_at, t.expires_at, t.rotated_at, t.successor, t.revoked_at
		FROM tokens t, unnest($1::text[], $2::text[], $3::text[]) AS r(h, f, e) WHERE t.hash = $4`, hashes, families, emails, template)
	return err
}

// analyze does what autovacuum would soon after such a load: the planner
// should see a grown table, not an empty one.
func (c postgresScaleCopier) analyze(ctx context.Context) error {
	_, err := c.conn.Exec(ctx, `ANALYZE google_accounts; ANALYZE tokens`)
	return err
}
