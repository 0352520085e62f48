package sfn

import (
	"context"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/store"
)

// TestTimerDeliveredTwiceStepsOnce delivers a Wait state's timer message twice, as the queue
// engine may after a crash between the step's commit and the message's deletion: the second
// delivery finds the timer no longer pending and changes nothing.
func TestTimerDeliveredTwiceStepsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := servicetest.Deps(t)
	s, err := New(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:states:us-east-1:000000000000:execution:m:e"
	ex := &execution{ARN: arn, Name: "e", MachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:m", MachineName: "m",
		Type: typeStandard, Status: statusRunning, Input: `{}`, Started: time.Now().UTC(),
		Definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"P"},"P":{"Type":"Pass","End":true}}}`}
	if err := d.Store.Write(ctx, func(tx *store.Tx) error { return s.begin(tx, ex) }); err != nil {
		t.Fatal(err)
	}
	timers, err := d.Queue.Peek(ctx, timerQueue, 10)
	if err != nil || len(timers) != 1 {
		t.Fatalf("timers %v %v", timers, err)
	}
	for range 2 {
		if err := s.handleTimer(ctx, timers[0]); err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.loadLive(s.reader(ctx), arn)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := d.Store.QueryRow(ctx, `SELECT COUNT(*) FROM sfn_events WHERE execution = ?`, arn).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if l.ex.Status != statusSucceeded || n != 6 {
		t.Fatalf("status %s with %d events, want SUCCEEDED with 6", l.ex.Status, n)
	}
}
