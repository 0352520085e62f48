package logs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/uuid"
)

// kind receives the target registry's deliveries to log group ARNs (EventBridge rules' log
// group targets): each is one log event, in a stream named after the event's id as
// EventBridge writes them, stamped with the event's time. Only deliveries from the group's own
// account are taken: Kiri keeps no CloudWatch Logs resource policies to let others in.
type kind struct{ s *Service }

// Check reports whether the log group exists and src, of its account, may write to it.
func (k kind) Check(ctx context.Context, arn string, src dispatch.Source) error {
	account, region, name, ok := parseGroupARN(arn)
	if !ok {
		return fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
	}
	if _, err := k.s.lookupGroup(ctx, account, region, name); err != nil {
		var apiErr *awsproto.Error
		if errors.As(err, &apiErr) {
			return fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
		}
		return err
	}
	if src.Account != "" && src.Account != account {
		return fmt.Errorf("%s: %w", arn, dispatch.ErrTargetDenied)
	}
	return nil
}

// Deliver appends the payload as one log event.
func (k kind) Deliver(ctx context.Context, d dispatch.Delivery) error {
	if err := k.Check(ctx, d.Target, d.Source); err != nil {
		return err
	}
	account, region, name, _ := parseGroupARN(d.Target)
	var head struct {
		ID   string `json:"id"`
		Time string `json:"time"`
	}
	_ = json.Unmarshal(d.Payload, &head)
	stream := head.ID
	if stream == "" || checkStreamName("logStreamName", stream) != nil {
		stream = uuid.New()
	}
	at, err := time.Parse(time.RFC3339, head.Time)
	if err != nil {
		at = k.s.now()
	}
	return k.s.AppendLogs(ctx, account, region, name, stream, []Event{{Time: at, Message: string(d.Payload)}})
}
