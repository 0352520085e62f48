package s3

import (
	"sync"

	"github.com/kiri-run/kiri/internal/store"
)

// bucketCacheLimit bounds the cache; past it the cache starts over.
const bucketCacheLimit = 10000

// bucketCache keeps bucket rows for the read side of requests, which otherwise reads the same
// row on every object request. It is used only when this process is the store's sole writer
// (SQLite, whose data directory one Kiri holds locked): every write that changes a bucket row
// invalidates its entry once committed (bucketChanged), and a load that overlapped such a write
// is not kept. With PostgreSQL other nodes write too, so there is no cache (nil).
type bucketCache struct {
	mu  sync.Mutex
	gen uint64 // bumped by every invalidation
	m   map[string]bucket
}

func newBucketCache(st *store.Store) *bucketCache {
	if st.Dialect() != "sqlite" {
		return nil
	}
	return &bucketCache{m: make(map[string]bucket)}
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
	if c.gen != gen {
		return
	}
	if len(c.m) >= bucketCacheLimit {
		clear(c.m)
	}
	c.m[b.Name] = b
}

func (c *bucketCache) invalidate(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, name)
}

// bucketChanged drops the cached row of a bucket whose row tx changes, once tx commits.
func (s *Service) bucketChanged(tx *store.Tx, name string) {
	if c := s.buckets; c != nil {
		tx.AfterCommit(func() { c.invalidate(name) })
	}
}
