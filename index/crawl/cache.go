package crawl

import (
	"context"
	"maps"
	"sync"

	"github.com/modup/modup/index/store"
	"github.com/modup/modup/sources"
)

// txCache is the conditional-request cache of one source's refresh: it
// reads the store's entries and keeps new ones until the refresh records
// its outcome, so they are committed in the same transaction.
type txCache struct {
	store *store.Store

	mu  sync.Mutex
	new map[string]sources.CacheEntry
}

var _ sources.Cache = (*txCache)(nil)

// Get implements sources.Cache.
func (c *txCache) Get(url string) (sources.CacheEntry, bool) {
	c.mu.Lock()
	e, ok := c.new[url]
	c.mu.Unlock()
	if ok {
		return e, true
	}
	return c.store.CacheGet(context.Background(), url)
}

// Put implements sources.Cache.
func (c *txCache) Put(url string, e sources.CacheEntry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.new == nil {
		c.new = map[string]sources.CacheEntry{}
	}
	c.new[url] = e
	return nil
}

func (c *txCache) pending() map[string]sources.CacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.new)
}
