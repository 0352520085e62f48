package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/busevent"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/queue"
)

// kind receives the target registry's deliveries to schedule ARNs: the invocations of fires. It
// delivers each to the schedule's target with the attempt number filled in, applies the
// schedule's retry policy (MaximumRetryAttempts, MaximumEventAgeInSeconds, counted from when
// the fire was due), and sends an invocation that failed for good to the dead-letter queue.
type kind struct{ s *Service }

// Check refuses schedules as targets: nothing but Scheduler delivers to them.
func (k kind) Check(_ context.Context, arn string, _ dispatch.Source) error {
	return fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
}

// Deliver delivers one attempt of an invocation.
func (k kind) Deliver(ctx context.Context, d dispatch.Delivery) error {
	var inv invocation
	if err := json.Unmarshal(d.Payload, &inv); err != nil {
		return queue.Permanent(fmt.Errorf("decode invocation: %w", err))
	}
	switch age := k.s.now().Sub(inv.Due); {
	case d.Attempt > inv.MaxAttempts:
		// The target failed for good; an earlier attempt could not dead-letter it.
		return k.deadLetter(ctx, d, &inv, inv.MaxAttempts, errors.New("retry attempts exhausted"))
	case age >= time.Duration(inv.MaxAge)*time.Second:
		err := fmt.Errorf("the invocation is older than MaximumEventAgeInSeconds (%d)", inv.MaxAge)
		return k.deadLetter(ctx, d, &inv, d.Attempt-1, err)
	}
	td, err := k.targetDelivery(d, &inv)
	if err == nil {
		err = k.s.targets.Deliver(ctx, td)
	}
	if err == nil {
		return nil
	}
	final := errors.Is(err, dispatch.ErrNoTarget) || errors.Is(err, dispatch.ErrTargetDenied) || queue.IsPermanent(err) ||
		d.Attempt >= inv.MaxAttempts
	if !final {
		return err
	}
	return k.deadLetter(ctx, d, &inv, d.Attempt, err)
}

// targetDelivery is the delivery of inv to its target: the input with the attempt number, an
// EventBridge target's event, a FIFO queue's group with the execution as deduplication id, or
// the call a universal target's input makes. An input that makes no call fails for good.
func (k kind) targetDelivery(d dispatch.Delivery, inv *invocation) (dispatch.Delivery, error) {
	input := inv.render(d.Attempt)
	out := dispatch.Delivery{Target: inv.Target, Payload: []byte(input)}
	if strings.HasPrefix(inv.Target, universalPrefix) {
		call, err := universalCall(inv.Target, input, d.Source.Region)
		if err != nil {
			return out, queue.Permanent(awsproto.Errorf("ValidationException", 400, "%s", err.Error()))
		}
		out = call
		if out.Group != "" && out.DedupID == "" {
			out.DedupID = inv.Execution
		}
	}
	if dispatch.ARNService(inv.Target) == "events" {
		out.Payload = inv.event(out.Payload)
	}
	if inv.MessageGroup != "" {
		out.Group, out.DedupID = inv.MessageGroup, inv.Execution
	}
	out.Source, out.TraceParent, out.Attempt = d.Source, d.TraceParent, d.Attempt
	return out, nil
}

// render is the invocation's input for an attempt.
func (inv *invocation) render(attempt int) string {
	return strings.ReplaceAll(inv.Input, "<aws.scheduler.attempt-number>", strconv.Itoa(attempt))
}

// event is the EventBridge event a schedule puts on a bus: its input is the detail.
func (inv *invocation) event(detail []byte) []byte {
	account, region := "", ""
	if parts := strings.SplitN(inv.Schedule, ":", 6); len(parts) == 6 {
		region, account = parts[3], parts[4]
	}
	return busevent.Encode(inv.Execution, inv.DetailType, inv.Source, account, region, inv.At, []string{inv.Schedule}, detail)
}

// deadLetter sends a failed invocation's input to its dead-letter queue with the attributes
// Scheduler adds; without one, the failure is logged and the delivery given up.
func (k kind) deadLetter(ctx context.Context, d dispatch.Delivery, inv *invocation, attempts int, cause error) error {
	log := k.s.log.With("schedule", inv.Schedule, "target", inv.Target, "execution", inv.Execution, "err", cause)
	if inv.DeadLetter == "" {
		log.Warn("schedule invocation failed for good")
		return queue.Permanent(cause)
	}
	code, msg := errorCode(cause)
	str := func(v string) dispatch.Attribute { return dispatch.Attribute{Type: "String", Value: v} }
	dead := dispatch.Delivery{
		Target: inv.DeadLetter, Source: d.Source, Payload: []byte(inv.render(max(attempts, 1))), TraceParent: d.TraceParent,
		Attributes: map[string]dispatch.Attribute{
			"ERROR_CODE": str(code), "ERROR_MESSAGE": str(msg), "EXECUTION_ID": str(inv.Execution),
			"RETRY_ATTEMPTS": str(strconv.Itoa(max(attempts-1, 0))), "SCHEDULE_ARN": str(inv.Schedule),
			"GROUP": str(inv.Group), "TARGET_ARN": str(inv.Target),
		},
	}
	if err := k.s.targets.Deliver(ctx, dead); err != nil {
		log.Warn("schedule invocation failed for good, and so did sending it to its dead-letter queue",
			"dead_letter", inv.DeadLetter, "dead_letter_err", err)
		if errors.Is(err, dispatch.ErrNoTarget) || errors.Is(err, dispatch.ErrTargetDenied) {
			return queue.Permanent(err)
		}
		return err
	}
	log.Info("schedule invocation failed for good; sent it to its dead-letter queue", "dead_letter", inv.DeadLetter)
	return nil
}

// errorCode names a delivery failure as the target's service would.
func errorCode(err error) (code, msg string) {
	var ae *awsproto.Error
	switch {
	case errors.As(err, &ae):
		return ae.Code, ae.Message
	case errors.Is(err, dispatch.ErrNoTarget):
		return "ResourceNotFoundException", err.Error()
	case errors.Is(err, dispatch.ErrTargetDenied):
		return "AccessDeniedException", err.Error()
	}
	return "InternalServerException", err.Error()
}
