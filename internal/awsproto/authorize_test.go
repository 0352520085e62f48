package awsproto_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/internal/awsproto"
	sqsapi "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/sqsapi"
)

// TestAuthorizeRunsBeforeTheHandler checks the Authorize hook: it sees the decoded input, and
// its refusal is the call's error, in each protocol of the service, without the handler running.
func TestAuthorizeRunsBeforeTheHandler(t *testing.T) {
	ran := false
	s := mustService(t, "sqs", awsproto.ServiceOptions{
		QueryModel: "sqs-query", QueryURLParam: "QueueUrl", SkipEnumValidation: true,
		Authorize: func(ctx context.Context, op string, in any) error {
			if u := awsproto.Value(in.(*sqsapi.ListQueuesRequest).QueueNamePrefix); op != "ListQueues" || u == "secret" {
				return awsproto.Errorf("AccessDeniedException", http.StatusForbidden, "User: arn:aws:iam::000000000000:root is not authorized to perform: sqs:listqueues")
			}
			return nil
		},
	})
	awsproto.Handle(s, "ListQueues", func(ctx context.Context, in *sqsapi.ListQueuesRequest) (*sqsapi.ListQueuesResult, error) {
		ran = true
		return &sqsapi.ListQueuesResult{}, nil
	})
	srv := newServer(t, s)
	client := sqs.NewFromConfig(sdkConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	if _, err := client.ListQueues(t.Context(), &sqs.ListQueuesInput{QueueNamePrefix: aws.String("open")}); err != nil || !ran {
		t.Fatalf("an allowed call: %v (handler ran: %v)", err, ran)
	}
	ran = false
	_, err := client.ListQueues(t.Context(), &sqs.ListQueuesInput{QueueNamePrefix: aws.String("secret")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" || ran {
		t.Fatalf("a refused call over json: %v (handler ran: %v), want AccessDenied from x-amzn-query-error", err, ran)
	}
	status, body := postForm(t, srv.URL+"/", url.Values{"Action": {"ListQueues"}, "Version": {"2012-11-05"}, "QueueNamePrefix": {"secret"}})
	if status != http.StatusForbidden || !strings.Contains(body, "<Code>AccessDenied</Code>") || ran {
		t.Fatalf("a refused call over query: %d %s (handler ran: %v)", status, body, ran)
	}
}
