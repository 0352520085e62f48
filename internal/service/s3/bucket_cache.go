package s3

import (
	"sync"

	"github.com/kiri-run/kiri/internal/store"
)

// bucketCacheLimit bounds the cache; past it the cache starts over.
const bucketCacheLimit = 10000

// bucketCache keeps bucket rows for requests, which otherwise read the same row on every
// object request. It is used only when this process is the store's sole writer (SQLite, whose
// data directory one Kiri holds locked). A write that changes a bucket row (bucketChanged)
// drops its entry at once and keeps it out until the write's batch has ended, committed or
// not; a load that overlapped such a write is not kept. So an entry is always the committed
// row, which writes may read too (loadBucketInTx). With PostgreSQL other nodes write too, so
// there is no cache (nil).
type bucketCache struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every invalidation
	m       map[string]bucket
	pending map[string]int // writes of a row whose batch has not ended
}

func newBucketCache(st *store.Store) *bucketCache {
	if st.Dialect() != "sqlite" {
		return nil
	}
	return &bucketCache{m: make(map[string]bucket), pending: make(map[string]int)}
}

// get returns the cached row of name, and the generation to hand to put after a miss.
func (c *bucketCache) get(name string) (b bucket, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok = c.m[name]
	return b, c.gen, ok
}

// put keeps a row loaded since get returned gen, unless a write invalidated anything since.
func (c *bucketCache) put(b bucket, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.pending[b.Name] > 0 {
		return
	}
	if len(c.m) >= bucketCacheLimit {
		clear(c.m)
	}
	c.m[b.Name] = b
}

// begin drops name's entry and keeps it out until end.
func (c *bucketCache) begin(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.pending[name]++
	delete(c.m, name)
}

// end closes a begin, once the write's batch has ended.
func (c *bucketCache) end(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if c.pending[name]--; c.pending[name] <= 0 {
		delete(c.pending, name)
	}
	delete(c.m, name)
}

// bucketChanged tells the cache that tx changes a bucket's row.
func (s *Service) bucketChanged(tx *store.Tx, name string) {
	if c := s.buckets; c != nil {
		c.begin(name)
		tx.AfterBatch(func() { c.end(name) })
	}
}

// loadBucketInTx reads a bucket row inside a write, from the cache when it holds the row: no
// write of that row is pending, and the batches before this one have ended, so the entry is
// the row as committed.
func (s *Service) loadBucketInTx(tx *store.Tx, name string) (bucket, error) {
	if c := s.buckets; c != nil {
		if b, _, ok := c.get(name); ok {
			return b, nil
		}
	}
	return readBucket(tx, name)
}
