package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/runtime"
	"github.com/kiri-run/kiri/internal/service"
)

// ObjectReader reads an S3 object (implemented by the S3 service).
type ObjectReader interface {
	ReadObject(ctx context.Context, account, bucket, key, versionID string) (io.ReadCloser, int64, error)
}

// lazyObjects reads function code through the S3 service, found when code is read.
type lazyObjects struct{ services *service.Directory }

func (l lazyObjects) ReadObject(ctx context.Context, account, bucket, key, versionID string) (io.ReadCloser, int64, error) {
	s3, ok := service.Lookup[ObjectReader](l.services, "s3")
	if !ok {
		return nil, 0, errors.New("S3 is not running")
	}
	return s3.ReadObject(ctx, account, bucket, key, versionID)
}

// sqsQueues is what event source mappings need of SQS (implemented by the SQS service): to
// read a queue as Lambda's pollers do, by its ARN. Messages are the JSON of ReceiveMessage's
// Message; ok is false when the queue does not exist.
type sqsQueues interface {
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

// lazyQueues reads queues through the SQS service, found when a queue is read.
type lazyQueues struct{ services *service.Directory }

// errNoSQS reports that event source mappings cannot read queues: SQS is not running.
var errNoSQS = errors.New("SQS is not running")

func (l lazyQueues) sqs() (sqsQueues, error) {
	q, ok := service.Lookup[sqsQueues](l.services, "sqs")
	if !ok {
		return nil, errNoSQS
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

// logAppender stores function output (implemented by the CloudWatch Logs service).
type logAppender interface {
	AppendRuntimeLogs(ctx context.Context, account, region, group, stream string, events []runtime.LogEvent) error
}

// lazyLogs hands function output to the Logs service, found when output is shipped.
type lazyLogs struct{ services *service.Directory }

func (l lazyLogs) AppendLogs(ctx context.Context, account, region, group, stream string, events []runtime.LogEvent) error {
	logs, ok := service.Lookup[logAppender](l.services, "logs")
	if !ok {
		return errors.New("CloudWatch Logs is not running")
	}
	return logs.AppendRuntimeLogs(ctx, account, region, group, stream, events)
}

// roleIssuer issues a role's temporary credentials for a service acting on its own behalf
// (implemented by STS).
type roleIssuer interface {
	RoleCredentials(ctx context.Context, service, account, roleARN, session string, d time.Duration) (auth.Key, error)
}

// issueRoleCredentials issues a function's execution role credentials through STS.
func issueRoleCredentials(services *service.Directory) func(ctx context.Context, account, role, session string, d time.Duration) (string, string, string, error) {
	return func(ctx context.Context, account, role, session string, d time.Duration) (string, string, string, error) {
		sts, ok := service.Lookup[roleIssuer](services, "sts")
		if !ok {
			return "", "", "", errors.New("STS is not running")
		}
		k, err := sts.RoleCredentials(ctx, "lambda.amazonaws.com", account, role, session, d)
		return k.AccessKeyID, k.SecretAccessKey, k.SessionToken, err
	}
}

// urlBase builds function URLs on Kiri's endpoint: http://<url-id>.lambda-url.<region>.localhost:<port>/.
func urlBase(endpoint string) func(urlID, region string) string {
	port := "4566"
	if u, err := url.Parse(endpoint); err == nil && u.Port() != "" {
		port = u.Port()
	}
	return func(urlID, region string) string {
		return fmt.Sprintf("http://%s.lambda-url.%s.localhost:%s/", urlID, region, port)
	}
}
