package sqs

import (
	"context"
	"errors"
	"fmt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// kind receives the target registry's deliveries to queue ARNs: S3 event notifications, SNS
// messages, Lambda destinations and dead-letter queues.
//
// In enforce mode the queue's policy must let the delivering service principal sqs:SendMessage
// for its source (aws:SourceArn, aws:SourceAccount), as SQS requires of S3 notifications and
// SNS subscriptions, and a delivery made with a role (a function's destinations) needs the
// role's permission. Otherwise a delivery from the queue's own account is accepted without
// reading the queue's policy, and one from another account is refused.
type kind struct{ s *Service }

// Check reports whether the queue exists and src may send to it.
func (k kind) Check(ctx context.Context, arn string, src dispatch.Source) error {
	q, err := k.queue(ctx, arn)
	if err != nil {
		return err
	}
	if k.s.enforcing() {
		return dispatch.Authorize(ctx, k.s.authz, src, authz.Request{
			Action: "sqs:SendMessage", Resource: q.ARN, ResourceAccount: q.Key.Account, ResourcePolicy: k.s.queuePolicy(q)})
	}
	if src.Account != "" && src.Account != q.Key.Account {
		return dispatch.ErrTargetDenied
	}
	return nil
}

// queue loads the queue arn names, or ErrNoTarget.
func (k kind) queue(ctx context.Context, arn string) (*queueRow, error) {
	key, ok := parseQueueARN(arn)
	if !ok {
		return nil, fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
	}
	q, err := k.s.loadQueue(ctx, key)
	if err != nil {
		return nil, err
	}
	if q == nil {
		return nil, fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
	}
	return q, nil
}

// Deliver sends the delivery's payload as a message, its attributes as message attributes;
// a FIFO queue takes its group and deduplication id.
func (k kind) Deliver(ctx context.Context, d dispatch.Delivery) error {
	q, err := k.queue(ctx, d.Target)
	if err != nil {
		return err
	}
	if err := k.Check(ctx, d.Target, d.Source); err != nil {
		return err
	}
	body := string(d.Payload)
	in := sendInput{Body: &body, Attrs: messageAttributes(d.Attributes)}
	if d.Group != "" {
		in.GroupID = &d.Group
	}
	if d.DedupID != "" {
		in.DedupID = &d.DedupID
	}
	group, dedup, err := checkFifoParams(q, in, false)
	if err == nil {
		var o outgoing
		if o, err = prepare(q, in, group, dedup, d.Source.Account, k.s.now(), "One or more parameters are invalid."); err == nil {
			o.msg.TraceParent = d.TraceParent
			err = k.s.st.Write(ctx, func(tx *store.Tx) error {
				_, err := k.s.eng.Send(tx, q.Engine, o.msg)
				return err
			})
		}
	}
	var apiErr *awsproto.Error
	if errors.As(err, &apiErr) {
		// The message itself is what SQS refuses: sending it again cannot help.
		return queue.Permanent(err)
	}
	return err
}

// messageAttributes are a delivery's attributes as SQS message attributes.
func messageAttributes(in map[string]dispatch.Attribute) map[string]MessageAttributeValue {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]MessageAttributeValue, len(in))
	for name, a := range in {
		v := MessageAttributeValue{DataType: awsproto.Ptr(a.Type)}
		if a.Binary != nil {
			v.BinaryValue = a.Binary
		} else {
			v.StringValue = awsproto.Ptr(a.Value)
		}
		out[name] = v
	}
	return out
}
