package e2e

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// createWorker creates the sqsworker function, which writes results to bucket (created here).
func createWorker(t *testing.T, cl *kiritest.Clients, name, bucket string, env map[string]string) *lambda.CreateFunctionOutput {
	t.Helper()
	if _, err := cl.S3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"RESULT_BUCKET": bucket, "RECORDS": "1"}
	for k, v := range env {
		vars[k] = v
	}
	fn := createTestFunction(t, cl.Lambda, name, kiritest.GoFunctionZip(t, "./testdata/lambda/sqsworker"), func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: vars}
	})
	waitActive(t, cl.Lambda, name)
	return fn
}

// mapQueue maps a queue to a function and waits for the mapping to be Enabled.
func mapQueue(t *testing.T, c *lambda.Client, in *lambda.CreateEventSourceMappingInput) string {
	t.Helper()
	out, err := c.CreateEventSourceMapping(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateEventSourceMapping: %v", err)
	}
	waitMappingState(t, c, aws.ToString(out.UUID), "Enabled")
	return aws.ToString(out.UUID)
}

func waitMappingState(t *testing.T, c *lambda.Client, uuid, state string) *lambda.GetEventSourceMappingOutput {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := c.GetEventSourceMapping(t.Context(), &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
		if err != nil {
			t.Fatalf("GetEventSourceMapping: %v", err)
		}
		if aws.ToString(out.State) == state {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("mapping %s is %s, want %s", uuid, aws.ToString(out.State), state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// job is what the sqsworker function reads from a message body.
type job struct {
	ID    string `json:"id"`
	Input string `json:"input"`
	Fail  bool   `json:"fail,omitempty"`
}

func (j job) body() string {
	b, _ := json.Marshal(j)
	return string(b)
}

// jobResult is what sqsworker writes to results/<id>.
type jobResult struct {
	Output   string `json:"output"`
	Receives string `json:"receives"`
	Group    string `json:"group"`
	RanAt    int64  `json:"ranAt"`
	Batch    int    `json:"batch"`
}

// waitObject waits for an object and returns its body.
func waitObject(t *testing.T, c *s3.Client, bucket, key string, within time.Duration) []byte {
	t.Helper()
	b, err := pollObject(t.Context(), c, bucket, key, within)
	if err != nil {
		t.Fatalf("%s/%s: %v", bucket, key, err)
	}
	return b
}

func pollObject(ctx context.Context, c *s3.Client, bucket, key string, within time.Duration) ([]byte, error) {
	deadline := time.Now().Add(within)
	for {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			defer out.Body.Close()
			return io.ReadAll(out.Body)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("not there after %s: %w", within, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func result(t *testing.T, c *s3.Client, bucket, id string) jobResult {
	t.Helper()
	var r jobResult
	if err := json.Unmarshal(waitObject(t, c, bucket, "results/"+id, 20*time.Second), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// queueCounts is ApproximateNumberOfMessages and ApproximateNumberOfMessagesNotVisible.
func queueCounts(t *testing.T, c *sqs.Client, url string) (visible, inFlight int) {
	t.Helper()
	out, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inFlight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inFlight
}

func waitQueueEmpty(t *testing.T, c *sqs.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		v, f := queueCounts(t, c, url)
		if v == 0 && f == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue still holds %d visible and %d in-flight messages", v, f)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// The event source mapping API: states, defaults, errors, listing and tags, through the SDK.
func TestEventSourceMappingAPI(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	c, ctx := cl.Lambda, t.Context()
	fn := createWorker(t, cl, "api-worker", "api-results", nil)
	_, arn := createQueueWith(t, cl.SQS, "api-jobs", nil)
	_, fifoARN := createQueueWith(t, cl.SQS, "api-jobs.fifo", map[string]string{"FifoQueue": "true"})

	out, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("api-worker"),
		EventSourceArn: aws.String(arn), Tags: map[string]string{"team": "jobs"}})
	if err != nil {
		t.Fatal(err)
	}
	uuid := aws.ToString(out.UUID)
	if aws.ToString(out.State) != "Creating" || aws.ToString(out.StateTransitionReason) != "USER_INITIATED" || aws.ToInt32(out.BatchSize) != 10 ||
		aws.ToString(out.FunctionArn) != aws.ToString(fn.FunctionArn) || aws.ToString(out.EventSourceArn) != arn ||
		aws.ToString(out.EventSourceMappingArn) != "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:"+uuid || out.LastModified == nil {
		t.Fatalf("CreateEventSourceMapping = %+v", out)
	}
	waitMappingState(t, c, uuid, "Enabled")

	_, err = c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("api-worker"), EventSourceArn: aws.String(arn)})
	wantAPIError(t, err, "ResourceConflictException", "already exists. Please update or delete the existing mapping with UUID "+uuid)
	for _, tc := range []struct {
		name string
		in   lambda.CreateEventSourceMappingInput
		code string
		msg  string
	}{
		{"no queue", lambda.CreateEventSourceMappingInput{FunctionName: aws.String("api-worker"), EventSourceArn: aws.String(arn + "-missing")},
			"InvalidParameterValueException", "AWS.SimpleQueueService.NonExistentQueue"},
		{"no function", lambda.CreateEventSourceMappingInput{FunctionName: aws.String("ghost"), EventSourceArn: aws.String(arn)},
			"InvalidParameterValueException", "Function does not exist"},
		{"FIFO batch over ten", lambda.CreateEventSourceMappingInput{FunctionName: aws.String("api-worker"), EventSourceArn: aws.String(fifoARN), BatchSize: aws.Int32(20)},
			"InvalidParameterValueException", "Maximum batch size must be between 1 and 10 inclusive"},
		{"batch over ten without a window", lambda.CreateEventSourceMappingInput{FunctionName: aws.String("api-worker"), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(20)},
			"InvalidParameterValueException", "Maximum batch window in seconds must be greater than 0"},
		{"batch over 10,000", lambda.CreateEventSourceMappingInput{FunctionName: aws.String("api-worker"), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(10001)},
			"ValidationException", ""},
		{"maximum concurrency of one", lambda.CreateEventSourceMappingInput{FunctionName: aws.String("api-worker"), EventSourceArn: aws.String(arn),
			ScalingConfig: &types.ScalingConfig{MaximumConcurrency: aws.Int32(1)}}, "ValidationException", ""},
	} {
		_, err := c.CreateEventSourceMapping(ctx, &tc.in)
		if err == nil {
			t.Fatalf("%s: accepted", tc.name)
		}
		wantAPIError(t, err, tc.code, tc.msg)
	}

	up, err := c.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), BatchSize: aws.Int32(500),
		MaximumBatchingWindowInSeconds: aws.Int32(2), FunctionResponseTypes: []types.FunctionResponseType{"ReportBatchItemFailures"},
		ScalingConfig:  &types.ScalingConfig{MaximumConcurrency: aws.Int32(4)},
		FilterCriteria: &types.FilterCriteria{Filters: []types.Filter{{Pattern: aws.String(`{"body":{"id":[{"prefix":"a"}]}}`)}}}})
	if err != nil || aws.ToString(up.State) != "Updating" || aws.ToInt32(up.BatchSize) != 500 || aws.ToInt32(up.ScalingConfig.MaximumConcurrency) != 4 ||
		len(up.FilterCriteria.Filters) != 1 || up.FunctionResponseTypes[0] != "ReportBatchItemFailures" {
		t.Fatalf("UpdateEventSourceMapping = %+v, %v", up, err)
	}
	waitMappingState(t, c, uuid, "Enabled")
	if _, err := c.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(uuid), Enabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	waitMappingState(t, c, uuid, "Disabled")

	esmARN := aws.ToString(out.EventSourceMappingArn)
	if _, err := c.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String(esmARN), Tags: map[string]string{"env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTags(ctx, &lambda.ListTagsInput{Resource: aws.String(esmARN)})
	if err != nil || len(tags.Tags) != 2 || tags.Tags["team"] != "jobs" || tags.Tags["env"] != "dev" {
		t.Fatalf("ListTags = %v, %v", tags, err)
	}

	for i := range 3 {
		_, qa := createQueueWith(t, cl.SQS, fmt.Sprintf("api-more-%d", i), nil)
		mapQueue(t, c, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("api-worker"), EventSourceArn: aws.String(qa)})
	}
	var all []string
	p := lambda.NewListEventSourceMappingsPaginator(c, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String("api-worker"), MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.EventSourceMappings {
			all = append(all, aws.ToString(m.UUID))
		}
	}
	if len(all) != 4 || !slices.Contains(all, uuid) {
		t.Fatalf("listed %v", all)
	}
	one, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{EventSourceArn: aws.String(arn)})
	if err != nil || len(one.EventSourceMappings) != 1 || aws.ToString(one.EventSourceMappings[0].UUID) != uuid {
		t.Fatalf("listed by queue: %+v, %v", one, err)
	}

	del, err := c.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(uuid)})
	if err != nil || aws.ToString(del.State) != "Deleting" {
		t.Fatalf("DeleteEventSourceMapping = %+v, %v", del, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(uuid)})
		if err != nil {
			wantAPIError(t, err, "ResourceNotFoundException", "The resource you requested does not exist.")
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the mapping was not deleted")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A message reaches the function in the event Lambda builds, and is deleted once the function
// succeeds.
func TestEventSourceMappingDeliversLambdasEvent(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	createWorker(t, cl, "event-worker", "event-results", nil)
	url, arn := createQueueWith(t, cl.SQS, "event-jobs", nil)
	mapQueue(t, cl.Lambda, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("event-worker"), EventSourceArn: aws.String(arn)})

	body := job{ID: "j1", Input: "hello"}.body()
	sent, err := cl.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			"Author": {DataType: aws.String("String"), StringValue: aws.String("Grisham")},
			"Weeks":  {DataType: aws.String("Number"), StringValue: aws.String("6")},
			"Blob":   {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if r := result(t, cl.S3, "event-results", "j1"); r.Output != "HELLO" || r.Receives != "1" {
		t.Fatalf("result %+v", r)
	}
	var rec struct {
		MessageID              string            `json:"messageId"`
		ReceiptHandle          string            `json:"receiptHandle"`
		Body                   string            `json:"body"`
		Attributes             map[string]string `json:"attributes"`
		MessageAttributes      map[string]map[string]any
		MD5OfMessageAttributes *string `json:"md5OfMessageAttributes"`
		MD5OfBody              string  `json:"md5OfBody"`
		EventSource            string  `json:"eventSource"`
		EventSourceARN         string  `json:"eventSourceARN"`
		AWSRegion              string  `json:"awsRegion"`
	}
	raw := waitObject(t, cl.S3, "event-results", "records/"+aws.ToString(sent.MessageId), 10*time.Second)
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(body))
	if rec.MessageID != aws.ToString(sent.MessageId) || rec.Body != body || rec.MD5OfBody != hex.EncodeToString(sum[:]) ||
		rec.MD5OfBody != aws.ToString(sent.MD5OfMessageBody) || aws.ToString(rec.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) ||
		rec.EventSource != "aws:sqs" || rec.EventSourceARN != arn || rec.AWSRegion != "us-east-1" || rec.ReceiptHandle == "" {
		t.Fatalf("record %s", raw)
	}
	for _, a := range []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} {
		if rec.Attributes[a] == "" {
			t.Errorf("attribute %s missing: %s", a, raw)
		}
	}
	if _, fifo := rec.Attributes["MessageGroupId"]; fifo {
		t.Errorf("FIFO attributes on a standard queue's record: %s", raw)
	}
	if a := rec.MessageAttributes["Weeks"]; a["dataType"] != "Number" || a["stringValue"] != "6" || a["stringListValues"] == nil {
		t.Errorf("Weeks = %v", a)
	}
	if a := rec.MessageAttributes["Blob"]; a["dataType"] != "Binary" || a["binaryValue"] != "AQID" {
		t.Errorf("Blob = %v", a)
	}
	waitQueueEmpty(t, cl.SQS, url)
}

// With a batching window, a batch may hold more than ten messages: a backlog of 25 arrives in
// one invocation.
func TestEventSourceMappingBatchesBeyondTen(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	createWorker(t, cl, "big-worker", "big-results", nil)
	url, arn := createQueueWith(t, cl.SQS, "big-jobs", nil)
	for b := range 5 {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i := range 5 {
			id := fmt.Sprint(b*5 + i)
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(job{ID: id, Input: id}.body())})
		}
		if _, err := cl.SQS.SendMessageBatch(t.Context(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
			t.Fatal(err)
		}
	}
	mapQueue(t, cl.Lambda, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("big-worker"), EventSourceArn: aws.String(arn),
		BatchSize: aws.Int32(100), MaximumBatchingWindowInSeconds: aws.Int32(1)})
	for i := range 25 {
		if r := result(t, cl.S3, "big-results", fmt.Sprint(i)); r.Batch != 25 {
			t.Fatalf("message %d came in a batch of %d, want all 25 in one", i, r.Batch)
		}
	}
	waitQueueEmpty(t, cl.SQS, url)
}

// A batch the function fails returns to the queue after its visibility timeout, and the
// queue's redrive policy moves it to the dead-letter queue after maxReceiveCount receives;
// with ReportBatchItemFailures only the reported messages do.
func TestEventSourceMappingFailuresReachTheDeadLetterQueue(t *testing.T) {
	for _, report := range []bool{false, true} {
		t.Run(fmt.Sprintf("report=%v", report), func(t *testing.T) {
			srv := kiritest.Start(t, kiritest.Options{})
			cl := srv.Clients()
			ctx := t.Context()
			env := map[string]string{}
			if report {
				env["REPORT"] = "1"
			}
			createWorker(t, cl, "dlq-worker", "dlq-results", env)
			dlqURL, dlqARN := createQueueWith(t, cl.SQS, "dlq-dead", nil)
			url, arn := createQueueWith(t, cl.SQS, "dlq-jobs", map[string]string{"VisibilityTimeout": "3",
				"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":2}`})
			in := &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("dlq-worker"), EventSourceArn: aws.String(arn)}
			if report {
				in.FunctionResponseTypes = []types.FunctionResponseType{"ReportBatchItemFailures"}
			}
			entries := []sqstypes.SendMessageBatchRequestEntry{
				{Id: aws.String("1"), MessageBody: aws.String(job{ID: "ok1", Input: "a"}.body())},
				{Id: aws.String("2"), MessageBody: aws.String(job{ID: "bad", Fail: true}.body())},
				{Id: aws.String("3"), MessageBody: aws.String(job{ID: "ok2", Input: "b"}.body())},
			}
			if _, err := cl.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
				t.Fatal(err)
			}
			mapQueue(t, cl.Lambda, in) // after the sends, so that the three arrive in one batch
			want := 3
			if report {
				want = 1
			}
			deadline := time.Now().Add(30 * time.Second)
			var dead []string
			for len(dead) < want {
				out, err := cl.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range out.Messages {
					var j job
					json.Unmarshal([]byte(aws.ToString(m.Body)), &j)
					dead = append(dead, j.ID)
				}
				if time.Now().After(deadline) {
					t.Fatalf("dead letters after 30s: %v", dead)
				}
			}
			sort.Strings(dead)
			if report {
				if !slices.Equal(dead, []string{"bad"}) {
					t.Fatalf("dead letters %v, want [bad]", dead)
				}
				for _, id := range []string{"ok1", "ok2"} {
					if r := result(t, cl.S3, "dlq-results", id); r.Receives != "1" {
						t.Errorf("%s ran at receive %s: reported successes were not deleted", id, r.Receives)
					}
				}
			} else if !slices.Equal(dead, []string{"bad", "ok1", "ok2"}) {
				t.Fatalf("dead letters %v, want the whole batch", dead)
			}
			waitQueueEmpty(t, cl.SQS, url)
		})
	}
}

// A FIFO queue's messages reach the function in each group's send order.
func TestEventSourceMappingKeepsFIFOGroupOrder(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	createWorker(t, cl, "fifo-worker", "fifo-results", nil)
	url, arn := createQueueWith(t, cl.SQS, "fifo-jobs.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	mapQueue(t, cl.Lambda, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("fifo-worker"), EventSourceArn: aws.String(arn), BatchSize: aws.Int32(3)})
	const groups, per = 4, 6
	for i := range per {
		for g := range groups {
			id := fmt.Sprintf("g%d-%d", g, i)
			if _, err := cl.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(job{ID: id, Input: id}.body()),
				MessageGroupId: aws.String(fmt.Sprint("g", g))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for g := range groups {
		var last int64
		for i := range per {
			r := result(t, cl.S3, "fifo-results", fmt.Sprintf("g%d-%d", g, i))
			if r.Group != fmt.Sprint("g", g) || r.RanAt <= last {
				t.Fatalf("group g%d: message %d ran at %d, after its predecessor at %d (group %q)", g, i, r.RanAt, last, r.Group)
			}
			last = r.RanAt
		}
	}
	waitQueueEmpty(t, cl.SQS, url)
}

// Messages the mapping's filters reject never reach the function and are deleted, as Lambda
// deletes them.
func TestEventSourceMappingFiltersDeleteWhatTheyDrop(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	createWorker(t, cl, "filter-worker", "filter-results", nil)
	url, arn := createQueueWith(t, cl.SQS, "filter-jobs", nil)
	mapQueue(t, cl.Lambda, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("filter-worker"), EventSourceArn: aws.String(arn),
		FilterCriteria: &types.FilterCriteria{Filters: []types.Filter{{Pattern: aws.String(`{"body":{"input":[{"prefix":"keep"}]}}`)}}}})
	for _, j := range []job{{ID: "a", Input: "keep me"}, {ID: "b", Input: "drop me"}, {ID: "c", Input: "keep too"}} {
		if _, err := cl.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(j.body())}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("not json")}); err != nil {
		t.Fatal(err)
	}
	result(t, cl.S3, "filter-results", "a")
	result(t, cl.S3, "filter-results", "c")
	waitQueueEmpty(t, cl.SQS, url)
	if _, err := cl.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("filter-results"), Key: aws.String("results/b")}); err == nil {
		t.Fatal("a filtered out message reached the function")
	}
	objs, err := cl.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("filter-results"), Prefix: aws.String("records/")})
	if err != nil || len(objs.Contents) != 2 {
		t.Fatalf("the function saw %d records, want 2 (%v)", len(objs.Contents), err)
	}
}

// A mapping outlives its function and its queue, as in Lambda: it stays, leaves the queue's
// messages alone while the function is missing, and resumes once the function exists again.
func TestEventSourceMappingOutlivesItsFunctionAndQueue(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	createWorker(t, cl, "gone-worker", "gone-results", nil)
	url, arn := createQueueWith(t, cl.SQS, "gone-jobs", nil)
	uuid := mapQueue(t, cl.Lambda, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("gone-worker"), EventSourceArn: aws.String(arn)})

	if _, err := cl.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("gone-worker")}); err != nil {
		t.Fatal(err)
	}
	waitMappingState(t, cl.Lambda, uuid, "Enabled")
	if _, err := cl.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(job{ID: "waited", Input: "x"}.body())}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if v, f := queueCounts(t, cl.SQS, url); v != 1 || f != 0 {
		t.Fatalf("with the function gone the queue holds %d visible, %d in flight; want the message left alone", v, f)
	}
	fn := createTestFunction(t, cl.Lambda, "gone-worker", kiritest.GoFunctionZip(t, "./testdata/lambda/sqsworker"), func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"RESULT_BUCKET": "gone-results"}}
	})
	waitActive(t, cl.Lambda, "gone-worker")
	if r := result(t, cl.S3, "gone-results", "waited"); r.Receives != "1" {
		t.Fatalf("the waiting message ran at receive %s: a poller took it while the function was gone", r.Receives)
	}

	if _, err := cl.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	got := waitMappingState(t, cl.Lambda, uuid, "Enabled")
	if aws.ToString(got.FunctionArn) != aws.ToString(fn.FunctionArn) || aws.ToString(got.EventSourceArn) != arn {
		t.Fatalf("mapping after the deletions: %+v", got)
	}
	// SQS refuses the queue's name for 60 seconds: the mapping's resumption with a new queue of
	// the same name is left to the unit tests. A mapping without its queue can still go.
	if _, err := cl.Lambda.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(uuid)}); err != nil {
		t.Fatal(err)
	}
}

// The flow of a web service that queues its work: an HTTP client's request is queued
// (SendMessage), a function consumes it through an event source mapping and writes its result
// to S3, and the client polls S3 for it.
func TestQueuedRequestsAnsweredThroughS3(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	createWorker(t, cl, "req-worker", "req-results", nil)
	url, arn := createQueueWith(t, cl.SQS, "requests", nil)
	mapQueue(t, cl.Lambda, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("req-worker"), EventSourceArn: aws.String(arn)})

	const clients, each = 8, 5
	errs := make(chan error, clients)
	for c := range clients {
		go func() {
			errs <- func() error {
				for i := range each {
					id := fmt.Sprintf("c%d-r%d", c, i)
					input := fmt.Sprintf("request %d of client %d", i, c)
					if _, err := cl.SQS.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(job{ID: id, Input: input}.body())}); err != nil {
						return err
					}
					b, err := pollObject(t.Context(), cl.S3, "req-results", "results/"+id, 20*time.Second)
					if err != nil {
						return fmt.Errorf("%s: %w", id, err)
					}
					var r jobResult
					if err := json.Unmarshal(b, &r); err != nil || r.Output != fmt.Sprintf("REQUEST %d OF CLIENT %d", i, c) {
						return fmt.Errorf("%s: answer %s (%v)", id, b, err)
					}
				}
				return nil
			}()
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	waitQueueEmpty(t, cl.SQS, url)
}
