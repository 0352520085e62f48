package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestLogsAPIRoundTrip drives CloudWatch Logs through the whole server: a group and stream,
// events in, events out by GetLogEvents and FilterLogEvents, and the errors AWS gives.
func TestLogsAPIRoundTrip(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	logs := srv.Clients().Logs
	ctx := t.Context()
	group, stream := aws.String("/app/e2e"), aws.String("main")
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group}); err != nil {
		t.Fatal(err)
	}
	_, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: group})
	expectAPIError(t, err, "ResourceAlreadyExistsException", http.StatusBadRequest)
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: group, LogStreamName: stream}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: group, LogStreamName: stream,
		LogEvents: []types.InputLogEvent{
			{Timestamp: aws.Int64(now - 2), Message: aws.String(`{"level":"INFO","latency":5}`)},
			{Timestamp: aws.Int64(now - 1), Message: aws.String(`{"level":"ERROR","latency":500}`)},
		}}); err != nil {
		t.Fatal(err)
	}
	got, err := logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: group, LogStreamName: stream, StartFromHead: aws.Bool(true)})
	if err != nil || len(got.Events) != 2 {
		t.Fatalf("GetLogEvents = %v, %v", got, err)
	}
	filtered, err := logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: group,
		FilterPattern: aws.String(`{ $.level = "ERROR" && $.latency > 100 }`)})
	if err != nil || len(filtered.Events) != 1 || !strings.Contains(aws.ToString(filtered.Events[0].Message), "ERROR") {
		t.Fatalf("FilterLogEvents = %v, %v", filtered, err)
	}
	if _, err := logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: group, RetentionInDays: aws.Int32(30)}); err != nil {
		t.Fatal(err)
	}
	desc, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/app/")})
	if err != nil || len(desc.LogGroups) != 1 || aws.ToInt32(desc.LogGroups[0].RetentionInDays) != 30 ||
		aws.ToString(desc.LogGroups[0].Arn) != "arn:aws:logs:us-east-1:000000000000:log-group:/app/e2e:*" {
		t.Fatalf("DescribeLogGroups = %v, %v", desc, err)
	}
	_, err = logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/missing"), LogStreamName: stream})
	expectAPIError(t, err, "ResourceNotFoundException", http.StatusBadRequest)
	_, err = logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: group, RetentionInDays: aws.Int32(2)})
	expectAPIError(t, err, "InvalidParameterException", http.StatusBadRequest)
}

// TestLogsSurviveRestart checks that log events are durable: a second server on the same data
// directory reads what the first stored.
func TestLogsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	put := func(t *testing.T) {
		srv := kiritest.Start(t, kiritest.Options{DataDir: dir})
		logs := srv.Clients().Logs
		ctx := t.Context()
		if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g")}); err != nil {
			t.Fatal(err)
		}
		if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")}); err != nil {
			t.Fatal(err)
		}
		if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"),
			LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String("kept")}}}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("first server", put)
	srv := kiritest.Start(t, kiritest.Options{DataDir: dir})
	out, err := srv.Clients().Logs.FilterLogEvents(t.Context(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("g")})
	if err != nil || len(out.Events) != 1 || aws.ToString(out.Events[0].Message) != "kept" {
		t.Fatalf("after restart: %v, %v", out, err)
	}
}

// TestAWSCLILogsTailE2E runs `aws logs tail` against the server.
func TestAWSCLILogsTailE2E(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	logs := srv.Clients().Logs
	ctx := t.Context()
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/aws/lambda/tail")}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/aws/lambda/tail"), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	if _, err := logs.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/aws/lambda/tail"), LogStreamName: aws.String("s"),
		LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(time.Now().Add(-time.Minute).UnixMilli()), Message: aws.String("tailed line")}}}); err != nil {
		t.Fatal(err)
	}
	out, err := runAWS(t, srv, "logs", "tail", "/aws/lambda/tail", "--since", "10m", "--format", "short")
	if err != nil || !strings.HasSuffix(strings.TrimSpace(out), " tailed line") {
		t.Fatalf("aws logs tail: %v\n%s", err, out)
	}
}
