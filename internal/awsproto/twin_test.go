package awsproto_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/internal/awsproto"
	sqsapi "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/sqsapi"
)

// newSQSWithTwin is an SQS service answering both JSON and, through its query twin, the query
// protocol with one set of handlers.
func newSQSWithTwin(t *testing.T) *awsproto.Service {
	s := mustService(t, "sqs", awsproto.ServiceOptions{QueryModel: "sqs-query", QueryURLParam: "QueueUrl", SkipEnumValidation: true})
	awsproto.Handle(s, "ReceiveMessage", func(ctx context.Context, in *sqsapi.ReceiveMessageRequest) (*sqsapi.ReceiveMessageResult, error) {
		names := append(append([]string{}, in.AttributeNames...), in.MessageSystemAttributeNames...)
		sort.Strings(names)
		return &sqsapi.ReceiveMessageResult{Messages: []sqsapi.Message{{
			MessageId:  awsproto.Ptr(awsproto.Value(in.QueueUrl)),
			Body:       awsproto.Ptr(strings.Join(names, ",")),
			Attributes: map[string]string{"SenderId": "AIDA"},
			MessageAttributes: map[string]sqsapi.MessageAttributeValue{
				"n": {DataType: awsproto.Ptr("Number"), StringValue: awsproto.Ptr("1")},
			},
		}}}, nil
	})
	awsproto.Handle(s, "GetQueueUrl", func(ctx context.Context, in *sqsapi.GetQueueUrlRequest) (*sqsapi.GetQueueUrlResult, error) {
		return nil, awsproto.Errorf("QueueDoesNotExist", 400, "The specified queue does not exist.")
	})
	awsproto.Handle(s, "ListQueues", func(ctx context.Context, in *sqsapi.ListQueuesRequest) (*sqsapi.ListQueuesResult, error) {
		return &sqsapi.ListQueuesResult{QueueUrls: []string{"http://h/1/a", "http://h/1/b"}}, nil
	})
	if err := s.Load(); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func postForm(t *testing.T, target string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.Post(target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestQueryTwinServesTheJSONServiceHandlers(t *testing.T) {
	srv := newServer(t, newSQSWithTwin(t))

	// The query wire of SQS: flattened lists and maps named by the query model.
	status, body := postForm(t, srv.URL+"/", url.Values{
		"Action": {"ReceiveMessage"}, "Version": {"2012-11-05"}, "QueueUrl": {"http://h/1/q"},
		"AttributeName.1": {"SenderId"}, "AttributeName.2": {"SentTimestamp"},
	})
	for _, want := range []string{
		`<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult><Message>`,
		`<MessageId>http://h/1/q</MessageId>`,
		`<Body>SenderId,SentTimestamp</Body>`,
		`<Attribute><Name>SenderId</Name><Value>AIDA</Value></Attribute>`,
		`<MessageAttribute><Name>n</Name><Value><DataType>Number</DataType><StringValue>1</StringValue></Value></MessageAttribute>`,
		`<ResponseMetadata><RequestId>req-0001</RequestId></ResponseMetadata>`,
	} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("ReceiveMessage over query: %d %s\nwant it to contain %s", status, body, want)
		}
	}

	// Posted to the queue URL, a request may leave QueueUrl out.
	_, body = postForm(t, srv.URL+"/000000000000/q", url.Values{"Action": {"ReceiveMessage"}})
	if want := "<MessageId>" + srv.URL + "/000000000000/q</MessageId>"; !strings.Contains(body, want) {
		t.Errorf("a request posted to the queue URL: %s\nwant %s", body, want)
	}

	_, body = postForm(t, srv.URL+"/", url.Values{"Action": {"ListQueues"}})
	if !strings.Contains(body, "<ListQueuesResult><QueueUrl>http://h/1/a</QueueUrl><QueueUrl>http://h/1/b</QueueUrl></ListQueuesResult>") {
		t.Errorf("ListQueues over query: %s", body)
	}

	// Errors carry the query code of the query model.
	status, body = postForm(t, srv.URL+"/", url.Values{"Action": {"GetQueueUrl"}, "QueueName": {"nope"}})
	if status != 400 || !strings.Contains(body, "<Code>AWS.SimpleQueueService.NonExistentQueue</Code>") || !strings.Contains(body, "<Type>Sender</Type>") {
		t.Errorf("GetQueueUrl error over query: %d %s", status, body)
	}

	// The JSON protocol still reaches the same handlers, with the members the query model lacks.
	client := sqs.NewFromConfig(sdkConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String("http://h/1/q"),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"SenderId"}})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "SenderId" {
		t.Fatalf("ReceiveMessage over JSON = %+v, %v", out, err)
	}
}
