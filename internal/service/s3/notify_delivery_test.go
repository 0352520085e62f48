package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/edge"
	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// recordingNotifier stands in for SQS in the target registry: it knows one queue and records
// what it is sent.
type recordingNotifier struct {
	mu      sync.Mutex
	events  map[string][][]byte
	sources []dispatch.Source
}

const testQueueARN = "arn:aws:sqs:us-east-1:000000000000:uploads"

// Check accepts the queue for the bucket "photos" only, standing in for a queue policy that
// names the bucket.
func (n *recordingNotifier) Check(ctx context.Context, arn string, src dispatch.Source) error {
	if arn != testQueueARN {
		return dispatch.ErrNoTarget
	}
	if src.ARN != "arn:aws:s3:::photos" || src.Account == "" || src.Principal != "s3.amazonaws.com" {
		return dispatch.ErrTargetDenied
	}
	return nil
}

func (n *recordingNotifier) Deliver(ctx context.Context, d dispatch.Delivery) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events[d.Target] = append(n.events[d.Target], d.Payload)
	n.sources = append(n.sources, d.Source)
	return nil
}

func (n *recordingNotifier) received(arn string) [][]byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([][]byte(nil), n.events[arn]...)
}

// startWithNotifier serves S3 alone, with notifier as its destination services.
func startWithNotifier(t *testing.T, notifier dispatch.Kind) *s3sdk.Client {
	t.Helper()
	ctx := context.Background()
	deps := servicetest.Deps(t)
	deps.Targets.Register("sqs", notifier)
	svc, err := New(ctx, deps)
	if err != nil {
		t.Fatal(err)
	}
	servicetest.Run(t, deps)
	srv := httptest.NewServer(edge.New(edge.Config{
		Router: awsproto.NewRouter(svc.API()), Auth: auth.New(auth.Config{Mode: auth.Dev}),
		Metrics: telemetry.NewMetrics(), Logger: deps.Logger, Frontends: map[string]edge.Frontend{"s3": svc.Frontend()},
	}))
	t.Cleanup(srv.Close)
	return s3sdk.New(s3sdk.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
}

func TestNotificationsDeliveredThroughOutbox(t *testing.T) {
	n := &recordingNotifier{events: map[string][][]byte{}}
	c := startWithNotifier(t, n)
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutBucketNotificationConfiguration(ctx, &s3sdk.PutBucketNotificationConfigurationInput{
		Bucket: aws.String("photos"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			Id: aws.String("thumbs"), QueueArn: aws.String(testQueueARN),
			Events: []s3types.Event{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
				{Name: "prefix", Value: aws.String("photos/")}}}},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitEvents(t, n, 1) // the s3:TestEvent
	var test map[string]string
	json.Unmarshal(n.received(testQueueARN)[0], &test)
	if test["Event"] != "s3:TestEvent" || test["Bucket"] != "photos" {
		t.Fatalf("first delivery %v, want the s3:TestEvent", test)
	}
	n.mu.Lock()
	if src := n.sources[0]; src.ARN != "arn:aws:s3:::photos" || src.Account == "" {
		t.Errorf("delivery source %+v, want the bucket's ARN and owner", src)
	}
	n.mu.Unlock()

	for _, key := range []string{"photos/cat.png", "other/dog.png"} {
		if _, err := c.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(key), Body: bytes.NewReader([]byte("meow"))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("photos/cat.png")}); err != nil {
		t.Fatal(err)
	}
	got := waitEvents(t, n, 3)
	want := []struct{ name, key string }{{"ObjectCreated:Put", "photos/cat.png"}, {"ObjectRemoved:Delete", "photos/cat.png"}}
	var seen []string
	for _, raw := range got[1:] {
		var ev struct {
			Records []struct {
				EventName        string
				ResponseElements map[string]string `json:"responseElements"`
				S3               struct {
					ConfigurationID string `json:"configurationId"`
					Object          struct{ Key, ETag string }
				}
			}
		}
		if err := json.Unmarshal(raw, &ev); err != nil || len(ev.Records) != 1 {
			t.Fatalf("event %s: %v", raw, err)
		}
		r := ev.Records[0]
		if r.S3.ConfigurationID != "thumbs" {
			t.Errorf("configurationId %q", r.S3.ConfigurationID)
		}
		if r.ResponseElements["x-amz-request-id"] == "" {
			t.Errorf("%s event lacks the request id", r.EventName)
		}
		seen = append(seen, r.EventName+" "+r.S3.Object.Key)
	}
	for _, w := range want {
		found := false
		for _, s := range seen {
			found = found || s == w.name+" "+w.key
		}
		if !found {
			t.Errorf("no %s event for %s; got %v", w.name, w.key, seen)
		}
	}
}

func TestNotificationDestinationMustExist(t *testing.T) {
	n := &recordingNotifier{events: map[string][][]byte{}}
	c := startWithNotifier(t, n)
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutBucketNotificationConfiguration(ctx, &s3sdk.PutBucketNotificationConfigurationInput{
		Bucket: aws.String("photos"),
		NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
			QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:missing"), Events: []s3types.Event{"s3:ObjectCreated:*"}}}},
	})
	if err == nil {
		t.Fatal("configuration with a missing queue accepted")
	}
	out, err := c.GetBucketNotificationConfiguration(ctx, &s3sdk.GetBucketNotificationConfigurationInput{Bucket: aws.String("photos")})
	if err != nil || len(out.QueueConfigurations) != 0 {
		t.Fatalf("refused configuration was stored: %+v %v", out, err)
	}
}

func waitEvents(t *testing.T, n *recordingNotifier, count int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := n.received(testQueueARN)
		if len(got) >= count {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events delivered, want %d", len(got), count)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDestinationsWithoutADeliveringServiceAreRefused checks that a destination no service
// delivers to (here a topic, and EventBridge) is refused with S3's InvalidArgument details even
// when validation is skipped, while skipping still lets a deliverable queue through unchecked.
func TestDestinationsWithoutADeliveringServiceAreRefused(t *testing.T) {
	ctx := context.Background()
	deps := servicetest.Deps(t)
	deps.Targets.Register("sqs", &recordingNotifier{events: map[string][][]byte{}})
	svc, err := New(ctx, deps)
	if err != nil {
		t.Fatal(err)
	}
	src := dispatch.Source{Principal: s3Principal, ARN: "arn:aws:s3:::other", Account: "000000000000", Region: "us-east-1"}
	const topic = "arn:aws:sns:us-east-1:000000000000:alerts"
	rules := []notifyRule{{Destination: testQueueARN}, {Destination: topic}, {Destination: eventBridgeDestination}}
	for _, skip := range []bool{false, true} {
		err := svc.validateDestinations(ctx, src, rules, skip)
		var ae *awsproto.Error
		if !errors.As(err, &ae) || ae.Code != "InvalidArgument" || ae.Message != "Unable to validate the following destination configurations" {
			t.Fatalf("skip=%v: err = %v", skip, err)
		}
		want := map[string]string{
			"ArgumentName1":  topic + ", null",
			"ArgumentValue1": "Permissions on the destination topic do not allow S3 to publish notifications from this bucket",
			"ArgumentName2":  "EventBridgeConfiguration, null",
			"ArgumentValue2": "EventBridge is not available to deliver this bucket's events",
		}
		if !skip {
			// The queue exists but its policy does not name this bucket.
			want = map[string]string{
				"ArgumentName1":  testQueueARN + ", null",
				"ArgumentValue1": "Permissions on the destination queue do not allow S3 to publish notifications from this bucket",
				"ArgumentName2":  topic + ", null",
				"ArgumentValue2": want["ArgumentValue1"],
				"ArgumentName3":  want["ArgumentName2"],
				"ArgumentValue3": want["ArgumentValue2"],
			}
		}
		if !maps.Equal(ae.Fields, want) {
			t.Errorf("skip=%v: fields %v, want %v", skip, ae.Fields, want)
		}
	}
	if err := svc.validateDestinations(ctx, src, rules[:1], true); err != nil {
		t.Errorf("a deliverable queue with validation skipped: %v", err)
	}
}
