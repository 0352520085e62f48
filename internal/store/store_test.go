package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

func TestWrite(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			tests := []struct {
				name string
				run  func(t *testing.T, s *store.Store)
			}{
				{"concurrent writers all commit and share commits", testConcurrentWritersCommit},
				{"failing write rolls back only itself", testFailingWriteIsolated},
				{"panicking write becomes an error for its caller only", testPanickingWriteIsolated},
				{"write whose ctx ends before it runs is never run", testCancelledBeforeRun},
				{"write with ctx already done is refused", testCancelledBeforeQueue},
				{"tx used after its function returned fails", testTxAfterReturn},
				{"rows left open by a write do not break the batch", testRowsLeftOpen},
				{"write sees its own changes and reads see committed ones", testReadYourWrites},
				{"blob and boolean columns round-trip", testTypesRoundTrip},
				{"after-commit hooks run only for committed writes", testAfterCommit},
				{"after-batch hooks run for every write, failed or not", testAfterBatch},
				{"read with ctx already done is refused", testReadCancelledBeforeRun},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, openItems(t, b.Config(t)))
				})
			}
		})
	}
}

func testConcurrentWritersCommit(t *testing.T, s *store.Store) {
	ctx := context.Background()
	const writers, each = 32, 40
	before := s.Stats()
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := s.Write(ctx, insertItem(int64(w*1000+i))); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Write: %v", err)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM items"); n != writers*each {
		t.Fatalf("rows = %d, want %d", n, writers*each)
	}
	st := s.Stats()
	writes, commits := st.Writes-before.Writes, st.Commits-before.Commits
	if writes != writers*each {
		t.Fatalf("Stats writes = %d, want %d", writes, writers*each)
	}
	if commits >= writes {
		t.Errorf("no group commit: %d commits for %d writes", commits, writes)
	}
	t.Logf("%d writes in %d commits", writes, commits)
}

// blockWriter occupies the writer until the returned release is called, so that writes
// queued meanwhile land in one batch.
func blockWriter(t *testing.T, s *store.Store) (release func()) {
	t.Helper()
	started, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Write(context.Background(), func(tx *store.Tx) error {
			close(started)
			<-gate
			return nil
		})
	}()
	<-started
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Errorf("blocking write: %v", err)
		}
	}
}

// queueWrites starts one Write per fn while the writer is blocked and returns their results.
func queueWrites(t *testing.T, s *store.Store, fns []func(*store.Tx) error) []error {
	t.Helper()
	release := blockWriter(t, s)
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	deadline := time.Now().Add(10 * time.Second)
	for i, fn := range fns {
		wg.Go(func() { errs[i] = s.Write(context.Background(), fn) })
		// One at a time, so the batch runs them in the order given.
		for store.QueuedWrites(s) < i+1 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Microsecond)
		}
	}
	// Every write is queued: released now, they share one batch.
	release()
	wg.Wait()
	return errs
}

func testFailingWriteIsolated(t *testing.T, s *store.Store) {
	boom := errors.New("boom")
	var fns []func(*store.Tx) error
	for i := range 30 {
		if i%3 == 1 {
			fns = append(fns, func(tx *store.Tx) error {
				if err := insertItem(int64(i))(tx); err != nil {
					return err
				}
				return fmt.Errorf("write %d: %w", i, boom)
			})
			continue
		}
		fns = append(fns, insertItem(int64(i)))
	}
	// A duplicate key fails inside the database, which aborts the transaction on PostgreSQL.
	fns = append(fns, insertItem(0), insertItem(1000))
	before := s.Stats()
	errs := queueWrites(t, s, fns)
	for i, err := range errs[:30] {
		if i%3 == 1 {
			if !errors.Is(err, boom) {
				t.Errorf("write %d: err = %v, want boom", i, err)
			}
		} else if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if errs[30] == nil {
		t.Errorf("duplicate insert succeeded")
	}
	if errs[31] != nil {
		t.Errorf("write after duplicate: %v", errs[31])
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM items"); n != 21 {
		t.Errorf("rows = %d, want 21", n)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM items WHERE id = 1 OR id = 4"); n != 0 {
		t.Errorf("failed writes left %d rows", n)
	}
	if c := s.Stats().Commits - before.Commits; c > 3 {
		t.Errorf("queued writes took %d commits, want them batched", c)
	}
}

func testPanickingWriteIsolated(t *testing.T, s *store.Store) {
	errs := queueWrites(t, s, []func(*store.Tx) error{
		insertItem(1),
		func(tx *store.Tx) error {
			_ = insertItem(2)(tx)
			panic("kaboom")
		},
		insertItem(3),
	})
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("neighbours of a panic failed: %v, %v", errs[0], errs[2])
	}
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "kaboom") {
		t.Errorf("panicking write err = %v, want panic error", errs[1])
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM items"); n != 2 {
		t.Errorf("rows = %d, want 2", n)
	}
	// A panic in a write alone in its batch is also contained.
	err := s.Write(context.Background(), func(tx *store.Tx) error { panic("alone") })
	if err == nil || !strings.Contains(err.Error(), "alone") {
		t.Errorf("lone panic err = %v", err)
	}
}

func testCancelledBeforeRun(t *testing.T, s *store.Store) {
	release := blockWriter(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- s.Write(ctx, func(tx *store.Tx) error { ran.Store(true); return insertItem(1)(tx) })
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Write err = %v, want context.Canceled", err)
	}
	release()
	if err := s.Write(context.Background(), insertItem(2)); err != nil {
		t.Fatal(err)
	}
	if ran.Load() {
		t.Errorf("cancelled write ran")
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM items"); n != 1 {
		t.Errorf("rows = %d, want 1", n)
	}
}

func testCancelledBeforeQueue(t *testing.T, s *store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Write(ctx, func(tx *store.Tx) error { t.Error("ran"); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func testReadCancelledBeforeRun(t *testing.T, s *store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var n int
	if err := s.QueryRow(ctx, "SELECT COUNT(*) FROM items").Scan(&n); !errors.Is(err, context.Canceled) {
		t.Errorf("QueryRow err = %v, want context.Canceled", err)
	}
	if err := s.QueryRow(context.Background(), "SELECT COUNT(*) FROM items").Scan(&n); err != nil {
		t.Errorf("QueryRow after a cancelled one: %v", err)
	}
}

func testTxAfterReturn(t *testing.T, s *store.Store) {
	var kept *store.Tx
	if err := s.Write(context.Background(), func(tx *store.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Exec("INSERT INTO items (id, name) VALUES (1, 'x')"); err == nil {
		t.Errorf("Exec on a finished Tx succeeded")
	}
	if _, err := kept.Query("SELECT 1"); err == nil {
		t.Errorf("Query on a finished Tx succeeded")
	}
}

func testRowsLeftOpen(t *testing.T, s *store.Store) {
	errs := queueWrites(t, s, []func(*store.Tx) error{
		insertItem(1),
		func(tx *store.Tx) error {
			if err := insertItem(2)(tx); err != nil {
				return err
			}
			_, err := tx.Query("SELECT id FROM items")
			return err
		},
		insertItem(3),
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM items"); n != 3 {
		t.Errorf("rows = %d, want 3", n)
	}
}

func testReadYourWrites(t *testing.T, s *store.Store) {
	ctx := context.Background()
	err := s.Write(ctx, func(tx *store.Tx) error {
		if err := insertItem(7)(tx); err != nil {
			return err
		}
		var name string
		if err := tx.QueryRow("SELECT name FROM items WHERE id = ?", 7).Scan(&name); err != nil {
			return err
		}
		if name != "item" {
			return fmt.Errorf("name = %q", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.Query(ctx, "SELECT id FROM items WHERE id = ? AND name = ?", 7, "item")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("committed row not visible to readers")
	}
}

func testTypesRoundTrip(t *testing.T, s *store.Store) {
	ctx := context.Background()
	data := []byte{0, 1, 2, 255, '?', '\''}
	err := s.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec("INSERT INTO items (id, name, data, flag) VALUES (?, 'what?', ?, ?)", 1, data, true)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	var name string
	var flag bool
	if err := s.QueryRow(ctx, "SELECT name, data, flag FROM items WHERE id = ?", 1).Scan(&name, &got, &flag); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(data) || !flag || name != "what?" {
		t.Errorf("got (%q, %v, %v), want (what?, %v, true)", name, got, flag, data)
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			s, err := store.Open(context.Background(), b.Config(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(context.Background(), func(*store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
				t.Errorf("err = %v, want ErrClosed", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

func TestHealthFollowsTheStore(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			s, err := store.Open(context.Background(), b.Config(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Health(context.Background()); err != nil {
				t.Errorf("open store: %v", err)
			}
			s.Close()
			if err := s.Health(context.Background()); err == nil {
				t.Error("closed store reports healthy")
			}
		})
	}
}

func TestCloseDrainsQueuedWrites(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			cfg := b.Config(t)
			s, err := store.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(context.Background(), "items", itemsTable); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var acked atomic.Int64
			for i := range 200 {
				wg.Go(func() {
					if s.Write(context.Background(), insertItem(int64(i))) == nil {
						acked.Add(1)
					}
				})
			}
			time.Sleep(5 * time.Millisecond)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			s2 := open(t, cfg)
			if n := countRows(t, s2, "SELECT COUNT(*) FROM items"); int64(n) != acked.Load() {
				t.Errorf("rows after reopen = %d, acknowledged = %d", n, acked.Load())
			}
		})
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			for _, mode := range []store.SyncMode{store.SyncNormal, store.SyncFull} {
				t.Run(string(mode), func(t *testing.T) {
					cfg := b.Config(t)
					cfg.Sync = mode
					s, err := store.Open(context.Background(), cfg)
					if err != nil {
						t.Fatal(err)
					}
					if err := s.Migrate(context.Background(), "items", itemsTable); err != nil {
						t.Fatal(err)
					}
					for i := range 10 {
						if err := s.Write(context.Background(), insertItem(int64(i))); err != nil {
							t.Fatal(err)
						}
					}
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
					s2 := openItems(t, cfg)
					if n := countRows(t, s2, "SELECT COUNT(*) FROM items"); n != 10 {
						t.Errorf("rows after reopen = %d, want 10", n)
					}
				})
			}
		})
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  store.Config
	}{
		{"unknown sync mode", store.Config{Path: "x.db", Sync: "sometimes"}},
		{"sqlite without a path", store.Config{}},
		{"unknown DSN scheme", store.Config{DSN: "mysql://u:secret@host/db"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = quietLogger()
			s, err := store.Open(context.Background(), tc.cfg)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func testAfterBatch(t *testing.T, s *store.Store) {
	var ran [3]atomic.Bool
	fns := []func(*store.Tx) error{
		func(tx *store.Tx) error {
			tx.AfterBatch(func() { ran[0].Store(true) })
			return insertItem(11)(tx)
		},
		func(tx *store.Tx) error {
			tx.AfterBatch(func() { ran[1].Store(true) })
			return errors.New("refused")
		},
		func(tx *store.Tx) error {
			tx.AfterBatch(func() { ran[2].Store(true) })
			return insertItem(11)(tx) // duplicate key: fails in the database
		},
	}
	queueWrites(t, s, fns)
	for i := range ran {
		if !ran[i].Load() {
			t.Errorf("write %d: after-batch hook did not run", i)
		}
	}
	// A hook has run by the time its Write returns.
	var done atomic.Bool
	if err := s.Write(context.Background(), func(tx *store.Tx) error {
		tx.AfterBatch(func() { done.Store(true) })
		return errors.New("refused")
	}); err == nil || !done.Load() {
		t.Errorf("Write = %v, hook ran = %v; want the error and the hook", err, done.Load())
	}
}

func testAfterCommit(t *testing.T, s *store.Store) {
	var ran [4]atomic.Bool
	var visible atomic.Bool
	fns := []func(*store.Tx) error{
		func(tx *store.Tx) error {
			tx.AfterCommit(func() {
				// The hook sees the committed write from the read side.
				visible.Store(countRows(t, s, "SELECT COUNT(*) FROM items WHERE id = 1") == 1)
				ran[0].Store(true)
			})
			return insertItem(1)(tx)
		},
		func(tx *store.Tx) error {
			tx.AfterCommit(func() { ran[1].Store(true) })
			return errors.New("refused")
		},
		func(tx *store.Tx) error {
			tx.AfterCommit(func() { ran[2].Store(true) })
			return insertItem(1)(tx) // duplicate key: fails in the database
		},
		func(tx *store.Tx) error {
			tx.AfterCommit(func() { ran[3].Store(true) })
			return insertItem(2)(tx)
		},
	}
	errs := queueWrites(t, s, fns)
	for i, want := range []bool{true, false, false, true} {
		if (errs[i] == nil) != want || ran[i].Load() != want {
			t.Errorf("write %d: err = %v, hook ran = %v; want success and hook = %v", i, errs[i], ran[i].Load(), want)
		}
	}
	if !visible.Load() {
		t.Errorf("hook ran before its write was visible to reads")
	}
}

func TestStrings(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.Config(t))
			got, err := store.Strings(s.Query(ctx, "SELECT 'b' AS v UNION ALL SELECT 'a' ORDER BY v"))
			if err != nil || strings.Join(got, ",") != "a,b" {
				t.Fatalf("Strings = %q, %v; want [a b]", got, err)
			}
			if got, err := store.Strings(s.Query(ctx, "SELECT 'x' WHERE 1 = 0")); err != nil || got != nil {
				t.Fatalf("Strings of no rows = %q, %v; want nil, nil", got, err)
			}
			boom := errors.New("boom")
			if _, err := store.Strings(nil, boom); !errors.Is(err, boom) {
				t.Fatalf("Strings passes on the query's error: %v", err)
			}
			if _, err := store.Strings(s.Query(ctx, "SELECT NULL")); err == nil {
				t.Fatal("Strings of a NULL: no error")
			}
		})
	}
}
