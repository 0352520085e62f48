package store_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// backend aliases storetest.Backend for brevity.
type backend = storetest.Backend

func backends() []backend { return storetest.Backends() }

func quietLogger() *slog.Logger { return storetest.QuietLogger() }

func open(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	return storetest.Open(t, cfg)
}

// itemsTable is a small table the tests write to.
var itemsTable = []store.Migration{{
	Version: 1,
	SQL:     "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, data BLOB, flag BOOLEAN NOT NULL DEFAULT FALSE)",
}, {
	// side holds what a write does besides its item, as a service's side effects ride its change.
	Version: 2,
	SQL:     "CREATE TABLE side (id BIGINT PRIMARY KEY, topic TEXT NOT NULL)",
}}

// openItems opens a store and creates the items table.
func openItems(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	s := open(t, cfg)
	if err := s.Migrate(context.Background(), "items", itemsTable); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func countRows(t testing.TB, s *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func insertItem(id int64) func(tx *store.Tx) error {
	return func(tx *store.Tx) error {
		_, err := tx.Exec("INSERT INTO items (id, name) VALUES (?, ?)", id, "item")
		return err
	}
}
