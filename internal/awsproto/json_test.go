package awsproto_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/internal/awsproto"
	ddbapi "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/dynamodbapi"
	sqsapi "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/sqsapi"
)

// memTable is a one-table item store keyed by the "pk" string attribute.
type memTable struct {
	mu    sync.Mutex
	items map[string]map[string]ddbapi.AttributeValue
}

func dynamoService(t testing.TB) *awsproto.Service {
	s := mustService(t, "dynamodb", awsproto.ServiceOptions{})
	tbl := &memTable{items: map[string]map[string]ddbapi.AttributeValue{}}
	awsproto.Handle(s, "PutItem", func(ctx context.Context, in *ddbapi.PutItemInput) (*ddbapi.PutItemOutput, error) {
		if awsproto.Value(in.TableName) != "t" {
			return nil, awsproto.Errorf("ResourceNotFoundException", 0, "Requested resource not found")
		}
		tbl.mu.Lock()
		defer tbl.mu.Unlock()
		tbl.items[awsproto.Value(in.Item["pk"].S)] = in.Item
		return &ddbapi.PutItemOutput{}, nil
	})
	awsproto.Handle(s, "GetItem", func(ctx context.Context, in *ddbapi.GetItemInput) (*ddbapi.GetItemOutput, error) {
		if awsproto.Value(in.TableName) != "t" {
			return nil, awsproto.Errorf("ResourceNotFoundException", 0, "Requested resource not found")
		}
		tbl.mu.Lock()
		defer tbl.mu.Unlock()
		return &ddbapi.GetItemOutput{Item: tbl.items[awsproto.Value(in.Key["pk"].S)]}, nil
	})
	return s
}

func TestDynamoDBJSONRoundTrip(t *testing.T) {
	srv := newServer(t, dynamoService(t))
	client := dynamodb.NewFromConfig(sdkConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	item := map[string]ddbtypes.AttributeValue{
		"pk":   &ddbtypes.AttributeValueMemberS{Value: "k1 \"quoted\" \u00e9 \n"},
		"n":    &ddbtypes.AttributeValueMemberN{Value: "12.5"},
		"b":    &ddbtypes.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
		"ok":   &ddbtypes.AttributeValueMemberBOOL{Value: true},
		"null": &ddbtypes.AttributeValueMemberNULL{Value: true},
		"ss":   &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"l": &ddbtypes.AttributeValueMemberL{Value: []ddbtypes.AttributeValue{
			&ddbtypes.AttributeValueMemberS{Value: "x"},
			&ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"deep": &ddbtypes.AttributeValueMemberN{Value: "1"}}},
		}},
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]ddbtypes.AttributeValue{"pk": item["pk"]}})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if !reflect.DeepEqual(got.Item, item) {
		t.Errorf("GetItem item = %#v\nwant %#v", got.Item, item)
	}

	_, err = client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("missing"), Key: map[string]ddbtypes.AttributeValue{"pk": item["pk"]}})
	var rnf *ddbtypes.ResourceNotFoundException
	if !errors.As(err, &rnf) || rnf.ErrorMessage() != "Requested resource not found" {
		t.Fatalf("error = %v, want ResourceNotFoundException", err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Errorf("status = %v", err)
	}
}

func TestSQSQueryCompatibleError(t *testing.T) {
	s := mustService(t, "sqs", awsproto.ServiceOptions{})
	awsproto.Handle(s, "GetQueueUrl", func(ctx context.Context, in *sqsapi.GetQueueUrlRequest) (*sqsapi.GetQueueUrlResult, error) {
		if awsproto.Value(in.QueueName) == "q" {
			return &sqsapi.GetQueueUrlResult{QueueUrl: awsproto.Ptr("http://localhost/000000000000/q")}, nil
		}
		return nil, awsproto.Errorf("QueueDoesNotExist", 0, "The specified queue does not exist.")
	})
	awsproto.Handle(s, "SendMessage", func(ctx context.Context, in *sqsapi.SendMessageRequest) (*sqsapi.SendMessageResult, error) {
		attr := in.MessageAttributes["a"]
		return &sqsapi.SendMessageResult{MessageId: awsproto.Ptr(awsproto.Value(in.MessageBody) + "/" + awsproto.Value(attr.StringValue) + "/" + string(in.MessageAttributes["b"].BinaryValue))}, nil
	})
	srv := newServer(t, s)
	client := sqs.NewFromConfig(sdkConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	u, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")})
	if err != nil || aws.ToString(u.QueueUrl) != "http://localhost/000000000000/q" {
		t.Fatalf("GetQueueUrl = %v, %v", u, err)
	}
	sent, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u.QueueUrl, MessageBody: aws.String("hi"),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"a": {DataType: aws.String("String"), StringValue: aws.String("av")},
			"b": {DataType: aws.String("Binary"), BinaryValue: []byte("bv")},
		}})
	if err != nil || aws.ToString(sent.MessageId) != "hi/av/bv" {
		t.Fatalf("SendMessage = %v, %v", sent, err)
	}

	_, err = client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("nope")})
	var qdne *sqstypes.QueueDoesNotExist
	if !errors.As(err, &qdne) {
		t.Fatalf("error = %v, want QueueDoesNotExist", err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" || apiErr.ErrorFault() != smithy.FaultClient {
		t.Errorf("api error code = %q fault %v", apiErr.ErrorCode(), apiErr.ErrorFault())
	}
}
