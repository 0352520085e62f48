package scheduler

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
)

func TestRateScheduleFiresAtOnceThenEveryPeriod(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, "every5", "rate(5 minutes)", nil)
	got := h.waitFor(t, queueARN, 1)
	if string(got[0].Payload) != `{"job":"every5"}` {
		t.Fatalf("payload %q", got[0].Payload)
	}
	src := got[0].Source
	if src.Principal != "scheduler.amazonaws.com" || src.Role != roleARN || src.ARN != "arn:aws:scheduler:us-east-1:000000000000:schedule/default/every5" {
		t.Fatalf("source %+v", src)
	}
	h.advance(4 * time.Minute)
	h.settle()
	if n := len(h.targets.to(queueARN)); n != 1 {
		t.Fatalf("%d deliveries before the period ended", n)
	}
	h.advance(time.Minute)
	h.waitFor(t, queueARN, 2)
	h.advance(5 * time.Minute)
	h.waitFor(t, queueARN, 3)
	h.settle()
	if n := len(h.targets.to(queueARN)); n != 3 {
		t.Fatalf("%d deliveries after 10 minutes, want 3", n)
	}
}

func TestCronScheduleFiresInItsTimeZoneWithContextAttributes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	input := `{"arn":"<aws.scheduler.schedule-arn>","at":"<aws.scheduler.scheduled-time>","id":"<aws.scheduler.execution-id>","attempt":<aws.scheduler.attempt-number>}`
	h.create(t, "nine-in-new-york", "cron(0 9 * * ? *)", func(in *scheduler.CreateScheduleInput) {
		in.ScheduleExpressionTimezone = aws.String("America/New_York")
		in.Target.Input = aws.String(input)
	})
	// 20:00 UTC is 15:00 in New York: the next 9:00 there is 14:00 UTC tomorrow.
	h.advance(17*time.Hour + 59*time.Minute)
	h.settle()
	if n := len(h.targets.to(queueARN)); n != 0 {
		t.Fatalf("%d deliveries before 9:00 in New York", n)
	}
	h.advance(time.Minute)
	got := h.waitFor(t, queueARN, 1)
	var body struct {
		ARN, At, ID string
		Attempt     int
	}
	if err := json.Unmarshal(got[0].Payload, &body); err != nil {
		t.Fatalf("payload %s: %v", got[0].Payload, err)
	}
	if body.ARN != "arn:aws:scheduler:us-east-1:000000000000:schedule/default/nine-in-new-york" || body.At != "2026-12-06T14:00:00Z" ||
		body.ID == "" || strings.Contains(body.ID, "<") || body.Attempt != 1 {
		t.Fatalf("context attributes: %s", got[0].Payload)
	}
}

func TestOneTimeScheduleFiresOnceAndIsDeletedAfterCompletion(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, "once-delete", "at(2026-12-05T20:10:00)", func(in *scheduler.CreateScheduleInput) {
		in.ActionAfterCompletion = types.ActionAfterCompletionDelete
	})
	h.create(t, "once-keep", "at(2026-12-05T20:10:00)", func(in *scheduler.CreateScheduleInput) {
		in.Target.Arn = aws.String(funcARN)
	})
	h.advance(10 * time.Minute)
	h.waitFor(t, queueARN, 1)
	h.waitFor(t, funcARN, 1)
	h.advance(24 * time.Hour)
	h.settle()
	if n, m := len(h.targets.to(queueARN)), len(h.targets.to(funcARN)); n != 1 || m != 1 {
		t.Fatalf("one-time schedules fired %d and %d times", n, m)
	}
	_, err := h.client.GetSchedule(t.Context(), &scheduler.GetScheduleInput{Name: aws.String("once-delete")})
	expectAPIError(t, err, "ResourceNotFoundException", "Schedule once-delete does not exist.")
	kept, err := h.client.GetSchedule(t.Context(), &scheduler.GetScheduleInput{Name: aws.String("once-keep")})
	if err != nil || kept.ActionAfterCompletion != types.ActionAfterCompletionNone {
		t.Fatalf("a completed schedule with ActionAfterCompletion NONE: %+v %v", kept, err)
	}
}

func TestOneTimeScheduleInThePastFiresAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, "late", "at(2026-12-05T19:00:00)", nil)
	h.waitFor(t, queueARN, 1)
}

func TestFlexibleWindowFiresWithinTheWindow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, "flexible", "at(2026-12-05T20:10:00)", func(in *scheduler.CreateScheduleInput) {
		in.FlexibleTimeWindow = &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeFlexible, MaximumWindowInMinutes: aws.Int32(15)}
		in.Target.Input = aws.String("<aws.scheduler.scheduled-time>")
	})
	h.advance(10 * time.Minute)
	for range 15 {
		h.settle()
		if len(h.targets.to(queueARN)) > 0 {
			break
		}
		h.advance(time.Minute)
	}
	got := h.waitFor(t, queueARN, 1)
	if string(got[0].Payload) != "2026-12-05T20:10:00Z" {
		t.Fatalf("scheduled time %q, want the fire's, not the window's", got[0].Payload)
	}
}

func TestEndDateEndsARecurringScheduleAndDeleteAppliesAfterIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, "bounded", "rate(10 minutes)", func(in *scheduler.CreateScheduleInput) {
		in.EndDate = aws.Time(start.Add(25 * time.Minute))
		in.ActionAfterCompletion = types.ActionAfterCompletionDelete
	})
	for i := 1; i <= 3; i++ {
		h.waitFor(t, queueARN, i)
		h.advance(10 * time.Minute)
	}
	h.settle()
	if n := len(h.targets.to(queueARN)); n != 3 {
		t.Fatalf("%d fires before the end date, want 3 (20:00, 20:10, 20:20)", n)
	}
	_, err := h.client.GetSchedule(t.Context(), &scheduler.GetScheduleInput{Name: aws.String("bounded")})
	expectAPIError(t, err, "ResourceNotFoundException", "")
}

func TestFifoTargetGetsTheMessageGroupAndADeduplicationID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, "fifo", "at(2026-12-05T20:01:00)", func(in *scheduler.CreateScheduleInput) {
		in.Target.Arn = aws.String(fifoARN)
		in.Target.SqsParameters = &types.SqsParameters{MessageGroupId: aws.String("g1")}
	})
	h.advance(time.Minute)
	got := h.waitFor(t, fifoARN, 1)
	if got[0].Group != "g1" || got[0].DedupID == "" {
		t.Fatalf("group %q dedup %q", got[0].Group, got[0].DedupID)
	}
}

func TestFailedInvocationIsRetriedThenDeadLettered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.targets.fail(funcARN, awsproto.Errorf("TooManyRequestsException", 429, "Rate exceeded"))
	h.create(t, "failing", "at(2026-12-05T20:00:00)", func(in *scheduler.CreateScheduleInput) {
		in.Target.Arn = aws.String(funcARN)
		in.Target.Input = aws.String(`{"attempt":<aws.scheduler.attempt-number>}`)
		in.Target.RetryPolicy = &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(2)}
		in.Target.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(dlqARN)}
	})
	for len(h.targets.to(dlqARN)) == 0 {
		h.advance(time.Minute)
		h.settle()
		if h.clock.Now().Sub(start) > time.Hour {
			t.Fatal("no dead letter after an hour")
		}
	}
	attempts := h.targets.to(funcARN)
	if len(attempts) != 3 {
		t.Fatalf("%d attempts, want 1 + MaximumRetryAttempts 2", len(attempts))
	}
	for i, a := range attempts {
		if want := `{"attempt":` + string(rune('1'+i)) + `}`; string(a.Payload) != want {
			t.Errorf("attempt %d payload %s, want %s", i+1, a.Payload, want)
		}
	}
	dead := h.targets.to(dlqARN)[0]
	attr := func(k string) string { return dead.Attributes[k].Value }
	if string(dead.Payload) != `{"attempt":3}` || attr("ERROR_CODE") != "TooManyRequestsException" || attr("ERROR_MESSAGE") != "Rate exceeded" ||
		attr("RETRY_ATTEMPTS") != "2" || attr("TARGET_ARN") != funcARN || attr("EXECUTION_ID") == "" ||
		attr("SCHEDULE_ARN") != "arn:aws:scheduler:us-east-1:000000000000:schedule/default/failing" || dead.Source.Role != roleARN {
		t.Fatalf("dead letter %s %+v", dead.Payload, dead.Attributes)
	}
}

func TestMissingTargetIsDeadLetteredWithoutRetries(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.targets.fail(funcARN, errors.Join(errors.New("function work does not exist"), dispatch.ErrNoTarget))
	h.create(t, "gone", "at(2026-12-05T20:00:00)", func(in *scheduler.CreateScheduleInput) {
		in.Target.Arn = aws.String(funcARN)
		in.Target.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(dlqARN)}
	})
	dead := h.waitFor(t, dlqARN, 1)[0]
	if n := len(h.targets.to(funcARN)); n != 1 || dead.Attributes["ERROR_CODE"].Value != "ResourceNotFoundException" {
		t.Fatalf("%d attempts, dead letter %+v", n, dead.Attributes)
	}
}

func TestMissedFiresAfterDowntime(t *testing.T) {
	t.Parallel()
	st := newHarness(t)
	st.create(t, "rate", "rate(10 minutes)", nil)
	st.create(t, "once", "at(2026-12-05T20:30:00)", func(in *scheduler.CreateScheduleInput) {
		in.Target.Arn = aws.String(funcARN)
	})
	st.create(t, "stale", "at(2026-12-05T20:30:00)", func(in *scheduler.CreateScheduleInput) {
		in.Target.Arn = aws.String(fifoARN)
		in.Target.SqsParameters = &types.SqsParameters{MessageGroupId: aws.String("g")}
		in.Target.RetryPolicy = &types.RetryPolicy{MaximumEventAgeInSeconds: aws.Int32(600)}
		in.Target.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(dlqARN)}
	})
	st.waitFor(t, queueARN, 1)
	st.stop()

	// Kiri is down for an hour: six fires of the rate schedule and the one-time fires are missed.
	st.clock.t = st.clock.t.Add(time.Hour)
	h := newHarnessOn(t, st.st, st.clock)
	// The missed fire of the rate schedule is delivered once, then it goes on from now.
	got := h.waitFor(t, queueARN, 1)
	// The one-time fire is delivered late; the one older than its maximum event age is
	// dead-lettered instead.
	h.waitFor(t, funcARN, 1)
	dead := h.waitFor(t, dlqARN, 1)
	h.settle()
	if n := len(h.targets.to(queueARN)); n != 1 {
		t.Fatalf("%d deliveries of missed fires, want 1", n)
	}
	if n := len(h.targets.to(fifoARN)); n != 0 {
		t.Fatalf("a fire older than its maximum event age was delivered")
	}
	if !strings.Contains(dead[0].Attributes["ERROR_MESSAGE"].Value, "MaximumEventAgeInSeconds") {
		t.Fatalf("dead letter %+v", dead[0].Attributes)
	}
	if src := got[0].Source.ARN; !strings.HasSuffix(src, "/rate") {
		t.Fatalf("delivery from %s", src)
	}
	h.advance(10 * time.Minute)
	h.waitFor(t, queueARN, 2)
}

func TestUpdateAndDisableRetireTheOldTimer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.create(t, "changing", "rate(5 minutes)", nil)
	h.create(t, "paused", "rate(5 minutes)", func(in *scheduler.CreateScheduleInput) {
		in.Target.Arn = aws.String(funcARN)
		in.State = types.ScheduleStateDisabled
	})
	h.waitFor(t, queueARN, 1)
	_, err := h.client.UpdateSchedule(t.Context(), &scheduler.UpdateScheduleInput{
		Name: aws.String("changing"), ScheduleExpression: aws.String("cron(0 0 1 1 ? *)"),
		FlexibleTimeWindow: &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		Target:             &types.Target{Arn: aws.String(queueARN), RoleArn: aws.String(roleARN)},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.advance(30 * time.Minute)
	h.settle()
	if n, m := len(h.targets.to(queueARN)), len(h.targets.to(funcARN)); n != 1 || m != 0 {
		t.Fatalf("after an update and with a disabled schedule: %d and %d deliveries, want 1 and 0", n, m)
	}
	got, err := h.client.GetSchedule(t.Context(), &scheduler.GetScheduleInput{Name: aws.String("changing")})
	if err != nil || aws.ToString(got.ScheduleExpression) != "cron(0 0 1 1 ? *)" || aws.ToString(got.Target.Input) != "" {
		t.Fatalf("updated schedule %+v %v", got, err)
	}
}
