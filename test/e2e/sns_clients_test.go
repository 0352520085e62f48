package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestSNSAWSCLI publishes and subscribes with the AWS CLI v2.9: a queue subscription that the
// queue's policy lets the topic send to (strict mode enforces it, as SQS does), and a function
// subscription that the function's resource policy allows with
// `aws lambda add-permission --principal sns.amazonaws.com`.
func TestSNSAWSCLI(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	var topic struct{ TopicArn string }
	mustAWSJSON(t, srv, &topic, "sns", "create-topic", "--name", "cli", "--attributes", "DisplayName=From the CLI", "--tags", "Key=team,Value=cli")
	if topic.TopicArn != "arn:aws:sns:us-east-1:"+kiritest.TestAccount+":cli" {
		t.Fatalf("create-topic: %+v", topic)
	}
	var queue struct{ QueueUrl string }
	mustAWSJSON(t, srv, &queue, "sqs", "create-queue", "--queue-name", "cli-sub")
	queueARN := "arn:aws:sqs:us-east-1:" + kiritest.TestAccount + ":cli-sub"
	mustAWS(t, srv, "sqs", "set-queue-attributes", "--queue-url", queue.QueueUrl, "--attributes", snsQueuePolicy(queueARN, topic.TopicArn))
	var sub struct{ SubscriptionArn string }
	mustAWSJSON(t, srv, &sub, "sns", "subscribe", "--topic-arn", topic.TopicArn, "--protocol", "sqs", "--notification-endpoint", queueARN,
		"--attributes", `{"FilterPolicy": "{\"kind\": [\"wanted\"]}"}`)
	mustAWS(t, srv, "sns", "set-subscription-attributes", "--subscription-arn", sub.SubscriptionArn,
		"--attribute-name", "RawMessageDelivery", "--attribute-value", "true")
	var pub struct{ MessageId string }
	mustAWSJSON(t, srv, &pub, "sns", "publish", "--topic-arn", topic.TopicArn, "--message", "skipped",
		"--message-attributes", `{"kind": {"DataType": "String", "StringValue": "other"}}`)
	mustAWSJSON(t, srv, &pub, "sns", "publish", "--topic-arn", topic.TopicArn, "--message", "from the cli", "--subject", "CLI",
		"--message-attributes", `{"kind": {"DataType": "String", "StringValue": "wanted"}}`)
	if pub.MessageId == "" {
		t.Fatalf("publish: %+v", pub)
	}
	var received struct {
		Messages []struct {
			Body              string
			MessageAttributes map[string]struct{ StringValue string }
		}
	}
	mustAWSJSON(t, srv, &received, "sqs", "receive-message", "--queue-url", queue.QueueUrl, "--wait-time-seconds", "5",
		"--max-number-of-messages", "10", "--message-attribute-names", "All")
	if len(received.Messages) != 1 || received.Messages[0].Body != "from the cli" || received.Messages[0].MessageAttributes["kind"].StringValue != "wanted" {
		t.Fatalf("receive-message: %+v", received)
	}
	var attrs struct{ Attributes map[string]string }
	mustAWSJSON(t, srv, &attrs, "sns", "get-topic-attributes", "--topic-arn", topic.TopicArn)
	if attrs.Attributes["DisplayName"] != "From the CLI" || attrs.Attributes["SubscriptionsConfirmed"] != "1" {
		t.Fatalf("get-topic-attributes: %v", attrs.Attributes)
	}
	var subs struct {
		Subscriptions []struct{ SubscriptionArn, Protocol string }
	}
	mustAWSJSON(t, srv, &subs, "sns", "list-subscriptions-by-topic", "--topic-arn", topic.TopicArn)
	if len(subs.Subscriptions) != 1 || subs.Subscriptions[0].SubscriptionArn != sub.SubscriptionArn {
		t.Fatalf("list-subscriptions-by-topic: %+v", subs)
	}

	// A function subscribed to the topic, allowed by its resource policy.
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "fn.zip")
	src := "def handler(event, context):\n    print('sns says', event['Records'][0]['Sns']['Message'])\n"
	if err := os.WriteFile(zipPath, kiritest.ZipSource(t, map[string]string{"app.py": src}), 0o644); err != nil {
		t.Fatal(err)
	}
	var fn struct{ FunctionArn string }
	mustAWS(t, srv, "iam", "create-role", "--role-name", "r", "--assume-role-policy-document", lambdaTrust)
	mustAWSJSON(t, srv, &fn, "lambda", "create-function", "--function-name", "on-cli", "--runtime", "python3.11", "--handler", "app.handler",
		"--role", "arn:aws:iam::"+kiritest.TestAccount+":role/r", "--zip-file", "fileb://"+zipPath)
	mustAWS(t, srv, "lambda", "wait", "function-active-v2", "--function-name", "on-cli")
	mustAWS(t, srv, "lambda", "add-permission", "--function-name", "on-cli", "--statement-id", "sns", "--action", "lambda:InvokeFunction",
		"--principal", "sns.amazonaws.com", "--source-arn", topic.TopicArn)
	mustAWS(t, srv, "sns", "subscribe", "--topic-arn", topic.TopicArn, "--protocol", "lambda", "--notification-endpoint", fn.FunctionArn)
	mustAWS(t, srv, "sns", "publish", "--topic-arn", topic.TopicArn, "--message", "to the function",
		"--message-attributes", `{"kind": {"DataType": "String", "StringValue": "any"}}`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _ := runAWS(t, srv, "logs", "tail", "/aws/lambda/on-cli", "--format", "short")
		if strings.Contains(out, "sns says to the function") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the function's log lacks the message:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sns", "publish", "--topic-arn", topic.TopicArn + "-missing", "--message", "m"}, "(NotFound)"},
		{[]string{"sns", "subscribe", "--topic-arn", topic.TopicArn, "--protocol", "email", "--notification-endpoint", "a@example.com"}, "(InvalidParameter)"},
		{[]string{"sns", "publish", "--topic-arn", topic.TopicArn, "--message", "m", "--message-attributes", `{"a..b": {"DataType": "String", "StringValue": "v"}}`},
			"(ParameterValueInvalid)"},
	} {
		out, err := runAWS(t, srv, tc.args...)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("aws %s: %v, want %s:\n%s", strings.Join(tc.args, " "), err, tc.want, out)
		}
	}
	mustAWS(t, srv, "sns", "unsubscribe", "--subscription-arn", sub.SubscriptionArn)
	mustAWS(t, srv, "sns", "delete-topic", "--topic-arn", topic.TopicArn)
}

// snsQueuePolicy is the AWS CLI's --attributes value giving queueARN the policy that lets the
// topic topicARN send to it, as SQS requires of an SNS subscription.
func snsQueuePolicy(queueARN, topicARN string) string {
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},` +
		`"Action":"sqs:SendMessage","Resource":"` + queueARN + `","Condition":{"ArnEquals":{"aws:SourceArn":"` + topicARN + `"}}}]}`
	b, _ := json.Marshal(map[string]string{"Policy": doc})
	return string(b)
}

// snsScript is the publish/subscribe flow in boto3, printed as JSON lines the test reads.
const snsScript = `
import json, sys, time, boto3
from botocore.exceptions import ClientError
endpoint, key, secret = sys.argv[1:4]
kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)
sns, sqs = boto3.client("sns", **kw), boto3.client("sqs", **kw)
def out(name, v): print(json.dumps({name: v}, default=str))
def code(f):
    try:
        f()
        return None
    except ClientError as e:
        return [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
t = sns.create_topic(Name="py", Attributes={"DisplayName": "Python"})["TopicArn"]
u = sqs.create_queue(QueueName="py-sub")["QueueUrl"]
q = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
sqs.set_queue_attributes(QueueUrl=u, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": q, "Condition": {"ArnEquals": {"aws:SourceArn": t}}}]})})
s = sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=q, ReturnSubscriptionArn=True)["SubscriptionArn"]
p = sns.publish(TopicArn=t, Message="hello from python", Subject="Py",
    MessageAttributes={"n": {"DataType": "Number", "StringValue": "7"}, "b": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}})
b = sns.publish_batch(TopicArn=t, PublishBatchRequestEntries=[{"Id": "one", "Message": "1"}, {"Id": "two", "Message": "2"}])
out("batch", sorted(e["Id"] for e in b["Successful"]))
msgs = []
deadline = time.time() + 10
while len(msgs) < 3 and time.time() < deadline:
    for m in sqs.receive_message(QueueUrl=u, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        msgs.append(json.loads(m["Body"]))
        sqs.delete_message(QueueUrl=u, ReceiptHandle=m["ReceiptHandle"])
first = [m for m in msgs if m["MessageId"] == p["MessageId"]][0]
out("envelope", {"Type": first["Type"], "Subject": first["Subject"], "Message": first["Message"], "Attrs": first["MessageAttributes"]})
out("messages", sorted(m["Message"] for m in msgs))
out("topics", [x["TopicArn"] for x in sns.list_topics()["Topics"]] == [t])
out("sub", sns.get_subscription_attributes(SubscriptionArn=s)["Attributes"]["Protocol"])
out("errors", {
    "missing": code(lambda: sns.publish(TopicArn=t + "x", Message="m")),
    "empty": code(lambda: sns.publish(TopicArn=t, Message="")),
    "protocol": code(lambda: sns.subscribe(TopicArn=t, Protocol="sms", Endpoint="+15551234567")),
    "sub": code(lambda: sns.get_subscription_attributes(SubscriptionArn=t + ":00000000-0000-4000-8000-000000000000")),
})
`

// TestSNSBoto3 runs the publish/subscribe flow with Debian's boto3 1.26.
func TestSNSBoto3(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	out, err := exec.Command(debianBoto3(t), "-c", snsScript, srv.URL, kiritest.TestAccessKey, kiritest.TestSecretKey).CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	got := map[string]json.RawMessage{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("script output %q: %v", line, err)
		}
		for k, v := range m {
			got[k] = v
		}
	}
	want := map[string]string{
		"batch":    `["one", "two"]`,
		"envelope": `{"Type": "Notification", "Subject": "Py", "Message": "hello from python", "Attrs": {"b": {"Type": "Binary", "Value": "AAE="}, "n": {"Type": "Number", "Value": "7"}}}`,
		"messages": `["1", "2", "hello from python"]`,
		"topics":   `true`,
		"sub":      `"sqs"`,
		"errors":   `{"missing": ["NotFound", 404], "empty": ["InvalidParameter", 400], "protocol": ["InvalidParameter", 400], "sub": ["NotFound", 404]}`,
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s:\n got %s\nwant %s", k, got[k], v)
		}
	}
}
