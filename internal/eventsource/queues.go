package eventsource

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/service"
)

// Queues is what pollers need of SQS (implemented by the SQS service): to read a queue by its
// ARN. Messages are the JSON of ReceiveMessage's Message; ok is false when the queue does not
// exist.
type Queues interface {
	// PollQueue describes the queue: FIFO or not, and its visibility timeout.
	PollQueue(ctx context.Context, queueARN string) (fifo bool, visibility time.Duration, ok bool, err error)
	// PollMessages receives up to max messages leased for visibility, waiting up to wait for
	// the first (the engine wakes the wait when one arrives).
	PollMessages(ctx context.Context, queueARN string, max int, wait, visibility time.Duration) (msgs []json.RawMessage, ok bool, err error)
	// DeleteMessages deletes received messages by receipt handle.
	DeleteMessages(ctx context.Context, queueARN string, receiptHandles []string) (ok bool, err error)
	// ChangeMessagesVisibility makes received messages visible again after d.
	ChangeMessagesVisibility(ctx context.Context, queueARN string, receiptHandles []string, d time.Duration) (ok bool, err error)
	// QueuePolicy is the queue's compiled policy, nil when it has none (or there is no queue).
	QueuePolicy(ctx context.Context, queueARN string) (*policy.Policy, error)
}

// ErrNoSQS reports that queues cannot be read: SQS is not running.
var ErrNoSQS = errors.New("SQS is not running")

// LazyQueues reads queues through the SQS service of services, found when a queue is read.
func LazyQueues(services *service.Directory) Queues { return lazyQueues{services} }

type lazyQueues struct{ services *service.Directory }

func (l lazyQueues) sqs() (Queues, error) {
	q, ok := service.Lookup[Queues](l.services, "sqs")
	if !ok {
		return nil, ErrNoSQS
	}
	return q, nil
}

func (l lazyQueues) QueuePolicy(ctx context.Context, arn string) (*policy.Policy, error) {
	q, err := l.sqs()
	if err != nil {
		return nil, err
	}
	return q.QueuePolicy(ctx, arn)
}

func (l lazyQueues) PollQueue(ctx context.Context, arn string) (bool, time.Duration, bool, error) {
	q, err := l.sqs()
	if err != nil {
		return false, 0, false, err
	}
	return q.PollQueue(ctx, arn)
}

func (l lazyQueues) PollMessages(ctx context.Context, arn string, max int, wait, visibility time.Duration) ([]json.RawMessage, bool, error) {
	q, err := l.sqs()
	if err != nil {
		return nil, false, err
	}
	return q.PollMessages(ctx, arn, max, wait, visibility)
}

func (l lazyQueues) DeleteMessages(ctx context.Context, arn string, handles []string) (bool, error) {
	q, err := l.sqs()
	if err != nil {
		return false, err
	}
	return q.DeleteMessages(ctx, arn, handles)
}

func (l lazyQueues) ChangeMessagesVisibility(ctx context.Context, arn string, handles []string, d time.Duration) (bool, error) {
	q, err := l.sqs()
	if err != nil {
		return false, err
	}
	return q.ChangeMessagesVisibility(ctx, arn, handles, d)
}
