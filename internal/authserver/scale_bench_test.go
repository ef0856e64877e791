package authserver

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drivemcp/drivemcp/internal/e2etest"
	"github.com/drivemcp/drivemcp/internal/secrets"
	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/store/postgres"
	"github.com/drivemcp/drivemcp/internal/store/sqlite"
)

// BenchmarkVerifyAccessTokenScale times token validation (VerifyAccessToken,
// which every /mcp request runs) in a small deployment and a large one: 100
// and 100,000 connected accounts, each with an access and a refresh token
// issued by this server. Both stores are filled before the clock starts; the
// measured calls alternate between them, each on a random account's token,
// so drift on a busy machine falls on both alike.
//
// Two servers read each store. One has the access-token cache off: its p50
// is the store's lookup by hash, which must not grow with the table (the
// target: ratio ≤ 1.2, large / small). The other has the cache as served
// (default TTL): the 100 tokens all stay in it, while 100,000 drawn at
// random overflow it, so its figures show what a miss costs at scale, not a
// target. SQLite always, PostgreSQL when DRIVEMCP_TEST_POSTGRES_URL is set
// (required under CI).
func BenchmarkVerifyAccessTokenScale(b *testing.B) {
	backends := []struct {
		name string
		open func(testing.TB) (store.Store, rowCopier)
	}{
		{"sqlite", func(tb testing.TB) (store.Store, rowCopier) {
			path := filepath.Join(tb.TempDir(), "db")
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { st.Close() })
			db, err := sql.Open("sqlite", path) // the driver the store registered
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { db.Close() })
			return st, sqliteCopier{db}
		}},
		{"postgres", func(tb testing.TB) (store.Store, rowCopier) {
			url := e2etest.PostgresURL(tb)
			st, err := postgres.Open(context.Background(), url)
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { st.Close() })
			conn, err := pgx.Connect(context.Background(), url)
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { conn.Close(context.Background()) })
			return st, postgresCopier{conn}
		}},
	}
	const samples = 2000 // per size, server and iteration
	for _, backend := range backends {
		b.Run(backend.name, func(b *testing.B) {
			st, cp := backend.open(b)
			small := newScaleDeployment(b, st, cp, 100)
			st, cp = backend.open(b)
			large := newScaleDeployment(b, st, cp, 100_000)
			// The four ways, measured in turn call by call.
			arms := []struct {
				d      *scaleDeployment
				cached bool
				times  []time.Duration
			}{{d: small}, {d: large}, {d: small, cached: true}, {d: large, cached: true}}
			rng := rand.New(rand.NewPCG(1, 2))
			for range samples / 4 { // warm: connections, statement caches, pages
				for _, a := range arms {
					a.d.verify(b, a.cached, rng)
				}
			}
			b.ResetTimer()
			for range b.N {
				for range samples {
					for i := range arms {
						arms[i].times = append(arms[i].times, arms[i].d.verify(b, arms[i].cached, rng))
					}
				}
			}
			b.StopTimer()
			p50 := func(i int) float64 { return float64(median(arms[i].times).Nanoseconds()) / 1e3 }
			b.ReportMetric(p50(0), "p50-µs-100")
			b.ReportMetric(p50(1), "p50-µs-100k")
			b.ReportMetric(p50(1)/p50(0), "ratio")
			b.ReportMetric(p50(2), "cached-p50-µs-100")
			b.ReportMetric(p50(3), "cached-p50-µs-100k")
			b.ReportMetric(p50(3)/p50(2), "cached-ratio")
			b.ReportMetric(0, "ns/op") // the loop's wall time mixes all four
		})
	}
}

// scaleDeployment is a store holding n accounts and their tokens, with
// two authorization servers on it: one without the access-token cache, one
// with it.
type scaleDeployment struct {
	srv, cached *Server
	emails      []string
	access      []string // every account's access token, as its client holds it
}

func newScaleDeployment(tb testing.TB, st store.Store, cp rowCopier, n int) *scaleDeployment {
	tb.Helper()
	ring, err := secrets.NewKeyring(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	opts := Options{Store: st, BaseURL: "https://drivemcp.example", Keys: ring, AccessTokenCacheTTL: -1}
	d := &scaleDeployment{srv: New(opts), access: make([]string, n), emails: make([]string, n)}
	opts.AccessTokenCacheTTL = 0 // the default
	d.cached = New(opts)
	for i := range n {
		d.emails[i] = fmt.Sprintf("user%06d@example.com", i)
	}
	start := time.Now()
	if err := d.seed(tb.Context(), cp, n); err != nil {
		tb.Fatalf("seeding %d accounts: %v", n, err)
	}
	tb.Logf("%T: %d accounts with their tokens stored in %v", st, n, time.Since(start).Round(time.Millisecond))
	return d
}

// throughStore is how many accounts are stored as logins store them; the
// rest are copies of the first, made in the database.
const throughStore = 100

// seed stores n accounts as logins leave them: a sealed Google grant, and an
// access and a refresh token of one family. The first ones go through the
// Store as the server writes them; storing 100,000 that way takes minutes
// (a transaction per account), so the others are copies of account 0's rows
// under new keys, one INSERT … SELECT per table: every column the store
// encodes is the store's own.
func (d *scaleDeployment) seed(ctx context.Context, cp rowCopier, n int) error {
	now := time.Now()
	sealed := make([]byte, 320) // about what a sealed Google token weighs
	var first []store.Token
	for i := range min(n, throughStore) {
		_, err := d.srv.store.UpsertGoogleAccount(ctx, d.emails[i], func(old store.GoogleAccount, _ bool) (store.GoogleAccount, error) {
			old.Email, old.Subject = d.emails[i], fmt.Sprintf("sub-%d", i)
			old.Scopes = []string{"openid", "email", "https://www.googleapis.com/auth/drive.file"}
			old.SealedToken, old.LastRefreshAt = sealed, now
			return old, nil
		})
		if err != nil {
			return err
		}
		pair, issued := d.srv.mint("mcp_scale_client", d.emails[i], d.srv.resource, []string{"drive.file"}, randomToken(16), true, now)
		if err := d.srv.store.CreateTokens(ctx, issued...); err != nil {
			return err
		}
		d.access[i] = pair.AccessToken
		if i == 0 {
			first = issued // access, then refresh
		}
	}
	if n <= throughStore {
		return nil
	}
	copies := n - throughStore
	subjects := make([]string, copies)
	families := make([]string, copies)
	accessHashes, refreshHashes := make([]string, copies), make([]string, copies)
	for k := range copies {
		i := throughStore + k
		subjects[k], families[k] = fmt.Sprintf("sub-%d", i), randomToken(16)
		d.access[i] = "dmcp_at_" + randomToken(32)
		accessHashes[k], refreshHashes[k] = hashToken(d.access[i]), hashToken("dmcp_rt_"+randomToken(32))
	}
	emails := d.emails[throughStore:]
	if err := cp.copyAccount(ctx, d.emails[0], emails, subjects); err != nil {
		return fmt.Errorf("copying accounts: %w", err)
	}
	for j, hashes := range [][]string{accessHashes, refreshHashes} {
		if err := cp.copyToken(ctx, first[j].Hash, hashes, families, emails); err != nil {
			return fmt.Errorf("copying %s tokens: %w", first[j].Kind, err)
		}
	}
	return nil
}

// rowCopier copies a row the Store wrote under other keys, in one
// statement: what differs per row is given, the rest is the template's.
type rowCopier interface {
	copyAccount(ctx context.Context, template string, emails, subjects []string) error
	copyToken(ctx context.Context, template string, hashes, families, emails []string) error
}

type sqliteCopier struct{ db *sql.DB }

func (c sqliteCopier) copyAccount(ctx context.Context, template string, emails, subjects []string) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO google_accounts
		(email, subject, scopes, sealed_token, needs_reconsent, created_at, updated_at, last_refresh_at)
		SELECT r.value ->> 0, r.value ->> 1, a.scopes, a.sealed_token, a.needs_reconsent, a.created_at, a.updated_at, a.last_refresh_at
		FROM google_accounts a, json_each(?1) r WHERE a.email = ?2`, jsonRows(emails, subjects), template)
	return err
}

func (c sqliteCopier) copyToken(ctx context.Context, template string, hashes, families, emails []string) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO tokens
		(hash, kind, family_id, client_id, email, resource, scopes, created_at, expires_at, rotated_at, successor, revoked_at)
		SELECT r.value ->> 0, t.kind, r.value ->> 1, t.client_id, r.value ->> 2, t.resource, t.scopes, t.created_at, t.expires_at, t.rotated_at, t.successor, t.revoked_at
		FROM tokens t, json_each(?1) r WHERE t.hash = ?2`, jsonRows(hashes, families, emails), template)
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

type postgresCopier struct{ conn *pgx.Conn }

func (c postgresCopier) copyAccount(ctx context.Context, template string, emails, subjects []string) error {
	_, err := c.conn.Exec(ctx, `INSERT INTO google_accounts
		(email, subject, scopes, sealed_token, needs_reconsent, created_at, updated_at, last_refresh_at)
		SELECT r.e, r.s, a.scopes, a.sealed_token, a.needs_reconsent, a.created_at, a.updated_at, a.last_refresh_at
		FROM google_accounts a, unnest($1::text[], $2::text[]) AS r(e, s) WHERE a.email = $3`, emails, subjects, template)
	if err == nil {
		_, err = c.conn.Exec(ctx, `ANALYZE google_accounts`)
	}
	return err
}

func (c postgresCopier) copyToken(ctx context.Context, template string, hashes, families, emails []string) error {
	_, err := c.conn.Exec(ctx, `INSERT INTO tokens
		(hash, kind, family_id, client_id, email, resource, scopes, created_at, expires_at, rotated_at, successor, revoked_at)
		SELECT r.h, t.kind, r.f, t.client_id, r.e, t.resource, t.scopes, t.created_at, t.expires_at, t.rotated_at, t.successor, t.revoked_at
		FROM tokens t, unnest($1::text[], $2::text[], $3::text[]) AS r(h, f, e) WHERE t.hash = $4`, hashes, families, emails, template)
	if err == nil {
		// As autovacuum would soon after such a load: the planner's view of
		// the table should be a grown one's, not an empty one's.
		_, err = c.conn.Exec(ctx, `ANALYZE tokens`)
	}
	return err
}

// verify checks a random account's access token and returns how long it
// took.
func (d *scaleDeployment) verify(tb testing.TB, cached bool, rng *rand.Rand) time.Duration {
	srv := d.srv
	if cached {
		srv = d.cached
	}
	i := rng.IntN(len(d.access))
	token := d.access[i]
	start := time.Now()
	info, err := srv.VerifyAccessToken(context.Background(), token, nil)
	elapsed := time.Since(start)
	if err != nil {
		tb.Fatalf("VerifyAccessToken: %v", err)
	}
	if want := d.emails[i]; info.UserID != want {
		tb.Fatalf("VerifyAccessToken: the token acts as %q, want %q", info.UserID, want)
	}
	return elapsed
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
