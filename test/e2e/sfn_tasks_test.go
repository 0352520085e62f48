package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

const sfnFunction = `
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"doubled": event["n"] * 2}
`

// runToEnd starts an execution and waits for its end.
func runToEnd(t *testing.T, c *sfn.Client, machine, input string) *sfn.DescribeExecutionOutput {
	t.Helper()
	start, err := c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &machine, Input: &input})
	if err != nil {
		t.Fatal(err)
	}
	return waitExecution(t, c, aws.ToString(start.ExecutionArn), 30*time.Second)
}

// TestStepFunctionsLambdaTasks invokes a function with lambda:invoke and with its bare ARN, and
// catches the function's error by its errorType.
func TestStepFunctionsLambdaTasks(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	fn := createTestFunction(t, cl.Lambda, "doubler", kiritest.ZipSource(t, map[string]string{"app.py": sfnFunction}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = ltypes.RuntimePython312, aws.String("app.handler")
	})
	waitActive(t, cl.Lambda, "doubler")
	def := `{"StartAt":"Invoke","States":{
		"Invoke":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"doubler","Payload.$":"$"},
			"ResultSelector":{"r.$":"$.Payload.doubled","code.$":"$.StatusCode"},"Next":"Bare"},
		"Bare":{"Type":"Task","Resource":"` + aws.ToString(fn.FunctionArn) + `","Parameters":{"n.$":"$.r"},"Next":"Fails"},
		"Fails":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"doubler","Payload":{"fail":true}},
			"Catch":[{"ErrorEquals":["ValueError"],"ResultPath":"$.caught","Next":"Done"}],"ResultPath":null,"Next":"Done"},
		"Done":{"Type":"Pass","End":true}}}`
	arn := createMachine(t, cl.SFN, "lambdas", def, "")
	d := runToEnd(t, cl.SFN, arn, `{"n":3}`)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %+v", d)
	}
	var out struct {
		Doubled int
		Caught  struct{ Error, Cause string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil {
		t.Fatal(err)
	}
	if out.Doubled != 12 || out.Caught.Error != "ValueError" || !strings.Contains(out.Caught.Cause, "asked to fail") {
		t.Fatalf("output %s", aws.ToString(d.Output))
	}
}

// TestStepFunctionsServiceIntegrations sends to SQS (and waits for a task token sent with the
// message), writes and reads DynamoDB through the optimized and the AWS SDK integrations,
// names DynamoDB's conditional failure as AWS does, and runs a nested execution with .sync.
func TestStepFunctionsServiceIntegrations(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	ctx := t.Context()
	url, _ := createQueue(t, cl.SQS, "sfn-tasks")
	if _, err := cl.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("jobs"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	child := createMachine(t, cl.SFN, "child", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"child.$":"$.from"},"End":true}}}`, "")
	def := `{"StartAt":"Put","States":{
		"Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"jobs","Item":{"id":{"S":"j1"},"state":{"S":"new"}},
			"ConditionExpression":"attribute_not_exists(id)"},"ResultPath":null,"Next":"PutAgain"},
		"PutAgain":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"jobs","Item":{"id":{"S":"j1"}},
			"ConditionExpression":"attribute_not_exists(id)"},
			"Catch":[{"ErrorEquals":["DynamoDB.ConditionalCheckFailedException"],"ResultPath":"$.conflict","Next":"Get"}],"Next":"Get"},
		"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:getItem","Parameters":{"TableName":"jobs","Key":{"id":{"S":"j1"}}},
			"ResultSelector":{"state.$":"$.Item.state.S"},"ResultPath":"$.item","Next":"Callback"},
		"Callback":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters":{"QueueUrl":"` + url + `","MessageBody":{"token.$":"$$.Task.Token","state.$":"$.item.state"}},"ResultPath":"$.callback","Next":"Child"},
		"Child":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2","Parameters":{"StateMachineArn":"` + child + `","Input":{"from":"parent"}},
			"ResultSelector":{"out.$":"$.Output"},"ResultPath":"$.child","End":true}}}`
	arn := createMachine(t, cl.SFN, "integrations", def, "")
	start, err := cl.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	msgs := receiveAll(t, cl.SQS, url, 1, 20*time.Second)
	var body struct{ Token, State string }
	if err := json.Unmarshal([]byte(aws.ToString(msgs[0].Body)), &body); err != nil || body.Token == "" || body.State != "new" {
		t.Fatalf("message %s (%v)", aws.ToString(msgs[0].Body), err)
	}
	if _, err := cl.SFN.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &body.Token, Output: aws.String(`{"ack":true}`)}); err != nil {
		t.Fatal(err)
	}
	d := waitExecution(t, cl.SFN, aws.ToString(start.ExecutionArn), 20*time.Second)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %+v", d)
	}
	var out struct {
		Conflict struct{ Error string }
		Item     struct{ State string }
		Callback struct{ Ack bool }
		Child    struct{ Out struct{ Child string } }
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil {
		t.Fatal(err)
	}
	if out.Conflict.Error != "DynamoDB.ConditionalCheckFailedException" || out.Item.State != "new" || !out.Callback.Ack || out.Child.Out.Child != "parent" {
		t.Fatalf("output %s", aws.ToString(d.Output))
	}
	if types := strings.Join(historyTypes(t, cl.SFN, aws.ToString(start.ExecutionArn)), " "); !strings.Contains(types, "TaskSubmitted") {
		t.Fatalf("history %s", types)
	}
	_, _ = cl.SQS.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: &url})
}

// TestStepFunctionsExpressLogging sends an Express execution's history to the CloudWatch Logs
// group its logging configuration names.
func TestStepFunctionsExpressLogging(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	ctx := t.Context()
	if _, err := cl.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/sfn/express")}); err != nil {
		t.Fatal(err)
	}
	out, err := cl.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("logged"), Definition: aws.String(passMachine),
		RoleArn: aws.String(sfnRole), Type: sfntypes.StateMachineTypeExpress, LoggingConfiguration: &sfntypes.LoggingConfiguration{
			Level: sfntypes.LogLevelAll, IncludeExecutionData: true, Destinations: []sfntypes.LogDestination{{CloudWatchLogsLogGroup: &sfntypes.CloudWatchLogsLogGroup{
				LogGroupArn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:/sfn/express:*")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	sync, err := cl.SFN.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: out.StateMachineArn})
	if err != nil || sync.Status != sfntypes.SyncExecutionStatusSucceeded {
		t.Fatalf("sync %+v %v", sync, err)
	}
	ev, err := cl.Logs.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/sfn/express")})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range ev.Events {
		var entry struct {
			Type         string `json:"type"`
			ExecutionArn string `json:"execution_arn"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(e.Message)), &entry); err != nil || entry.ExecutionArn != aws.ToString(sync.ExecutionArn) {
			t.Fatalf("log event %s", aws.ToString(e.Message))
		}
		types = append(types, entry.Type)
	}
	if strings.Join(types, " ") != "ExecutionStarted PassStateEntered PassStateExited ExecutionSucceeded" {
		t.Fatalf("logged %v", types)
	}
}

// TestStepFunctionsPublishAndPutEvents publishes to an SNS topic and puts an event on the
// default bus from tasks; a queue subscribed to the topic and a queue targeted by a rule get
// them.
func TestStepFunctionsPublishAndPutEvents(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	topicURL, topicQueue := createQueue(t, cl.SQS, "from-topic")
	topic := createTopic(t, cl.SNS, "flow-topic", nil)
	subscribe(t, cl.SNS, topic, "sqs", topicQueue, map[string]string{"RawMessageDelivery": "true"})
	busURL, busQueue := createQueue(t, cl.SQS, "from-bus")
	putRuleWithTargets(t, cl.Events, "", "flow-events", `{"source":["flow"]}`, ebtypes.Target{Id: aws.String("q"), Arn: aws.String(busQueue)})
	def := `{"StartAt":"Publish","States":{
		"Publish":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"` + topic + `","Message":{"n.$":"$.n"}},
			"ResultPath":"$.published","Next":"Put"},
		"Put":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents",
			"Parameters":{"Entries":[{"Source":"flow","DetailType":"Step","Detail":{"n.$":"$.n"}}]},"ResultPath":"$.put","End":true}}}`
	arn := createMachine(t, cl.SFN, "notify", def, "")
	d := runToEnd(t, cl.SFN, arn, `{"n":4}`)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %+v", d)
	}
	var out struct {
		Published struct{ MessageId string }
		Put       struct{ FailedEntryCount int }
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil || out.Published.MessageId == "" || out.Put.FailedEntryCount != 0 {
		t.Fatalf("output %s (%v)", aws.ToString(d.Output), err)
	}
	if got := receiveAll(t, cl.SQS, topicURL, 1, 10*time.Second); aws.ToString(got[0].Body) != `{"n":4}` {
		t.Fatalf("from the topic: %s", aws.ToString(got[0].Body))
	}
	got := receiveAll(t, cl.SQS, busURL, 1, 10*time.Second)
	var ev struct {
		Source string          `json:"source"`
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(got[0].Body)), &ev); err != nil || ev.Source != "flow" || string(ev.Detail) != `{"n":4}` {
		t.Fatalf("from the bus: %s", aws.ToString(got[0].Body))
	}
}
