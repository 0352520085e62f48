package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// dialect names a backend and holds the few places where SQL differs between them.
type dialect string

const (
	dialectSQLite   dialect = "sqlite"
	dialectPostgres dialect = "postgres"
)

// busyTimeoutMS bounds how long a SQLite connection waits for a lock held by another process.
const busyTimeoutMS = 10000

// openSQLite opens the writer (one connection, BEGIN IMMEDIATE) and the read pool on cfg.Path.
func (s *Store) openSQLite(ctx context.Context, cfg Config) error {
	if cfg.Path == "" {
		return fmt.Errorf("sqlite: Config.Path is required when DSN is empty")
	}
	s.dialect = dialectSQLite
	sync := "NORMAL"
	if cfg.Sync == SyncFull {
		sync = "FULL"
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "wal_autocheckpoint(0)") // the checkpointer does them (checkpoint.go)
	q.Add("_pragma", "journal_size_limit("+strconv.FormatInt(walSizeLimit, 10)+")")
	// Each Write runs in a savepoint, whose journal (the subjournal) is a temporary file by
	// default: a write system call for every page a write changes. It only serves rollbacks of
	// the savepoint, so memory does: durability is the WAL's.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	// The path goes in verbatim (not URL-escaped): the driver strips everything after '?'.
	dsn := "file:" + cfg.Path + "?" + q.Encode()

	wdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("sqlite: open writer %q: %w", cfg.Path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	if err := wdb.PingContext(ctx); err != nil {
		_ = wdb.Close()
		return fmt.Errorf("sqlite: open writer %q: %w", cfg.Path, err)
	}
	var mode string
	if err := wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || !strings.EqualFold(mode, "wal") {
		_ = wdb.Close()
		return fmt.Errorf("sqlite: %q is not in WAL mode (got %q): %v", cfg.Path, mode, err)
	}

	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	rq.Add("_pragma", "foreign_keys(1)")
	rq.Add("_pragma", "query_only(1)")
	// Readers do not map the database (mmap_size). Mapping made point reads over a database
	// larger than their page cache about 15% faster (BenchmarkReadRow), but each reader maps
	// the file on its own, so every page read counts in Kiri's RSS once per reader: 433 MiB
	// VmRSS after 28,000 GETs over a 100 MiB database, against 57 MiB without.
	rdb, err := sql.Open("sqlite", "file:"+cfg.Path+"?"+rq.Encode())
	if err != nil {
		_ = wdb.Close()
		return fmt.Errorf("sqlite: open readers %q: %w", cfg.Path, err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers)
	cq := url.Values{}
	cq.Add("_pragma", "busy_timeout("+strconv.Itoa(busyTimeoutMS)+")")
	cdb, err := sql.Open("sqlite", "file:"+cfg.Path+"?"+cq.Encode())
	if err != nil {
		_ = wdb.Close()
		_ = rdb.Close()
		return fmt.Errorf("sqlite: open checkpointer %q: %w", cfg.Path, err)
	}
	s.wdb, s.rdb = wdb, rdb
	s.wstmts, s.rstmts = newStmtCache(wdb, s.dialect, true), newStmtCache(rdb, s.dialect, false)
	s.ckpt = newCheckpointer(s, cdb)
	return nil
}

// openPostgres opens the writer (one connection) and the read pool on cfg.DSN through pgx.
func (s *Store) openPostgres(ctx context.Context, cfg Config) error {
	s.dialect = dialectPostgres
	wdb, err := sql.Open("pgx", cfg.DSN)
	if err != nil {
		return fmt.Errorf("postgres: open writer %s: %w", redactDSN(cfg.DSN), err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	if err := wdb.PingContext(ctx); err != nil {
		_ = wdb.Close()
		return fmt.Errorf("postgres: connect %s: %w", redactDSN(cfg.DSN), err)
	}
	rdb, err := sql.Open("pgx", cfg.DSN)
	if err != nil {
		_ = wdb.Close()
		return fmt.Errorf("postgres: open readers %s: %w", redactDSN(cfg.DSN), err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers)
	s.wdb, s.rdb = wdb, rdb
	s.wstmts, s.rstmts = newStmtCache(wdb, s.dialect, true), newStmtCache(rdb, s.dialect, false)
	return nil
}

// rebind rewrites `?` placeholders to `$1, $2, …` for PostgreSQL. Question marks inside string
// literals, quoted identifiers and comments are left alone.
func (d dialect) rebind(query string) string {
	if d != dialectPostgres || strings.IndexByte(query, '?') < 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := skipQuoted(query, i, c)
			b.WriteString(query[i:j])
			i = j - 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j - 1
		case c == '/' && i+1 < len(query) && query[i+1] == '*':
			j := strings.Index(query[i+2:], "*/")
			end := len(query)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(query[i:end])
			i = end - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// skipQuoted returns the index just past the quoted run that starts at i with quote q.
// A doubled quote inside the run is an escaped quote.
func skipQuoted(s string, i int, q byte) int {
	for j := i + 1; j < len(s); j++ {
		if s[j] != q {
			continue
		}
		if j+1 < len(s) && s[j+1] == q {
			j++
			continue
		}
		return j + 1
	}
	return len(s)
}

// migrationSQL picks the text of m for this backend. Portable SQL run on PostgreSQL has its
// BLOB type words rewritten to BYTEA.
func (d dialect) migrationSQL(m Migration) string {
	if d != dialectPostgres {
		return m.SQL
	}
	sql := m.SQL
	if m.Postgres != "" {
		sql = m.Postgres
	}
	return replaceWord(sql, "BLOB", "BYTEA")
}

// replaceWord replaces whole-word, case-insensitive occurrences of word outside quotes.
func replaceWord(s, word, with string) string {
	var b strings.Builder
	b.Grow(len(s))
	isIdent := func(c byte) bool {
		return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' || c == '"' {
			j := skipQuoted(s, i, c)
			b.WriteString(s[i:j])
			i = j - 1
			continue
		}
		if i+len(word) <= len(s) && strings.EqualFold(s[i:i+len(word)], word) &&
			(i == 0 || !isIdent(s[i-1])) && (i+len(word) == len(s) || !isIdent(s[i+len(word)])) {
			b.WriteString(with)
			i += len(word) - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
