package drive

import (
	"errors"
	"time"

	"github.com/drivemcp/drivemcp/internal/ttlcache"
)

// FolderCache remembers, per account and shared drive, which folder a
// folder path named a moment ago, so that uploads into the same path cost
// no lookup. It is a per-process shortcut only: an entry lives for a short
// TTL, the account's entries are dropped on every move, rename, trash or
// delete made through Files, and an upload that finds a cached folder gone
// (404) drops it and resolves the path again. A nil *FolderCache caches
// nothing.
type FolderCache struct {
	c *ttlcache.Cache[folderKey, Item]
}

type folderKey struct{ account, driveID, path string }

// Defaults of NewFolderCache's callers: short enough that a folder moved
// elsewhere (another process, the Drive web app) is seen soon, long enough
// for a burst of uploads.
const (
	DefaultFolderCacheTTL  = 30 * time.Second
	DefaultFolderCacheSize = 4096
)

// NewFolderCache keeps up to size paths for ttl each.
func NewFolderCache(ttl time.Duration, size int) *FolderCache {
	return &FolderCache{c: ttlcache.New[folderKey, Item](ttl, size)}
}

var errFolderMiss = errors.New("drive: folder path not cached")

func (c *FolderCache) get(account, driveID, path string) (Item, bool) {
	if c == nil || account == "" {
		return Item{}, false
	}
	it, err := c.c.Load(folderKey{account, driveID, path}, func() (Item, error) { return Item{}, errFolderMiss }, nil)
	return it, err == nil
}

func (c *FolderCache) put(account, driveID, path string, it Item) {
	if c == nil || account == "" {
		return
	}
	k := folderKey{account, driveID, path}
	if old, ok := c.get(account, driveID, path); ok && old.ID != it.ID {
		c.c.Forget(k) // a fresh resolve found another folder there
	}
	_, _ = c.c.Load(k, func() (Item, error) { return it, nil }, nil)
}

// Forget drops every path of account: a folder of it was moved, renamed,
// trashed or found gone.
func (c *FolderCache) Forget(account string) {
	if c == nil {
		return
	}
	c.c.ForgetFunc(func(k folderKey) bool { return k.account == account })
}
