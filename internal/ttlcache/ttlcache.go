// Package ttlcache keeps values read from a store for a short time, so that
// a burst of requests for the same key costs one read, while a write made by
// this process is seen at once.
//
// Staleness has two sources and each has its own bound. A write made by this
// process calls Forget or Clear after it commits, and a read that was in
// flight while it happened is not kept (see Load). A write made elsewhere (a
// second replica, the `drivemcp accounts` command) is seen within the TTL.
package ttlcache

import (
	"sync"
	"sync/atomic"
	"time"
)

// Cache maps keys to values loaded from a store. The zero value is not
// usable; call New.
type Cache[K comparable, V any] struct {
	ttl time.Duration
	max int
	now func() time.Time
	// epoch counts Forget and Clear calls. Load keeps what it read only if
	// no Forget or Clear happened while it was reading: the value might
	// predate that write.
	epoch atomic.Uint64

	mu      sync.RWMutex
	entries map[K]entry[V]
}

type entry[V any] struct {
	value   V
	expires time.Time
}

// Option configures a Cache at construction.
type Option func(*options)

type options struct{ now func() time.Time }

// Clock makes the cache read the time from now (tests use a fake clock).
func Clock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// New returns a cache that keeps a value for ttl and at most max values
// (past it, expired entries are dropped, then all of them: a cache this
// short-lived refills in one TTL). ttl < 0 turns caching off: every Load
// reads.
func New[K comparable, V any](ttl time.Duration, max int, opts ...Option) *Cache[K, V] {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return &Cache[K, V]{ttl: ttl, max: max, now: o.now, entries: map[K]entry[V]{}}
}

// Load returns the cached value for key, or calls load and caches what it
// returns when keep (if not nil) accepts it. Errors are never cached.
// Concurrent misses for one key each call load: callers that must not
// duplicate work join it themselves.
func (c *Cache[K, V]) Load(key K, load func() (V, error), keep func(V) bool) (V, error) {
	return c.LoadFor(key, func() (V, time.Duration, error) {
		v, err := load()
		if err != nil || (keep != nil && !keep(v)) {
			return v, 0, err
		}
		return v, c.ttl, nil
	})
}

// LoadFor is Load for values whose lifetime the loader decides (a
// document's own Cache-Control, say): load returns the value and how long
// to keep it; a lifetime <= 0 or an error keeps nothing.
func (c *Cache[K, V]) LoadFor(key K, load func() (V, time.Duration, error)) (V, error) {
	if c.ttl < 0 {
		v, _, err := load()
		return v, err
	}
	epoch := c.epoch.Load()
	now := c.now() // the TTL bounds staleness, so it is wall-clock time
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.value, nil
	}
	v, lifetime, err := load()
	if err != nil || lifetime <= 0 {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Checked under the lock: Forget and Clear bump the epoch before they
	// take it, so a value read before a write cannot land after the write
	// has cleared the map.
	if c.epoch.Load() != epoch {
		return v, nil
	}
	if len(c.entries) >= c.max {
		for k, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[key] = entry[V]{value: v, expires: now.Add(lifetime)}
	return v, nil
}

// Forget drops key; call it after a write of key has committed (or may
// have: a failed write can still have reached the store).
func (c *Cache[K, V]) Forget(key K) {
	c.epoch.Add(1)
	c.mu.Lock()
	delete(c.entries, key)
	c.mu.Unlock()
}

// Clear drops every entry, for writes that may touch keys the caller cannot
// name (revoking a whole token family, say).
func (c *Cache[K, V]) Clear() {
	c.epoch.Add(1)
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// Len is the number of entries held, expired or not.
func (c *Cache[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// ForgetFunc drops every key drop accepts, for a write that touched keys
// the caller can describe but not list (every path of one account, say).
func (c *Cache[K, V]) ForgetFunc(drop func(K) bool) {
	c.epoch.Add(1)
	c.mu.Lock()
	for k := range c.entries {
		if drop(k) {
			delete(c.entries, k)
		}
	}
	c.mu.Unlock()
}
