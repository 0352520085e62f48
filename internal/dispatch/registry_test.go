package dispatch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// fakeKind records deliveries and fails those its fail function says.
type fakeKind struct {
	mu        sync.Mutex
	exists    map[string]bool
	delivered []Delivery
	fail      func(d Delivery) error
}

func (k *fakeKind) Check(_ context.Context, arn string, src Source) error {
	if !k.exists[arn] {
		return ErrNoTarget
	}
	if src.Account != "111111111111" {
		return ErrTargetDenied
	}
	return nil
}

func (k *fakeKind) Deliver(_ context.Context, d Delivery) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		if err := k.fail(d); err != nil {
			return err
		}
	}
	k.delivered = append(k.delivered, d)
	return nil
}

func (k *fakeKind) got() []Delivery {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Delivery(nil), k.delivered...)
}

func newRegistry(t *testing.T) (*Registry, *queue.Engine, *store.Store) {
	t.Helper()
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	eng, err := queue.New(context.Background(), st, queue.Config{Logger: storetest.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(st, eng, storetest.QuietLogger(), nil)
	return r, eng, st
}

func run(t *testing.T, eng *queue.Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; eng.Close() })
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestRegistryCheck(t *testing.T) {
	t.Parallel()
	r, _, _ := newRegistry(t)
	sqs := &fakeKind{exists: map[string]bool{"arn:aws:sqs:us-east-1:111111111111:q": true}}
	r.Register("sqs", sqs)
	src := Source{Principal: "s3.amazonaws.com", ARN: "arn:aws:s3:::b", Account: "111111111111"}
	ctx := context.Background()
	for _, c := range []struct {
		name, arn string
		src       Source
		want      error
	}{
		{"an existing target the source may use", "arn:aws:sqs:us-east-1:111111111111:q", src, nil},
		{"a missing resource", "arn:aws:sqs:us-east-1:111111111111:gone", src, ErrNoTarget},
		{"a service Kiri does not run", "arn:aws:firehose:us-east-1:111111111111:x", src, ErrNoTarget},
		{"not an ARN", "queue-name", src, ErrNoTarget},
		{"a policy that refuses the source", "arn:aws:sqs:us-east-1:111111111111:q", Source{Account: "222222222222"}, ErrTargetDenied},
	} {
		if err := r.Check(ctx, c.arn, c.src); !errors.Is(err, c.want) {
			t.Errorf("%s: Check = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestRegistryDeliversWithRetriesAndDeadLetters(t *testing.T) {
	t.Parallel()
	r, eng, st := newRegistry(t)
	calls := map[string]int{}
	sqs := &fakeKind{fail: func(d Delivery) error {
		calls[string(d.Payload)]++
		switch string(d.Payload) {
		case "flaky":
			if d.Attempt < 3 {
				return errors.New("busy")
			}
		case "doomed":
			if d.Target != "arn:aws:sqs:us-east-1:111111111111:dlq" {
				return errors.New("always busy")
			}
		case "gone":
			return ErrNoTarget
		}
		return nil
	}}
	r.Register("sqs", sqs)
	run(t, eng)
	target := "arn:aws:sqs:us-east-1:111111111111:q"
	dlq := "arn:aws:sqs:us-east-1:111111111111:dlq"
	fast := Policy{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	doomed := fast
	doomed.MaxAttempts, doomed.DeadLetter = 3, dlq
	err := st.Write(context.Background(), func(tx *store.Tx) error {
		src := Source{Principal: "sns.amazonaws.com", Account: "111111111111"}
		for _, d := range []struct {
			payload string
			p       Policy
		}{{"ok", fast}, {"flaky", fast}, {"doomed", doomed}, {"gone", fast}} {
			if err := r.Enqueue(tx, Delivery{Target: target, Source: src, Payload: []byte(d.payload)}, d.p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "ok, flaky and the dead letter of doomed", func() bool { return len(sqs.got()) == 3 })
	byTarget := map[string]string{}
	for _, d := range sqs.got() {
		byTarget[string(d.Payload)] = d.Target
	}
	if byTarget["ok"] != target || byTarget["flaky"] != target || byTarget["doomed"] != dlq {
		t.Errorf("deliveries %v", byTarget)
	}
	eventually(t, "the missing target's delivery in the dead letters", func() bool {
		s, _ := eng.Stats(context.Background(), queue.DeadLetterQueue(deliverQueue))
		return s.Visible == 1
	})
	sqs.mu.Lock()
	defer sqs.mu.Unlock()
	if calls["doomed"] != 4 || calls["gone"] != 1 || calls["flaky"] != 3 {
		t.Errorf("attempts %v (want doomed 3 + its dead letter, gone 1, flaky 3)", calls)
	}
}

func TestPostponedDeliveriesKeepTheirAttemptsUntilMaxAge(t *testing.T) {
	t.Parallel()
	r, eng, st := newRegistry(t)
	held := map[string]int{}
	sqs := &fakeKind{fail: func(d Delivery) error {
		if d.Target == "arn:aws:sqs:us-east-1:111111111111:dlq" {
			return nil
		}
		payload := string(d.Payload)
		if payload == "old" || held[payload] < 4 {
			held[payload]++
			if d.Attempt != 1 {
				return errors.New("a postponed delivery counted as an attempt")
			}
			return queue.Postpone(errors.New("over the rate"), time.Now())
		}
		return nil
	}}
	r.Register("sqs", sqs)
	run(t, eng)
	target, dlq := "arn:aws:sqs:us-east-1:111111111111:q", "arn:aws:sqs:us-east-1:111111111111:dlq"
	err := st.Write(context.Background(), func(tx *store.Tx) error {
		src := Source{Principal: "events.amazonaws.com", Account: "111111111111"}
		if err := r.Enqueue(tx, Delivery{Target: target, Source: src, Payload: []byte("held")}, Policy{MaxAttempts: 1}); err != nil {
			return err
		}
		return r.Enqueue(tx, Delivery{Target: target, Source: src, Payload: []byte("old")}, Policy{MaxAttempts: 1, MaxAge: 50 * time.Millisecond, DeadLetter: dlq})
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the held delivery and the dead letter of the one held past its age", func() bool { return len(sqs.got()) == 2 })
	for _, d := range sqs.got() {
		switch string(d.Payload) {
		case "held":
			if d.Target != target {
				t.Errorf("the held delivery went to %s", d.Target)
			}
		case "old":
			if d.Target != dlq || d.Failure == nil || d.Failure.Exhausted != "MaxAge" {
				t.Errorf("the delivery held past its age: %+v", d)
			}
		}
	}
}

func TestARNService(t *testing.T) {
	t.Parallel()
	for arn, want := range map[string]string{
		"arn:aws:lambda:us-east-1:1:function:f": "lambda",
		"arn:aws:sqs:us-east-1:1:q":             "sqs",
		"arn:aws:s3:::bucket":                   "s3",
		"arn:aws:sns":                           "",
		"sqs:q":                                 "",
		"":                                      "",
	} {
		if got := ARNService(arn); got != want {
			t.Errorf("ARNService(%q) = %q, want %q", arn, got, want)
		}
	}
}
