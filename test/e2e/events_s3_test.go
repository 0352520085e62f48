package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestS3EventsToEventBridge turns on a bucket's EventBridge notifications: creations and
// deletions go to the default bus as "Object Created" and "Object Deleted" events in AWS's
// shape, where a rule on aws.s3 sends them to a queue.
func TestS3EventsToEventBridge(t *testing.T) {
	t.Parallel()
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	ctx := t.Context()
	url, queueARN := createQueue(t, cl.SQS, "s3-events")
	putRuleWithTargets(t, cl.Events, "", "uploads", `{"source":["aws.s3"],"detail":{"bucket":{"name":["photos"]}}}`,
		ebtypes.Target{Id: aws.String("q"), Arn: aws.String(queueARN)})
	if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("photos"),
		NotificationConfiguration: &s3types.NotificationConfiguration{EventBridgeConfiguration: &s3types.EventBridgeConfiguration{}}}); err != nil {
		t.Fatal(err)
	}
	got, err := cl.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("photos")})
	if err != nil || got.EventBridgeConfiguration == nil {
		t.Fatalf("GetBucketNotificationConfiguration = %+v, %v", got, err)
	}
	if _, err := cl.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("cats/a b.jpg"), Body: strings.NewReader("hello")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("cats/a b.jpg")}); err != nil {
		t.Fatal(err)
	}
	type event struct {
		Version, ID, Source, Account, Region, Time string
		DetailType                                 string `json:"detail-type"`
		Resources                                  []string
		Detail                                     struct {
			Version string
			Bucket  struct{ Name string }
			Object  struct {
				Key, ETag, Sequencer string
				Size                 *int64
			}
			RequestID    string `json:"request-id"`
			Requester    string
			Reason       string
			DeletionType string `json:"deletion-type"`
		}
	}
	byType := map[string]event{}
	for _, m := range receiveAll(t, cl.SQS, url, 2, 10*time.Second) {
		var e event
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &e); err != nil {
			t.Fatal(err)
		}
		byType[e.DetailType] = e
	}
	created, deleted := byType["Object Created"], byType["Object Deleted"]
	if created.Source != "aws.s3" || created.Account != "000000000000" || created.Region != "us-east-1" || created.Version != "0" ||
		len(created.Resources) != 1 || created.Resources[0] != "arn:aws:s3:::photos" || created.Detail.Bucket.Name != "photos" ||
		created.Detail.Object.Key != "cats/a b.jpg" || created.Detail.Object.Size == nil || *created.Detail.Object.Size != 5 ||
		created.Detail.Object.ETag != "5d41402abc4b2a76b9719d911017c592" || created.Detail.Reason != "PutObject" ||
		created.Detail.RequestID == "" || created.Detail.Requester != "000000000000" || created.Detail.Object.Sequencer == "" {
		t.Errorf("Object Created = %+v", created)
	}
	if deleted.Detail.Reason != "DeleteObject" || deleted.Detail.DeletionType != "Permanently Deleted" ||
		deleted.Detail.Object.Key != "cats/a b.jpg" || deleted.Detail.Object.Size != nil {
		t.Errorf("Object Deleted = %+v", deleted)
	}
}
