package store_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

// Environment of the crash child: the store to write to and its sync mode.
const (
	crashPathEnv = "KIRI_STORE_CRASH_PATH"
	crashDSNEnv  = "KIRI_STORE_CRASH_DSN"
	crashSyncEnv = "KIRI_STORE_CRASH_SYNC"
)

// TestCrashChild is the child of TestCrashKeepsAcknowledgedWrites: it writes rows from 16
// goroutines, each with a side record, and prints every acknowledged id until it is killed.
func TestCrashChild(t *testing.T) {
	path, dsn := os.Getenv(crashPathEnv), os.Getenv(crashDSNEnv)
	if path == "" && dsn == "" {
		t.Skip("runs only as the child of TestCrashKeepsAcknowledgedWrites")
	}
	cfg := store.Config{Path: path, DSN: dsn, Sync: store.SyncMode(os.Getenv(crashSyncEnv)), Logger: quietLogger()}
	s := openItems(t, cfg)
	fmt.Println("ready")
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := int64(0); ; i++ {
				id := int64(g)<<32 | i
				err := s.Write(context.Background(), func(tx *store.Tx) error {
					if err := insertItem(id)(tx); err != nil {
						return err
					}
					_, err := tx.Exec("INSERT INTO side (id, topic) VALUES (?, 'crash')", id)
					return err
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "write:", err)
					return
				}
				mu.Lock()
				fmt.Printf("ack %d\n", id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-executes the test binary")
	}
	for _, b := range backends() {
		for _, mode := range []store.SyncMode{store.SyncNormal, store.SyncFull} {
			t.Run(b.Name+"/"+string(mode), func(t *testing.T) {
				cfg := b.Config(t)
				cfg.Sync = mode
				acked := runCrashChild(t, cfg, 400*time.Millisecond)
				if len(acked) == 0 {
					t.Fatal("child acknowledged nothing before the kill")
				}
				s := open(t, cfg)
				missing := 0
				for _, id := range acked {
					var n int
					if err := s.QueryRow(context.Background(), "SELECT COUNT(*) FROM items WHERE id = ?", id).Scan(&n); err != nil {
						t.Fatal(err)
					}
					if n != 1 {
						missing++
					}
				}
				rows := countRows(t, s, "SELECT COUNT(*) FROM items")
				records := countRows(t, s, "SELECT COUNT(*) FROM side WHERE topic = 'crash'")
				if missing > 0 {
					t.Errorf("%d of %d acknowledged writes lost in the crash", missing, len(acked))
				}
				if records != rows {
					t.Errorf("%d rows but %d side records: a write is not atomic", rows, records)
				}
				t.Logf("acknowledged %d, found %d rows after kill -9", len(acked), rows)
			})
		}
	}
}

// runCrashChild starts TestCrashChild against cfg, SIGKILLs it after it has been writing for
// d, and returns the ids it acknowledged.
func runCrashChild(t *testing.T, cfg store.Config, d time.Duration) []int64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashPathEnv+"="+cfg.Path, crashDSNEnv+"="+cfg.DSN, crashSyncEnv+"="+string(cfg.Sync))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []int64
	lines := bufio.NewScanner(stdout)
	var timer *time.Timer
	for lines.Scan() {
		line := lines.Text()
		if line == "ready" && timer == nil {
			timer = time.AfterFunc(d, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
			continue
		}
		if id, ok := strings.CutPrefix(line, "ack "); ok {
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil {
				t.Fatalf("bad ack line %q", line)
			}
			acked = append(acked, n)
		}
	}
	err = cmd.Wait()
	if timer == nil {
		t.Fatalf("child never became ready: %v\n%s", err, stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child was not killed: %v\n%s", err, stderr.String())
	}
	return acked
}
