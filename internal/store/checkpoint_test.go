package store

import (
	"bytes"
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
	s, path := openBlobs(t)
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

// openBlobs opens a SQLite store, closed when the test ends, with a table of blobs.
func openBlobs(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiri.db")
	s, err := Open(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background(), "t", []Migration{{Version: 1, SQL: "CREATE TABLE blobs (id INTEGER PRIMARY KEY, v BLOB)"}}); err != nil {
		t.Fatal(err)
	}
	return s, path
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestReadersSeeCheckpointedPages checks that readers read every committed value, both before
// and after the checkpointer rewrites the pages they have cached.
func TestReadersSeeCheckpointedPages(t *testing.T) {
	ctx := context.Background()
	s, path := openBlobs(t)
	const rows = 300
	fill := func(round byte) {
		t.Helper()
		for i := range rows {
			v := bytes.Repeat([]byte{round + byte(i%7)}, 4096)
			if err := s.Write(ctx, func(tx *Tx) error {
				_, err := tx.Exec("INSERT INTO blobs (id, v) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET v = excluded.v", i, v)
				return err
			}); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		s.ckpt.checkpoint("TRUNCATE")
		if n := fileSize(t, path+"-wal"); n != 0 {
			t.Fatalf("the WAL holds %d bytes after a TRUNCATE checkpoint", n)
		}
		for i := range rows {
			var got []byte
			if err := s.QueryRow(ctx, "SELECT v FROM blobs WHERE id = ?", i).Scan(&got); err != nil {
				t.Fatalf("read %d: %v", i, err)
			}
			if want := bytes.Repeat([]byte{round + byte(i%7)}, 4096); !bytes.Equal(got, want) {
				t.Fatalf("round %c row %d reads %q..., want %q...", round, i, got[:8], want[:8])
			}
		}
	}
	fill('a')
	fill('n') // the same pages again, rewritten in the file
}

// TestWALIsCutBackWhenItStartsOver checks that a WAL grown past walSizeLimit is truncated to
// it once a checkpoint has copied it all and the next write starts the log over.
func TestWALIsCutBackWhenItStartsOver(t *testing.T) {
	defer func(old int64) { walSizeLimit = old }(walSizeLimit)
	walSizeLimit = 256 << 10
	ctx := context.Background()
	s, path := openBlobs(t)
	write := func(n int) {
		t.Helper()
		for i := range n {
			v := bytes.Repeat([]byte{byte(i)}, 4096)
			if err := s.Write(ctx, func(tx *Tx) error { _, err := tx.Exec("INSERT INTO blobs (v) VALUES (?)", v); return err }); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
	}
	write(300) // about 2.5 MiB of WAL frames, written faster than the checkpointer's interval
	if n := fileSize(t, path+"-wal"); n <= walSizeLimit {
		t.Fatalf("the WAL holds %d bytes after 300 writes; the test needs more than %d", n, walSizeLimit)
	}
	s.ckpt.checkpoint("RESTART")
	write(1)
	if n := fileSize(t, path+"-wal"); n > walSizeLimit {
		t.Fatalf("the WAL holds %d bytes after it started over, more than the %d limit", n, walSizeLimit)
	}
}
