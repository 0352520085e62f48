package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// putRuleWithTargets makes a pattern rule on bus ("" for the default) with targets.
func putRuleWithTargets(t *testing.T, c *eventbridge.Client, bus, name, pattern string, targets ...ebtypes.Target) string {
	t.Helper()
	in := &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern)}
	if bus != "" {
		in.EventBusName = aws.String(bus)
	}
	out, err := c.PutRule(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := c.PutTargets(t.Context(), &eventbridge.PutTargetsInput{Rule: aws.String(name), EventBusName: in.EventBusName, Targets: targets})
	if err != nil || pt.FailedEntryCount != 0 {
		t.Fatalf("PutTargets %s = %+v, %v", name, pt, err)
	}
	return aws.ToString(out.RuleArn)
}

// putEvent puts one event and fails the test unless it is accepted.
func putEvent(t *testing.T, c *eventbridge.Client, bus, source, detailType, detail string) string {
	t.Helper()
	e := ebtypes.PutEventsRequestEntry{Source: aws.String(source), DetailType: aws.String(detailType), Detail: aws.String(detail),
		Resources: []string{"arn:aws:ec2:us-east-1:000000000000:instance/i-1"}}
	if bus != "" {
		e.EventBusName = aws.String(bus)
	}
	out, err := c.PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{e}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents = %+v, %v", out, err)
	}
	return aws.ToString(out.Entries[0].EventId)
}

// TestEventTargetsTransformInput delivers one event to queues through Input, InputPath and
// input transformers, with AWS's quoting rules: a placeholder inside a JSON string is the
// value's text, a bare one its JSON, a text template takes values as plain text.
func TestEventTargetsTransformInput(t *testing.T) {
	t.Parallel()
	cs := kiritest.Start(t, kiritest.Options{}).Clients()
	names := []string{"constant", "path", "json", "text"}
	urls := map[string]string{}
	var targets []ebtypes.Target
	for _, n := range names {
		url, arn := createQueue(t, cs.SQS, "tf-"+n)
		urls[n] = url
		targets = append(targets, ebtypes.Target{Id: aws.String(n), Arn: aws.String(arn)})
	}
	targets[0].Input = aws.String(`{"fixed": true}`)
	targets[1].InputPath = aws.String("$.detail.order")
	paths := map[string]string{"state": "$.detail.state", "order": "$.detail.order", "n": "$.detail.order.n", "missing": "$.detail.nope"}
	targets[2].InputTransformer = &ebtypes.InputTransformer{InputPathsMap: paths, InputTemplate: aws.String(
		`{"msg": "order <n> is <state>", "order": <order>, "state": <state>, "n": <n>, "gone": <missing>, "in": "<order>", ` +
			`"rule": "<aws.events.rule-name>", "arn": <aws.events.rule-arn>, "event": <aws.events.event>, "unknown": "<other>"}`)}
	targets[3].InputTransformer = &ebtypes.InputTransformer{InputPathsMap: paths, InputTemplate: aws.String(`Order <n> is "<state>" <order>`)}
	ruleARN := putRuleWithTargets(t, cs.Events, "", "shipping", `{"detail-type":["Order Shipped"]}`, targets...)

	id := putEvent(t, cs.Events, "", "shop", "Order Shipped", `{"state":"shipped","order":{"n":7,"to":"Nga <Tahi> & \"Rua\""}}`)

	body := func(n string) string { return aws.ToString(receiveAll(t, cs.SQS, urls[n], 1, 10*time.Second)[0].Body) }
	if got := body("constant"); got != `{"fixed": true}` {
		t.Errorf("Input delivered %s", got)
	}
	if got := body("path"); got != `{"n":7,"to":"Nga <Tahi> & \"Rua\""}` {
		t.Errorf("InputPath delivered %s", got)
	}
	got := body("json")
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Fatalf("transformed JSON %s: %v", got, err)
	}
	if v["msg"] != "order 7 is shipped" || v["state"] != "shipped" || v["n"] != float64(7) || v["gone"] != nil ||
		v["in"] != `{"n":7,"to":"Nga <Tahi> & \"Rua\""}` || v["rule"] != "shipping" || v["arn"] != ruleARN ||
		v["event"].(map[string]any)["id"] != id || v["unknown"] != "<other>" || v["order"].(map[string]any)["n"] != float64(7) {
		t.Errorf("transformed JSON %s", got)
	}
	if got := body("text"); got != `Order 7 is "shipped" {"n":7,"to":"Nga <Tahi> & \"Rua\""}` {
		t.Errorf("text template delivered %s", got)
	}
}

// TestEventTargetsOfEveryKind routes events to a function (through its resource policy), a
// topic, a FIFO queue with a message group, another bus and a log group.
func TestEventTargetsOfEveryKind(t *testing.T) {
	t.Parallel()
	cs := kiritest.Start(t, kiritest.Options{})
	cl := cs.Clients()
	ctx := t.Context()
	c := cl.Events

	results, resultsARN := createQueue(t, cl.SQS, "fn-results")
	createEcho(t, cl.Lambda, "on-order")
	if _, err := cl.Lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("on-order"),
		DestinationConfig: &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(resultsARN)}}}); err != nil {
		t.Fatal(err)
	}
	fn := "arn:aws:lambda:us-east-1:000000000000:function:on-order"
	topicQueue, topicQueueARN := createQueue(t, cl.SQS, "from-topic")
	topic := createTopic(t, cl.SNS, "orders", nil)
	subscribe(t, cl.SNS, topic, "sqs", topicQueueARN, map[string]string{"RawMessageDelivery": "true"})
	fifo, fifoARN := createQueueWith(t, cl.SQS, "orders.fifo", map[string]string{"FifoQueue": "true"})
	if _, err := cl.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/aws/events/orders")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("audit")}); err != nil {
		t.Fatal(err)
	}
	audit, auditARN := createQueue(t, cl.SQS, "audit")
	putRuleWithTargets(t, c, "audit", "everything", `{"source":["shop"]}`, ebtypes.Target{Id: aws.String("q"), Arn: aws.String(auditARN)})

	_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("orders"), EventPattern: aws.String(`{"source":["shop"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"), Targets: []ebtypes.Target{{Id: aws.String("fifo"), Arn: aws.String(fifoARN)}}})
	wantEventsError(t, err, "ValidationException", "Parameter(s) SqsParameters must be specified for FIFO queues target: "+fifoARN)
	_, err = c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"), Targets: []ebtypes.Target{{Id: aws.String("sfn"),
		Arn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:flow")}}})
	wantEventsError(t, err, "ValidationException", "RoleArn is required for target arn:aws:states:us-east-1:000000000000:stateMachine:flow.")
	ruleARN := putRuleWithTargets(t, c, "", "orders", `{"source":["shop"]}`,
		ebtypes.Target{Id: aws.String("fn"), Arn: aws.String(fn)},
		ebtypes.Target{Id: aws.String("topic"), Arn: aws.String(topic)},
		ebtypes.Target{Id: aws.String("fifo"), Arn: aws.String(fifoARN), SqsParameters: &ebtypes.SqsParameters{MessageGroupId: aws.String("g1")}},
		ebtypes.Target{Id: aws.String("bus"), Arn: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/audit")},
		ebtypes.Target{Id: aws.String("logs"), Arn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:/aws/events/orders")},
	)
	_, err = c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("orders"), Targets: []ebtypes.Target{{Id: aws.String("sixth"), Arn: aws.String(auditARN)}}})
	wantEventsError(t, err, "LimitExceededException", "")
	listed, err := c.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("orders")})
	if err != nil || len(listed.Targets) != 5 || aws.ToString(listed.Targets[1].Id) != "fifo" ||
		aws.ToString(listed.Targets[1].SqsParameters.MessageGroupId) != "g1" {
		t.Fatalf("ListTargetsByRule = %+v, %v", listed, err)
	}
	byTarget, err := c.ListRuleNamesByTarget(ctx, &eventbridge.ListRuleNamesByTargetInput{TargetArn: aws.String(topic)})
	if err != nil || len(byTarget.RuleNames) != 1 || byTarget.RuleNames[0] != "orders" {
		t.Fatalf("ListRuleNamesByTarget = %+v, %v", byTarget, err)
	}

	// Before the function's policy lets EventBridge invoke it, nothing reaches it.
	if _, err := cl.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("on-order"), StatementId: aws.String("events"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("events.amazonaws.com"), SourceArn: aws.String(ruleARN)}); err != nil {
		t.Fatal(err)
	}
	id := putEvent(t, c, "", "shop", "Order Placed", `{"say":"hi"}`)

	var record struct {
		RequestPayload struct {
			ID     string `json:"id"`
			Detail struct{ Say string }
		} `json:"requestPayload"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(receiveAll(t, cl.SQS, results, 1, 30*time.Second)[0].Body)), &record); err != nil ||
		record.RequestPayload.ID != id || record.RequestPayload.Detail.Say != "hi" {
		t.Errorf("function got %+v (%v)", record, err)
	}
	for name, url := range map[string]string{"topic": topicQueue, "fifo": fifo, "audit bus": audit} {
		m := receiveAll(t, cl.SQS, url, 1, 10*time.Second)[0]
		var ev struct{ ID string }
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil || ev.ID != id {
			t.Errorf("%s got %s", name, aws.ToString(m.Body))
		}
		if name == "fifo" && m.Attributes["MessageGroupId"] != "" && m.Attributes["MessageGroupId"] != "g1" {
			t.Errorf("fifo group %v", m.Attributes)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := cl.Logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/events/orders")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) == 1 {
			if aws.ToString(out.Events[0].LogStreamName) != id || !strings.Contains(aws.ToString(out.Events[0].Message), `"say":"hi"`) {
				t.Errorf("log event %+v", out.Events[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log events %+v", out.Events)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEventTargetDeadLetterQueue sends an event its target cannot take to the target's
// dead-letter queue, with the attributes EventBridge adds.
func TestEventTargetDeadLetterQueue(t *testing.T) {
	t.Parallel()
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	dlq, dlqARN := createQueue(t, cl.SQS, "events-dlq")
	gone := "arn:aws:sqs:us-east-1:000000000000:never-made"
	ruleARN := putRuleWithTargets(t, cl.Events, "", "to-nowhere", `{"source":["shop"]}`, ebtypes.Target{Id: aws.String("gone"), Arn: aws.String(gone),
		RetryPolicy:      &ebtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(2), MaximumEventAgeInSeconds: aws.Int32(60)},
		DeadLetterConfig: &ebtypes.DeadLetterConfig{Arn: aws.String(dlqARN)}})
	id := putEvent(t, cl.Events, "", "shop", "Order Placed", `{"n":1}`)
	m := receiveAll(t, cl.SQS, dlq, 1, 20*time.Second)[0]
	var ev struct{ ID string }
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil || ev.ID != id {
		t.Errorf("dead-letter body %s", aws.ToString(m.Body))
	}
	attrs := m.MessageAttributes
	for k, want := range map[string]string{"RULE_ARN": ruleARN, "TARGET_ARN": gone, "ERROR_CODE": "NO_RESOURCE"} {
		if got := aws.ToString(attrs[k].StringValue); got != want {
			t.Errorf("attribute %s = %q, want %q", k, got, want)
		}
	}
	if aws.ToString(attrs["ERROR_MESSAGE"].StringValue) == "" {
		t.Errorf("no ERROR_MESSAGE in %+v", attrs)
	}
}

// TestLambdaDestinationToEventBus sends a function's on-success record to the default bus,
// where it arrives as a "Lambda Function Invocation Result - Success" event.
func TestLambdaDestinationToEventBus(t *testing.T) {
	t.Parallel()
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	ctx := t.Context()
	url, queueARN := createQueue(t, cl.SQS, "results")
	putRuleWithTargets(t, cl.Events, "", "results", `{"source":["lambda"],"detail":{"requestContext":{"condition":["Success"]}}}`,
		ebtypes.Target{Id: aws.String("q"), Arn: aws.String(queueARN)})
	createEcho(t, cl.Lambda, "worker")
	if _, err := cl.Lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("worker"),
		DestinationConfig: &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String("arn:aws:events:us-east-1:000000000000:event-bus/default")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("worker"), InvocationType: types.InvocationTypeEvent,
		Payload: []byte(`{"say":"done"}`)}); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Source     string
		DetailType string `json:"detail-type"`
		Resources  []string
		Detail     struct {
			RequestPayload struct{ Say string } `json:"requestPayload"`
		}
	}
	body := aws.ToString(receiveAll(t, cl.SQS, url, 1, 30*time.Second)[0].Body)
	if err := json.Unmarshal([]byte(body), &ev); err != nil || ev.Source != "lambda" || ev.DetailType != "Lambda Function Invocation Result - Success" ||
		len(ev.Resources) != 1 || !strings.HasPrefix(ev.Resources[0], "arn:aws:lambda:us-east-1:000000000000:function:worker") || ev.Detail.RequestPayload.Say != "done" {
		t.Fatalf("event %s (%v)", body, err)
	}
}
