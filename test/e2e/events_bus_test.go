package e2e

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// wantEventsError checks that err is the EventBridge error code with message.
func wantEventsError(t *testing.T, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || (message != "" && ae.ErrorMessage() != message) {
		t.Fatalf("error = %s: %q, want %s: %q", ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
}

// TestEventBusesLifecycle creates, describes, lists, updates, tags and deletes buses, and
// checks that the default bus exists without being created and cannot be deleted.
func TestEventBusesLifecycle(t *testing.T) {
	t.Parallel()
	c := kiritest.Start(t, kiritest.Options{}).Clients().Events
	ctx := t.Context()

	d, err := c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{})
	if err != nil || aws.ToString(d.Name) != "default" || aws.ToString(d.Arn) != "arn:aws:events:us-east-1:000000000000:event-bus/default" {
		t.Fatalf("default bus = %+v, %v", d, err)
	}
	_, err = c.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String("default")})
	wantEventsError(t, err, "ValidationException", "Cannot delete event bus default.")

	created, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("orders"), Description: aws.String("the orders"),
		DeadLetterConfig: &ebtypes.DeadLetterConfig{Arn: aws.String("arn:aws:sqs:us-east-1:000000000000:bus-dlq")},
		Tags:             []ebtypes.Tag{{Key: aws.String("team"), Value: aws.String("shop")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(created.EventBusArn); got != "arn:aws:events:us-east-1:000000000000:event-bus/orders" {
		t.Fatalf("EventBusArn = %s", got)
	}
	_, err = c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("orders")})
	wantEventsError(t, err, "ResourceAlreadyExistsException", "Event bus orders already exists.")
	for _, n := range []string{"orders-eu", "payments"} {
		if _, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}

	d, err = c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String("orders")})
	if err != nil || aws.ToString(d.Description) != "the orders" || d.DeadLetterConfig == nil || d.CreationTime == nil {
		t.Fatalf("DescribeEventBus = %+v, %v", d, err)
	}
	_, err = c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String("nope")})
	wantEventsError(t, err, "ResourceNotFoundException", "Event bus nope does not exist.")

	var names []string
	var token *string
	for {
		page, err := c.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{Limit: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.EventBuses {
			names = append(names, aws.ToString(b.Name))
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if strings.Join(names, ",") != "default,orders,orders-eu,payments" {
		t.Fatalf("buses = %v", names)
	}
	page, err := c.ListEventBuses(ctx, &eventbridge.ListEventBusesInput{NamePrefix: aws.String("orders")})
	if err != nil || len(page.EventBuses) != 2 {
		t.Fatalf("NamePrefix orders = %+v, %v", page, err)
	}

	if _, err := c.UpdateEventBus(ctx, &eventbridge.UpdateEventBusInput{Name: aws.String("orders"), Description: aws.String("all orders")}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String("orders")})
	if aws.ToString(d.Description) != "all orders" || d.DeadLetterConfig == nil {
		t.Fatalf("after update: %+v", d)
	}

	arn := aws.ToString(created.EventBusArn)
	if _, err := c.TagResource(ctx, &eventbridge.TagResourceInput{ResourceARN: &arn, Tags: []ebtypes.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &eventbridge.UntagResourceInput{ResourceARN: &arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: &arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Fatalf("tags = %+v, %v", tags, err)
	}

	if _, err := c.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String("orders")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String("orders")})
	wantEventsError(t, err, "ResourceNotFoundException", "Event bus orders does not exist.")
}

// TestEventBusPermissions adds and removes statements of a bus's policy.
func TestEventBusPermissions(t *testing.T) {
	t.Parallel()
	c := kiritest.Start(t, kiritest.Options{}).Clients().Events
	ctx := t.Context()
	if _, err := c.PutPermission(ctx, &eventbridge.PutPermissionInput{Action: aws.String("events:PutEvents"),
		Principal: aws.String("111122223333"), StatementId: aws.String("partner")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutPermission(ctx, &eventbridge.PutPermissionInput{Action: aws.String("events:PutEvents"),
		Principal: aws.String("111122223333"), StatementId: aws.String("partner")})
	wantEventsError(t, err, "ResourceAlreadyExistsException", "")
	_, err = c.PutPermission(ctx, &eventbridge.PutPermissionInput{Action: aws.String("events:PutRule"),
		Principal: aws.String("111122223333"), StatementId: aws.String("other")})
	wantEventsError(t, err, "ValidationException", "Provided value in parameter 'action' is not supported.")
	d, err := c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Statement []struct {
			Sid       string
			Principal map[string]string
			Action    string
			Resource  string
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Policy)), &doc); err != nil || len(doc.Statement) != 1 ||
		doc.Statement[0].Principal["AWS"] != "arn:aws:iam::111122223333:root" || doc.Statement[0].Resource != "arn:aws:events:us-east-1:000000000000:event-bus/default" {
		t.Fatalf("policy = %s (%v)", aws.ToString(d.Policy), err)
	}
	if _, err := c.RemovePermission(ctx, &eventbridge.RemovePermissionInput{StatementId: aws.String("partner")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.RemovePermission(ctx, &eventbridge.RemovePermissionInput{StatementId: aws.String("partner")})
	wantEventsError(t, err, "ResourceNotFoundException", "")
	d, _ = c.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{})
	if d.Policy != nil {
		t.Fatalf("policy after removal = %s", aws.ToString(d.Policy))
	}
}

// TestPutEventsToSQS routes events by pattern to a queue target: the queue receives the event
// in EventBridge's envelope, only for matching events.
func TestPutEventsToSQS(t *testing.T) {
	t.Parallel()
	cs := kiritest.Start(t, kiritest.Options{}).Clients()
	c := cs.Events
	ctx := t.Context()
	url, queueARN := createQueue(t, cs.SQS, "orders-events")
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("big-orders"),
		EventPattern: aws.String(`{"source":["shop"],"detail":{"amount":[{"numeric":[">",100]}]}}`)}); err != nil {
		t.Fatal(err)
	}
	pt, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("big-orders"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: &queueARN}}})
	if err != nil || pt.FailedEntryCount != 0 {
		t.Fatalf("PutTargets = %+v, %v", pt, err)
	}
	out, err := c.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("shop"), DetailType: aws.String("Order Placed"), Detail: aws.String(`{"amount": 250, "id": "o-1"}`),
			Resources: []string{"arn:aws:shop:::order/o-1"}},
		{Source: aws.String("shop"), DetailType: aws.String("Order Placed"), Detail: aws.String(`{"amount": 5}`)},
		{Source: aws.String("shop"), DetailType: aws.String("Order Placed"), Detail: aws.String(`[1]`)},
		{DetailType: aws.String("Order Placed"), Detail: aws.String(`{}`)},
		{Source: aws.String("aws.s3"), DetailType: aws.String("x"), Detail: aws.String(`{}`)},
		{Source: aws.String("shop"), DetailType: aws.String("x"), Detail: aws.String(`{}`), EventBusName: aws.String("nope")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 4 || out.Entries[0].EventId == nil || out.Entries[1].EventId == nil {
		t.Fatalf("PutEvents = %+v", out)
	}
	for i, want := range []struct{ code, msg string }{
		2: {"MalformedDetail", "Detail is malformed."},
		3: {"InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."},
		4: {"NotAuthorizedForSourceException", "Not authorized for the source."},
		5: {"ResourceNotFoundException", "Event bus nope does not exist."},
	} {
		if want.code == "" {
			continue
		}
		if e := out.Entries[i]; aws.ToString(e.ErrorCode) != want.code || aws.ToString(e.ErrorMessage) != want.msg || e.EventId != nil {
			t.Errorf("entry %d = %s %q, want %s %q", i, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage), want.code, want.msg)
		}
	}
	msgs := receiveAll(t, cs.SQS, url, 1, 10*time.Second)
	var ev map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(msgs[0].Body)), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["id"] != aws.ToString(out.Entries[0].EventId) || ev["version"] != "0" || ev["detail-type"] != "Order Placed" ||
		ev["source"] != "shop" || ev["account"] != "000000000000" || ev["region"] != "us-east-1" ||
		ev["detail"].(map[string]any)["id"] != "o-1" || ev["resources"].([]any)[0] != "arn:aws:shop:::order/o-1" {
		t.Fatalf("event = %s", aws.ToString(msgs[0].Body))
	}
	if _, err := time.Parse(time.RFC3339, ev["time"].(string)); err != nil {
		t.Fatalf("time %v: %v", ev["time"], err)
	}
	wantNoMessage(t, cs.SQS, url)

	_, err = c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("big-orders")})
	wantEventsError(t, err, "ValidationException", "Rule can't be deleted since it has targets.")
}

// wantNoMessage fails the test if a message arrives on url within a second.
func wantNoMessage(t *testing.T, c *sqs.Client, url string) {
	t.Helper()
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Fatalf("unexpected message on %s: %s", url, aws.ToString(out.Messages[0].Body))
	}
}
