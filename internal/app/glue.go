package app

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/runtime"
	"github.com/kiri-run/kiri/internal/service/lambda"
	"github.com/kiri-run/kiri/internal/service/logs"
	"github.com/kiri-run/kiri/internal/service/s3"
)

// notifiers routes S3 event notifications to the service that owns each destination ARN.
// Services that land later (SQS, SNS, EventBridge) join here.
type notifiers struct {
	lambda *lambda.Service
}

// s3Principal is the service principal S3 delivers event notifications as.
const s3Principal = "s3.amazonaws.com"

// Delivers reports Lambda functions only: SQS, SNS and EventBridge have not landed, so S3
// refuses them as destinations.
func (n *notifiers) Delivers(arn string) bool {
	return strings.HasPrefix(arn, "arn:aws:lambda:") && n.lambda != nil
}

func (n *notifiers) DestinationAccepts(ctx context.Context, arn string, src s3.NotificationSource) (bool, error) {
	if strings.HasPrefix(arn, "arn:aws:lambda:") && n.lambda != nil {
		return n.lambda.InvokableBy(ctx, arn, s3Principal, src.BucketARN, src.Account)
	}
	return false, nil
}

func (n *notifiers) Deliver(ctx context.Context, arn string, src s3.NotificationSource, event []byte) error {
	if strings.HasPrefix(arn, "arn:aws:lambda:") && n.lambda != nil {
		return n.lambda.DeliverEvent(ctx, arn, s3Principal, src.BucketARN, src.Account, event)
	}
	// Only a configuration stored before S3 refused such destinations gets here: keep the
	// event among the relay's dead letters rather than drop it.
	return dispatch.Permanent(fmt.Errorf("no service delivers S3 events to %s", arn))
}

// functionLogs hands function output from the runtime to CloudWatch Logs.
type functionLogs struct{ svc *logs.Service }

func (f functionLogs) AppendLogs(ctx context.Context, account, region, group, stream string, events []runtime.LogEvent) error {
	out := make([]logs.Event, len(events))
	for i, e := range events {
		out[i] = logs.Event{Time: e.Time, Message: e.Message}
	}
	return f.svc.AppendLogs(ctx, account, region, group, stream, out)
}

// endpointURL is the URL functions reach Kiri at: the listen address, with a wildcard host
// replaced by loopback.
func endpointURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
