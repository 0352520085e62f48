package lambda

import (
	"context"
	"sync"

	"github.com/kiri-run/kiri/internal/store"
)

// targetCacheLimit bounds the cache; past it the cache starts over.
const targetCacheLimit = 10000

// targetCache keeps resolved function versions for invocations, which otherwise read the
// function, its version and its invoke config on every call. It is used only when this process
// is the store's sole writer (SQLite, whose data directory one Kiri holds locked): every Lambda
// write empties it once committed (see write), and a resolution that overlapped a write is not
// kept. Alias resolutions with weighted routing are not cached, since each call rolls again.
type targetCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[funcRef]*target
}

func newTargetCache(st *store.Store) *targetCache {
	if st.Dialect() != "sqlite" {
		return nil
	}
	return &targetCache{m: map[funcRef]*target{}}
}

func (c *targetCache) get(r funcRef) (*target, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[r]
	return t, c.gen, ok
}

func (c *targetCache) put(r funcRef, t *target, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.m) >= targetCacheLimit {
		clear(c.m)
	}
	c.m[r] = t
}

func (c *targetCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

// write is store.Write for changes to functions: once committed, resolved targets are
// forgotten.
func (s *Service) write(ctx context.Context, fn func(tx *store.Tx) error) error {
	return s.st.Write(ctx, func(tx *store.Tx) error {
		if s.targets != nil {
			tx.AfterCommit(s.targets.invalidate)
		}
		return fn(tx)
	})
}
