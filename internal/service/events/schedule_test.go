package events

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

const queueARN = "arn:aws:sqs:us-east-1:000000000000:ticks"

// TestScheduledRuleFiresOnTimeAcrossRestarts makes a rate(5 minutes) rule and moves the clock:
// each fire sends the Scheduled Event to the rule's target, nothing fires early, a disabled rule
// stays quiet, and the timer survives a restart of the service over the same store.
func TestScheduledRuleFiresOnTimeAcrossRestarts(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	c := &clock{t: start}
	h := newHarnessOn(t, st, c)
	ctx := h.ctx()
	if _, err := h.s.putRule(ctx, &PutRuleRequest{Name: awsproto.Ptr("tick"), ScheduleExpression: awsproto.Ptr("rate(5 minutes)")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.putTargets(ctx, &PutTargetsRequest{Rule: awsproto.Ptr("tick"), Targets: []Target{{Id: awsproto.Ptr("q"), Arn: awsproto.Ptr(queueARN)}}}); err != nil {
		t.Fatal(err)
	}
	h.advance(4 * time.Minute)
	if got := h.rec.deliveries(); len(got) != 0 {
		t.Fatalf("fired early: %v", got)
	}
	h.advance(time.Minute)
	got := h.rec.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d deliveries at 5 minutes, want 1", len(got))
	}
	var ev struct {
		Source, Time, Account, Region string
		DetailType                    string `json:"detail-type"`
		Resources                     []string
		Detail                        map[string]any
	}
	if err := json.Unmarshal(got[0].Payload, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Source != "aws.events" || ev.DetailType != "Scheduled Event" || ev.Time != "2026-12-05T20:05:00Z" ||
		len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:events:us-east-1:000000000000:rule/tick" || ev.Detail == nil || len(ev.Detail) != 0 {
		t.Fatalf("scheduled event %s", got[0].Payload)
	}

	// A restarted Kiri keeps the timer.
	h.stop()
	h = newHarnessOn(t, st, c)
	h.advance(5 * time.Minute)
	if n := len(h.rec.deliveries()); n != 1 {
		t.Fatalf("%d deliveries after the restart at 10 minutes, want 1", n)
	}

	if _, err := h.s.disableRule(ctx, &DisableRuleRequest{Name: awsproto.Ptr("tick")}); err != nil {
		t.Fatal(err)
	}
	h.advance(10 * time.Minute)
	if n := len(h.rec.deliveries()); n != 1 {
		t.Fatalf("a disabled rule fired: %d deliveries", n)
	}
	if _, err := h.s.enableRule(ctx, &EnableRuleRequest{Name: awsproto.Ptr("tick")}); err != nil {
		t.Fatal(err)
	}
	h.advance(5 * time.Minute)
	if n := len(h.rec.deliveries()); n != 2 {
		t.Fatalf("%d deliveries after enabling again, want 2", n)
	}
}

// TestScheduleExpressionsAreValidated refuses what EventBridge refuses.
func TestScheduleExpressionsAreValidated(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, storetest.Open(t, storetest.SQLiteConfig(t)), &clock{t: start})
	for _, expr := range []string{"rate(1 minutes)", "rate(0 minutes)", "cron(0 12 * * * *)", "every day"} {
		_, err := h.s.putRule(h.ctx(), &PutRuleRequest{Name: awsproto.Ptr("bad"), ScheduleExpression: awsproto.Ptr(expr)})
		if e, ok := err.(*awsproto.Error); !ok || e.Code != "ValidationException" || e.Message != "Parameter ScheduleExpression is not valid." {
			t.Errorf("%s: %v", expr, err)
		}
	}
	if _, err := h.s.putRule(h.ctx(), &PutRuleRequest{Name: awsproto.Ptr("ok"), ScheduleExpression: awsproto.Ptr("cron(0/15 * * * ? *)")}); err != nil {
		t.Error(err)
	}
}
