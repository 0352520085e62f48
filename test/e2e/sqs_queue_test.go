package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// sqsQueue creates a queue and returns its URL.
func sqsQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// sqsAttributes returns the named attributes of a queue.
func sqsAttributes(t *testing.T, c *sqs.Client, u string, names ...types.QueueAttributeName) map[string]string {
	t.Helper()
	out, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: names})
	if err != nil {
		t.Fatalf("get queue attributes: %v", err)
	}
	return out.Attributes
}

// TestSQSCreateQueue covers CreateQueue's rules: attributes and tags at creation, the same
// request again returns the queue, different attributes are refused, names are checked, and
// GetQueueUrl finds the queue in the caller's account.
func TestSQSCreateQueue(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	attrs := map[string]string{"VisibilityTimeout": "45", "DelaySeconds": "2", "MessageRetentionPeriod": "3600"}
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders"), Attributes: attrs, Tags: map[string]string{"team": "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	u := aws.ToString(out.QueueUrl)
	if want := srv.URL + "/000000000000/orders"; u != want {
		t.Fatalf("queue URL %s, want %s (the host the client used)", u, want)
	}
	again, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders"), Attributes: map[string]string{"VisibilityTimeout": "45"}})
	if err != nil || aws.ToString(again.QueueUrl) != u {
		t.Fatalf("creating the queue again with matching attributes: %v %v", again, err)
	}
	if _, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders")}); err != nil {
		t.Fatalf("creating the queue again without attributes: %v", err)
	}
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders"), Attributes: map[string]string{"DelaySeconds": "3"}})
	wantAPIError(t, err, "QueueAlreadyExists", "A queue already exists with the same name and a different value for attribute DelaySeconds")
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) {
		t.Errorf("the SDK did not see QueueNameExists: %T", err)
	}

	got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders")})
	if err != nil || aws.ToString(got.QueueUrl) != u {
		t.Fatalf("GetQueueUrl: %v %v", got, err)
	}
	got, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders"), QueueOwnerAWSAccountId: aws.String("000000000000")})
	if err != nil || aws.ToString(got.QueueUrl) != u {
		t.Fatalf("GetQueueUrl with the owner's account: %v %v", got, err)
	}
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("orders"), QueueOwnerAWSAccountId: aws.String("111122223333")})
	wantAPIError(t, err, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
	_, err = c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("missing")})
	var dne *types.QueueDoesNotExist
	if !errors.As(err, &dne) {
		t.Fatalf("GetQueueUrl of a missing queue: %v, want QueueDoesNotExist", err)
	}

	for name, tc := range map[string]struct {
		queue string
		attrs map[string]string
		code  string
		msg   string
	}{
		"a name with a space":         {"bad name", nil, "InvalidParameterValue", "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"},
		"a name of 81 characters":     {strings.Repeat("q", 81), nil, "InvalidParameterValue", "1 to 80 in length"},
		"a .fifo name, standard":      {"std.fifo", nil, "InvalidParameterValue", "Can only include alphanumeric characters"},
		"a FIFO queue without .fifo":  {"nofifo", map[string]string{"FifoQueue": "true"}, "InvalidParameterValue", "must end with .fifo suffix"},
		"FifoQueue=false":             {"std", map[string]string{"FifoQueue": "false"}, "InvalidAttributeName", "Unknown Attribute FifoQueue."},
		"an attribute out of range":   {"std", map[string]string{"VisibilityTimeout": "43201"}, "InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout."},
		"an unknown attribute":        {"std", map[string]string{"Color": "red"}, "InvalidAttributeName", "Unknown Attribute Color."},
		"a FIFO attribute, standard":  {"std", map[string]string{"FifoThroughputLimit": "perQueue"}, "InvalidAttributeName", "You can specify the FifoThroughputLimit only when FifoQueue is set to true."},
		"a policy that is not JSON":   {"std", map[string]string{"Policy": "allow all"}, "InvalidAttributeValue", "Invalid value for the parameter Policy."},
		"both server-side encryption": {"std", map[string]string{"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "true"}, "InvalidAttributeName", "You can use one type of server-side encryption (SSE) at one time."},
	} {
		_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(tc.queue), Attributes: tc.attrs})
		if err == nil {
			t.Errorf("%s: created", name)
			continue
		}
		wantAPIError(t, err, tc.code, tc.msg)
	}
	fifo := sqsQueue(t, c, "orders.fifo", map[string]string{"FifoQueue": "true"})
	if !strings.HasSuffix(fifo, "/000000000000/orders.fifo") {
		t.Errorf("FIFO queue URL %s", fifo)
	}
}

// TestSQSQueueAttributes gets and sets every attribute: the defaults SQS gives, values in and
// out of range, the counts of messages, and the FIFO-only ones.
func TestSQSQueueAttributes(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	before := time.Now().Unix()
	u := sqsQueue(t, c, "attrs", nil)
	all := sqsAttributes(t, c, u, types.QueueAttributeNameAll)
	want := map[string]string{
		"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesDelayed": "0", "ApproximateNumberOfMessagesNotVisible": "0",
		"DelaySeconds": "0", "MaximumMessageSize": "1048576", "MessageRetentionPeriod": "345600", "ReceiveMessageWaitTimeSeconds": "0",
		"VisibilityTimeout": "30", "SqsManagedSseEnabled": "true", "QueueArn": "arn:aws:sqs:us-east-1:000000000000:attrs",
	}
	for k, v := range want {
		if all[k] != v {
			t.Errorf("default %s = %q, want %q", k, all[k], v)
		}
	}
	created, _ := strconv.ParseInt(all["CreatedTimestamp"], 10, 64)
	if created < before || created > time.Now().Unix() || all["LastModifiedTimestamp"] != all["CreatedTimestamp"] {
		t.Errorf("timestamps: created %s, modified %s", all["CreatedTimestamp"], all["LastModifiedTimestamp"])
	}
	if len(all) != len(want)+2 {
		t.Errorf("All returned %d attributes, want %d: %v", len(all), len(want)+2, all)
	}

	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:attrs"}]}`
	set := map[string]string{
		"DelaySeconds": "5", "MaximumMessageSize": "2048", "MessageRetentionPeriod": "120", "ReceiveMessageWaitTimeSeconds": "3",
		"VisibilityTimeout": "60", "Policy": policy, "KmsMasterKeyId": "alias/aws/sqs", "KmsDataKeyReusePeriodSeconds": "600",
	}
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(u), Attributes: set}); err != nil {
		t.Fatal(err)
	}
	all = sqsAttributes(t, c, u, types.QueueAttributeNameAll)
	for k, v := range set {
		if all[k] != v {
			t.Errorf("after SetQueueAttributes %s = %q, want %q", k, all[k], v)
		}
	}
	if all["SqsManagedSseEnabled"] != "false" {
		t.Errorf("a KMS key left SSE-SQS %q", all["SqsManagedSseEnabled"])
	}
	only := sqsAttributes(t, c, u, types.QueueAttributeNameVisibilityTimeout, types.QueueAttributeNameQueueArn)
	if len(only) != 2 || only["VisibilityTimeout"] != "60" {
		t.Errorf("two named attributes: %v", only)
	}
	if none := sqsAttributes(t, c, u); len(none) != 0 {
		t.Errorf("no attribute names returned %v", none)
	}
	_, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []types.QueueAttributeName{"Colour"}})
	wantAPIError(t, err, "InvalidAttributeName", "Unknown Attribute Colour.")
	for attr, v := range map[string]string{
		"DelaySeconds": "-1", "MaximumMessageSize": "1023", "MessageRetentionPeriod": "1209601", "ReceiveMessageWaitTimeSeconds": "21",
		"KmsDataKeyReusePeriodSeconds": "59", "SqsManagedSseEnabled": "yes",
	} {
		_, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(u), Attributes: map[string]string{attr: v}})
		wantAPIError(t, err, "InvalidAttributeValue", "Invalid value for the parameter "+attr+".")
	}
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(u), Attributes: map[string]string{"QueueArn": "x"}})
	wantAPIError(t, err, "InvalidAttributeName", "Unknown Attribute QueueArn.")
	// A refused change changes nothing.
	if got := sqsAttributes(t, c, u, types.QueueAttributeNameDelaySeconds); got["DelaySeconds"] != "5" {
		t.Errorf("a refused SetQueueAttributes changed DelaySeconds to %s", got["DelaySeconds"])
	}
	// Clearing the policy and the key.
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(u), Attributes: map[string]string{
		"Policy": "", "KmsMasterKeyId": "", "DelaySeconds": "0"}}); err != nil {
		t.Fatal(err)
	}
	all = sqsAttributes(t, c, u, types.QueueAttributeNameAll)
	for _, gone := range []string{"Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "FifoQueue"} {
		if v, ok := all[gone]; ok {
			t.Errorf("%s still shown: %q", gone, v)
		}
	}

	// The counts: two visible, one in flight, one delayed.
	for i, d := range []int32{0, 0, 0, 60} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String(fmt.Sprint(i)), DelaySeconds: d}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u)}); err != nil {
		t.Fatal(err)
	}
	counts := sqsAttributes(t, c, u, types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed)
	if counts["ApproximateNumberOfMessages"] != "2" || counts["ApproximateNumberOfMessagesNotVisible"] != "1" || counts["ApproximateNumberOfMessagesDelayed"] != "1" {
		t.Errorf("counts %v, want 2 visible, 1 in flight, 1 delayed", counts)
	}

	f := sqsQueue(t, c, "attrs.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	fa := sqsAttributes(t, c, f, types.QueueAttributeNameAll)
	for k, v := range map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true", "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"} {
		if fa[k] != v {
			t.Errorf("FIFO %s = %q, want %q", k, fa[k], v)
		}
	}
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(f), Attributes: map[string]string{
		"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}}); err != nil {
		t.Fatalf("high-throughput FIFO: %v", err)
	}
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(f), Attributes: map[string]string{"FifoQueue": "false"}})
	wantAPIError(t, err, "InvalidAttributeValue", "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.")
	_, err = c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(u), Attributes: map[string]string{"FifoQueue": "true"}})
	wantAPIError(t, err, "InvalidAttributeName", "Unknown Attribute FifoQueue.")
}

// TestSQSListQueues pages through queues by prefix with MaxResults and NextToken.
func TestSQSListQueues(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	for i := range 7 {
		sqsQueue(t, c, fmt.Sprintf("list-%d", i), nil)
	}
	sqsQueue(t, c, "other", nil)
	all, err := c.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil || len(all.QueueUrls) != 8 || all.NextToken != nil {
		t.Fatalf("ListQueues: %v %v", all, err)
	}
	var urls []string
	p := sqs.NewListQueuesPaginator(c, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("list-"), MaxResults: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		urls = append(urls, page.QueueUrls...)
	}
	if pages != 3 || len(urls) != 7 || urls[0] != srv.URL+"/000000000000/list-0" || urls[6] != srv.URL+"/000000000000/list-6" {
		t.Fatalf("%d pages: %v", pages, urls)
	}
	_, err = c.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(1001)})
	wantAPIError(t, err, "InvalidParameterValue", "MaxResults")
	_, err = c.ListQueues(ctx, &sqs.ListQueuesInput{NextToken: aws.String("%%%")})
	wantAPIError(t, err, "InvalidParameterValue", "NextToken")
}

// TestSQSTagsAndPermissions tags queues at creation and after, and grants and revokes access
// in the queue policy.
func TestSQSTagsAndPermissions(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("tagged"), Tags: map[string]string{"a": "1", "b": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	u := out.QueueUrl
	if _, err := c.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: u, Tags: map[string]string{"b": "two", "c": ""}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: u, TagKeys: []string{"a", "missing"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: u})
	if err != nil || len(tags.Tags) != 2 || tags.Tags["b"] != "two" || tags.Tags["c"] != "" {
		t.Fatalf("tags %v %v", tags, err)
	}
	many := map[string]string{}
	for i := range 49 {
		many[fmt.Sprint("k", i)] = "v"
	}
	_, err = c.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: u, Tags: many})
	wantAPIError(t, err, "InvalidParameterValue", "Too many tags added for queue tagged.")

	if _, err := c.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: u, Label: aws.String("partner"),
		AWSAccountIds: []string{"111122223333"}, Actions: []string{"SendMessage", "GetQueueUrl"}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: u, Label: aws.String("partner"),
		AWSAccountIds: []string{"111122223333"}, Actions: []string{"SendMessage"}})
	wantAPIError(t, err, "InvalidParameterValue", "Value partner for parameter Label is invalid. Reason: Already exists.")
	var doc struct {
		Statement []struct {
			Sid       string
			Principal struct{ AWS string }
			Action    []string
			Resource  string
		}
	}
	if err := json.Unmarshal([]byte(sqsAttributes(t, c, *u, types.QueueAttributeNamePolicy)["Policy"]), &doc); err != nil ||
		len(doc.Statement) != 1 || doc.Statement[0].Sid != "partner" || doc.Statement[0].Principal.AWS != "arn:aws:iam::111122223333:root" ||
		len(doc.Statement[0].Action) != 2 || doc.Statement[0].Resource != "arn:aws:sqs:us-east-1:000000000000:tagged" {
		t.Fatalf("policy after AddPermission: %+v %v", doc, err)
	}
	if _, err := c.RemovePermission(ctx, &sqs.RemovePermissionInput{QueueUrl: u, Label: aws.String("partner")}); err != nil {
		t.Fatal(err)
	}
	if p, ok := sqsAttributes(t, c, *u, types.QueueAttributeNamePolicy)["Policy"]; ok {
		t.Errorf("a policy is left after removing its only statement: %s", p)
	}
	_, err = c.RemovePermission(ctx, &sqs.RemovePermissionInput{QueueUrl: u, Label: aws.String("partner")})
	wantAPIError(t, err, "InvalidParameterValue", "can't find label")
}

// TestSQSQueueURLs resolves queues by any URL form that names the account and the queue, builds
// URLs from the host the client used, and serves query requests posted to a queue URL.
func TestSQSQueueURLs(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	u := sqsQueue(t, c, "urls", nil)
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	for _, form := range []string{
		u,
		"http://localhost:" + port + "/000000000000/urls",
		"http://sqs.us-east-1.localhost.localstack.cloud:4566/000000000000/urls",
		"https://sqs.us-east-1.amazonaws.com/000000000000/urls",
		"https://queue.amazonaws.com/000000000000/urls",
	} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(form), MessageBody: aws.String(form)}); err != nil {
			t.Errorf("send to %s: %v", form, err)
		}
	}
	_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("not a url"), MessageBody: aws.String("x")})
	wantAPIError(t, err, "InvalidAddress", "The address not a url is not valid for this endpoint.")
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(srv.URL + "/111122223333/urls"), MessageBody: aws.String("x")})
	wantAPIError(t, err, "AWS.SimpleQueueService.NonExistentQueue", "")

	// A client addressing Kiri as localhost gets localhost URLs.
	local := srv.Clients().Config.Copy()
	local.BaseEndpoint = aws.String("http://localhost:" + port)
	lc := sqs.NewFromConfig(local)
	got, err := lc.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("urls")})
	if err != nil || aws.ToString(got.QueueUrl) != "http://localhost:"+port+"/000000000000/urls" {
		t.Fatalf("GetQueueUrl through localhost: %v %v", got, err)
	}

	// The query protocol posted to the queue URL itself, without a QueueUrl parameter, as
	// older SDKs and the API reference's examples do.
	resp, err := http.PostForm(u, url.Values{"Action": {"GetQueueAttributes"}, "AttributeName.1": {"ApproximateNumberOfMessages"}, "Version": {"2012-11-05"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<Attribute><Name>ApproximateNumberOfMessages</Name><Value>5</Value></Attribute>") {
		t.Fatalf("a query request posted to the queue URL: %d %s", resp.StatusCode, body)
	}
}

// TestSQSDeleteAndPurgeQueues purges messages (once a minute) and deletes queues.
func TestSQSDeleteAndPurgeQueues(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SQS
	ctx := t.Context()
	u := sqsQueue(t, c, "doomed", nil)
	for i := range 3 {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(u)}); err != nil {
		t.Fatal(err)
	}
	if got := sqsAttributes(t, c, u, types.QueueAttributeNameApproximateNumberOfMessages); got["ApproximateNumberOfMessages"] != "0" {
		t.Fatalf("after a purge: %v", got)
	}
	_, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(u)})
	wantAPIError(t, err, "AWS.SimpleQueueService.PurgeQueueInProgress", "Only one PurgeQueue operation on doomed is allowed every 60 seconds.")
	expectAPIError(t, err, "AWS.SimpleQueueService.PurgeQueueInProgress", http.StatusForbidden)

	if _, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("late")})
	wantAPIError(t, err, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
	_, err = c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
	wantAPIError(t, err, "AWS.SimpleQueueService.NonExistentQueue", "")
	_, err = c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("doomed")})
	wantAPIError(t, err, "AWS.SimpleQueueService.QueueDeletedRecently", "You must wait 60 seconds after deleting a queue")
	if list, _ := c.ListQueues(ctx, &sqs.ListQueuesInput{}); len(list.QueueUrls) != 0 {
		t.Errorf("a deleted queue is listed: %v", list.QueueUrls)
	}
}
