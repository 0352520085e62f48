package queue

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// forEachBackend runs f on SQLite and, when configured, PostgreSQL.
func forEachBackend(t *testing.T, f func(t *testing.T, cfg store.Config)) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			f(t, b.Config(t))
		})
	}
}

// newEngine opens an engine over a fresh store; now may be nil for the real clock.
func newEngine(t *testing.T, cfg store.Config, now func() time.Time) (*Engine, *store.Store) {
	t.Helper()
	st := storetest.Open(t, cfg)
	e, err := New(context.Background(), st, Config{Logger: storetest.QuietLogger(), Node: "n1", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e, st
}

// send sends messages in one commit.
func send(t *testing.T, e *Engine, st *store.Store, queue string, ms ...Outgoing) []Sent {
	t.Helper()
	var out []Sent
	err := st.Write(context.Background(), func(tx *store.Tx) error {
		out = out[:0]
		for _, m := range ms {
			s, err := e.Send(tx, queue, m)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func bodies(rs []Received) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Body))
	}
	return out
}

func receive(t *testing.T, e *Engine, queue string, o ReceiveOptions) []Received {
	t.Helper()
	got, err := e.Receive(context.Background(), queue, o)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSendReceiveDelete(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		c := newClock()
		e, st := newEngine(t, cfg, c.Now)
		send(t, e, st, "q", Outgoing{Body: []byte("a"), Meta: []byte("m")}, Outgoing{Body: []byte("b")})

		got := receive(t, e, "q", ReceiveOptions{Max: 10, Visibility: time.Minute})
		if fmt.Sprint(bodies(got)) != "[a b]" || string(got[0].Meta) != "m" || got[0].Receives != 1 {
			t.Fatalf("received %+v", got)
		}
		if again := receive(t, e, "q", ReceiveOptions{Max: 10, Visibility: time.Minute}); len(again) != 0 {
			t.Fatalf("leased messages were received again: %v", bodies(again))
		}
		ok, err := e.Delete(context.Background(), "q", got[0].Receipt)
		if err != nil || !ok {
			t.Fatalf("delete: %v %v", ok, err)
		}
		if ok, _ := e.Delete(context.Background(), "q", got[0].Receipt); ok {
			t.Error("a second delete with the same receipt reported a deletion")
		}
		if ok, _ := e.Delete(context.Background(), "other", got[1].Receipt); ok {
			t.Error("a receipt deleted a message of another queue")
		}

		// The lease ends: b is due again, with a new receipt; the old one no longer deletes it.
		c.Advance(time.Minute + time.Second)
		re := receive(t, e, "q", ReceiveOptions{Max: 10, Visibility: time.Minute})
		if fmt.Sprint(bodies(re)) != "[b]" || re[0].Receives != 2 || re[0].Receipt == got[1].Receipt {
			t.Fatalf("after the lease: %+v", re)
		}
		if ok, _ := e.Delete(context.Background(), "q", got[1].Receipt); ok {
			t.Error("a stale receipt deleted the message")
		}
		if ok, _ := e.Delete(context.Background(), "q", re[0].Receipt); !ok {
			t.Error("the current receipt did not delete the message")
		}
		if s, _ := e.Stats(context.Background(), "q"); s != (Stats{}) {
			t.Errorf("stats of an empty queue: %+v", s)
		}
	})
}

func TestVisibilityDelayAndStats(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		c := newClock()
		e, st := newEngine(t, cfg, c.Now)
		ctx := context.Background()
		send(t, e, st, "q", Outgoing{Body: []byte("now")}, Outgoing{Body: []byte("later"), At: c.Now().Add(10 * time.Second)})
		got := receive(t, e, "q", ReceiveOptions{Max: 10, Visibility: 30 * time.Second})
		if fmt.Sprint(bodies(got)) != "[now]" {
			t.Fatalf("received %v, want only the due message", bodies(got))
		}
		s, err := e.Stats(ctx, "q")
		if err != nil || s.Visible != 0 || s.InFlight != 1 || s.Delayed != 1 || s.Oldest.IsZero() {
			t.Fatalf("stats %+v %v", s, err)
		}
		if err := e.ChangeVisibility(ctx, "q", got[0].Receipt, 0); err != nil {
			t.Fatal(err)
		}
		if s, _ := e.Stats(ctx, "q"); s.Visible != 1 || s.InFlight != 0 {
			t.Fatalf("after a visibility of 0: %+v", s)
		}
		if err := e.ChangeVisibility(ctx, "q", got[0].Receipt, time.Second); !errors.Is(err, ErrNotInFlight) {
			t.Errorf("changing a message no longer in flight: %v", err)
		}
		c.Advance(10 * time.Second)
		got = receive(t, e, "q", ReceiveOptions{Max: 10, Visibility: 30 * time.Second})
		if fmt.Sprint(bodies(got)) != "[now later]" {
			t.Fatalf("after the delay: %v", bodies(got))
		}
		if next := e.nextDue(ctx, "q", c.Now()); !next.Equal(c.Now().Add(30 * time.Second)) {
			t.Errorf("next due %v, want the end of the leases", next)
		}
	})
}

func TestChangeVisibilityTellsAGoneMessage(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		c := newClock()
		e, st := newEngine(t, cfg, c.Now)
		ctx := context.Background()
		send(t, e, st, "q", Outgoing{Body: []byte("a")}, Outgoing{Body: []byte("b")})
		got := receive(t, e, "q", ReceiveOptions{Max: 2, Visibility: time.Second})
		if _, err := e.Delete(ctx, "q", got[0].Receipt); err != nil {
			t.Fatal(err)
		}
		c.Advance(2 * time.Second)
		errs, err := e.ChangeVisibilityBatch(ctx, "q", []Receipt{got[0].Receipt, got[1].Receipt}, []time.Duration{time.Second, time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(errs[0], ErrNoMessage) || !errors.Is(errs[0], ErrNotInFlight) {
			t.Errorf("a deleted message: %v, want ErrNoMessage", errs[0])
		}
		if !errors.Is(errs[1], ErrNotInFlight) || errors.Is(errs[1], ErrNoMessage) {
			t.Errorf("a message whose lease ended: %v, want only ErrNotInFlight", errs[1])
		}
	})
}

func TestReceiveAttemptReturnsTheSameMessagesAgain(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		c := newClock()
		e, st := newEngine(t, cfg, c.Now)
		ctx := context.Background()
		send(t, e, st, "f", Outgoing{Body: []byte("a1"), Group: "a"}, Outgoing{Body: []byte("a2"), Group: "a"},
			Outgoing{Body: []byte("b1"), Group: "b"})
		o := ReceiveOptions{Max: 2, Visibility: 30 * time.Second, Ordered: true, AttemptID: "try-1", AttemptWindow: 5 * time.Minute}
		first := receive(t, e, "f", o)
		if fmt.Sprint(bodies(first)) != "[a1 a2]" {
			t.Fatalf("first receive: %v", bodies(first))
		}
		c.Advance(20 * time.Second)
		again := receive(t, e, "f", o)
		if fmt.Sprint(bodies(again)) != "[a1 a2]" || again[0].Receipt != first[0].Receipt || again[1].Receipt != first[1].Receipt || again[0].Receives != 1 {
			t.Fatalf("a retry of the attempt returned %+v, want the same messages and receipts", again)
		}
		// The retry renewed the lease: 20 more seconds and they are still in flight.
		c.Advance(20 * time.Second)
		if s, _ := e.Stats(ctx, "f"); s.InFlight != 2 {
			t.Fatalf("after the retry's lease was renewed: %+v", s)
		}
		// Another attempt id receives what is left.
		if other := receive(t, e, "f", ReceiveOptions{Max: 2, Visibility: 30 * time.Second, Ordered: true, AttemptID: "try-2", AttemptWindow: 5 * time.Minute}); fmt.Sprint(bodies(other)) != "[b1]" {
			t.Fatalf("another attempt: %v", bodies(other))
		}
		// Once a message of the attempt is deleted, a retry no longer repeats it.
		if _, err := e.Delete(ctx, "f", first[0].Receipt); err != nil {
			t.Fatal(err)
		}
		if got := receive(t, e, "f", o); len(got) != 0 {
			t.Fatalf("a retry after a deletion returned %v", bodies(got))
		}
		// Attempts expire with their window.
		var n int
		c.Advance(5 * time.Minute)
		if _, err := e.sweepExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM kiri_queue_attempts").Scan(&n); err != nil || n != 0 {
			t.Errorf("expired attempts left: %d %v", n, err)
		}
	})
}

func TestRenewAndDeleteHeldTellLapsedLeases(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		c := newClock()
		e, st := newEngine(t, cfg, c.Now)
		ctx := context.Background()
		send(t, e, st, "q", Outgoing{Body: []byte("a")}, Outgoing{Body: []byte("b")}, Outgoing{Body: []byte("c")})
		got := receive(t, e, "q", ReceiveOptions{Max: 3, Visibility: time.Second})
		c.Advance(2 * time.Second)
		// a's lease lapsed: a strict change refuses it, a renewal takes it back.
		if err := e.ChangeVisibility(ctx, "q", got[0].Receipt, time.Minute); !errors.Is(err, ErrNotInFlight) {
			t.Fatalf("a strict change of a lapsed lease: %v", err)
		}
		errs, err := e.RenewBatch(ctx, "q", []Receipt{got[0].Receipt}, []time.Duration{time.Minute})
		if err != nil || errs[0] != nil {
			t.Fatalf("renewing a lapsed lease: %v %v", errs, err)
		}
		// b and c are due again; a receive takes them, so their old receipts no longer renew.
		again := receive(t, e, "q", ReceiveOptions{Max: 3, Visibility: time.Minute})
		if fmt.Sprint(bodies(again)) != "[b c]" {
			t.Fatalf("after the renewal: %v", bodies(again))
		}
		errs, _ = e.RenewBatch(ctx, "q", []Receipt{got[1].Receipt}, []time.Duration{time.Minute})
		if !errors.Is(errs[0], ErrNotInFlight) || errors.Is(errs[0], ErrNoMessage) {
			t.Errorf("renewing a receipt another receive replaced: %v", errs[0])
		}
		// DeleteBatchHeld: a held lease deletes, a replaced one does not, a gone message says so.
		derrs, err := e.DeleteBatchHeld(ctx, "q", []Receipt{got[0].Receipt, got[1].Receipt, again[1].Receipt, again[1].Receipt})
		if err != nil {
			t.Fatal(err)
		}
		if derrs[0] != nil || !errors.Is(derrs[1], ErrNotInFlight) || derrs[2] != nil || !errors.Is(derrs[3], ErrNoMessage) {
			t.Errorf("DeleteBatchHeld: %v", derrs)
		}
		c.Advance(2 * time.Minute)
		derrs, _ = e.DeleteBatchHeld(ctx, "q", []Receipt{again[0].Receipt})
		if !errors.Is(derrs[0], ErrNotInFlight) || errors.Is(derrs[0], ErrNoMessage) {
			t.Errorf("DeleteBatchHeld of a lapsed lease: %v", derrs)
		}
		if s, _ := e.Stats(ctx, "q"); s.Visible != 1 {
			t.Errorf("the lapsed message was deleted: %+v", s)
		}
	})
}

func TestRedriveRoutesEachMessage(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		c := newClock()
		e, st := newEngine(t, cfg, c.Now)
		ctx := context.Background()
		send(t, e, st, "dlq", Outgoing{Body: []byte("x1"), Meta: []byte("x")}, Outgoing{Body: []byte("y1"), Meta: []byte("y")},
			Outgoing{Body: []byte("x2"), Meta: []byte("x")})
		// A received message has a count; the redrive clears it.
		if got := receive(t, e, "dlq", ReceiveOptions{Max: 3}); len(got) != 3 {
			t.Fatalf("receive: %v", bodies(got))
		}
		route := func(m Message) (string, time.Duration, error) {
			return "src-" + string(m.Meta), time.Hour, nil
		}
		var n int
		err := st.Write(ctx, func(tx *store.Tx) (err error) { n, err = e.Redrive(tx, "dlq", 2, route); return err })
		if err != nil || n != 2 {
			t.Fatalf("redrive: %d %v", n, err)
		}
		x := receive(t, e, "src-x", ReceiveOptions{Max: 10, Visibility: time.Minute})
		y := receive(t, e, "src-y", ReceiveOptions{Max: 10, Visibility: time.Minute})
		if fmt.Sprint(bodies(x), bodies(y)) != "[x1] [y1]" || x[0].Receives != 1 {
			t.Fatalf("after the redrive: %+v %+v", x, y)
		}
		// A failing route moves nothing.
		failed := errors.New("no such source")
		err = st.Write(ctx, func(tx *store.Tx) (err error) {
			_, err = e.Redrive(tx, "dlq", 10, func(Message) (string, time.Duration, error) { return "", 0, failed })
			return err
		})
		if !errors.Is(err, failed) {
			t.Fatalf("a failing route: %v", err)
		}
		if s, _ := e.Stats(ctx, "dlq"); s.Visible != 1 {
			t.Errorf("a failed redrive moved messages: %+v", s)
		}
		// The retention counts from the send.
		c.Advance(time.Hour)
		if _, err := e.sweepExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if s, _ := e.Stats(ctx, "src-x"); s != (Stats{}) {
			t.Errorf("a redriven message outlived its retention: %+v", s)
		}
	})
}

func TestOrderedGroups(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		c := newClock()
		e, st := newEngine(t, cfg, c.Now)
		ctx := context.Background()
		send(t, e, st, "f",
			Outgoing{Body: []byte("a1"), Group: "a"}, Outgoing{Body: []byte("b1"), Group: "b"},
			Outgoing{Body: []byte("a2"), Group: "a"}, Outgoing{Body: []byte("a3"), Group: "a"},
			Outgoing{Body: []byte("free")})
		o := ReceiveOptions{Max: 1, Visibility: time.Minute, Ordered: true}
		first := receive(t, e, "f", o)
		if fmt.Sprint(bodies(first)) != "[a1]" {
			t.Fatalf("first receive %v", bodies(first))
		}
		// a1 is in flight: a2 and a3 wait; b1 and the ungrouped message do not.
		o.Max = 10
		if got := receive(t, e, "f", o); fmt.Sprint(bodies(got)) != "[b1 free]" {
			t.Fatalf("while a1 is in flight: %v", bodies(got))
		}
		if _, err := e.Delete(ctx, "f", first[0].Receipt); err != nil {
			t.Fatal(err)
		}
		// Several messages of one group may come in one receive, in order.
		next := receive(t, e, "f", o)
		if fmt.Sprint(bodies(next)) != "[a2 a3]" {
			t.Fatalf("after a1 is deleted: %v", bodies(next))
		}
		// a2 made due again while a3 is in flight waits for a3: the group has one in flight.
		if err := e.ChangeVisibility(ctx, "f", next[0].Receipt, 0); err != nil {
			t.Fatal(err)
		}
		if got := receive(t, e, "f", o); len(got) != 0 {
			t.Fatalf("a2 was received while a3 of its group is in flight: %v", bodies(got))
		}
		if err := e.ChangeVisibility(ctx, "f", next[1].Receipt, 0); err != nil {
			t.Fatal(err)
		}
		if got := receive(t, e, "f", o); fmt.Sprint(bodies(got)) != "[a2 a3]" {
			t.Fatalf("with the group all due again: %v", bodies(got))
		}
	})
}

func TestDeduplicationWindow(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		c := newClock()
		e, st := newEngine(t, cfg, c.Now)
		m := Outgoing{Body: []byte("x"), DedupID: "d1", DedupWindow: 5 * time.Minute}
		first := send(t, e, st, "q", m)[0]
		second := send(t, e, st, "q", m)[0]
		if first.Duplicate || !second.Duplicate || second.ID != first.ID {
			t.Fatalf("first %+v second %+v", first, second)
		}
		if other := send(t, e, st, "other", m)[0]; other.Duplicate {
			t.Error("a deduplication id suppressed a send to another queue")
		}
		c.Advance(5*time.Minute + time.Second)
		if third := send(t, e, st, "q", m)[0]; third.Duplicate {
			t.Error("a send after the window was suppressed")
		}
		if s, _ := e.Stats(context.Background(), "q"); s.Visible != 2 {
			t.Errorf("visible %d, want 2", s.Visible)
		}
	})
}

func TestMaxReceivesMovesToDeadLetter(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		c := newClock()
		e, st := newEngine(t, cfg, c.Now)
		send(t, e, st, "q", Outgoing{Body: []byte("poison")})
		o := ReceiveOptions{Max: 10, Visibility: time.Second, MaxReceives: 2, DeadLetter: "dlq", DeadLetterRetention: time.Hour}
		for i := range 2 {
			if got := receive(t, e, "q", o); len(got) != 1 {
				t.Fatalf("receive %d: %v", i+1, bodies(got))
			}
			c.Advance(2 * time.Second)
		}
		if got := receive(t, e, "q", o); len(got) != 0 {
			t.Fatalf("a message past MaxReceives was received: %v", bodies(got))
		}
		dead := receive(t, e, "dlq", ReceiveOptions{Max: 10, Visibility: time.Minute})
		if fmt.Sprint(bodies(dead)) != "[poison]" || dead[0].Receives != 3 {
			t.Fatalf("dead-letter queue holds %+v", dead)
		}
		// The move keeps the original send time, from which the retention counts.
		c.Advance(time.Hour)
		if _, err := e.sweepExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
		if s, _ := e.Stats(context.Background(), "dlq"); s != (Stats{}) {
			t.Errorf("an expired dead letter is still there: %+v", s)
		}
	})
}

func TestExpiryAndRetention(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		c := newClock()
		e, st := newEngine(t, cfg, c.Now)
		ctx := context.Background()
		send(t, e, st, "q", Outgoing{Body: []byte("short"), Expires: c.Now().Add(time.Minute)}, Outgoing{Body: []byte("long"), Expires: c.Now().Add(time.Hour)})
		send(t, e, st, "r", Outgoing{Body: []byte("kept")})
		send(t, e, st, "d", Outgoing{Body: []byte("x"), DedupID: "id", DedupWindow: time.Minute})
		next, err := e.sweepExpired(ctx)
		if err != nil || !next.Equal(c.Now().Add(time.Minute)) {
			t.Fatalf("next expiry %v %v", next, err)
		}
		c.Advance(time.Minute)
		if _, err := e.sweepExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if got := receive(t, e, "q", ReceiveOptions{Max: 10}); fmt.Sprint(bodies(got)) != "[long]" {
			t.Fatalf("after a minute: %v", bodies(got))
		}
		var n int
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM kiri_queue_dedup").Scan(&n); err != nil || n != 0 {
			t.Errorf("expired deduplication ids left: %d %v", n, err)
		}
		if err := st.Write(ctx, func(tx *store.Tx) error { return e.SetRetention(tx, "r", time.Second) }); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sweepExpired(ctx); err != nil {
			t.Fatal(err)
		}
		if s, _ := e.Stats(ctx, "r"); s != (Stats{}) {
			t.Errorf("a shorter retention kept an old message: %+v", s)
		}
	})
}

func TestExpiryWakesOnlyForEarlierTimes(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	var x expiry
	x.init()
	note := func(at int64) (poked bool) {
		t.Helper()
		if err := st.Write(context.Background(), func(tx *store.Tx) error { x.note(tx, at); return nil }); err != nil {
			t.Fatal(err)
		}
		select {
		case <-x.poke:
			return true
		default:
			return false
		}
	}
	x.begin()
	if note(5) {
		t.Error("an expiry noted during a sweep woke the sweeper")
	}
	if got := x.end(time.Unix(0, 10)); got.UnixNano() != 5 {
		t.Fatalf("after the sweep the sweeper wakes at %d, want 5 (noted during the sweep)", got.UnixNano())
	}
	if note(7) {
		t.Error("an expiry later than the next wake-up woke the sweeper")
	}
	if !note(3) {
		t.Error("an expiry earlier than the next wake-up did not wake the sweeper")
	}
	x.begin()
	if got := x.end(time.Time{}); !got.IsZero() {
		t.Errorf("a sweep that left nothing wakes at %v", got)
	}
	if !note(100) {
		t.Error("with nothing left to expire, a new expiry did not wake the sweeper")
	}
}

func TestLongPollWakesOnSend(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		e, st := newEngine(t, cfg, nil)
		got := make(chan []Received, 1)
		go func() {
			r, _ := e.Receive(context.Background(), "q", ReceiveOptions{Max: 1, Visibility: time.Minute, Wait: 20 * time.Second})
			got <- r
		}()
		time.Sleep(50 * time.Millisecond) // let the receive start waiting
		start := time.Now()
		send(t, e, st, "q", Outgoing{Body: []byte("hi")})
		select {
		case r := <-got:
			if fmt.Sprint(bodies(r)) != "[hi]" {
				t.Fatalf("long poll returned %v", bodies(r))
			}
			t.Logf("woken %v after the send", time.Since(start))
		case <-time.After(10 * time.Second):
			t.Fatal("the long poll was not woken by the send")
		}
	})
}

func TestLongPollWakesWhenDelayEnds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		e, st := newEngine(t, cfg, nil)
		send(t, e, st, "q", Outgoing{Body: []byte("soon"), At: time.Now().Add(200 * time.Millisecond)})
		got, err := e.Receive(context.Background(), "q", ReceiveOptions{Max: 1, Wait: 10 * time.Second})
		if err != nil || fmt.Sprint(bodies(got)) != "[soon]" {
			t.Fatalf("received %v %v", bodies(got), err)
		}
	})
}

func TestLongPollAcrossNodes(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		if b.Name != "postgres" {
			continue
		}
		cfg := b.Config(t)
		e1, _ := newEngine(t, cfg, nil)
		st2 := storetest.Open(t, cfg)
		e2, err := New(context.Background(), st2, Config{Logger: storetest.QuietLogger(), Node: "n2"})
		if err != nil {
			t.Fatal(err)
		}
		defer e2.Close()
		got := make(chan []Received, 1)
		go func() {
			r, _ := e1.Receive(context.Background(), "q", ReceiveOptions{Max: 1, Wait: 20 * time.Second})
			got <- r
		}()
		time.Sleep(100 * time.Millisecond)
		send(t, e2, st2, "q", Outgoing{Body: []byte("from n2")})
		select {
		case r := <-got:
			if len(r) != 1 {
				t.Fatalf("got %v", bodies(r))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a send on another node did not wake the long poll")
		}
	}
}

// runEngine runs e until the test ends.
func runEngine(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := e.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHandlerRetriesThenDeadLetters(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		e, st := newEngine(t, cfg, nil)
		var calls atomic.Int32
		var okCalls atomic.Int32
		e.Handle("work", func(ctx context.Context, m Message) error {
			switch string(m.Body) {
			case "flaky":
				if m.Receives < 3 {
					return errors.New("not yet")
				}
				okCalls.Add(1)
				return nil
			case "bad":
				calls.Add(1)
				return errors.New("always")
			case "fatal":
				return Permanent(errors.New("cannot"))
			}
			return nil
		}, HandlerOptions{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
		runEngine(t, e)
		send(t, e, st, "work", Outgoing{Body: []byte("flaky")}, Outgoing{Body: []byte("bad")}, Outgoing{Body: []byte("fatal")})
		dead := DeadLetterQueue("work")
		waitFor(t, "two dead letters", func() bool {
			s, _ := e.Stats(context.Background(), dead)
			return s.Visible == 2
		})
		if okCalls.Load() != 1 || calls.Load() != 4 {
			t.Errorf("flaky succeeded %d times, bad was tried %d times (want 1, 4)", okCalls.Load(), calls.Load())
		}
		ms, err := e.Peek(context.Background(), dead, 10)
		if err != nil || len(ms) != 2 || ms[0].LastError == "" {
			t.Fatalf("dead letters %+v %v", ms, err)
		}
		waitFor(t, "the work queue to drain", func() bool {
			s, _ := e.Stats(context.Background(), "work")
			return s == Stats{}
		})
	})
}

func TestPostponedDeliveriesDoNotCountAsAttempts(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		e, st := newEngine(t, cfg, nil)
		var postponed, tried atomic.Int32
		var receives atomic.Int32
		e.Handle("held", func(ctx context.Context, m Message) error {
			if postponed.Add(1) <= 5 {
				return Postpone(errors.New("over the rate"), time.Now())
			}
			tried.Add(1)
			receives.Store(int32(m.Receives))
			return nil
		}, HandlerOptions{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
		runEngine(t, e)
		send(t, e, st, "held", Outgoing{Body: []byte("x")})
		waitFor(t, "the delivery after five postponements", func() bool { return tried.Load() == 1 })
		if r := receives.Load(); r != 1 {
			t.Errorf("the delivery after five postponements is receive %d, want 1", r)
		}
		if s, _ := e.Stats(context.Background(), DeadLetterQueue("held")); s.Visible != 0 {
			t.Errorf("postponements dead-lettered the message: %+v", s)
		}
	})
}

func TestHandlerKeepsGroupOrder(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		e, st := newEngine(t, cfg, nil)
		var mu sync.Mutex
		var seen []string
		failed := false
		e.Handle("ordered", func(ctx context.Context, m Message) error {
			mu.Lock()
			defer mu.Unlock()
			if string(m.Body) == "k1" && !failed {
				failed = true
				return errors.New("once")
			}
			seen = append(seen, string(m.Body))
			return nil
		}, HandlerOptions{Concurrency: 8, MinBackoff: time.Millisecond})
		runEngine(t, e)
		var ms []Outgoing
		for i := 1; i <= 5; i++ {
			ms = append(ms, Outgoing{Body: fmt.Appendf(nil, "k%d", i), Group: "k"})
		}
		send(t, e, st, "ordered", ms...)
		waitFor(t, "five deliveries", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(seen) == 5
		})
		if fmt.Sprint(seen) != "[k1 k2 k3 k4 k5]" {
			t.Errorf("delivered %v, want send order despite k1's retry", seen)
		}
	})
}

func TestRunTakesBackLeasesOfACrashedRun(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		e, st := newEngine(t, cfg, nil)
		send(t, e, st, "work", Outgoing{Body: []byte("x")})
		// A run that crashed left the message leased by this node.
		if got := receive(t, e, "work", ReceiveOptions{Visibility: time.Hour, Owner: "n1"}); len(got) != 1 {
			t.Fatal("setup receive failed")
		}
		done := make(chan struct{})
		e.Handle("work", func(context.Context, Message) error { close(done); return nil }, HandlerOptions{})
		runEngine(t, e)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the message leased before the restart was not delivered")
		}
	})
}

func TestEveryRunsPeriodically(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		e, _ := newEngine(t, cfg, nil)
		var runs atomic.Int32
		e.Every("tick", 20*time.Millisecond, 0, func(context.Context) error {
			if runs.Add(1) == 2 {
				return errors.New("a failed run does not stop the job")
			}
			return nil
		})
		runEngine(t, e)
		waitFor(t, "four runs", func() bool { return runs.Load() >= 4 })
		if s, _ := e.Stats(context.Background(), periodicQueue("tick")); s.Visible+s.InFlight+s.Delayed != 1 {
			t.Errorf("the job has %+v timer messages, want exactly one", s)
		}
	})
}

func TestWorkersRunAndStop(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		e, _ := newEngine(t, cfg, nil)
		runEngine(t, e)
		var starts atomic.Int32
		stopped := make(chan struct{})
		e.StartWorker("esm-1", func(ctx context.Context) {
			if starts.Add(1) == 1 {
				return // returning early gets the worker restarted
			}
			<-ctx.Done()
			close(stopped)
		})
		waitFor(t, "a restart", func() bool { return starts.Load() == 2 })
		if w := e.Workers(); len(w) != 1 || w[0] != "esm-1" {
			t.Errorf("workers %v", w)
		}
		e.StopWorker("esm-1")
		select {
		case <-stopped:
		default:
			t.Fatal("StopWorker returned before the worker did")
		}
		if w := e.Workers(); len(w) != 0 {
			t.Errorf("workers after stop: %v", w)
		}
	})
}

func TestParseReceipt(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "1", ".x", "0.x", "-1.x", "a.b", "1.", "1.a%b"} {
		if _, err := ParseReceipt(s); err == nil {
			t.Errorf("ParseReceipt(%q) accepted it", s)
		}
	}
	r := Receipt{ID: 42, Token: "n1-abcd"}
	if got, err := ParseReceipt(r.String()); err != nil || got != r {
		t.Errorf("round trip: %+v %v", got, err)
	}
}

func FuzzParseReceipt(f *testing.F) {
	f.Add("12.abcdef")
	f.Add("1.n1-00ff")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReceipt(s)
		if err == nil && r.String() != s {
			if r2, err2 := ParseReceipt(r.String()); err2 != nil || r2 != r {
				t.Fatalf("%q parsed to %+v, which does not round-trip", s, r)
			}
		}
	})
}

// TestOutboxRecordsBecomeMessages opens the engine on a store whose outbox, from before the
// engine, still holds records: each becomes a message of its topic's queue.
func TestOutboxRecordsBecomeMessages(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, cfg store.Config) {
		ctx := context.Background()
		st := storetest.Open(t, cfg)
		err := st.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(`INSERT INTO kiri_outbox (topic, msg_key, payload, not_before, attempts, last_error, traceparent, created_at)
				VALUES ('lambda.state', 'acct/fn/', ?, 0, 2, 'busy', 'tp', 5), ('sts.expire', '', ?, 99, 0, '', '', 6)`,
				[]byte("settle"), []byte("AKIA")); err != nil {
				return err
			}
			_, err := tx.Exec(`INSERT INTO kiri_outbox_dead (id, topic, msg_key, payload, attempts, last_error, traceparent, created_at, died_at)
				VALUES (7, 's3.blob-gc', '', ?, 5, 'gone', '', 1, 2)`, []byte("blob"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(ctx, st, Config{Logger: storetest.QuietLogger(), Node: "n1"})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		check := func(queue, body, group string, receives int, lastError string) {
			t.Helper()
			ms, err := e.Peek(ctx, queue, 10)
			if err != nil || len(ms) != 1 {
				t.Fatalf("%s holds %+v (%v), want one message", queue, ms, err)
			}
			m := ms[0]
			if string(m.Body) != body || m.Group != group || m.Receives != receives || m.LastError != lastError {
				t.Errorf("%s: %+v", queue, m)
			}
		}
		check("lambda.state", "settle", "acct/fn/", 2, "busy")
		check("sts.expire", "AKIA", "", 0, "")
		check("s3.blob-gc.dead", "blob", "", 5, "gone")
		var n int
		if err := st.QueryRow(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE component = 'queue'").Scan(&n); err != nil || n != 3 {
			t.Errorf("queue migrations applied: %d %v", n, err)
		}
	})
}

// BenchmarkSendBatch measures sends of ten messages in one write from 16 writers, as SQS's
// SendMessageBatch makes them.
func BenchmarkSendBatch(b *testing.B) {
	st := storetest.Open(b, storetest.SQLiteConfig(b))
	e, err := New(context.Background(), st, Config{Logger: storetest.QuietLogger(), Node: "n1"})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	body := make([]byte, 100)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := st.Write(context.Background(), func(tx *store.Tx) error {
				for range 10 {
					if _, err := e.Send(tx, "bench", Outgoing{Body: body, Meta: body[:40], Expires: time.Now().Add(time.Hour)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "msg/s")
}

// BenchmarkReceiveDeleteBatch measures receives of up to ten messages, each followed by the
// deletion of what it leased in one write, from 16 consumers: SQS's ReceiveMessage and
// DeleteMessageBatch.
func BenchmarkReceiveDeleteBatch(b *testing.B) {
	st := storetest.Open(b, storetest.SQLiteConfig(b))
	e, err := New(context.Background(), st, Config{Logger: storetest.QuietLogger(), Node: "n1"})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	body := make([]byte, 100)
	for sent := 0; sent < b.N*10; sent += 100 {
		err := st.Write(ctx, func(tx *store.Tx) error {
			for range 100 {
				if _, err := e.Send(tx, "bench", Outgoing{Body: body, Meta: body[:40], Expires: time.Now().Add(time.Hour)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	var got atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rs, err := e.Receive(ctx, "bench", ReceiveOptions{Max: 10, Visibility: time.Minute})
			if err != nil {
				b.Error(err)
				return
			}
			receipts := make([]Receipt, len(rs))
			for i, r := range rs {
				receipts[i] = r.Receipt
			}
			if len(receipts) > 0 {
				if _, err := e.DeleteBatch(ctx, "bench", receipts); err != nil {
					b.Error(err)
					return
				}
			}
			got.Add(int64(len(rs)))
		}
	})
	b.ReportMetric(float64(got.Load())/b.Elapsed().Seconds(), "msg/s")
}

func TestMetricsCountMessagesByQueueAndState(t *testing.T) {
	t.Parallel()
	c := newClock()
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	reg := prometheus.NewRegistry()
	e, err := New(context.Background(), st, Config{Logger: storetest.QuietLogger(), Node: "n1", Now: c.Now, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	send(t, e, st, "lambda.async", Outgoing{Body: []byte("a")}, Outgoing{Body: []byte("b")}, Outgoing{Body: []byte("later"), At: c.Now().Add(time.Hour)})
	send(t, e, st, "sqs/1", Outgoing{Body: []byte("x")})
	send(t, e, st, "sqs/2", Outgoing{Body: []byte("y")})
	send(t, e, st, "lambda.async.dead", Outgoing{Body: []byte("failed")})
	receive(t, e, "lambda.async", ReceiveOptions{Visibility: time.Minute})
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetValue()
			}
			got[key] = m.GetGauge().GetValue()
		}
	}
	want := map[string]float64{
		"kiri_queue_messages lambda.async visible": 1, "kiri_queue_messages lambda.async inflight": 1,
		"kiri_queue_messages lambda.async delayed": 1, "kiri_queue_messages sqs visible": 2,
		"kiri_queue_messages sqs inflight": 0, "kiri_queue_messages sqs delayed": 0,
		"kiri_queue_dead_letters lambda.async": 1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
}

func TestEndWaitsReturnsLongPolls(t *testing.T) {
	t.Parallel()
	e, _ := newEngine(t, storetest.SQLiteConfig(t), nil)
	done := make(chan []Received, 1)
	go func() {
		got, _ := e.Receive(context.Background(), "q", ReceiveOptions{Wait: time.Minute})
		done <- got
	}()
	time.Sleep(50 * time.Millisecond)
	e.EndWaits()
	select {
	case got := <-done:
		if len(got) != 0 {
			t.Errorf("got %v", bodies(got))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a long poll outlived EndWaits")
	}
}
