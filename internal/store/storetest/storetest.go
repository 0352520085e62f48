// Package storetest opens throwaway stores for tests: SQLite in a temporary directory always, and
// PostgreSQL in a private schema when KIRI_TEST_POSTGRES holds a postgres:// URL.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/store"
)

// PostgresEnv names the environment variable that enables the PostgreSQL backend in tests.
const PostgresEnv = "KIRI_TEST_POSTGRES"

// Backend is a way to get a fresh, empty database; Config may be opened several times (a
// reopen, or a second node) and always reaches the same database.
type Backend struct {
	// Name is "sqlite" or "postgres", for subtest names.
	Name string
	// Config returns the configuration of a new empty database that lives until the test ends.
	Config func(t testing.TB) store.Config
}

// Backends lists SQLite always and PostgreSQL when KIRI_TEST_POSTGRES is set.
func Backends() []Backend {
	bs := []Backend{{Name: "sqlite", Config: SQLiteConfig}}
	if os.Getenv(PostgresEnv) != "" {
		bs = append(bs, Backend{Name: "postgres", Config: PostgresConfig})
	}
	return bs
}

// QuietLogger discards every log line.
func QuietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// SQLiteConfig returns a configuration for a new SQLite database in t's temporary directory.
func SQLiteConfig(t testing.TB) store.Config {
	return store.Config{Path: filepath.Join(t.TempDir(), "kiri.db"), Logger: QuietLogger()}
}

// PostgresConfig returns a configuration for a new schema in the KIRI_TEST_POSTGRES database,
// dropped when the test ends, so tests never see each other's rows.
func PostgresConfig(t testing.TB) store.Config {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skip(PostgresEnv + " is not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "kiri_test_" + hex.EncodeToString(b[:])
	if err := execOnce(base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { _ = execOnce(base, "DROP SCHEMA "+schema+" CASCADE") })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return store.Config{DSN: base + sep + "search_path=" + schema, Logger: QuietLogger()}
}

// execOnce runs one statement on its own short-lived connection.
func execOnce(dsn, stmt string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(stmt)
	return err
}

// Open opens cfg and closes the store when the test ends.
func Open(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
