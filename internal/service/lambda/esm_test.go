package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/pattern"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/runtime"
)

func TestPollersGrowAtLambdasPace(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1_800_000_000, 0)
	cases := []struct {
		name          string
		active, limit int
		since         time.Duration
		want          bool
	}{
		{"to five at once", 3, 1000, 0, true},
		{"beyond five, not before a step", 5, 1000, pollersStep - time.Millisecond, false},
		{"beyond five, one a step", 5, 1000, pollersStep, true},
		{"never past the limit", 10, 10, time.Hour, false},
		{"never past a small limit, even within five", 2, 2, time.Hour, false},
	}
	for _, c := range cases {
		if got := shouldGrow(c.active, c.limit, t0, t0.Add(c.since)); got != c.want {
			t.Errorf("%s: shouldGrow(%d, %d, +%v) = %v", c.name, c.active, c.limit, c.since, got)
		}
	}
	// At 200 ms a step, a minute of steady backlog adds 300 pollers, as Lambda scales.
	active, last, now := pollersBurst, t0, t0
	for now.Before(t0.Add(time.Minute)) {
		now = now.Add(10 * time.Millisecond)
		if shouldGrow(active, pollersMax, last, now) {
			active, last = active+1, now
		}
	}
	if added := active - pollersBurst; added != 300 {
		t.Errorf("a minute of backlog added %d pollers, want 300", added)
	}
}

func TestSQSRecordIsLambdasShape(t *testing.T) {
	t.Parallel()
	standard := `{"MessageId":"m1","ReceiptHandle":"rh","Body":"hi","MD5OfBody":"49f68a5c8493ec2c0bf489821c21fc3b",
		"Attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1","SenderId":"AIDA","ApproximateFirstReceiveTimestamp":"2"}}`
	r, err := sqsRecordOf([]byte(standard), "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"messageId":"m1","receiptHandle":"rh","body":"hi","attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1","SenderId":"AIDA",` +
		`"ApproximateFirstReceiveTimestamp":"2"},"messageAttributes":{},"md5OfMessageAttributes":null,"md5OfBody":"49f68a5c8493ec2c0bf489821c21fc3b",` +
		`"eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:000000000000:q","awsRegion":"us-east-1"}`
	if string(r.json) != want {
		t.Fatalf("standard record\n got %s\nwant %s", r.json, want)
	}
	fifo := `{"MessageId":"m2","ReceiptHandle":"rh2","Body":"x","MD5OfBody":"9dd4e461268c8034f5c8564e155c67a6","MD5OfMessageAttributes":"abc",
		"Attributes":{"ApproximateReceiveCount":"2","SentTimestamp":"1","SenderId":"AIDA","ApproximateFirstReceiveTimestamp":"2",
			"SequenceNumber":"00000000000000000007","MessageGroupId":"g","MessageDeduplicationId":"d"},
		"MessageAttributes":{"s":{"DataType":"String","StringValue":"v"},"b":{"DataType":"Binary","BinaryValue":"AQI="}}}`
	r, err = sqsRecordOf([]byte(fifo), "arn:aws:sqs:us-east-1:000000000000:q.fifo", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	want = `{"messageId":"m2","receiptHandle":"rh2","body":"x","attributes":{"ApproximateReceiveCount":"2","SentTimestamp":"1",` +
		`"SequenceNumber":"00000000000000000007","MessageGroupId":"g","SenderId":"AIDA","MessageDeduplicationId":"d","ApproximateFirstReceiveTimestamp":"2"},` +
		`"messageAttributes":{"b":{"binaryValue":"AQI=","stringListValues":[],"binaryListValues":[],"dataType":"Binary"},` +
		`"s":{"stringValue":"v","stringListValues":[],"binaryListValues":[],"dataType":"String"}},"md5OfMessageAttributes":"abc",` +
		`"md5OfBody":"9dd4e461268c8034f5c8564e155c67a6","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:000000000000:q.fifo","awsRegion":"us-east-1"}`
	if string(r.json) != want {
		t.Fatalf("FIFO record\n got %s\nwant %s", r.json, want)
	}
}

func TestEventChunksFitThePayloadLimit(t *testing.T) {
	t.Parallel()
	rec := func(n int) polledRecord { return polledRecord{json: []byte(strings.Repeat("x", n))} }
	recs := []polledRecord{rec(40), rec(40), rec(40), rec(100)}
	chunks := eventChunks(recs, 100)
	var sizes []int
	for _, c := range chunks {
		if ev := recordsEvent(c); len(ev) > 100 && len(c) > 1 {
			t.Errorf("event of %d records is %d bytes", len(c), len(ev))
		}
		sizes = append(sizes, len(c))
	}
	if !slices.Equal(sizes, []int{1, 1, 1, 1}) && !slices.Equal(sizes, []int{2, 1, 1}) {
		t.Fatalf("chunk sizes %v", sizes)
	}
	if got := eventChunks(recs, 1<<20); len(got) != 1 || len(got[0]) != 4 {
		t.Fatalf("one chunk expected, got %d", len(got))
	}
	two := []polledRecord{{json: []byte(`{"a":1}`)}, {json: []byte(`{"b":2}`)}}
	if ev := recordsEvent(two); string(ev) != `{"Records":[{"a":1},{"b":2}]}` {
		t.Fatalf("event %s", ev)
	}
}

// fakeQueues is an in-memory sqsQueues: queues by ARN with their visibility timeout.
type fakeQueues struct {
	mu      sync.Mutex
	vis     map[string]time.Duration
	deleted []string
	pending [][]json.RawMessage
	// policies are the queues' policies, by ARN.
	policies map[string]*policy.Policy
}

func (f *fakeQueues) QueuePolicy(_ context.Context, arn string) (*policy.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.policies[arn], nil
}

func (f *fakeQueues) PollQueue(_ context.Context, arn string) (bool, time.Duration, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.vis[arn]
	return strings.HasSuffix(arn, ".fifo"), v, ok, nil
}

func (f *fakeQueues) PollMessages(ctx context.Context, arn string, max int, wait, vis time.Duration) ([]json.RawMessage, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) == 0 {
		return nil, true, nil
	}
	b := f.pending[0]
	f.pending = f.pending[1:]
	return b, true, nil
}

func (f *fakeQueues) DeleteMessages(_ context.Context, _ string, handles []string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, handles...)
	return true, nil
}

func (f *fakeQueues) ChangeMessagesVisibility(context.Context, string, []string, time.Duration) (bool, error) {
	return true, nil
}

func (f *fakeQueues) deletes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.deleted)
	slices.Sort(out)
	return out
}

// fakeInvoker answers invocations from a list of outcomes, recording the events.
type fakeInvoker struct {
	mu       sync.Mutex
	outcomes []func() (*runtime.Result, error)
	events   [][]byte
}

func (f *fakeInvoker) Invoke(_ context.Context, _ *runtime.Function, req *runtime.Request) (*runtime.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, req.Payload)
	o := f.outcomes[0]
	if len(f.outcomes) > 1 {
		f.outcomes = f.outcomes[1:]
	}
	return o()
}

const testQueue = "arn:aws:sqs:us-east-1:000000000000:work"

// mappingService is a test service with function f and queue work (visibility 30 s).
func mappingService(t *testing.T) (*Service, context.Context, *fakeQueues, *fakeInvoker) {
	t.Helper()
	s, ctx := testService(t)
	q := &fakeQueues{vis: map[string]time.Duration{testQueue: 30 * time.Second, testQueue + ".fifo": 30 * time.Second}}
	inv := &fakeInvoker{}
	s.deps.Queues, s.deps.Runtime = q, inv
	createFn(t, s, ctx, "f", buildZip(t, zipEntry{"a.py", "def h(e, c): pass", 0o644}))
	if err := s.settleState(ctx, queue.Message{Body: []byte(`{"account":"000000000000","region":"us-east-1","name":"f"}`)}); err != nil {
		t.Fatal(err)
	}
	return s, ctx, q, inv
}

func message(id string, body string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"MessageId": id, "ReceiptHandle": "rh-" + id, "Body": body, "MD5OfBody": "x",
		"Attributes": map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "A", "ApproximateFirstReceiveTimestamp": "1"}})
	return b
}

func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae *awsproto.Error
	if !errors.As(err, &ae) || ae.Code != code || (msg != "" && ae.Message != msg) {
		t.Fatalf("err = %v, want %s: %s", err, code, msg)
	}
}

func TestMappingLifecycleAndErrors(t *testing.T) {
	s, ctx, _, _ := mappingService(t)
	settle := func(uuid string) {
		t.Helper()
		if err := s.settleMapping(ctx, queue.Message{Body: []byte(uuid)}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := s.createEventSourceMapping(ctx, &CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue),
		Tags: map[string]string{"team": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	uuid := *m.UUID
	if *m.State != esmCreating || *m.StateTransitionReason != "USER_INITIATED" || *m.BatchSize != 10 || *m.MaximumBatchingWindowInSeconds != 0 ||
		*m.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:f" || *m.EventSourceMappingArn != mappingARN("000000000000", "us-east-1", uuid) ||
		m.FunctionResponseTypes == nil || len(m.FunctionResponseTypes) != 0 {
		t.Fatalf("created %+v", m)
	}
	_, err = s.createEventSourceMapping(ctx, &CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue)})
	wantAPIError(t, err, codeConflict, `An event source mapping with SQS arn (" `+testQueue+` ") and function (" f ") already exists. Please update or delete the existing mapping with UUID `+uuid)
	_, err = s.deleteEventSourceMapping(ctx, &DeleteEventSourceMappingRequest{UUID: &uuid})
	wantAPIError(t, err, "ResourceInUseException", "Cannot delete the event source mapping because it is in use.")
	_, err = s.updateEventSourceMapping(ctx, &UpdateEventSourceMappingRequest{UUID: &uuid, BatchSize: ptr(int32(5))})
	wantAPIError(t, err, "ResourceInUseException", "Cannot update the event source mapping because it is in use.")

	settle(uuid)
	got, err := s.getEventSourceMapping(ctx, &GetEventSourceMappingRequest{UUID: &uuid})
	if err != nil || *got.State != esmEnabled {
		t.Fatalf("after settling: %+v, %v", got, err)
	}
	up, err := s.updateEventSourceMapping(ctx, &UpdateEventSourceMappingRequest{UUID: &uuid, Enabled: ptr(false),
		FunctionResponseTypes: []string{"ReportBatchItemFailures"}, ScalingConfig: &ScalingConfig{MaximumConcurrency: ptr(int32(3))}})
	if err != nil || *up.State != esmDisabling || up.FunctionResponseTypes[0] != "ReportBatchItemFailures" || *up.ScalingConfig.MaximumConcurrency != 3 {
		t.Fatalf("disable: %+v, %v", up, err)
	}
	settle(uuid)
	got, _ = s.getEventSourceMapping(ctx, &GetEventSourceMappingRequest{UUID: &uuid})
	if *got.State != esmDisabled {
		t.Fatalf("state %s after disabling", *got.State)
	}
	up, err = s.updateEventSourceMapping(ctx, &UpdateEventSourceMappingRequest{UUID: &uuid, Enabled: ptr(true), ScalingConfig: &ScalingConfig{}})
	if err != nil || *up.State != esmEnabling || up.ScalingConfig != nil {
		t.Fatalf("enable: %+v, %v", up, err)
	}
	settle(uuid)
	up, err = s.updateEventSourceMapping(ctx, &UpdateEventSourceMappingRequest{UUID: &uuid, BatchSize: ptr(int32(100)), MaximumBatchingWindowInSeconds: ptr(int32(1))})
	if err != nil || *up.State != esmUpdating || *up.BatchSize != 100 {
		t.Fatalf("update: %+v, %v", up, err)
	}
	settle(uuid)

	// Tags live on the mapping's ARN.
	arn := mappingARN("000000000000", "us-east-1", uuid)
	if _, err := s.tagResource(ctx, &TagResourceRequest{Resource: &arn, Tags: map[string]string{"env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := s.listTags(ctx, &ListTagsRequest{Resource: &arn})
	if err != nil || len(tags.Tags) != 2 || tags.Tags["team"] != "a" || tags.Tags["env"] != "dev" {
		t.Fatalf("tags %v, %v", tags, err)
	}
	if _, err := s.untagResource(ctx, &UntagResourceRequest{Resource: &arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	ghost := mappingARN("000000000000", "us-east-1", "00000000-0000-4000-8000-000000000000")
	_, err = s.listTags(ctx, &ListTagsRequest{Resource: &ghost})
	wantAPIError(t, err, codeNotFound, "Event source mapping not found: "+ghost)

	del, err := s.deleteEventSourceMapping(ctx, &DeleteEventSourceMappingRequest{UUID: &uuid})
	if err != nil || *del.State != esmDeleting {
		t.Fatalf("delete: %+v, %v", del, err)
	}
	settle(uuid)
	_, err = s.getEventSourceMapping(ctx, &GetEventSourceMappingRequest{UUID: &uuid})
	wantAPIError(t, err, codeNotFound, "The resource you requested does not exist.")
	_, err = s.deleteEventSourceMapping(ctx, &DeleteEventSourceMappingRequest{UUID: &uuid})
	wantAPIError(t, err, codeNotFound, "The resource you requested does not exist.")
}

func TestMappingCreateRefusals(t *testing.T) {
	s, ctx, q, _ := mappingService(t)
	q.vis[strings.Replace(testQueue, "us-east-1", "eu-west-1", 1)] = time.Minute
	cases := []struct {
		name string
		in   CreateEventSourceMappingRequest
		code string
		msg  string
	}{
		{"no source", CreateEventSourceMappingRequest{FunctionName: ptr("nope")}, codeInvalidParameter, "Unrecognized event source."},
		{"stream source", CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr("arn:aws:kinesis:us-east-1:000000000000:stream/s")},
			codeInvalidParameter, "Unsupported event source: Kiri's event source mappings read Amazon SQS queues only, not kinesis."},
		{"destination", CreateEventSourceMappingRequest{FunctionName: ptr("nope"), EventSourceArn: ptr(testQueue),
			DestinationConfig: &DestinationConfig{OnSuccess: &OnSuccess{Destination: ptr(testQueue)}}},
			codeInvalidParameter, "Unsupported DestinationConfig parameter for given event source mapping type."},
		{"stream parameter", CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue), StartingPosition: ptr("LATEST")},
			codeInvalidParameter, "Unsupported StartingPosition parameter for given event source mapping type."},
		{"no function", CreateEventSourceMappingRequest{FunctionName: ptr("nope"), EventSourceArn: ptr(testQueue)}, codeInvalidParameter, "Function does not exist"},
		{"no queue", CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue + "2")}, codeInvalidParameter,
			"Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist."},
		{"queue of another region", CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(strings.Replace(testQueue, "us-east-1", "eu-west-1", 1))},
			codeInvalidParameter, "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist."},
		{"big batch without a window", CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue), BatchSize: ptr(int32(11))},
			codeInvalidParameter, "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"},
		{"FIFO batch over ten", CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue + ".fifo"), BatchSize: ptr(int32(11))},
			codeInvalidParameter, "Maximum batch size must be between 1 and 10 inclusive"},
		{"FIFO batching window", CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue + ".fifo"), MaximumBatchingWindowInSeconds: ptr(int32(1))},
			codeInvalidParameter, "Batching window is not supported for FIFO queues."},
		{"invalid filter", CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue),
			FilterCriteria: &FilterCriteria{Filters: []Filter{{Pattern: ptr(`{"body": "x"}`)}}}}, codeInvalidParameter, "Invalid filter pattern definition."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.createEventSourceMapping(ctx, &c.in)
			wantAPIError(t, err, c.code, c.msg)
		})
	}
	if _, err := s.updateFunctionConfiguration(ctx, &UpdateFunctionConfigurationRequest{FunctionName: ptr("f"), Timeout: ptr(int32(60))}); err != nil {
		t.Fatal(err)
	}
	_, err := s.createEventSourceMapping(ctx, &CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue)})
	wantAPIError(t, err, codeInvalidParameter, "Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds")
	var n int
	s.st.QueryRow(ctx, "SELECT COUNT(*) FROM lambda_event_source_mappings").Scan(&n)
	if n != 0 {
		t.Fatalf("%d mappings stored by refused calls", n)
	}
}

func TestListMappingsFiltersAndPages(t *testing.T) {
	s, ctx, q, _ := mappingService(t)
	createFn(t, s, ctx, "g", buildZip(t, zipEntry{"a.py", "x", 0o644}))
	if _, err := s.publishVersion(ctx, &PublishVersionRequest{FunctionName: ptr("g")}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		q.vis[fmt.Sprintf("%s%d", testQueue, i)] = time.Minute
	}
	for i, fn := range []string{"f", "g", "g:1"} {
		if _, err := s.createEventSourceMapping(ctx, &CreateEventSourceMappingRequest{FunctionName: ptr(fn), EventSourceArn: ptr(fmt.Sprintf("%s%d", testQueue, i))}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(in ListEventSourceMappingsRequest) []string {
		t.Helper()
		var got []string
		for {
			out, err := s.listEventSourceMappings(ctx, &in)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.EventSourceMappings {
				got = append(got, *m.FunctionArn)
			}
			if out.NextMarker == nil {
				break
			}
			in.Marker = out.NextMarker
		}
		slices.Sort(got)
		return got
	}
	fa := "arn:aws:lambda:us-east-1:000000000000:function:"
	if got := list(ListEventSourceMappingsRequest{MaxItems: ptr(int32(1))}); !slices.Equal(got, []string{fa + "f", fa + "g", fa + "g:1"}) {
		t.Errorf("all, a page at a time: %v", got)
	}
	if got := list(ListEventSourceMappingsRequest{FunctionName: ptr("g")}); !slices.Equal(got, []string{fa + "g", fa + "g:1"}) {
		t.Errorf("function g: %v", got)
	}
	if got := list(ListEventSourceMappingsRequest{FunctionName: ptr(fa + "g:1")}); !slices.Equal(got, []string{fa + "g:1"}) {
		t.Errorf("version g:1: %v", got)
	}
	if got := list(ListEventSourceMappingsRequest{EventSourceArn: ptr(testQueue + "0")}); !slices.Equal(got, []string{fa + "f"}) {
		t.Errorf("queue 0: %v", got)
	}
	if got := list(ListEventSourceMappingsRequest{FunctionName: ptr("nope")}); len(got) != 0 {
		t.Errorf("unknown function: %v", got)
	}
}

// A batch is deleted when the function succeeds, kept when it fails, and, with
// ReportBatchItemFailures, deleted but for the reported items; filters delete what they drop.
func TestMappingBatchOutcomes(t *testing.T) {
	ok := func(payload string) func() (*runtime.Result, error) {
		return func() (*runtime.Result, error) { return &runtime.Result{Payload: []byte(payload)}, nil }
	}
	failing := func() (*runtime.Result, error) {
		return &runtime.Result{FunctionError: "Unhandled", Payload: []byte(`{"errorMessage":"no"}`)}, nil
	}
	throttled := func() (*runtime.Result, error) { return nil, runtime.ErrThrottled }
	cases := []struct {
		name     string
		report   bool
		filters  []string
		outcomes []func() (*runtime.Result, error)
		deleted  []string
		invokes  int
	}{
		{"success deletes the batch", false, nil, []func() (*runtime.Result, error){ok(`null`)}, []string{"rh-a", "rh-b", "rh-c"}, 1},
		{"a function error keeps the batch", false, nil, []func() (*runtime.Result, error){failing}, nil, 1},
		{"a partial response is ignored without ReportBatchItemFailures", false, nil,
			[]func() (*runtime.Result, error){ok(`{"batchItemFailures":[{"itemIdentifier":"b"}]}`)}, []string{"rh-a", "rh-b", "rh-c"}, 1},
		{"reported failures stay", true, nil, []func() (*runtime.Result, error){ok(`{"batchItemFailures":[{"itemIdentifier":"b"}]}`)}, []string{"rh-a", "rh-c"}, 1},
		{"an invalid report fails the batch", true, nil, []func() (*runtime.Result, error){ok(`{"batchItemFailures":[{"itemIdentifier":""}]}`)}, nil, 1},
		{"a function error fails the batch despite ReportBatchItemFailures", true, nil, []func() (*runtime.Result, error){failing}, nil, 1},
		{"a throttled invocation is retried", false, nil, []func() (*runtime.Result, error){throttled, ok(`{}`)}, []string{"rh-a", "rh-b", "rh-c"}, 2},
		{"filtered out messages are deleted, the rest invoked", false, []string{`{"body":{"keep":[true]}}`},
			[]func() (*runtime.Result, error){failing}, []string{"rh-b"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, ctx, q, inv := mappingService(t)
			inv.outcomes = c.outcomes
			in := &CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue)}
			if c.report {
				in.FunctionResponseTypes = []string{"ReportBatchItemFailures"}
			}
			for _, f := range c.filters {
				in.FilterCriteria = &FilterCriteria{Filters: []Filter{{Pattern: ptr(f)}}}
			}
			cfg, err := s.createEventSourceMapping(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			m, err := loadMapping(s.reader(ctx), "000000000000", "us-east-1", *cfg.UUID)
			if err != nil {
				t.Fatal(err)
			}
			q.pending = [][]json.RawMessage{{message("a", `{"keep":true}`), message("b", `plain`), message("c", `{"keep":true}`)}}
			p := &mappingPoller{s: s, m: *m, log: s.log}
			p.filters, _ = pattern.CompileFilterCriteria(m.Filters)
			tg, vis, ready := p.ready(ctx)
			if !ready || vis != 30*time.Second {
				t.Fatalf("ready = %v, visibility %v", ready, vis)
			}
			recs := p.collect(ctx, vis, time.Second)
			p.process(ctx, tg, recs, time.Now().Add(time.Hour))
			if got := q.deletes(); !slices.Equal(got, c.deleted) {
				t.Errorf("deleted %v, want %v", got, c.deleted)
			}
			if len(inv.events) != c.invokes {
				t.Fatalf("%d invocations, want %d", len(inv.events), c.invokes)
			}
			var ev struct {
				Records []struct{ EventSource, EventSourceARN string }
			}
			if err := json.Unmarshal(inv.events[0], &ev); err != nil {
				t.Fatal(err)
			}
			want := 3
			if c.filters != nil {
				want = 2
			}
			if len(ev.Records) != want || ev.Records[0].EventSource != "aws:sqs" || ev.Records[0].EventSourceARN != testQueue {
				t.Fatalf("event %s", inv.events[0])
			}
		})
	}
}

// A mapping whose queue (or function) is missing pauses, and resumes once it exists again.
func TestMappingPausesWhileItsQueueIsMissing(t *testing.T) {
	s, ctx, q, _ := mappingService(t)
	cfg, err := s.createEventSourceMapping(ctx, &CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue)})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := loadMapping(s.reader(ctx), "000000000000", "us-east-1", *cfg.UUID)
	p := &mappingPoller{s: s, m: *m, log: s.log}
	q.mu.Lock()
	delete(q.vis, testQueue)
	q.mu.Unlock()
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, _, ok := p.ready(short); ok || p.missing != "queue" {
		t.Fatalf("ready without the queue: %v, missing %q", ok, p.missing)
	}
	q.mu.Lock()
	q.vis[testQueue] = time.Minute
	q.mu.Unlock()
	if _, vis, ok := p.ready(ctx); !ok || vis != time.Minute || p.missing != "" {
		t.Fatalf("ready once the queue exists: %v, visibility %v, missing %q", ok, vis, p.missing)
	}
	if _, err := s.deleteFunction(ctx, &DeleteFunctionRequest{FunctionName: ptr("f")}); err != nil {
		t.Fatal(err)
	}
	short, cancel = context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, _, ok := p.ready(short); ok || p.missing != "function" {
		t.Fatalf("ready without the function: %v, missing %q", ok, p.missing)
	}
	if _, err := s.getEventSourceMapping(ctx, &GetEventSourceMappingRequest{UUID: cfg.UUID}); err != nil {
		t.Fatalf("the mapping went with its function: %v", err)
	}
}

// Every parameter SQS mappings refuse names a member of the requests that can carry it.
func TestUnsupportedParametersAreRequestMembers(t *testing.T) {
	t.Parallel()
	create, update := reflect.TypeOf(CreateEventSourceMappingRequest{}), reflect.TypeOf(UpdateEventSourceMappingRequest{})
	for _, name := range unsupportedParameters {
		_, inCreate := create.FieldByName(name)
		_, inUpdate := update.FieldByName(name)
		if !inCreate || !inUpdate {
			t.Errorf("%s: in CreateEventSourceMappingRequest %v, in UpdateEventSourceMappingRequest %v", name, inCreate, inUpdate)
		}
	}
	for _, name := range unsupportedAtCreate {
		if _, ok := create.FieldByName(name); !ok {
			t.Errorf("%s is no member of CreateEventSourceMappingRequest", name)
		}
	}
}
