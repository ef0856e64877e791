package authserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
)

// tokenTable is a Store holding only tokens, counting reads; the rest of
// the Store is nil and panics if called.
type tokenTable struct {
	store.Store
	mu     sync.Mutex
	tokens map[string]store.Token
	reads  int
	// beforeRead, if set, runs inside GetToken after the row was read and
	// before it is returned: a revocation can commit in between.
	beforeRead func()
}

func newTokenTable(tokens ...store.Token) *tokenTable {
	t := &tokenTable{tokens: map[string]store.Token{}}
	for _, tok := range tokens {
		t.tokens[tok.Hash] = tok
	}
	return t
}

func (t *tokenTable) GetToken(_ context.Context, hash string) (store.Token, error) {
	t.mu.Lock()
	tok, ok := t.tokens[hash]
	t.reads++
	hook := t.beforeRead
	t.mu.Unlock()
	if hook != nil {
		hook()
	}
	if !ok {
		return store.Token{}, store.ErrNotFound
	}
	return tok, nil
}

func (t *tokenTable) RevokeToken(_ context.Context, hash string, now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	tok, ok := t.tokens[hash]
	if !ok {
		return store.ErrNotFound
	}
	tok.RevokedAt = now
	t.tokens[hash] = tok
	return nil
}

func (t *tokenTable) RevokeFamily(_ context.Context, family string, now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for h, tok := range t.tokens {
		if tok.FamilyID == family {
			tok.RevokedAt = now
			t.tokens[h] = tok
		}
	}
	return nil
}

func (t *tokenTable) readCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reads
}

func liveAccessToken(hash, family string) store.Token {
	return store.Token{Hash: hash, Kind: store.AccessToken, FamilyID: family, Email: "a@example.com",
		Resource: "https://drivemcp.example/mcp", ExpiresAt: time.Now().Add(time.Hour)}
}

func mustGet(t *testing.T, c *accessTokenCache, hash string) store.Token {
	t.Helper()
	tok, err := c.Get(context.Background(), hash)
	if err != nil {
		t.Fatalf("Get(%s): %v", hash, err)
	}
	return tok
}

// A burst of requests with one token reads the store once.
func TestAccessTokenCache_BurstReadsTheStoreOnce(t *testing.T) {
	table := newTokenTable(liveAccessToken("h1", "f1"))
	c := newAccessTokenCache(table, time.Minute)
	for range 100 {
		mustGet(t, c, "h1")
	}
	if n := table.readCount(); n != 1 {
		t.Fatalf("100 verifications read the store %d times, want 1", n)
	}
}

// A token revoked on this replica stops working at the next request: the
// revocation, through Observe's store, drops what the cache held.
func TestAccessTokenCache_RevocationHereIsSeenAtOnce(t *testing.T) {
	for name, revoke := range map[string]func(store.Store) error{
		"RevokeToken":  func(st store.Store) error { return st.RevokeToken(context.Background(), "h1", time.Now()) },
		"RevokeFamily": func(st store.Store) error { return st.RevokeFamily(context.Background(), "f1", time.Now()) },
	} {
		t.Run(name, func(t *testing.T) {
			table := newTokenTable(liveAccessToken("h1", "f1"))
			c := newAccessTokenCache(table, time.Hour)
			mustGet(t, c, "h1")
			if err := revoke(c.Observe(table)); err != nil {
				t.Fatal(err)
			}
			if tok := mustGet(t, c, "h1"); tok.RevokedAt.IsZero() {
				t.Fatal("the cache still answers with the token as it was before its revocation")
			}
		})
	}
}

// A verification that read the token just before a revocation committed
// must not leave that stale row in the cache for the next request.
func TestAccessTokenCache_ReadRacingARevocationIsNotKept(t *testing.T) {
	table := newTokenTable(liveAccessToken("h1", "f1"))
	c := newAccessTokenCache(table, time.Hour)
	observed := c.Observe(table)
	table.beforeRead = func() {
		table.beforeRead = nil // the next read is plain
		// The row was read unrevoked; the revocation commits now.
		if err := observed.RevokeToken(context.Background(), "h1", time.Now()); err != nil {
			t.Error(err)
		}
	}
	if tok := mustGet(t, c, "h1"); !tok.RevokedAt.IsZero() {
		t.Fatal("the racing read should have seen the row before the revocation")
	}
	if tok := mustGet(t, c, "h1"); tok.RevokedAt.IsZero() {
		t.Fatal("the next request was answered from the stale read")
	}
}

// A token revoked by another process (a second replica) is accepted for at
// most the TTL.
// The bubble's clock moves only when the test sleeps, so the TTL passes
// exactly, without waiting for it.
func TestAccessTokenCache_RevocationElsewhereIsSeenWithinTheTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const ttl = 5 * time.Second
		table := newTokenTable(liveAccessToken("h1", "f1"))
		c := newAccessTokenCache(table, ttl)
		mustGet(t, c, "h1")
		if err := table.RevokeToken(context.Background(), "h1", time.Now()); err != nil { // not through Observe
			t.Fatal(err)
		}
		time.Sleep(ttl / 2)
		if tok := mustGet(t, c, "h1"); !tok.RevokedAt.IsZero() {
			t.Fatalf("within the TTL the cached token should still be served (this proves the cache is in use)")
		}
		time.Sleep(ttl)
		if tok := mustGet(t, c, "h1"); tok.RevokedAt.IsZero() {
			t.Fatalf("a token revoked elsewhere was still served from the cache after %v (TTL %v)", ttl+ttl/2, ttl)
		}
	})
}

// Only tokens that can pass verification are kept: refresh tokens, revoked
// and expired ones are read from the store each time.
func TestAccessTokenCache_KeepsOnlyLiveAccessTokens(t *testing.T) {
	refresh := liveAccessToken("refresh", "f")
	refresh.Kind = store.RefreshToken
	revoked := liveAccessToken("revoked", "f")
	revoked.RevokedAt = time.Now()
	expired := liveAccessToken("expired", "f")
	expired.ExpiresAt = time.Now().Add(-time.Second)
	table := newTokenTable(refresh, revoked, expired)
	c := newAccessTokenCache(table, time.Hour)
	for _, h := range []string{"refresh", "revoked", "expired"} {
		mustGet(t, c, h)
		mustGet(t, c, h)
	}
	if _, err := c.Get(context.Background(), "unknown"); err != store.ErrNotFound {
		t.Fatalf("unknown token: %v", err)
	}
	if n := table.readCount(); n != 7 {
		t.Fatalf("store reads = %d, want 7 (every call)", n)
	}
}

// A negative TTL turns the cache off.
func TestAccessTokenCache_Off(t *testing.T) {
	table := newTokenTable(liveAccessToken("h1", "f1"))
	c := newAccessTokenCache(table, -1)
	mustGet(t, c, "h1")
	mustGet(t, c, "h1")
	if n := table.readCount(); n != 2 {
		t.Fatalf("store reads = %d, want 2", n)
	}
}

// Many distinct tokens cannot grow the cache without bound.
func TestAccessTokenCache_Bounded(t *testing.T) {
	table := newTokenTable()
	for i := range maxCachedAccessTokens + 10 {
		h := fmt.Sprintf("h%d", i)
		table.tokens[h] = liveAccessToken(h, "f")
	}
	c := newAccessTokenCache(table, time.Hour)
	for h := range table.tokens {
		mustGet(t, c, h)
	}
	if n := c.entries.Len(); n > maxCachedAccessTokens {
		t.Fatalf("%d entries cached, bound is %d", n, maxCachedAccessTokens)
	}
}

// Every Revoke method of the Store, called through Observe's store, drops
// the cache: a Revoke method added to the Store later and not to
// revocationObserver would let revoked tokens live on. Each method is
// called with zero arguments on a Store that panics; the observer's own
// method invalidates before the panic comes back, a promoted one does not.
func TestAccessTokenCache_EveryRevokeMethodInvalidates(t *testing.T) {
	c := newAccessTokenCache(nil, time.Hour)
	observed := reflect.ValueOf(c.Observe(nil))
	storeType := reflect.TypeFor[store.Store]()
	for i := range storeType.NumMethod() {
		m := storeType.Method(i)
		if !strings.HasPrefix(m.Name, "Revoke") {
			continue
		}
		live := liveAccessToken("cached", "f")
		if _, err := c.entries.Load(live.Hash, func() (store.Token, error) { return live, nil }, nil); err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() { _ = recover() }()
			fn := observed.MethodByName(m.Name)
			args := make([]reflect.Value, fn.Type().NumIn())
			for k := range args {
				args[k] = reflect.Zero(fn.Type().In(k))
			}
			args[0] = reflect.ValueOf(context.Background())
			fn.Call(args)
		}()
		if c.entries.Len() != 0 {
			t.Errorf("store.Store.%s through the observer does not invalidate the access token cache: add it to revocationObserver", m.Name)
		}
	}
}

// Through the server: a token that was just verified (and so is cached) is
// refused on the very next request once it is revoked, whichever way.
func TestAccessTokenCache_ServerRevocationsEndCachedTokensAtOnce(t *testing.T) {
	for name, revoke := range map[string]func(f *fixture, client, access, refresh string){
		"RevokeAccessToken": func(f *fixture, client, access, _ string) {
			if status, _ := f.postForm("/oauth/revoke", url.Values{"token": {access}, "client_id": {client}}); status != http.StatusOK {
				t.Fatalf("revoke: %d", status)
			}
		},
		"RevokeRefreshTokenFamily": func(f *fixture, client, _, refresh string) {
			if status, _ := f.postForm("/oauth/revoke", url.Values{"token": {refresh}, "client_id": {client}}); status != http.StatusOK {
				t.Fatalf("revoke: %d", status)
			}
		},
		"RefreshReuseAfterGrace": func(f *fixture, client, _, refresh string) {
			f.refresh(client, refresh)
			f.srv.now = func() time.Time { return time.Now().Add(time.Minute) } // past the 30 s grace
			if status, _ := f.refresh(client, refresh); status != http.StatusBadRequest {
				t.Fatalf("reuse after grace: %d", status)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			client := f.registerPublic()
			access, refresh := f.tokens(client, "alice@example.com")
			if resp, _ := f.callMCP(access); resp.StatusCode != http.StatusOK {
				t.Fatalf("fresh token: %s", resp.Status)
			}
			revoke(f, client, access, refresh)
			if resp, _ := f.callMCP(access); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("a cached token still works right after its revocation: %s", resp.Status)
			}
		})
	}
}
