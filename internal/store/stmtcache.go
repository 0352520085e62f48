package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
)

// maxCachedStatements bounds the cache; queries past it are prepared per call, as before.
const maxCachedStatements = 1024

// stmtCache keeps one prepared statement per query text on a pool, so a hot query is parsed
// once instead of on every call (parsing was about a fifth of the CPU of an S3 PUT or GET).
// database/sql prepares it again on each pool connection that needs it.
//
// The writer's pool has one connection, which a write transaction holds while it runs, so its
// cache never prepares on demand: a miss runs unprepared and queues the query, and the writer
// prepares queued queries between batches (prepareQueued), when the connection is free.
type stmtCache struct {
	db       *sql.DB
	dialect  dialect
	deferred bool // prepare misses later, in prepareQueued
	mu       sync.RWMutex
	stmts    map[string]*sql.Stmt
	queued   map[string]bool
	closed   bool
}

func newStmtCache(db *sql.DB, d dialect, deferred bool) *stmtCache {
	return &stmtCache{db: db, dialect: d, deferred: deferred, stmts: map[string]*sql.Stmt{}, queued: map[string]bool{}}
}

// errUncached means the query should run unprepared: the cache is full or closed.
var errUncached = errors.New("store: statement not cached")

// get returns the prepared statement for query (written with `?` placeholders). Texts with
// several statements (migrations) are never prepared: SQLite would compile only the first.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if strings.IndexByte(query, ';') >= 0 {
		return nil, errUncached
	}
	c.mu.RLock()
	st, ok := c.stmts[query]
	closed := c.closed
	c.mu.RUnlock()
	if ok {
		return st, nil
	}
	if closed {
		return nil, errUncached
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if c.closed || len(c.stmts)+len(c.queued) >= maxCachedStatements {
		return nil, errUncached
	}
	if c.deferred {
		c.queued[query] = true
		return nil, errUncached
	}
	st, err := c.db.PrepareContext(ctx, c.dialect.rebind(query))
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

// prepareQueued prepares the queries a deferred cache queued. The writer calls it between
// batches. A query that fails to prepare is dropped and keeps running unprepared.
func (c *stmtCache) prepareQueued(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.queued {
		delete(c.queued, q)
		if c.closed {
			continue
		}
		if st, err := c.db.PrepareContext(ctx, c.dialect.rebind(q)); err == nil {
			c.stmts[q] = st
		}
	}
}

// pending reports whether queries wait to be prepared.
func (c *stmtCache) pending() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.queued) > 0
}

// close releases every statement; later gets run unprepared.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, st := range c.stmts {
		_ = st.Close()
	}
	clear(c.stmts)
}
