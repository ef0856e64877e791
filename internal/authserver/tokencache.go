package authserver

import (
	"context"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
	"github.com/drivemcp/drivemcp/internal/ttlcache"
)

// defaultAccessTokenCacheTTL bounds how long a replica may keep accepting
// an access token that another process (a second replica, `drivemcp
// accounts`) revoked. Revocations made through this server are seen at
// once.
const defaultAccessTokenCacheTTL = 2 * time.Second

// maxCachedAccessTokens bounds the cache's memory (an entry is a few hundred
// bytes); past it, entries are dropped rather than evicted one by one.
const maxCachedAccessTokens = 10_000

// accessTokenCache remembers the access tokens VerifyAccessToken read from
// the store for a short time, so that a client's burst of MCP requests costs
// one store read, not one per request. It holds tokens as the store returned
// them: the caller still checks kind, revocation, expiry and resource on
// every request, so a cached token expires on time.
//
// Revocation: every revocation this process makes goes through the store
// returned by Observe, which clears the cache after the store has committed
// it (a read racing the revocation is not kept: see ttlcache.Load). So a
// token revoked on this replica stops working at once, and one revoked
// elsewhere within the TTL.
type accessTokenCache struct {
	store   store.Store
	entries *ttlcache.Cache[string, store.Token] // by token hash
}

// newAccessTokenCache caches st's access tokens for ttl; ttl < 0 turns the
// cache off (every Get reads the store), 0 is the default.
func newAccessTokenCache(st store.Store, ttl time.Duration) *accessTokenCache {
	if ttl == 0 {
		ttl = defaultAccessTokenCacheTTL
	}
	return &accessTokenCache{store: st, entries: ttlcache.New[string, store.Token](ttl, maxCachedAccessTokens)}
}

// Get is store.GetToken through the cache.
func (c *accessTokenCache) Get(ctx context.Context, hash string) (store.Token, error) {
	return c.entries.Load(hash, func() (store.Token, error) { return c.store.GetToken(ctx, hash) }, canPass)
}

// canPass keeps only tokens that can pass verification; a revoked or
// expired one is answered from the store again, which is rare.
func canPass(t store.Token) bool {
	return t.Kind == store.AccessToken && t.RevokedAt.IsZero() && time.Now().Before(t.ExpiresAt)
}

// invalidate forgets every entry; it runs after a revocation has been
// committed.
func (c *accessTokenCache) invalidate() { c.entries.Clear() }

// Observe returns st with its revocations reported to the cache; the
// authorization server revokes only through it.
func (c *accessTokenCache) Observe(st store.Store) store.Store {
	return revocationObserver{Store: st, cache: c}
}

// revocationObserver is a Store that invalidates the cache after every
// call that may revoke an access token, whatever its outcome (a failed call
// may still have committed). Those are the Store's Revoke methods: a
// rotation writes only the refresh token it rotates (never cached) and
// inserts new ones. A new Revoke method of the Store must be added here;
// TestAccessTokenCache_EveryRevokeMethodInvalidates fails until it is.
type revocationObserver struct {
	store.Store
	cache *accessTokenCache
}

func (o revocationObserver) RevokeToken(ctx context.Context, hash string, now time.Time) error {
	defer o.cache.invalidate()
	return o.Store.RevokeToken(ctx, hash, now)
}

func (o revocationObserver) RevokeFamily(ctx context.Context, familyID string, now time.Time) error {
	defer o.cache.invalidate()
	return o.Store.RevokeFamily(ctx, familyID, now)
}
