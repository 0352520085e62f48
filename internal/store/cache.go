package store

import "sync"

// Cache keeps rows that requests would otherwise read from the store again and again (a
// service's configuration rows: buckets, queues). It is used only when this process is the
// store's sole writer (SQLite, whose data directory one Kiri holds locked); with PostgreSQL other
// nodes write too, so NewCache returns nil, and a nil *Cache keeps nothing.
//
// A write that changes a row calls Changed, which drops the row's entry at once and keeps it out
// until the write's batch has ended, committed or not; a load that overlapped such a write is
// not kept. So an entry is always the committed row, which writes may read too. Past its limit
// the cache starts over.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	limit   int
	gen     uint64 // bumped by every invalidation
	m       map[K]V
	pending map[K]int // writes of a row whose batch has not ended
}

// NewCache returns a cache of at most limit rows over st, or nil when st has other writers.
func NewCache[K comparable, V any](st *Store, limit int) *Cache[K, V] {
	if st.Dialect() != "sqlite" {
		return nil
	}
	return &Cache[K, V]{limit: limit, m: make(map[K]V), pending: make(map[K]int)}
}

// Get returns the cached row of k, and the generation to hand to Put after a miss.
func (c *Cache[K, V]) Get(k K) (v V, gen uint64, ok bool) {
	if c == nil {
		return v, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok = c.m[k]
	return v, c.gen, ok
}

// Put keeps a row loaded since Get returned gen, unless a write invalidated anything since.
func (c *Cache[K, V]) Put(k K, v V, gen uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.pending[k] > 0 {
		return
	}
	if len(c.m) >= c.limit {
		clear(c.m)
	}
	c.m[k] = v
}

// Changed tells the cache that tx changes the row of k.
func (c *Cache[K, V]) Changed(tx *Tx, k K) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.gen++
	c.pending[k]++
	delete(c.m, k)
	c.mu.Unlock()
	tx.AfterBatch(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.gen++
		if c.pending[k]--; c.pending[k] <= 0 {
			delete(c.pending, k)
		}
		delete(c.m, k)
	})
}
