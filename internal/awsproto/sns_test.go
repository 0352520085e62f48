package awsproto_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// Hand-written types: untagged fields map by name, value (non-pointer) fields are allowed.
type snsAttr struct {
	DataType    string
	StringValue *string
	BinaryValue []byte
}

type publishIn struct {
	TopicArn          string
	Message           string
	MessageAttributes map[string]snsAttr
}

type publishOut struct {
	MessageId string
}

type topic struct{ TopicArn string }

type listTopicsOut struct {
	Topics    []topic
	NextToken *string
}

func TestSNSQueryMapsAndLists(t *testing.T) {
	s := mustService(t, "sns", awsproto.ServiceOptions{})
	awsproto.Handle(s, "Publish", func(ctx context.Context, in *publishIn) (*publishOut, error) {
		var parts []string
		for k, v := range in.MessageAttributes {
			parts = append(parts, fmt.Sprintf("%s=%s:%s%s", k, v.DataType, awsproto.Value(v.StringValue), v.BinaryValue))
		}
		sort.Strings(parts)
		return &publishOut{MessageId: in.TopicArn + "|" + in.Message + "|" + strings.Join(parts, ",")}, nil
	})
	awsproto.Handle(s, "ListTopics", func(ctx context.Context, in *struct{ NextToken *string }) (*listTopicsOut, error) {
		return &listTopicsOut{Topics: []topic{{"arn:a"}, {"arn:b"}}, NextToken: awsproto.Ptr("n")}, nil
	})
	srv := newServer(t, s)
	client := sns.NewFromConfig(sdkConfig(), func(o *sns.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()

	out, err := client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:t"), Message: aws.String("m & m"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"s": {DataType: aws.String("String"), StringValue: aws.String("v")},
			"b": {DataType: aws.String("Binary"), BinaryValue: []byte("bin")},
		}})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got, want := aws.ToString(out.MessageId), "arn:t|m & m|b=Binary:bin,s=String:v"; got != want {
		t.Errorf("MessageId = %q, want %q", got, want)
	}
	lt, err := client.ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil || len(lt.Topics) != 2 || aws.ToString(lt.Topics[1].TopicArn) != "arn:b" || aws.ToString(lt.NextToken) != "n" {
		t.Fatalf("ListTopics = %+v, %v", lt, err)
	}

}
