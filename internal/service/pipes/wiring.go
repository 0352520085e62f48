package pipes

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/service"
)

// sqsQueues is what pipes need of SQS (implemented by the SQS service, the same methods
// Lambda's event source mappings poll with): to read a queue by its ARN. Messages are the JSON
// of ReceiveMessage's Message; ok is false when the queue does not exist.
type sqsQueues interface {
	PollQueue(ctx context.Context, queueARN string) (fifo bool, visibility time.Duration, ok bool, err error)
	PollMessages(ctx context.Context, queueARN string, max int, wait, visibility time.Duration) (msgs []json.RawMessage, ok bool, err error)
	DeleteMessages(ctx context.Context, queueARN string, receiptHandles []string) (ok bool, err error)
	ChangeMessagesVisibility(ctx context.Context, queueARN string, receiptHandles []string, d time.Duration) (ok bool, err error)
	QueuePolicy(ctx context.Context, queueARN string) (*policy.Policy, error)
}

// errNoSQS reports that pipes cannot read queues: SQS is not running.
var errNoSQS = errors.New("SQS is not running")

// lazyQueues reads queues through the SQS service, found when a queue is read.
type lazyQueues struct{ services *service.Directory }

func (l lazyQueues) sqs() (sqsQueues, error) {
	q, ok := service.Lookup[sqsQueues](l.services, "sqs")
	if !ok {
		return nil, errNoSQS
	}
	return q, nil
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

func (l lazyQueues) QueuePolicy(ctx context.Context, arn string) (*policy.Policy, error) {
	q, err := l.sqs()
	if err != nil {
		return nil, err
	}
	return q.QueuePolicy(ctx, arn)
}

// functions invokes Lambda functions synchronously as a pipe's role (implemented by the Lambda
// service): the enrichment, and REQUEST_RESPONSE targets. It returns the function's response
// and its FunctionError ("" when it succeeded).
type functions interface {
	InvokeAsRole(ctx context.Context, arn, principal, roleARN string, payload []byte) ([]byte, string, error)
}

// lazyFunctions invokes through the Lambda service, found when a function is invoked.
type lazyFunctions struct{ services *service.Directory }

func (l lazyFunctions) InvokeAsRole(ctx context.Context, arn, principal, roleARN string, payload []byte) ([]byte, string, error) {
	f, ok := service.Lookup[functions](l.services, "lambda")
	if !ok {
		return nil, "", errors.New("Lambda is not running")
	}
	return f.InvokeAsRole(ctx, arn, principal, roleARN, payload)
}
