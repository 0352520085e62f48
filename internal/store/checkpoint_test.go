package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckpointerCopiesTheWALWhileOpen checks that with the writer's automatic checkpoints
// off, the checkpointer still moves committed pages into the database file while the store is
// open, and that the WAL does not keep them all.
func TestCheckpointerCopiesTheWALWhileOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kiri.db")
	s, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx, "t", []Migration{{Version: 1, SQL: "CREATE TABLE blobs (id INTEGER PRIMARY KEY, v BLOB)"}}); err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)
	value := []byte(strings.Repeat("x", 4096))
	for i := range 600 { // about 5 MiB: several thousand pages
		if err := s.Write(ctx, func(tx *Tx) error { _, err := tx.Exec("INSERT INTO blobs (v) VALUES (?)", value); return err }); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for fileSize(t, path)-before < 2<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file grew by %d bytes in 5 s; the WAL is %d bytes: no checkpoint ran",
				fileSize(t, path)-before, fileSize(t, path+"-wal"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
