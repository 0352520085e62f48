package e2e

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestSQSAWSCLI drives SQS with the AWS CLI v2.9, which speaks the query protocol to it.
func TestSQSAWSCLI(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	var created struct{ QueueUrl string }
	mustAWSJSON(t, srv, &created, "sqs", "create-queue", "--queue-name", "cli", "--attributes", "VisibilityTimeout=40,DelaySeconds=0",
		"--tags", "team=cli")
	u := created.QueueUrl
	if u != srv.URL+"/"+kiritest.TestAccount+"/cli" {
		t.Fatalf("create-queue: %s", u)
	}
	var sent struct{ MessageId, MD5OfMessageBody, MD5OfMessageAttributes string }
	mustAWSJSON(t, srv, &sent, "sqs", "send-message", "--queue-url", u, "--message-body", "from the cli",
		"--message-attributes", `{"Hello":{"DataType":"String","StringValue":"There"},"Bin":{"DataType":"Binary","BinaryValue":"AAEC"}}`)
	if sent.MD5OfMessageBody != md5Hex("from the cli") || sent.MessageId == "" || sent.MD5OfMessageAttributes == "" {
		t.Fatalf("send-message: %+v", sent)
	}
	var batch struct {
		Successful []struct{ Id string }
		Failed     []struct{ Id, Code string }
	}
	mustAWSJSON(t, srv, &batch, "sqs", "send-message-batch", "--queue-url", u, "--entries",
		`[{"Id":"one","MessageBody":"1"},{"Id":"two","MessageBody":"2","DelaySeconds":0},{"Id":"bad","MessageBody":"\u0001"}]`)
	if len(batch.Successful) != 2 || len(batch.Failed) != 1 || batch.Failed[0].Code != "InvalidMessageContents" {
		t.Fatalf("send-message-batch: %+v", batch)
	}
	var attrs struct{ Attributes map[string]string }
	mustAWSJSON(t, srv, &attrs, "sqs", "get-queue-attributes", "--queue-url", u, "--attribute-names", "All")
	if attrs.Attributes["ApproximateNumberOfMessages"] != "3" || attrs.Attributes["VisibilityTimeout"] != "40" ||
		attrs.Attributes["QueueArn"] != "arn:aws:sqs:us-east-1:"+kiritest.TestAccount+":cli" {
		t.Fatalf("get-queue-attributes: %v", attrs.Attributes)
	}
	var received struct {
		Messages []struct {
			Body, ReceiptHandle, MD5OfMessageAttributes string
			Attributes                                  map[string]string
			MessageAttributes                           map[string]struct{ DataType, StringValue, BinaryValue string }
		}
	}
	mustAWSJSON(t, srv, &received, "sqs", "receive-message", "--queue-url", u, "--max-number-of-messages", "10",
		"--attribute-names", "All", "--message-attribute-names", "All", "--wait-time-seconds", "1")
	if len(received.Messages) != 3 || received.Messages[0].Body != "from the cli" || received.Messages[0].MessageAttributes["Bin"].BinaryValue != "AAEC" ||
		received.Messages[0].MD5OfMessageAttributes != sent.MD5OfMessageAttributes || received.Messages[0].Attributes["SenderId"] == "" {
		t.Fatalf("receive-message: %+v", received)
	}
	mustAWS(t, srv, "sqs", "change-message-visibility", "--queue-url", u, "--receipt-handle", received.Messages[1].ReceiptHandle, "--visibility-timeout", "0")
	mustAWS(t, srv, "sqs", "delete-message", "--queue-url", u, "--receipt-handle", received.Messages[0].ReceiptHandle)
	var deleted struct{ Successful []struct{ Id string } }
	mustAWSJSON(t, srv, &deleted, "sqs", "delete-message-batch", "--queue-url", u, "--entries",
		`[{"Id":"a","ReceiptHandle":"`+received.Messages[2].ReceiptHandle+`"}]`)
	if len(deleted.Successful) != 1 {
		t.Fatalf("delete-message-batch: %+v", deleted)
	}
	var tags struct{ Tags map[string]string }
	mustAWSJSON(t, srv, &tags, "sqs", "list-queue-tags", "--queue-url", u)
	if tags.Tags["team"] != "cli" {
		t.Fatalf("list-queue-tags: %v", tags)
	}
	mustAWS(t, srv, "sqs", "set-queue-attributes", "--queue-url", u, "--attributes", "ReceiveMessageWaitTimeSeconds=2")
	var list struct{ QueueUrls []string }
	mustAWSJSON(t, srv, &list, "sqs", "list-queues", "--queue-name-prefix", "c")
	if len(list.QueueUrls) != 1 || list.QueueUrls[0] != u {
		t.Fatalf("list-queues: %v", list)
	}
	mustAWS(t, srv, "sqs", "purge-queue", "--queue-url", u)

	// Errors carry SQS's query codes.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sqs", "get-queue-url", "--queue-name", "missing"}, "AWS.SimpleQueueService.NonExistentQueue"},
		{[]string{"sqs", "purge-queue", "--queue-url", u}, "AWS.SimpleQueueService.PurgeQueueInProgress"},
		{[]string{"sqs", "create-queue", "--queue-name", "cli", "--attributes", "VisibilityTimeout=41"}, "QueueAlreadyExists"},
		{[]string{"sqs", "delete-message", "--queue-url", u, "--receipt-handle", "forged"}, "ReceiptHandleIsInvalid"},
		{[]string{"sqs", "set-queue-attributes", "--queue-url", u, "--attributes", "DelaySeconds=1000"}, "InvalidAttributeValue"},
		{[]string{"sqs", "get-queue-attributes", "--queue-url", u, "--attribute-names", "Colour"}, "InvalidAttributeName"},
		{[]string{"sqs", "receive-message", "--queue-url", u, "--max-number-of-messages", "11"}, "InvalidParameterValue"},
		{[]string{"sqs", "send-message-batch", "--queue-url", u, "--entries", `[{"Id":"a","MessageBody":"1"},{"Id":"a","MessageBody":"2"}]`},
			"AWS.SimpleQueueService.BatchEntryIdsNotDistinct"},
	} {
		out, err := runAWS(t, srv, tc.args...)
		if err == nil || !strings.Contains(out, "("+tc.want+")") {
			t.Errorf("aws %s: %v, want the error %s:\n%s", strings.Join(tc.args, " "), err, tc.want, out)
		}
	}
	mustAWS(t, srv, "sqs", "delete-queue", "--queue-url", u)
}

// sqsScript is the main SQS flow in boto3, printed as JSON lines the test reads: the same
// script runs on boto3 1.26 (query protocol) and 1.43 (JSON protocol).
const sqsScript = `
import json, sys, boto3
from botocore.exceptions import ClientError
endpoint, key, secret = sys.argv[1:4]
c = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)
def out(name, v): print(json.dumps({name: v}, default=str))
def code(f):
    try:
        f()
        return None
    except ClientError as e:
        return [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
u = c.create_queue(QueueName="py", Attributes={"VisibilityTimeout": "0", "MaximumMessageSize": "1024"}, tags={"lang": "python"})["QueueUrl"]
out("url", u)
s = c.send_message(QueueUrl=u, MessageBody="hello \u00e9", MessageAttributes={
    "General": {"DataType": "String", "StringValue": "Kenobi"}, "Hello": {"DataType": "String", "StringValue": "There"},
    "Help.Me": {"DataType": "String", "StringValue": "Me"}, "Raw": {"DataType": "Binary", "BinaryValue": b"\x00\xff"}},
    MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"}})
out("sent", s)
r = c.receive_message(QueueUrl=u, MessageAttributeNames=["Hel.*"], AttributeNames=["All"], WaitTimeSeconds=1)
m = r["Messages"][0]
out("received", {"Body": m["Body"], "MD5OfBody": m["MD5OfBody"], "MD5OfMessageAttributes": m.get("MD5OfMessageAttributes"),
    "Names": sorted(m.get("MessageAttributes", {})), "Trace": m["Attributes"].get("AWSTraceHeader")})
b = c.send_message_batch(QueueUrl=u, Entries=[{"Id": "a", "MessageBody": "1"}, {"Id": "b", "MessageBody": "2" * 1025}])
out("batch", {"ok": [e["Id"] for e in b.get("Successful", [])], "failed": [[e["Id"], e["Code"]] for e in b.get("Failed", [])]})
r = c.receive_message(QueueUrl=u, MaxNumberOfMessages=10, VisibilityTimeout=30)
d = c.delete_message_batch(QueueUrl=u, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(r["Messages"])])
out("deleted", len(d.get("Successful", [])))
f = c.create_queue(QueueName="py.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
f1 = c.send_message(QueueUrl=f, MessageBody="x", MessageGroupId="g")
f2 = c.send_message(QueueUrl=f, MessageBody="x", MessageGroupId="g")
out("fifo", {"dup": f1["MessageId"] == f2["MessageId"], "seq": f1["SequenceNumber"]})
out("errors", {
    "missing": code(lambda: c.get_queue_url(QueueName="missing")),
    "exists": code(lambda: c.create_queue(QueueName="py", Attributes={"VisibilityTimeout": "1"})),
    "attr": code(lambda: c.set_queue_attributes(QueueUrl=u, Attributes={"MaximumMessageSize": "10"})),
    "name": code(lambda: c.get_queue_attributes(QueueUrl=u, AttributeNames=["Nope"])),
    "handle": code(lambda: c.delete_message(QueueUrl=u, ReceiptHandle="forged")),
    "group": code(lambda: c.send_message(QueueUrl=f, MessageBody="x")),
    "empty": code(lambda: c.send_message_batch(QueueUrl=u, Entries=[])),
    "contents": code(lambda: c.send_message(QueueUrl=u, MessageBody="\x00")),
})
c.delete_queue(QueueUrl=u)
out("gone", code(lambda: c.get_queue_attributes(QueueUrl=u, AttributeNames=["All"])))
`

// runSQSScript runs sqsScript with the python, and returns its JSON lines by name.
func runSQSScript(t *testing.T, python string, srv *kiritest.Server) map[string]json.RawMessage {
	t.Helper()
	out, err := exec.Command(python, "-c", sqsScript, srv.URL, kiritest.TestAccessKey, kiritest.TestSecretKey).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", python, err, out)
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
	return got
}

// checkSQSScript checks what sqsScript printed.
func checkSQSScript(t *testing.T, srv *kiritest.Server, got map[string]json.RawMessage) {
	t.Helper()
	want := map[string]string{
		"url":      `"` + srv.URL + `/` + kiritest.TestAccount + `/py"`,
		"received": `{"Body": "hello \u00e9", "MD5OfBody": "` + md5Hex("hello é") + `", "MD5OfMessageAttributes": "83fee93c1bcd8b9a5a923ffacdc636c7", "Names": ["Hello", "Help.Me"], "Trace": "Root=1-5759e988-bd862e3fe1be46a994272793"}`,
		"batch":    `{"ok": ["a"], "failed": [["b", "InvalidParameterValue"]]}`,
		"deleted":  `2`,
		"errors": `{"missing": ["AWS.SimpleQueueService.NonExistentQueue", 400], "exists": ["QueueAlreadyExists", 400], ` +
			`"attr": ["InvalidAttributeValue", 400], "name": ["InvalidAttributeName", 400], "handle": ["ReceiptHandleIsInvalid", 404], ` +
			`"group": ["MissingParameter", 400], "empty": ["AWS.SimpleQueueService.EmptyBatchRequest", 400], "contents": ["InvalidMessageContents", 400]}`,
		"gone": `["AWS.SimpleQueueService.NonExistentQueue", 400]`,
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s:\n got %s\nwant %s", k, got[k], v)
		}
	}
	var sent struct{ MD5OfMessageAttributes, MD5OfMessageSystemAttributes string }
	json.Unmarshal(got["sent"], &sent)
	if sent.MD5OfMessageAttributes == "" || sent.MD5OfMessageSystemAttributes == "" {
		t.Errorf("sent: %s", got["sent"])
	}
	var fifo struct {
		Dup bool
		Seq string
	}
	json.Unmarshal(got["fifo"], &fifo)
	if !fifo.Dup || len(fifo.Seq) != 20 {
		t.Errorf("fifo: %s", got["fifo"])
	}
}

// TestSQSBoto3Query runs the main flow with Debian's boto3 1.26, which speaks query to SQS.
func TestSQSBoto3Query(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	checkSQSScript(t, srv, runSQSScript(t, debianBoto3(t), srv))
}

// TestSQSBoto3JSON runs the main flow with the boto3 on PATH (1.43), which speaks JSON to SQS.
func TestSQSBoto3JSON(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH")
	}
	v, err := exec.Command(python, "-c", "import botocore; print(botocore.__version__)").Output()
	if err != nil {
		t.Skip("python3 has no boto3")
	}
	if version := strings.TrimSpace(string(v)); version < "1.34.90" && !strings.HasPrefix(version, "1.4") {
		t.Skipf("botocore %s speaks query to SQS, not JSON", version)
	}
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	checkSQSScript(t, srv, runSQSScript(t, python, srv))
}
