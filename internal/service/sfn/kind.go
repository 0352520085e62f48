package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/queue"
)

// kind receives the target registry's deliveries to state machine ARNs (EventBridge rules,
// pipes, schedules): each starts an execution with the delivery's payload as its input.
type kind struct{ s *Service }

// Check reports whether src may start executions of the state machine (or version, or alias)
// arn names: it must exist, and with IAM enforced the source's role must be allowed
// states:StartExecution on it; otherwise it must be of the source's account.
func (k kind) Check(ctx context.Context, arn string, src dispatch.Source) error {
	ref, err := parseMachineARN(arn, true)
	if err != nil {
		return fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
	}
	if _, err := resolveTarget(k.s.reader(ctx), arn); err != nil {
		var ae *awsproto.Error
		if errors.As(err, &ae) {
			return fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
		}
		return err
	}
	if k.s.enforcing() && src.Role != "" {
		err := k.s.authz.AuthorizeRole(ctx, src.Role, "", authz.Request{Action: "states:StartExecution", Resource: arn})
		if err != nil {
			return fmt.Errorf("%w: %w", dispatch.ErrTargetDenied, err)
		}
		return nil
	}
	if src.Account != "" && src.Account != ref.sc.account {
		return fmt.Errorf("%s is not in account %s: %w", arn, src.Account, dispatch.ErrTargetDenied)
	}
	return nil
}

// Deliver starts an execution with the payload as its input.
func (k kind) Deliver(ctx context.Context, d dispatch.Delivery) error {
	if err := k.Check(ctx, d.Target, d.Source); err != nil {
		if errors.Is(err, dispatch.ErrNoTarget) || errors.Is(err, dispatch.ErrTargetDenied) {
			return queue.Permanent(err)
		}
		return err
	}
	input := string(d.Payload)
	if !json.Valid(d.Payload) {
		b, _ := json.Marshal(input)
		input = string(b)
	}
	_, err := k.s.start(ctx, d.Target, "", &input, "", nil)
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return queue.Permanent(err)
	}
	return err
}
