package lambda

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kiri-run/kiri/internal/queue"
)

// TestCodeIsReadyBeforeTheFirstInvoke checks that the first invoke of a new function finds its
// code unpacked and the runtime warmed: both happen while the function is Pending, not on the
// invoke's path.
func TestCodeIsReadyBeforeTheFirstInvoke(t *testing.T) {
	s, ctx := testService(t)
	var warmed atomic.Int32
	s.deps.Warm = func() { warmed.Add(1) }
	z := buildZip(t, zipEntry{"bootstrap", "#!/bin/sh\n", 0o755})
	createFn(t, s, ctx, "fresh", z)
	if warmed.Load() == 0 {
		t.Error("CreateFunction did not warm the runtime")
	}
	dir := filepath.Join(s.deps.FunctionsDir, "code", sha256Hex(z))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("code unpacked before the function settles: %v", err)
	}
	payload, _ := json.Marshal(stateRecord{Account: "000000000000", Region: "us-east-1", Name: "fresh"})
	if err := s.settleState(ctx, queue.Message{Queue: topicState, Body: payload}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil {
		t.Errorf("code not unpacked once the function is Active: %v", err)
	}
	c, _, err := loadVersion(s.reader(ctx), funcRef{account: "000000000000", region: "us-east-1", name: "fresh"}, latest)
	if err != nil || c.State != stateActive {
		t.Fatalf("state after settling: %v %v", c, err)
	}

	// A restarted service with functions warms the runtime at once.
	warmed.Store(0)
	deps := s.deps
	deps.Warm = func() { warmed.Add(1) }
	if _, err := newService(ctx, deps); err != nil {
		t.Fatal(err)
	}
	if warmed.Load() != 1 {
		t.Errorf("New with functions stored warmed the runtime %d times, want 1", warmed.Load())
	}
}
