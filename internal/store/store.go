// Package store is Kiri's one durable home for metadata and records. It runs on SQLite (WAL, the
// default, embedded in the data directory) or on PostgreSQL for scale-out, behind one API: versioned
// migrations, a single group-committing writer, a read pool, and notifications on commit.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
)

// SyncMode selects how hard a commit is pushed to stable storage.
type SyncMode string

const (
	// SyncNormal (the default) survives a crash of the process (kill -9): SQLite runs in WAL mode
	// with synchronous=NORMAL, so the WAL is synced at checkpoints rather than at every commit.
	SyncNormal SyncMode = "normal"
	// SyncFull also survives power loss: every commit is fsynced (synchronous=FULL in WAL mode).
	SyncFull SyncMode = "full"
)

// ErrClosed is returned by Write after Close has been called.
var ErrClosed = errors.New("store: closed")

// Config configures Open.
type Config struct {
	// DSN selects the backend: "" → SQLite at Path; "postgres://…" or "postgresql://…" → PostgreSQL.
	DSN string
	// Path is the SQLite database file (e.g. <data-dir>/kiri.db). Required when DSN is "".
	Path string
	// Sync is the durability mode; default SyncNormal. PostgreSQL ignores it (the server's
	// synchronous_commit setting rules there).
	Sync SyncMode
	// Logger receives the store's log lines; default slog.Default().
	Logger *slog.Logger
}

// Store is a durable SQL store with one group-committing writer and a pool of readers.
// All its methods are safe for concurrent use.
type Store struct {
	dialect dialect
	log     *slog.Logger
	wdb     *sql.DB // exactly one connection: the writer
	rdb     *sql.DB // read pool
	wstmts  *stmtCache
	rstmts  *stmtCache

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *writeReq
	stop   chan struct{}
	done   chan struct{}

	subs    subscribers
	commits atomic.Uint64
	writes  atomic.Uint64
	ckpt    *checkpointer      // SQLite's WAL checkpoints; nil on PostgreSQL
	cancel  context.CancelFunc // stops background goroutines (PostgreSQL listener)
	bg      sync.WaitGroup
}

// Open opens the store selected by cfg, applies connection settings, runs the store's own
// migrations (migration bookkeeping), and starts the writer.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Sync == "" {
		cfg.Sync = SyncNormal
	}
	if cfg.Sync != SyncNormal && cfg.Sync != SyncFull {
		return nil, fmt.Errorf("open store: unknown sync mode %q (want normal or full)", cfg.Sync)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Store{
		log:   cfg.Logger.With("component", "store"),
		queue: make(chan *writeReq, 4*maxBatch),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	var err error
	switch {
	case cfg.DSN == "":
		err = s.openSQLite(ctx, cfg)
	case strings.HasPrefix(cfg.DSN, "postgres://"), strings.HasPrefix(cfg.DSN, "postgresql://"):
		err = s.openPostgres(ctx, cfg)
	default:
		err = fmt.Errorf("unsupported DSN scheme in %q", redactDSN(cfg.DSN))
	}
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	bgCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.runWriter()
	if s.dialect == dialectPostgres {
		s.bg.Add(1)
		go s.listen(bgCtx, cfg.DSN)
	}
	if err := s.migrateSelf(ctx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// Dialect reports the backend: "sqlite" or "postgres".
func (s *Store) Dialect() string { return string(s.dialect) }

// Query runs a read-only query on the read pool. Placeholders are written as `?` on both backends.
func (s *Store) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, err := s.rstmts.get(ctx, query); err == nil {
		return st.QueryContext(ctx, args...)
	}
	return s.rdb.QueryContext(ctx, s.dialect.rebind(query), args...)
}

// QueryRow runs a read-only query expected to return at most one row on the read pool.
//
// On SQLite, a QueryRow that has started runs to its end even if ctx is cancelled: it reads
// local pages, and watching ctx would cost two goroutines per query (database/sql's and the
// driver's), more than a quarter of a point read. A ctx already done still stops it before it
// starts.
func (s *Store) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s.dialect == dialectSQLite && ctx.Err() == nil {
		ctx = context.WithoutCancel(ctx)
	}
	if st, err := s.rstmts.get(ctx, query); err == nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.rdb.QueryRowContext(ctx, s.dialect.rebind(query), args...)
}

// Stats counts the writer's work since Open.
type Stats struct {
	// Commits is the number of committed transactions (batches).
	Commits uint64
	// Writes is the number of Write functions that committed.
	Writes uint64
}

// Stats reports how many batches and writes the writer has committed; Writes/Commits is the
// average group-commit batch size.
func (s *Store) Stats() Stats {
	return Stats{Commits: s.commits.Load(), Writes: s.writes.Load()}
}

// Health reports whether the store serves: nil while it is open, its writer runs and the
// database answers a read.
func (s *Store) Health(ctx context.Context) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return errors.New("store closed")
	}
	select {
	case <-s.done:
		return errors.New("store writer stopped")
	default:
	}
	var one int
	if err := s.rdb.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("store unreachable: %w", err)
	}
	return nil
}

// Close stops accepting writes, waits for the writer to commit every queued write, stops
// background work and closes the connection pools. Calling Close again is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	if s.cancel != nil {
		s.cancel()
	}
	s.bg.Wait()
	s.wstmts.close()
	s.rstmts.close()
	var ckptErr error
	if s.ckpt != nil {
		ckptErr = s.ckpt.close()
	}
	return errors.Join(s.wdb.Close(), s.rdb.Close(), ckptErr)
}

// redactDSN hides the password of a URL-shaped DSN for error messages and logs.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	creds := dsn[scheme+3 : at]
	if i := strings.Index(creds, ":"); i >= 0 {
		creds = creds[:i] + ":xxxxx"
	}
	return dsn[:scheme+3] + creds + dsn[at:]
}

// Strings reads a one-column result into a slice and closes the rows. It takes a query's two
// results as they come: store.Strings(tx.Query(...)).
func Strings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
