package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestStatementsArePreparedOnce(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), "kiri.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx, "t", []Migration{{Version: 1, SQL: "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT); CREATE INDEX kv_v ON kv (v);"}}); err != nil {
		t.Fatal(err)
	}
	const insert = "INSERT INTO kv (k, v) VALUES (?, ?)"
	for i, k := range []string{"a", "b", "c"} {
		if err := s.Write(ctx, func(tx *Tx) error { _, err := tx.Exec(insert, k, k); return err }); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	s.wstmts.mu.RLock()
	_, prepared := s.wstmts.stmts[insert]
	s.wstmts.mu.RUnlock()
	if !prepared {
		t.Fatal("the writer did not prepare a repeated statement between batches")
	}
	for range 2 {
		var n int
		if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM kv WHERE v >= ?", "a").Scan(&n); err != nil || n != 3 {
			t.Fatalf("count = %d, %v", n, err)
		}
	}
	s.rstmts.mu.RLock()
	defer s.rstmts.mu.RUnlock()
	if len(s.rstmts.stmts) != 1 {
		t.Fatalf("read cache holds %d statements, want 1", len(s.rstmts.stmts))
	}
}
