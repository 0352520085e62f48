package lambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/eventsource"
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

// sqsQueues is what event source mappings need of SQS: to read a queue as Lambda's pollers do.
type sqsQueues = eventsource.Queues

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
