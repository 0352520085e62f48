package dispatch_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
	"github.com/kiri-run/kiri/internal/telemetry"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// enqueue commits one write that enqueues recs.
func enqueue(t *testing.T, s *store.Store, recs ...store.OutboxRecord) {
	t.Helper()
	err := s.Write(context.Background(), func(tx *store.Tx) error {
		for _, r := range recs {
			if err := tx.Enqueue(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
}

// startRelay runs r until the test ends.
func startRelay(t *testing.T, r *dispatch.Relay) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func outboxLen(t *testing.T, s *store.Store) int {
	t.Helper()
	var n int
	if err := s.QueryRow(context.Background(), "SELECT COUNT(*) FROM kiri_outbox").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func payload(i int) []byte { return []byte(strconv.Itoa(i)) }

func TestRelay(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			tests := []struct {
				name string
				run  func(t *testing.T, b storetest.Backend)
			}{
				{"delivers records with the same key in enqueue order", testOrderPerKey},
				{"retries a failing record with backoff until it succeeds", testRetriesWithBackoff},
				{"moves permanently failing records to dead letters", testPermanentGoesDead},
				{"moves records that exhaust MaxAttempts to dead letters", testMaxAttemptsGoesDead},
				{"treats a panicking handler as a failed delivery", testHandlerPanicRetried},
				{"holds records until NotBefore", testNotBefore},
				{"keeps records of unknown topics queued", testUnknownTopicKept},
				{"resumes delivery after a restart", testResumeAfterRestart},
				{"takes back its node's leases after a crash at once", testTakesBackLeasesAfterCrash},
				{"never lets two relays deliver one record at once", testTwoRelaysNoOverlap},
				{"does not deliver records of a rolled-back write", testRolledBackNotDelivered},
				{"waits for in-flight deliveries when stopped", testRunWaitsForInflight},
				{"continues the trace of the request that enqueued a record", testContinuesTrace},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, b) })
			}
		})
	}
}

func testOrderPerKey(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	const keys, perKey = 4, 25
	var mu sync.Mutex
	got := map[string][]int{}
	unordered := atomic.Int64{}
	r := dispatch.NewRelay(s, storetest.QuietLogger(), "")
	r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error {
		time.Sleep(time.Duration(len(rec.Payload)%3) * time.Millisecond)
		if rec.Key == "" {
			unordered.Add(1)
			return nil
		}
		n, _ := strconv.Atoi(string(rec.Payload))
		mu.Lock()
		got[rec.Key] = append(got[rec.Key], n)
		mu.Unlock()
		return nil
	}, dispatch.HandlerOptions{Concurrency: 8})
	// Interleave keys across several commits, some before the relay starts.
	for i := range perKey {
		var recs []store.OutboxRecord
		for k := range keys {
			recs = append(recs, store.OutboxRecord{Topic: "t", Key: fmt.Sprintf("k%d", k), Payload: payload(i)})
		}
		recs = append(recs, store.OutboxRecord{Topic: "t", Payload: payload(i)})
		enqueue(t, s, recs...)
		if i == perKey/2 {
			startRelay(t, r)
		}
	}
	waitFor(t, "every record", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, v := range got {
			n += len(v)
		}
		return n == keys*perKey && unordered.Load() == perKey
	})
	for k, seq := range got {
		for i, n := range seq {
			if n != i {
				t.Fatalf("key %s delivered out of order: %v", k, seq)
			}
		}
	}
	waitFor(t, "acks", func() bool { return outboxLen(t, s) == 0 })
}

func testRetriesWithBackoff(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	const failures = 3
	var mu sync.Mutex
	var attempts []int
	var times []time.Time
	r := dispatch.NewRelay(s, storetest.QuietLogger(), "")
	r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, rec.Attempts)
		times = append(times, time.Now())
		if len(attempts) <= failures {
			return errors.New("not yet")
		}
		return nil
	}, dispatch.HandlerOptions{MinBackoff: 40 * time.Millisecond, MaxBackoff: time.Second})
	startRelay(t, r)
	enqueue(t, s, store.OutboxRecord{Topic: "t", Payload: []byte("x")})
	waitFor(t, "success", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(attempts) == failures+1
	})
	waitFor(t, "ack", func() bool { return outboxLen(t, s) == 0 })
	mu.Lock()
	defer mu.Unlock()
	for i, a := range attempts {
		if a != i+1 {
			t.Errorf("attempt numbers = %v, want 1..%d", attempts, failures+1)
			break
		}
	}
	// Backoff doubles from 40ms with jitter over the upper half: at least 20, 40, 80ms.
	for i := 1; i < len(times); i++ {
		minGap := 20 * time.Millisecond << (i - 1)
		if gap := times[i].Sub(times[i-1]); gap < minGap {
			t.Errorf("retry %d came after %v, want at least %v", i, gap, minGap)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if len(attempts) != failures+1 {
		t.Errorf("acknowledged record delivered again: %d deliveries", len(attempts))
	}
}

func testPermanentGoesDead(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	var calls atomic.Int64
	r := dispatch.NewRelay(s, storetest.QuietLogger(), "")
	r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error {
		calls.Add(1)
		return dispatch.Permanent(errors.New("no such function"))
	}, dispatch.HandlerOptions{})
	startRelay(t, r)
	enqueue(t, s, store.OutboxRecord{Topic: "t", Key: "k", Payload: []byte("p"), TraceParent: "00-abc-def-01"},
		store.OutboxRecord{Topic: "t", Key: "k", Payload: []byte("q")})
	var dead []store.DeadRecord
	waitFor(t, "dead letters", func() bool {
		var err error
		dead, err = s.DeadLetters(context.Background(), "t", 10)
		return err == nil && len(dead) == 2
	})
	if calls.Load() != 2 {
		t.Errorf("handler calls = %d, want 2 (no retries)", calls.Load())
	}
	if string(dead[0].Payload) != "p" || dead[0].TraceParent != "00-abc-def-01" || dead[0].Attempts != 1 {
		t.Errorf("dead record = %+v", dead[0])
	}
	if dead[0].LastError == "" {
		t.Errorf("dead record has no last error")
	}
	if n := outboxLen(t, s); n != 0 {
		t.Errorf("outbox still holds %d records", n)
	}
}

func testMaxAttemptsGoesDead(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	var calls atomic.Int64
	r := dispatch.NewRelay(s, storetest.QuietLogger(), "")
	r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error {
		calls.Add(1)
		return errors.New("still broken")
	}, dispatch.HandlerOptions{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	startRelay(t, r)
	enqueue(t, s, store.OutboxRecord{Topic: "t", Payload: []byte("p")})
	waitFor(t, "dead letter", func() bool {
		dead, err := s.DeadLetters(context.Background(), "t", 10)
		return err == nil && len(dead) == 1 && dead[0].Attempts == 3
	})
	if calls.Load() != 3 {
		t.Errorf("handler calls = %d, want 3", calls.Load())
	}
}

func testHandlerPanicRetried(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	var calls atomic.Int64
	r := dispatch.NewRelay(s, storetest.QuietLogger(), "")
	r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error {
		if calls.Add(1) == 1 {
			panic("handler bug")
		}
		return nil
	}, dispatch.HandlerOptions{MinBackoff: time.Millisecond})
	startRelay(t, r)
	enqueue(t, s, store.OutboxRecord{Topic: "t"})
	waitFor(t, "redelivery", func() bool { return calls.Load() == 2 && outboxLen(t, s) == 0 })
}

func testNotBefore(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	delivered := make(chan time.Time, 1)
	r := dispatch.NewRelay(s, storetest.QuietLogger(), "")
	r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error {
		delivered <- time.Now()
		return nil
	}, dispatch.HandlerOptions{})
	startRelay(t, r)
	due := time.Now().Add(300 * time.Millisecond)
	enqueue(t, s, store.OutboxRecord{Topic: "t", NotBefore: due})
	select {
	case at := <-delivered:
		if at.Before(due) {
			t.Errorf("delivered %v before NotBefore", due.Sub(at))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("delayed record never delivered")
	}
}

func testUnknownTopicKept(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	var calls atomic.Int64
	r := dispatch.NewRelay(s, storetest.QuietLogger(), "")
	r.Handle("known", func(ctx context.Context, rec store.OutboxRecord) error { calls.Add(1); return nil }, dispatch.HandlerOptions{})
	startRelay(t, r)
	enqueue(t, s, store.OutboxRecord{Topic: "later.version"}, store.OutboxRecord{Topic: "known"})
	waitFor(t, "known topic", func() bool { return calls.Load() == 1 && outboxLen(t, s) == 1 })
	time.Sleep(50 * time.Millisecond)
	if n := outboxLen(t, s); n != 1 {
		t.Errorf("outbox = %d records, want the unknown topic's record kept", n)
	}
}

func testResumeAfterRestart(t *testing.T, b storetest.Backend) {
	cfg := b.Config(t)
	s1, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		enqueue(t, s1, store.OutboxRecord{Topic: "t", Key: "k", Payload: payload(i)})
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := storetest.Open(t, cfg)
	var mu sync.Mutex
	var got []string
	r := dispatch.NewRelay(s2, storetest.QuietLogger(), "")
	r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, string(rec.Payload))
		return nil
	}, dispatch.HandlerOptions{})
	startRelay(t, r)
	waitFor(t, "redelivery after restart", func() bool { return outboxLen(t, s2) == 0 })
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != "[0 1 2 3 4 5 6 7 8 9]" {
		t.Errorf("delivered %v", got)
	}
}

func testTakesBackLeasesAfterCrash(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	for i := range 3 {
		enqueue(t, s, store.OutboxRecord{Topic: "t", Key: "k", Payload: payload(i)})
	}
	// A relay of node-a claimed the records and died before acking them.
	if recs, err := s.ClaimOutbox(context.Background(), "t", 10, "node-a", time.Hour); err != nil || len(recs) != 1 {
		t.Fatalf("claim: %d records, %v", len(recs), err)
	}
	// Another node must wait for the lease; node-a itself, restarted, must not.
	other := dispatch.NewRelay(s, storetest.QuietLogger(), "node-b")
	var delivered atomic.Int32
	count := func(ctx context.Context, rec store.OutboxRecord) error { delivered.Add(1); return nil }
	other.Handle("t", count, dispatch.HandlerOptions{})
	startRelay(t, other)
	time.Sleep(300 * time.Millisecond)
	if n := delivered.Load(); n != 0 {
		t.Fatalf("another node delivered %d records under node-a's lease", n)
	}
	restarted := dispatch.NewRelay(s, storetest.QuietLogger(), "node-a")
	restarted.Handle("t", count, dispatch.HandlerOptions{})
	startRelay(t, restarted)
	waitFor(t, "delivery after node-a restarted", func() bool { return outboxLen(t, s) == 0 })
}

func testTwoRelaysNoOverlap(t *testing.T, b storetest.Backend) {
	cfg := b.Config(t)
	// Two stores over one database stand for two nodes.
	nodes := []*store.Store{storetest.Open(t, cfg), storetest.Open(t, cfg)}
	const records = 120
	var mu sync.Mutex
	inflight := map[int64]bool{}
	delivered := map[int64]int{}
	var overlaps atomic.Int64
	handler := func(ctx context.Context, rec store.OutboxRecord) error {
		mu.Lock()
		if inflight[rec.ID] {
			overlaps.Add(1)
		}
		inflight[rec.ID] = true
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		delete(inflight, rec.ID)
		delivered[rec.ID]++
		mu.Unlock()
		return nil
	}
	var relays [4]*dispatch.Relay
	for i := range relays {
		relays[i] = dispatch.NewRelay(nodes[i%2], storetest.QuietLogger(), "")
		relays[i].Handle("t", handler, dispatch.HandlerOptions{Concurrency: 8})
		startRelay(t, relays[i])
	}
	for i := range records / 4 {
		enqueue(t, nodes[i%2],
			store.OutboxRecord{Topic: "t", Payload: payload(i)}, store.OutboxRecord{Topic: "t", Payload: payload(i)},
			store.OutboxRecord{Topic: "t", Payload: payload(i)}, store.OutboxRecord{Topic: "t", Payload: payload(i)})
	}
	waitFor(t, "every record", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) == records
	})
	waitFor(t, "acks", func() bool { return outboxLen(t, nodes[0]) == 0 })
	if n := overlaps.Load(); n > 0 {
		t.Errorf("%d deliveries overlapped another delivery of the same record", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("record %d delivered %d times", id, n)
		}
	}
}

func testRolledBackNotDelivered(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	var calls atomic.Int64
	r := dispatch.NewRelay(s, storetest.QuietLogger(), "")
	r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error { calls.Add(1); return nil }, dispatch.HandlerOptions{})
	startRelay(t, r)
	err := s.Write(context.Background(), func(tx *store.Tx) error {
		if err := tx.Enqueue(store.OutboxRecord{Topic: "t"}); err != nil {
			return err
		}
		return errors.New("abort")
	})
	if err == nil {
		t.Fatal("write did not fail")
	}
	enqueue(t, s, store.OutboxRecord{Topic: "t"})
	waitFor(t, "committed record", func() bool { return calls.Load() == 1 })
	time.Sleep(50 * time.Millisecond)
	if calls.Load() != 1 {
		t.Errorf("rolled-back record delivered")
	}
}

func testRunWaitsForInflight(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	started, release := make(chan struct{}), make(chan struct{})
	r := dispatch.NewRelay(s, storetest.QuietLogger(), "")
	r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error {
		close(started)
		<-release
		return ctx.Err()
	}, dispatch.HandlerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	enqueue(t, s, store.OutboxRecord{Topic: "t"})
	<-started
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while a delivery was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := outboxLen(t, s); n != 0 {
		t.Errorf("delivery that finished during shutdown was not acknowledged: %d left", n)
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("bad")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"marks a wrapped error", dispatch.Permanent(base), true},
		{"survives further wrapping", fmt.Errorf("deliver: %w", dispatch.Permanent(base)), true},
		{"leaves plain errors retryable", base, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dispatch.IsPermanent(tc.err); got != tc.want {
				t.Errorf("IsPermanent = %v, want %v", got, tc.want)
			}
		})
	}
	if !errors.Is(dispatch.Permanent(base), base) {
		t.Errorf("Permanent hides the cause from errors.Is")
	}
}

func testContinuesTrace(t *testing.T, b storetest.Backend) {
	s := storetest.Open(t, b.Config(t))
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	enqueue(t, s, store.OutboxRecord{Topic: "t", Payload: payload(1), TraceParent: "00-" + trace + "-00f067aa0ba902b7-01"})
	got := make(chan string, 1)
	r := dispatch.NewRelay(s, storetest.QuietLogger(), "")
	r.Handle("t", func(ctx context.Context, rec store.OutboxRecord) error {
		got <- telemetry.TraceID(ctx)
		return nil
	}, dispatch.HandlerOptions{})
	startRelay(t, r)
	select {
	case id := <-got:
		if id != trace {
			t.Fatalf("handler ran in trace %s, want %s", id, trace)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("record not delivered")
	}
}
