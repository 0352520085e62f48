package sfn

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/store"
)

// TestTimerDeliveredTwiceStepsOnce delivers a Wait state's timer message twice, as the queue
// engine may after a crash between the step's commit and the message's deletion: the second
// delivery finds the timer no longer pending and changes nothing.
func TestTimerDeliveredTwiceStepsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, d, arn := beginExecution(t, `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"P"},"P":{"Type":"Pass","End":true}}}`)
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

// TestOutcomeBeforeSubmissionWaitsForIt settles a .waitForTaskToken task before its request
// is recorded as submitted, as a quick callback can: history still records TaskSubmitted
// before TaskSucceeded, as AWS's does, and the execution goes on once both are in.
func TestOutcomeBeforeSubmissionWaitsForIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, d, arn := beginExecution(t, `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		"Parameters":{"QueueUrl":"http://q","MessageBody.$":"$$.Task.Token"},"End":true}}}`)
	l, err := s.loadLive(s.reader(ctx), arn)
	if err != nil || len(l.pending) != 1 {
		t.Fatalf("pending %v, %v", l, err)
	}
	var id string
	for id = range l.pending {
	}
	if !l.pending[id].Submits {
		t.Fatal("a .waitForTaskToken task is not marked as submitting")
	}
	// The callback first (twice: the second changes nothing), then the submission.
	for range 2 {
		if err := d.Store.Write(ctx, func(tx *store.Tx) error {
			return s.settleTx(tx, arn, id, func(r *asl.Run) { r.Complete(id, []byte(`{"ok":1}`)) })
		}); err != nil {
			t.Fatal(err)
		}
	}
	if l, err = s.loadLive(s.reader(ctx), arn); err != nil || l.ex.Status != statusRunning {
		t.Fatalf("after the early outcome: %+v, %v", l.ex, err)
	}
	if err := d.Store.Write(ctx, func(tx *store.Tx) error {
		l, err := s.loadLive(tx.QueryRow, arn)
		if err != nil {
			return err
		}
		return s.submittedLive(tx, l, id, []byte(`{"MessageId":"m"}`))
	}); err != nil {
		t.Fatal(err)
	}
	l, err = s.loadLive(s.reader(ctx), arn)
	if err != nil || l.ex.Status != statusSucceeded || l.ex.Output == nil || *l.ex.Output != `{"ok":1}` {
		t.Fatalf("execution %+v, %v", l.ex, err)
	}
	rows, err := d.Store.Query(ctx, `SELECT body FROM sfn_events WHERE execution = ? ORDER BY id`, arn)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var types []string
	for rows.Next() {
		var body string
		var e asl.Event
		if err := rows.Scan(&body); err != nil || json.Unmarshal([]byte(body), &e) != nil {
			t.Fatalf("event %s: %v", body, err)
		}
		types = append(types, e.Type)
	}
	want := "ExecutionStarted TaskStateEntered TaskScheduled TaskStarted TaskSubmitted TaskSucceeded TaskStateExited ExecutionSucceeded"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("history %s\nwant %s", got, want)
	}
}

// beginExecution starts a Standard execution of definition on a service of its own, as the
// driver does once StartExecution has checked it.
func beginExecution(t *testing.T, definition string) (*Service, service.Deps, string) {
	t.Helper()
	ctx := context.Background()
	d := servicetest.Deps(t)
	s, err := New(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:states:us-east-1:000000000000:execution:m:e"
	ex := &execution{ARN: arn, Name: "e", MachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:m", MachineName: "m",
		Type: typeStandard, Status: statusRunning, Input: `{}`, Started: time.Now().UTC(), Definition: definition}
	if err := d.Store.Write(ctx, func(tx *store.Tx) error { return s.begin(tx, ex) }); err != nil {
		t.Fatal(err)
	}
	return s, d, arn
}
