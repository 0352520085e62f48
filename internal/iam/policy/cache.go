package policy

import "sync"

// Cache keeps compiled policies by document, for callers that load documents per request
// (a bucket's stored policy) and would otherwise compile the same one each time. A document
// fully determines its compiled form, so entries never go stale. It is safe for concurrent
// use; a nil *Cache compiles every time.
type Cache struct {
	mu    sync.Mutex
	m     map[cacheKey]*Policy
	limit int
}

type cacheKey struct {
	kind Kind
	doc  string
}

// NewCache returns a cache of up to limit documents; past it the cache starts over.
func NewCache(limit int) *Cache {
	return &Cache{m: make(map[cacheKey]*Policy), limit: limit}
}

// Parse is Parse, remembering the documents that compile.
func (c *Cache) Parse(doc string, kind Kind) (*Policy, error) {
	if c == nil {
		return Parse(doc, kind)
	}
	k := cacheKey{kind, doc}
	c.mu.Lock()
	p, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := Parse(doc, kind)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= c.limit {
		clear(c.m)
	}
	c.m[k] = p
	c.mu.Unlock()
	return p, nil
}
