package authserver

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drivemcp/drivemcp/internal/store"
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
// returned by Observe, which bumps an epoch after the store has committed
// it; an entry read before the latest bump is not used again. So a token
// revoked on this replica stops working at once, and one revoked elsewhere
// within the TTL.
type accessTokenCache struct {
	store store.Store
	ttl   time.Duration
	// epoch counts the revocations made through Observe's store.
	epoch atomic.Uint64

	mu      sync.RWMutex
	entries map[string]cachedToken // by token hash
}

type cachedToken struct {
	token   store.Token
	fetched time.Time
	epoch   uint64 // the epoch before the read
}

// newAccessTokenCache caches st's access tokens for ttl; ttl < 0 turns the
// cache off (every Get reads the store), 0 is the default.
func newAccessTokenCache(st store.Store, ttl time.Duration) *accessTokenCache {
	if ttl == 0 {
		ttl = defaultAccessTokenCacheTTL
	}
	return &accessTokenCache{store: st, ttl: ttl, entries: map[string]cachedToken{}}
}

// Get is store.GetToken through the cache.
func (c *accessTokenCache) Get(ctx context.Context, hash string) (store.Token, error) {
	if c.ttl < 0 {
		return c.store.GetToken(ctx, hash)
	}
	epoch := c.epoch.Load()
	now := time.Now() // real time: the TTL bounds staleness, not validity
	c.mu.RLock()
	e, ok := c.entries[hash]
	c.mu.RUnlock()
	if ok && e.epoch == epoch && now.Sub(e.fetched) < c.ttl {
		return e.token, nil
	}
	t, err := c.store.GetToken(ctx, hash)
	if err != nil {
		return t, err
	}
	// Only tokens that can pass verification are worth keeping; a revoked
	// or expired one is answered from the store again, which is rare.
	if t.Kind == store.AccessToken && t.RevokedAt.IsZero() && now.Before(t.ExpiresAt) {
		c.put(hash, cachedToken{token: t, fetched: now, epoch: epoch})
	}
	return t, nil
}

func (c *accessTokenCache) put(hash string, e cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedAccessTokens {
		for h, old := range c.entries {
			if e.fetched.Sub(old.fetched) >= c.ttl || old.epoch != e.epoch {
				delete(c.entries, h)
			}
		}
		if len(c.entries) >= maxCachedAccessTokens {
			clear(c.entries)
		}
	}
	c.entries[hash] = e
}

// invalidate forgets every entry read before now. It runs after a
// revocation has been committed: a Get that read the token before the
// commit stored it under the old epoch, so it is not used again.
func (c *accessTokenCache) invalidate() {
	c.epoch.Add(1)
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

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
