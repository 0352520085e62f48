package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// createTopic creates a topic and returns its ARN.
func createTopic(t *testing.T, c *sns.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	return aws.ToString(out.TopicArn)
}

// subscribe subscribes an endpoint and returns the subscription ARN.
func subscribe(t *testing.T, c *sns.Client, topic, protocol, endpoint string, attrs map[string]string) string {
	t.Helper()
	out, err := c.Subscribe(t.Context(), &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String(protocol),
		Endpoint: aws.String(endpoint), Attributes: attrs, ReturnSubscriptionArn: true})
	if err != nil {
		t.Fatalf("subscribe %s %s: %v", protocol, endpoint, err)
	}
	return aws.ToString(out.SubscriptionArn)
}

func topicAttributes(t *testing.T, c *sns.Client, topic string) map[string]string {
	t.Helper()
	out, err := c.GetTopicAttributes(t.Context(), &sns.GetTopicAttributesInput{TopicArn: aws.String(topic)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes
}

func subscriptionAttributes(t *testing.T, c *sns.Client, sub string) map[string]string {
	t.Helper()
	out, err := c.GetSubscriptionAttributes(t.Context(), &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(sub)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes
}

// TestSNSTopics covers creating (idempotently), reading, changing, listing and deleting
// topics, with SNS's errors.
func TestSNSTopics(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SNS
	ctx := t.Context()
	arn := createTopic(t, c, "orders", map[string]string{"DisplayName": "Orders"})
	if arn != "arn:aws:sns:us-east-1:000000000000:orders" {
		t.Fatalf("TopicArn = %s", arn)
	}
	// Creating it again with the same attributes, or none, returns the same topic.
	if again := createTopic(t, c, "orders", nil); again != arn {
		t.Fatalf("second CreateTopic = %s", again)
	}
	if again := createTopic(t, c, "orders", map[string]string{"DisplayName": "Orders", "FifoTopic": "false"}); again != arn {
		t.Fatalf("third CreateTopic = %s", again)
	}
	_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders"), Attributes: map[string]string{"DisplayName": "Other"}})
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
	_, err = c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("orders"), Attributes: map[string]string{"SignatureVersion": "2"}})
	wantAPIError(t, err, "InvalidParameter", "Topic already exists with different attributes")

	for _, bad := range []struct {
		name  string
		attrs map[string]string
	}{
		{"", nil}, {string(make([]byte, 257)), nil}, {"bad:name", nil}, {"bad name", nil}, {"plain.fifo", nil},
		{"not-fifo", map[string]string{"FifoTopic": "true"}},
	} {
		_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(bad.name), Attributes: bad.attrs})
		wantAPIError(t, err, "InvalidParameter", "Invalid parameter: Topic Name")
	}
	_, err = c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("x"), Attributes: map[string]string{"Nonsense": "1"}})
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: AttributeName")
	_, err = c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("x"), Attributes: map[string]string{"HTTPSuccessFeedbackRoleArn": "arn:aws:iam::000000000000:role/r"}})
	wantAPIError(t, err, "InvalidParameter", "Kiri does not log delivery status")

	attrs := topicAttributes(t, c, arn)
	for k, want := range map[string]string{
		"DisplayName": "Orders", "Owner": "000000000000", "TopicArn": arn,
		"SubscriptionsConfirmed": "0", "SubscriptionsPending": "0", "SubscriptionsDeleted": "0",
	} {
		if attrs[k] != want {
			t.Errorf("%s = %q, want %q", k, attrs[k], want)
		}
	}
	var policy struct{ Statement []struct{ Resource string } }
	if err := json.Unmarshal([]byte(attrs["Policy"]), &policy); err != nil || len(policy.Statement) != 1 || policy.Statement[0].Resource != arn {
		t.Errorf("default Policy = %s", attrs["Policy"])
	}
	var eff struct {
		HTTP struct {
			DefaultHealthyRetryPolicy struct{ NumRetries, MinDelayTarget int }
			DefaultRequestPolicy      struct{ HeaderContentType string }
		} `json:"http"`
	}
	if err := json.Unmarshal([]byte(attrs["EffectiveDeliveryPolicy"]), &eff); err != nil || eff.HTTP.DefaultHealthyRetryPolicy.NumRetries != 3 ||
		eff.HTTP.DefaultHealthyRetryPolicy.MinDelayTarget != 20 || eff.HTTP.DefaultRequestPolicy.HeaderContentType != "text/plain; charset=UTF-8" {
		t.Errorf("EffectiveDeliveryPolicy = %s", attrs["EffectiveDeliveryPolicy"])
	}
	for _, k := range []string{"FifoTopic", "SignatureVersion", "KmsMasterKeyId"} {
		if _, ok := attrs[k]; ok {
			t.Errorf("a standard topic shows %s", k)
		}
	}

	set := func(name, value string) error {
		_, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String(name), AttributeValue: aws.String(value)})
		return err
	}
	for name, value := range map[string]string{
		"SignatureVersion": "2", "KmsMasterKeyId": "alias/aws/sns", "TracingConfig": "Active",
		"DeliveryPolicy": `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":10,"numRetries":4,"backoffFunction":"exponential"}}}`,
	} {
		if err := set(name, value); err != nil {
			t.Fatalf("set %s: %v", name, err)
		}
	}
	attrs = topicAttributes(t, c, arn)
	if attrs["SignatureVersion"] != "2" || attrs["KmsMasterKeyId"] != "alias/aws/sns" || attrs["TracingConfig"] != "Active" {
		t.Errorf("attributes after set: %v", attrs)
	}
	if err := json.Unmarshal([]byte(attrs["EffectiveDeliveryPolicy"]), &eff); err != nil || eff.HTTP.DefaultHealthyRetryPolicy.NumRetries != 4 {
		t.Errorf("EffectiveDeliveryPolicy after set = %s", attrs["EffectiveDeliveryPolicy"])
	}
	wantAPIError(t, set("FifoTopic", "true"), "InvalidParameter", "Invalid parameter: AttributeName")
	wantAPIError(t, set("SignatureVersion", "3"), "InvalidParameter", "Invalid parameter: SignatureVersion")
	wantAPIError(t, set("ContentBasedDeduplication", "true"), "InvalidParameter", "ContentBasedDeduplication")
	wantAPIError(t, set("DeliveryPolicy", `{"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}}`), "InvalidParameter", "Invalid parameter: DeliveryPolicy: ")
	wantAPIError(t, set("DeliveryPolicy", `{"sqs":{}}`), "InvalidParameter", "Delivery protocol [sqs] does not support delivery policies")
	wantAPIError(t, set("Policy", "{not json"), "InvalidParameter", "Invalid parameter: Policy")

	// FIFO topics.
	fifo := createTopic(t, c, "orders.fifo", map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"})
	attrs = topicAttributes(t, c, fifo)
	if attrs["FifoTopic"] != "true" || attrs["ContentBasedDeduplication"] != "true" {
		t.Errorf("FIFO topic attributes: %v", attrs)
	}

	// Errors naming topics.
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:missing")})
	wantAPIError(t, err, "NotFound", "Topic does not exist")
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("orders")})
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1")
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("arn:aws:sns:eu-west-1:000000000000:orders")})
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: TopicArn")

	// Deleting is idempotent and takes the topic's subscriptions with it.
	if _, err := c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(fifo)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(fifo)}); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(fifo)})
	wantAPIError(t, err, "NotFound", "Topic does not exist")
}

// TestSNSListTopicsPages lists more topics than one page holds.
func TestSNSListTopicsPages(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SNS
	want := map[string]bool{}
	for i := range 205 {
		want[createTopic(t, c, fmt.Sprintf("t-%03d", i), nil)] = true
	}
	var pages []int
	got := map[string]bool{}
	p := sns.NewListTopicsPaginator(c, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(out.Topics))
		for _, tp := range out.Topics {
			got[aws.ToString(tp.TopicArn)] = true
		}
	}
	if fmt.Sprint(pages) != "[100 100 5]" || len(got) != len(want) {
		t.Fatalf("pages %v, %d topics, want [100 100 5] and %d", pages, len(got), len(want))
	}
	_, err := c.ListTopics(t.Context(), &sns.ListTopicsInput{NextToken: aws.String("!!")})
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: NextToken")
}

// TestSNSSubscriptions covers subscribing, reading and changing subscription attributes,
// listing with pages, and unsubscribing, with SNS's errors.
func TestSNSSubscriptions(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	c := cl.SNS
	ctx := t.Context()
	topic := createTopic(t, c, "events", nil)
	_, queueARN := createQueue(t, cl.SQS, "events-q")
	_, dlqARN := createQueue(t, cl.SQS, "events-dlq")

	sub := subscribe(t, c, topic, "sqs", queueARN, map[string]string{"RawMessageDelivery": "TRUE"})
	attrs := subscriptionAttributes(t, c, sub)
	for k, want := range map[string]string{
		"Protocol": "sqs", "Endpoint": queueARN, "TopicArn": topic, "SubscriptionArn": sub, "Owner": "000000000000",
		"PendingConfirmation": "false", "ConfirmationWasAuthenticated": "true", "RawMessageDelivery": "true",
	} {
		if attrs[k] != want {
			t.Errorf("%s = %q, want %q", k, attrs[k], want)
		}
	}
	if _, ok := attrs["FilterPolicyScope"]; ok {
		t.Error("FilterPolicyScope shown without a FilterPolicy")
	}
	// Subscribing the same endpoint again returns the same subscription, unless attributes differ.
	if again := subscribe(t, c, topic, "sqs", queueARN, map[string]string{"RawMessageDelivery": "true"}); again != sub {
		t.Fatalf("second Subscribe = %s, want %s", again, sub)
	}
	_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN),
		Attributes: map[string]string{"RawMessageDelivery": "false"}})
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
	if got := topicAttributes(t, c, topic)["SubscriptionsConfirmed"]; got != "1" {
		t.Errorf("SubscriptionsConfirmed = %s, want 1", got)
	}

	subErr := func(protocol, endpoint string, attrs map[string]string) error {
		_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String(protocol), Endpoint: aws.String(endpoint), Attributes: attrs})
		return err
	}
	wantAPIError(t, subErr("carrier-pigeon", "x", nil), "InvalidParameter", "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon")
	for _, p := range []string{"email", "email-json", "sms", "application", "firehose"} {
		wantAPIError(t, subErr(p, "someone@example.com", nil), "InvalidParameter", "Invalid parameter: Protocol Reason: Kiri does not deliver to "+p+" endpoints")
	}
	wantAPIError(t, subErr("sqs", "http://127.0.0.1:4566/000000000000/events-q", nil), "InvalidParameter", "Invalid parameter: SQS endpoint ARN")
	wantAPIError(t, subErr("sqs", "arn:aws:sqs:us-east-1:111122223333:elsewhere", nil), "InvalidParameter", "Kiri delivers only to endpoints of the topic's account")
	wantAPIError(t, subErr("sqs", "arn:aws:sqs:us-east-1:000000000000:q.fifo", nil), "InvalidParameter", "FIFO SQS Queues can not be subscribed to standard SNS topics")
	wantAPIError(t, subErr("http", "https://example.com/", nil), "InvalidParameter", "Invalid parameter: Endpoint must match the specified protocol")
	wantAPIError(t, subErr("lambda", "arn:aws:lambda:us-east-1:000000000000:function:f", map[string]string{"RawMessageDelivery": "true"}),
		"InvalidParameter", "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw message delivery.")
	wantAPIError(t, subErr("sqs", queueARN+"x", map[string]string{"RawMessageDelivery": "wrongvalue"}),
		"InvalidParameter", "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false.")
	wantAPIError(t, subErr("sqs", queueARN+"x", map[string]string{"FilterPolicy": `{"a": "b"}`}),
		"InvalidParameter", "Invalid parameter: Attributes Reason: FilterPolicy: ")
	wantAPIError(t, subErr("sqs", queueARN+"x", map[string]string{"FilterPolicy": `{"a": {"b": ["c"]}}`}),
		"InvalidParameter", "Invalid parameter: Attributes Reason: Filter policy scope MessageAttributes does not support nested filter policy")

	setSub := func(name, value string) error {
		_, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(sub),
			AttributeName: aws.String(name), AttributeValue: aws.String(value)})
		return err
	}
	if err := setSub("FilterPolicy", `{"color": ["red", {"prefix": "bl"}], "size": [{"numeric": [">", 3]}]}`); err != nil {
		t.Fatal(err)
	}
	if err := setSub("RedrivePolicy", `{"deadLetterTargetArn": "`+dlqARN+`"}`); err != nil {
		t.Fatal(err)
	}
	attrs = subscriptionAttributes(t, c, sub)
	if attrs["FilterPolicyScope"] != "MessageAttributes" || attrs["RedrivePolicy"] == "" || attrs["FilterPolicy"] == "" {
		t.Errorf("attributes after set: %v", attrs)
	}
	wantAPIError(t, setSub("Nonsense", "x"), "InvalidParameter", "Invalid parameter: AttributeName")
	wantAPIError(t, setSub("RawMessageDelivery", "test-ValUe"), "InvalidParameter", "Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false.")
	wantAPIError(t, setSub("RedrivePolicy", `{"deadLetterTargetArn": "fake"}`), "InvalidParameter", "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn")
	wantAPIError(t, setSub("RedrivePolicy", `{bad`), "InvalidParameter", "Invalid parameter: RedrivePolicy: failed to parse JSON.")
	wantAPIError(t, setSub("FilterPolicy", `{bad`), "InvalidParameter", "Invalid parameter: FilterPolicy: failed to parse JSON.")
	wantAPIError(t, setSub("FilterPolicyScope", "Everything"), "InvalidParameter", "Invalid parameter: FilterPolicyScope: Invalid value [Everything]. Please use either MessageBody or MessageAttributes")
	wantAPIError(t, setSub("DeliveryPolicy", `{"healthyRetryPolicy":{"numRetries":1}}`), "InvalidParameter", "Invalid parameter: DeliveryPolicy: Delivery protocol [sqs] does not support delivery policies.")
	if err := setSub("FilterPolicyScope", "MessageBody"); err != nil {
		t.Fatal(err)
	}
	if err := setSub("FilterPolicy", ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := subscriptionAttributes(t, c, sub)["FilterPolicy"]; ok {
		t.Error("FilterPolicy kept after it was set to empty")
	}
	_, err = c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(topic + ":00000000-0000-4000-8000-000000000000")})
	wantAPIError(t, err, "NotFound", "Subscription does not exist")

	// Unsubscribe checks the ARN's form and is idempotent.
	unsub := func(arn string) error {
		_, err := c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(arn)})
		return err
	}
	wantAPIError(t, unsub("randomstring"), "InvalidParameter", "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1")
	wantAPIError(t, unsub("arn:aws:sns:us-east-1:000000000000:random"), "InvalidParameter", "Invalid parameter: SubscriptionId")
	if err := unsub(sub); err != nil {
		t.Fatal(err)
	}
	if err := unsub(sub); err != nil {
		t.Fatalf("unsubscribing again: %v", err)
	}
	attrs = topicAttributes(t, c, topic)
	if attrs["SubscriptionsConfirmed"] != "0" || attrs["SubscriptionsDeleted"] != "1" {
		t.Errorf("counts after unsubscribe: %v", attrs)
	}
}

// TestSNSListSubscriptionsPages lists subscriptions of an account and of a topic in pages of 100.
func TestSNSListSubscriptionsPages(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SNS
	a := createTopic(t, c, "a", nil)
	b := createTopic(t, c, "b", nil)
	var wantA []string
	for i := range 130 {
		wantA = append(wantA, subscribe(t, c, a, "sqs", fmt.Sprintf("arn:aws:sqs:us-east-1:000000000000:q%d", i), nil))
	}
	subscribe(t, c, b, "sqs", "arn:aws:sqs:us-east-1:000000000000:other", nil)
	pending, err := c.Subscribe(t.Context(), &sns.SubscribeInput{TopicArn: aws.String(b), Protocol: aws.String("http"), Endpoint: aws.String("http://127.0.0.1:1/never")})
	if err != nil || aws.ToString(pending.SubscriptionArn) != "pending confirmation" {
		t.Fatalf("http Subscribe = %v, %v", aws.ToString(pending.SubscriptionArn), err)
	}

	var all []snstypes.Subscription
	var pages []int
	p := sns.NewListSubscriptionsPaginator(c, &sns.ListSubscriptionsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(out.Subscriptions))
		all = append(all, out.Subscriptions...)
	}
	if fmt.Sprint(pages) != "[100 32]" {
		t.Fatalf("ListSubscriptions pages %v, want [100 32]", pages)
	}
	if last := all[len(all)-1]; aws.ToString(last.SubscriptionArn) != "PendingConfirmation" || aws.ToString(last.Protocol) != "http" {
		t.Errorf("pending subscription listed as %+v", last)
	}

	var gotA []string
	pt := sns.NewListSubscriptionsByTopicPaginator(c, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(a)})
	for pt.HasMorePages() {
		out, err := pt.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range out.Subscriptions {
			if aws.ToString(s.TopicArn) != a {
				t.Fatalf("subscription of another topic listed: %+v", s)
			}
			gotA = append(gotA, aws.ToString(s.SubscriptionArn))
		}
	}
	sort.Strings(gotA)
	sort.Strings(wantA)
	if fmt.Sprint(gotA) != fmt.Sprint(wantA) {
		t.Fatalf("ListSubscriptionsByTopic listed %d subscriptions, want %d", len(gotA), len(wantA))
	}
	if got := topicAttributes(t, c, b)["SubscriptionsPending"]; got != "1" {
		t.Errorf("SubscriptionsPending = %s, want 1", got)
	}
	_, err = c.ListSubscriptionsByTopic(t.Context(), &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(a + "x")})
	wantAPIError(t, err, "NotFound", "Topic does not exist")
}

// TestSNSTags tags and untags topics.
func TestSNSTags(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SNS
	ctx := t.Context()
	arn := createTopic(t, c, "tagged", nil)
	tag := func(k, v string) snstypes.Tag { return snstypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	list := func() string {
		out, err := c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		s := ""
		for _, tg := range out.Tags {
			s += aws.ToString(tg.Key) + "=" + aws.ToString(tg.Value) + ";"
		}
		return s
	}
	if _, err := c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(arn), Tags: []snstypes.Tag{tag("k1", "v1"), tag("k2", "v2")}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(arn), Tags: []snstypes.Tag{tag("k1", "a"), tag("k1", "b")}})
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: Duplicated keys are not allowed.")
	if _, err := c.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"k1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(arn), Tags: []snstypes.Tag{tag("k2", "v2b")}}); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "k2=v2b;" {
		t.Fatalf("tags = %s", got)
	}
	// CreateTopic of the existing topic with tags it does not have is refused.
	_, err = c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("tagged"), Tags: []snstypes.Tag{tag("k3", "v3")}})
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: Tags Reason: Topic already exists with different tags")
	many := make([]snstypes.Tag, 50)
	for i := range many {
		many[i] = tag(fmt.Sprintf("key%d", i), "v")
	}
	_, err = c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(arn), Tags: many})
	wantAPIError(t, err, "TagLimitExceeded", "tag quota of per resource exceeded")
	_, err = c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(arn + "-missing")})
	wantAPIError(t, err, "ResourceNotFound", "Resource does not exist")
}
