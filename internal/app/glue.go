package app

import (
	"context"
	"net"
	"strings"

	"github.com/kiri-run/kiri/internal/runtime"
	"github.com/kiri-run/kiri/internal/service/lambda"
	"github.com/kiri-run/kiri/internal/service/logs"
)

// notifiers routes S3 event notifications to the service that owns each destination ARN.
// Services that land later (SQS, SNS, EventBridge) join here.
type notifiers struct {
	lambda *lambda.Service
}

func (n *notifiers) DestinationExists(ctx context.Context, arn string) (bool, error) {
	if strings.HasPrefix(arn, "arn:aws:lambda:") && n.lambda != nil {
		return n.lambda.DestinationExists(ctx, arn)
	}
	return false, nil
}

func (n *notifiers) Deliver(ctx context.Context, arn string, event []byte) error {
	if strings.HasPrefix(arn, "arn:aws:lambda:") && n.lambda != nil {
		return n.lambda.Deliver(ctx, arn, event)
	}
	return nil
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
