package s3

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func TestNotifyRulesValidation(t *testing.T) {
	queue := func(events []string, rules ...FilterRule) QueueConfiguration {
		c := QueueConfiguration{QueueArn: awsproto.Ptr("arn:aws:sqs:us-east-1:000000000000:q"), Events: events}
		if len(rules) > 0 {
			c.Filter = &NotificationConfigurationFilter{Key: &S3KeyFilter{FilterRules: rules}}
		}
		return c
	}
	rule := func(name, value string) FilterRule { return FilterRule{Name: &name, Value: &value} }
	cases := []struct {
		name    string
		cfg     NotificationConfiguration
		wantErr bool
	}{
		{"empty configuration", NotificationConfiguration{}, false},
		{"created and removed events", NotificationConfiguration{QueueConfigurations: []QueueConfiguration{queue([]string{"s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"})}}, false},
		{"unknown event", NotificationConfiguration{QueueConfigurations: []QueueConfiguration{queue([]string{"s3:ObjectEaten:*"})}}, true},
		{"no events", NotificationConfiguration{QueueConfigurations: []QueueConfiguration{queue(nil)}}, true},
		{"prefix and suffix", NotificationConfiguration{QueueConfigurations: []QueueConfiguration{queue([]string{"s3:ObjectCreated:*"}, rule("Prefix", "photos/"), rule("suffix", ".png"))}}, false},
		{"two prefix rules", NotificationConfiguration{QueueConfigurations: []QueueConfiguration{queue([]string{"s3:ObjectCreated:*"}, rule("prefix", "a"), rule("prefix", "b"))}}, true},
		{"unknown filter rule", NotificationConfiguration{QueueConfigurations: []QueueConfiguration{queue([]string{"s3:ObjectCreated:*"}, rule("middle", "a"))}}, true},
		{"overlapping configurations", NotificationConfiguration{QueueConfigurations: []QueueConfiguration{
			queue([]string{"s3:ObjectCreated:*"}, rule("prefix", "photos/")), queue([]string{"s3:ObjectCreated:Put"}, rule("prefix", "photos/cats/"))}}, true},
		{"disjoint prefixes do not overlap", NotificationConfiguration{QueueConfigurations: []QueueConfiguration{
			queue([]string{"s3:ObjectCreated:*"}, rule("prefix", "photos/")), queue([]string{"s3:ObjectCreated:*"}, rule("prefix", "videos/"))}}, false},
		{"different events do not overlap", NotificationConfiguration{QueueConfigurations: []QueueConfiguration{
			queue([]string{"s3:ObjectCreated:*"}), queue([]string{"s3:ObjectRemoved:*"})}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := notifyRules(&tc.cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			var ae *awsproto.Error
			if err != nil && (!errors.As(err, &ae) || ae.Code != "InvalidArgument") {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
			for _, r := range rules {
				if r.ID == "" {
					t.Fatal("rule without an id")
				}
			}
		})
	}
}

func TestRuleMatches(t *testing.T) {
	r := notifyRule{Events: []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:DeleteMarkerCreated"}, Prefix: "photos/", Suffix: ".png"}
	cases := []struct {
		event, key string
		want       bool
	}{
		{"ObjectCreated:Put", "photos/cat.png", true},
		{"ObjectCreated:CompleteMultipartUpload", "photos/a/b.png", true},
		{"ObjectRemoved:DeleteMarkerCreated", "photos/cat.png", true},
		{"ObjectRemoved:Delete", "photos/cat.png", false},
		{"ObjectCreated:Put", "videos/cat.png", false},
		{"ObjectCreated:Put", "photos/cat.jpg", false},
	}
	for _, tc := range cases {
		if got := ruleMatches(r, tc.event, tc.key); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.event, tc.key, got, tc.want)
		}
	}
}

func TestEventJSONShape(t *testing.T) {
	req := httptest.NewRequest("PUT", "/b/k", nil)
	req.RemoteAddr = "127.0.0.1:5555"
	ctx := awsproto.WithCall(context.Background(), &awsproto.Call{RequestID: "req-1", AccountID: "000000000000", UserID: "AIDAEXAMPLE", Request: req})
	b := bucket{Name: "photos-bucket", Account: "000000000000", Region: "eu-west-1"}
	created := &object{Key: "photos/my cat+1.png", Size: 1024, ETag: `"d41d8cd98f00b204e9800998ecf8427e"`, VersionID: "null", Seq: 3,
		LastModified: time.Unix(1700000000, 0)}
	raw, err := eventJSON(ctx, b, "cfg-1", "ObjectCreated:Put", created, time.Unix(1700000000, 123e6))
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Records []map[string]any
	}
	if err := json.Unmarshal(raw, &ev); err != nil || len(ev.Records) != 1 {
		t.Fatalf("%s: %v", raw, err)
	}
	r := ev.Records[0]
	s3 := r["s3"].(map[string]any)
	obj := s3["object"].(map[string]any)
	checks := map[string]any{
		"eventVersion": r["eventVersion"], "eventSource": r["eventSource"], "eventName": r["eventName"],
		"awsRegion": r["awsRegion"], "eventTime": r["eventTime"], "configurationId": s3["configurationId"],
		"bucket": s3["bucket"].(map[string]any)["name"], "bucketArn": s3["bucket"].(map[string]any)["arn"],
		"key": obj["key"], "size": obj["size"], "eTag": obj["eTag"], "requestId": r["responseElements"].(map[string]any)["x-amz-request-id"],
		"source": r["requestParameters"].(map[string]any)["sourceIPAddress"], "principal": r["userIdentity"].(map[string]any)["principalId"],
	}
	want := map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "awsRegion": "eu-west-1",
		"eventTime": "2023-11-14T22:13:20.123Z", "configurationId": "cfg-1", "bucket": "photos-bucket",
		"bucketArn": "arn:aws:s3:::photos-bucket", "key": "photos/my+cat%2B1.png", "size": float64(1024),
		"eTag": "d41d8cd98f00b204e9800998ecf8427e", "requestId": "req-1", "source": "127.0.0.1", "principal": "AWS:AIDAEXAMPLE",
	}
	for k, v := range want {
		if checks[k] != v {
			t.Errorf("%s = %v, want %v", k, checks[k], v)
		}
	}
	if _, ok := obj["versionId"]; ok {
		t.Error("unversioned object has a versionId")
	}
	if obj["sequencer"] == "" {
		t.Error("no sequencer")
	}
	removed, _ := eventJSON(ctx, b, "cfg-1", "ObjectRemoved:Delete", &object{Key: "k", VersionID: "v1"}, time.Now())
	if json.Unmarshal(removed, &ev); ev.Records[0]["s3"].(map[string]any)["object"].(map[string]any)["size"] != nil {
		t.Error("a removal event carries a size")
	}
}
