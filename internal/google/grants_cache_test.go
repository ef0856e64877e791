package google

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/metrics"
	"github.com/drivemcp/drivemcp/internal/store"
)

// countingStore counts account reads.
type countingStore struct {
	store.Store
	reads atomic.Int64
}

func (c *countingStore) GetGoogleAccount(ctx context.Context, email string) (store.GoogleAccount, error) {
	c.reads.Add(1)
	return c.Store.GetGoogleAccount(ctx, email)
}

func countReads(f *fixture) *countingStore {
	c := &countingStore{Store: f.grants.store}
	f.grants.store = c
	return c
}

// A burst of tool calls for one account reads it from the store once.
func TestGrants_AccountBurstReadsTheStoreOnce(t *testing.T) {
	f := newFixture(t)
	f.login(t, "alice@example.com", false)
	reads := countReads(f)
	for range 50 {
		if _, err := f.grants.Token(context.Background(), "Alice@Example.com"); err != nil {
			t.Fatal(err)
		}
	}
	if n := reads.reads.Load(); n != 1 {
		t.Fatalf("store reads = %d, want 1", n)
	}
}

// What this process writes (a refresh, a new consent, a sign-out) is what
// its next call sees, cache or not.
func TestGrants_OwnWritesAreSeenAtOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.login(t, "alice@example.com", false)
	if _, err := f.grants.Account(ctx, "alice@example.com"); err != nil { // cached now
		t.Fatal(err)
	}

	// A refresh replaces the cached token.
	f.expireStored(t, "alice@example.com")
	if _, err := f.grants.Account(ctx, "alice@example.com"); err != nil { // caches the expired one
		t.Fatal(err)
	}
	refreshed, err := f.grants.Token(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if refreshed.AccessToken == first.AccessToken {
		t.Fatal("the expired token was not refreshed")
	}
	if again, err := f.grants.Token(ctx, "alice@example.com"); err != nil || again.AccessToken != refreshed.AccessToken {
		t.Fatalf("after the refresh Token() = %v, %v; want the refreshed token", again, err)
	}

	// A new consent with more scopes is seen by the next call.
	acct, err := f.grants.Save(ctx, UserInfo{Email: "alice@example.com", Subject: "alice"}, refreshed, []string{ScopeDriveFile, ScopeDrive})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.grants.Account(ctx, "alice@example.com"); len(got.Scopes) != len(acct.Scopes) {
		t.Fatalf("scopes after a new consent = %v, want %v", got.Scopes, acct.Scopes)
	}

	// A sign-out is final at once.
	if err := f.grants.Revoke(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.grants.Account(ctx, "alice@example.com"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("after Revoke, Account() = %v; want ErrNoAccount", err)
	}
}

// An account removed by another process (`drivemcp accounts revoke`, a
// second replica) is gone here within the TTL.
func TestGrants_RemovalElsewhereIsSeenWithinTheTTL(t *testing.T) {
	const ttl = 2 * time.Second
	clk := &testClock{t: time.Now()}
	f := newFixture(t, WithAccountCacheTTL(ttl), WithClock(clk.now))
	ctx := context.Background()
	f.login(t, "alice@example.com", false)
	if _, err := f.grants.Account(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := f.grants.store.DeleteGoogleAccount(ctx, "alice@example.com"); err != nil { // not through the Grants
		t.Fatal(err)
	}
	// Within the TTL the cached account may still be used: that is the
	// cache's promise, and proves the clock is the one given.
	clk.advance(ttl / 2)
	if _, err := f.grants.Account(ctx, "alice@example.com"); err != nil {
		t.Fatalf("%v after a removal elsewhere, inside the TTL, Account() = %v; want the cached account", ttl/2, err)
	}
	clk.advance(ttl)
	if _, err := f.grants.Account(ctx, "alice@example.com"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("%v after a removal elsewhere, Account() = %v; want ErrNoAccount", ttl+ttl/2, err)
	}
}

// testClock is a clock tests move by hand, so that a TTL passes without
// waiting for it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// The refresh outcomes are counted by the metrics given to NewGrants.
func TestNewGrants_WithMetricsCountsRefreshes(t *testing.T) {
	m := metrics.New()
	clk := &testClock{t: time.Now()}
	f := newFixture(t, WithMetrics(m), WithClock(clk.now))
	f.login(t, "alice@example.com", false)
	clk.advance(2 * time.Hour) // Google's access token has expired
	if _, err := f.grants.Token(context.Background(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var counted float64
	for _, fam := range families {
		if strings.Contains(fam.GetName(), "refresh") {
			for _, s := range fam.GetMetric() {
				counted += s.GetCounter().GetValue()
			}
		}
	}
	if counted == 0 {
		t.Error("a refresh happened but the metrics given to NewGrants counted none")
	}
}

// An unknown account is not remembered as unknown: its consent is seen by
// the very next call.
func TestGrants_UnknownAccountIsNotCached(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.grants.Account(ctx, "bob@example.com"); !errors.Is(err, ErrNoAccount) {
		t.Fatalf("Account() = %v; want ErrNoAccount", err)
	}
	f.login(t, "bob@example.com", false)
	if _, err := f.grants.Account(ctx, "bob@example.com"); err != nil {
		t.Fatalf("right after the consent: %v", err)
	}
}

// The expiry check_drive_auth shows is the stored token's, before and
// after a refresh replaces it.
func TestGrants_TokenExpiryFollowsTheStoredToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first := f.login(t, "alice@example.com", false)
	acct, err := f.grants.Account(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.grants.TokenExpiry(acct); !got.Equal(first.Expiry) {
		t.Fatalf("TokenExpiry = %v, want %v", got, first.Expiry)
	}
	f.expireStored(t, "alice@example.com")
	refreshed, err := f.grants.Token(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if acct, err = f.grants.Account(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if got := f.grants.TokenExpiry(acct); !got.Equal(refreshed.Expiry) {
		t.Fatalf("after a refresh TokenExpiry = %v, want the new token's %v", got, refreshed.Expiry)
	}
}
