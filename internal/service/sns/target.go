package sns

import (
	"context"
	"errors"
	"fmt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/queue"
)

// kind receives the target registry's deliveries to topic ARNs: S3 event notifications, Lambda
// destinations and dead-letter targets. Each is published to the topic.
//
// In enforce mode the topic's access policy must let the delivering service principal
// sns:Publish for its source (aws:SourceArn, aws:SourceAccount), as SNS requires of S3
// notifications, and a delivery made with a role (a function's destinations) needs the role's
// permission. Otherwise a delivery from the topic's own account is accepted without reading
// the topic's policy, and one from another account is refused.
//
// It also receives SNS's own deliveries that failed for good, addressed to the subscription
// they were for (see managedPolicy), and sends them to the subscription's dead-letter queue.
type kind struct{ s *Service }

// Check reports whether the topic exists and src may publish to it. A FIFO topic takes no
// deliveries from other services: they carry no message group.
func (k kind) Check(ctx context.Context, arn string, src dispatch.Source) error {
	if _, ok := parseSubscriptionARN(arn); ok && src.Principal == snsPrincipal {
		return nil
	}
	t, err := k.topic(ctx, arn)
	if err != nil {
		return err
	}
	if k.s.enforcing() {
		err = dispatch.Authorize(ctx, k.s.authz, src, authz.Request{
			Action: "sns:Publish", Resource: t.ARN, ResourceAccount: t.Key.Account, ResourcePolicy: k.s.topicPolicy(t)})
		if err != nil {
			return err
		}
	} else if src.Account != "" && src.Account != t.Key.Account {
		return dispatch.ErrTargetDenied
	}
	if t.Fifo {
		return fmt.Errorf("%s is a FIFO topic: %w", arn, dispatch.ErrTargetDenied)
	}
	return nil
}

// topic loads the topic arn names, or ErrNoTarget.
func (k kind) topic(ctx context.Context, arn string) (*topicRow, error) {
	key, ok := parseTopicARN(arn)
	if !ok {
		return nil, fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
	}
	t, err := k.s.loadTopic(ctx, key)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fmt.Errorf("%s: %w", arn, dispatch.ErrNoTarget)
	}
	return t, nil
}

// Deliver publishes the delivery's payload to its topic, with its subject and attributes; or,
// for a delivery of SNS's own addressed to a subscription, sends it to that subscription's
// dead-letter queue.
func (k kind) Deliver(ctx context.Context, d dispatch.Delivery) error {
	if _, ok := parseSubscriptionARN(d.Target); ok && d.Source.Principal == snsPrincipal {
		return k.s.deadLetter(ctx, d)
	}
	if err := k.Check(ctx, d.Target, d.Source); err != nil {
		return err
	}
	t, err := k.topic(ctx, d.Target)
	if err != nil {
		return err
	}
	msg := string(d.Payload)
	in := publishInput{Message: &msg, Delivered: d.Attributes}
	if d.Subject != "" {
		in.Subject = &d.Subject
	}
	m, err := prepare(t, in)
	if err == nil {
		err = k.s.publishAll(ctx, t, []*outgoing{m})
	}
	var apiErr *awsproto.Error
	if errors.As(err, &apiErr) {
		// SNS refuses the message itself: publishing it again cannot help.
		return queue.Permanent(err)
	}
	return err
}

// deadLetter sends a delivery of SNS's that failed for good to the dead-letter queue its
// subscription names now; without one the message is discarded, as SNS discards it. A
// function's event goes as the JSON envelope a queue would have received.
func (s *Service) deadLetter(ctx context.Context, d dispatch.Delivery) error {
	r, err := loadSub(storeReader{ctx, s.st}, d.Target)
	if err != nil {
		return err
	}
	log := s.log.With("subscription", d.Target)
	if r == nil || r.deadLetter == "" {
		log.Warn("message not delivered and discarded: the subscription has no dead-letter queue")
		return nil
	}
	if r.Protocol == "lambda" {
		sigVersion := "1"
		if k, ok := parseSubscriptionARN(r.ARN); ok {
			if t, err := s.loadTopic(ctx, k); err == nil && t != nil {
				sigVersion = t.effective(attrSignatureVersion)
			}
		}
		if d.Payload, err = envelopeOfEvent(d.Payload, sigVersion); err != nil {
			return queue.Permanent(err)
		}
	}
	log.Info("message not delivered; sending it to the subscription's dead-letter queue", "dead_letter", r.deadLetter)
	d.Target = r.deadLetter
	return s.targets.Deliver(ctx, d)
}
