// Package servicetest builds the Deps of a service under test: a throwaway store, blob
// directory, queue engine and target registry.
package servicetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// Deps returns the Deps of a service over a new SQLite store in t's temporary directory.
func Deps(t testing.TB) service.Deps {
	t.Helper()
	return DepsOn(t, storetest.Open(t, storetest.SQLiteConfig(t)))
}

// DepsOn returns the Deps of a service over st.
func DepsOn(t testing.TB, st *store.Store) service.Deps {
	t.Helper()
	log := storetest.QuietLogger()
	dir := t.TempDir()
	blobs, err := blob.OpenFS(filepath.Join(dir, "blobs"), blob.FSOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := queue.New(context.Background(), st, queue.Config{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	return service.Deps{
		Store: st, Blobs: blobs, Queue: eng, Targets: dispatch.NewRegistry(st, eng, log, nil),
		Logger: log, Metrics: prometheus.NewRegistry(), Now: time.Now,
		Config:   service.Config{DataDir: dir, Endpoint: "http://127.0.0.1:4566"},
		Services: &service.Directory{},
	}
}

// Run runs d's queue engine until the test ends.
func Run(t testing.TB, d service.Deps) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Queue.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
}
