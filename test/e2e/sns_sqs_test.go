package e2e

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// snsEnvelope is the JSON SNS delivers to queues and HTTP endpoints.
type snsEnvelope struct {
	Type, MessageId, Token, TopicArn, Subject, Message, SubscribeURL, Timestamp string
	SignatureVersion, Signature, SigningCertURL, UnsubscribeURL, SequenceNumber string
	MessageAttributes                                                           map[string]struct{ Type, Value string }
}

// verifySNSSignature checks an envelope's signature with the certificate its SigningCertURL
// serves, as an endpoint verifies SNS's messages.
func verifySNSSignature(t *testing.T, e snsEnvelope) {
	t.Helper()
	resp, err := http.Get(e.SigningCertURL)
	if err != nil {
		t.Fatalf("fetch SigningCertURL: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	block, _ := pem.Decode(body)
	if resp.StatusCode != 200 || block == nil {
		t.Fatalf("SigningCertURL %s answered %d: %s", e.SigningCertURL, resp.StatusCode, body)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	fields := []string{"Message", e.Message, "MessageId", e.MessageId}
	if e.Type == "Notification" {
		if e.Subject != "" {
			fields = append(fields, "Subject", e.Subject)
		}
		fields = append(fields, "Timestamp", e.Timestamp)
	} else {
		fields = append(fields, "SubscribeURL", e.SubscribeURL, "Timestamp", e.Timestamp, "Token", e.Token)
	}
	fields = append(fields, "TopicArn", e.TopicArn, "Type", e.Type)
	canonical := strings.Join(fields, "\n") + "\n"
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if err != nil {
		t.Fatalf("Signature %q: %v", e.Signature, err)
	}
	var h crypto.Hash
	var sum []byte
	switch e.SignatureVersion {
	case "1":
		s := sha1.Sum([]byte(canonical))
		h, sum = crypto.SHA1, s[:]
	case "2":
		s := sha256.Sum256([]byte(canonical))
		h, sum = crypto.SHA256, s[:]
	default:
		t.Fatalf("SignatureVersion %q", e.SignatureVersion)
	}
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), h, sum, sig); err != nil {
		t.Fatalf("signature of %s message does not verify: %v", e.Type, err)
	}
}

func decodeEnvelope(t *testing.T, body string) snsEnvelope {
	t.Helper()
	var e snsEnvelope
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("envelope %s: %v", body, err)
	}
	return e
}

// receiveSorted receives n messages and returns their bodies in order.
func receiveBodies(t *testing.T, c *sqs.Client, url string, n int) []string {
	t.Helper()
	var out []string
	for _, m := range receiveAll(t, c, url, n, 20*time.Second) {
		out = append(out, aws.ToString(m.Body))
	}
	return out
}

// expectEmpty checks that nothing more arrives at a queue for a moment.
func expectEmpty(t *testing.T, c *sqs.Client, url string) {
	t.Helper()
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1, MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) > 0 {
		t.Fatalf("unexpected message: %s", aws.ToString(out.Messages[0].Body))
	}
}

// TestSNSToSQS publishes to a queue subscription as a signed JSON envelope, with the message
// attributes in it, and raw, with the attributes as SQS message attributes.
func TestSNSToSQS(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	topic := createTopic(t, cl.SNS, "news", nil)
	envURL, envARN := createQueue(t, cl.SQS, "news-envelope")
	rawURL, rawARN := createQueue(t, cl.SQS, "news-raw")
	envSub := subscribe(t, cl.SNS, topic, "sqs", envARN, nil)
	subscribe(t, cl.SNS, topic, "sqs", rawARN, map[string]string{"RawMessageDelivery": "true"})

	attrs := map[string]snstypes.MessageAttributeValue{
		"color": {DataType: aws.String("String"), StringValue: aws.String("red")},
		"size":  {DataType: aws.String("Number"), StringValue: aws.String("42")},
		"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{2, 3, 4}},
	}
	pub, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(`héllo <world> & "you"`),
		Subject: aws.String("Greetings"), MessageAttributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	e := decodeEnvelope(t, receiveBodies(t, cl.SQS, envURL, 1)[0])
	if e.Type != "Notification" || e.MessageId != aws.ToString(pub.MessageId) || e.TopicArn != topic || e.Subject != "Greetings" ||
		e.Message != `héllo <world> & "you"` || e.SignatureVersion != "1" || e.UnsubscribeURL != srv.URL+"/?Action=Unsubscribe&SubscriptionArn="+envSub {
		t.Fatalf("envelope %+v", e)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", e.Timestamp); err != nil {
		t.Errorf("Timestamp %q: %v", e.Timestamp, err)
	}
	if e.MessageAttributes["color"].Value != "red" || e.MessageAttributes["size"].Type != "Number" || e.MessageAttributes["blob"].Value != "AgME" {
		t.Errorf("envelope attributes %+v", e.MessageAttributes)
	}
	verifySNSSignature(t, e)

	raw := receiveAll(t, cl.SQS, rawURL, 1, 20*time.Second)[0]
	if aws.ToString(raw.Body) != `héllo <world> & "you"` {
		t.Fatalf("raw body %q", aws.ToString(raw.Body))
	}
	if a := raw.MessageAttributes; aws.ToString(a["color"].StringValue) != "red" || aws.ToString(a["size"].DataType) != "Number" ||
		string(a["blob"].BinaryValue) != "\x02\x03\x04" {
		t.Errorf("raw message attributes %+v", a)
	}

	// SignatureVersion 2 signs with SHA256; TargetArn publishes like TopicArn.
	if _, err := cl.SNS.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(topic),
		AttributeName: aws.String("SignatureVersion"), AttributeValue: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SNS.Publish(ctx, &sns.PublishInput{TargetArn: aws.String(topic), Message: aws.String("v2")}); err != nil {
		t.Fatal(err)
	}
	e = decodeEnvelope(t, receiveBodies(t, cl.SQS, envURL, 1)[0])
	if e.SignatureVersion != "2" || e.Subject != "" || e.MessageAttributes != nil {
		t.Fatalf("envelope %+v", e)
	}
	verifySNSSignature(t, e)
	receiveBodies(t, cl.SQS, rawURL, 1)

	// MessageStructure json gives each protocol its message.
	_, err = cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), MessageStructure: aws.String("json"),
		Message: aws.String(`{"default": "for everyone", "sqs": "for queues", "email": "for people"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if e := decodeEnvelope(t, receiveBodies(t, cl.SQS, envURL, 1)[0]); e.Message != "for queues" {
		t.Errorf("structured message to sqs = %q", e.Message)
	}
	if body := receiveBodies(t, cl.SQS, rawURL, 1)[0]; body != "for queues" {
		t.Errorf("structured raw message = %q", body)
	}
}

// TestSNSPublishErrors checks Publish's and PublishBatch's refusals.
func TestSNSPublishErrors(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SNS
	ctx := t.Context()
	topic := createTopic(t, c, "errs", nil)
	fifo := createTopic(t, c, "errs.fifo", map[string]string{"FifoTopic": "true"})
	pub := func(in *sns.PublishInput) error {
		if in.TopicArn == nil && in.TargetArn == nil && in.PhoneNumber == nil {
			in.TopicArn = aws.String(topic)
		}
		if in.Message == nil {
			in.Message = aws.String("m")
		}
		_, err := c.Publish(ctx, in)
		return err
	}
	wantAPIError(t, pub(&sns.PublishInput{Message: aws.String("")}), "InvalidParameter", "Invalid parameter: Empty message")
	wantAPIError(t, pub(&sns.PublishInput{Subject: aws.String("")}), "InvalidParameter", "Invalid parameter: Subject")
	wantAPIError(t, pub(&sns.PublishInput{Subject: aws.String("two\nlines")}), "InvalidParameter", "Invalid parameter: Subject")
	wantAPIError(t, pub(&sns.PublishInput{Message: aws.String(strings.Repeat("x", 262145))}), "InvalidParameter", "Invalid parameter: Message too long")
	wantAPIError(t, pub(&sns.PublishInput{Message: aws.String(strings.Repeat("x", 262100)), MessageAttributes: map[string]snstypes.MessageAttributeValue{
		"a": {DataType: aws.String("String"), StringValue: aws.String(strings.Repeat("y", 100))}}}), "InvalidParameter", "Invalid parameter: Message too long")
	wantAPIError(t, pub(&sns.PublishInput{PhoneNumber: aws.String("+15551234567")}), "InvalidParameter", "Invalid parameter: PhoneNumber Reason: Kiri does not send SMS messages.")
	wantAPIError(t, pub(&sns.PublishInput{TopicArn: aws.String(topic + "-missing")}), "NotFound", "Topic does not exist")
	wantAPIError(t, pub(&sns.PublishInput{MessageStructure: aws.String("json"), Message: aws.String("not json")}),
		"InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse")
	wantAPIError(t, pub(&sns.PublishInput{MessageStructure: aws.String("json"), Message: aws.String(`{"sqs": "only"}`)}),
		"InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body")
	wantAPIError(t, pub(&sns.PublishInput{MessageDeduplicationId: aws.String("d")}),
		"InvalidParameter", "Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
	wantAPIError(t, pub(&sns.PublishInput{TopicArn: aws.String(fifo)}), "InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
	wantAPIError(t, pub(&sns.PublishInput{TopicArn: aws.String(fifo), MessageGroupId: aws.String("g")}),
		"InvalidParameter", "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
	for name, v := range map[string]snstypes.MessageAttributeValue{
		".dot":   {DataType: aws.String("String"), StringValue: aws.String("v")},
		"dot.":   {DataType: aws.String("String"), StringValue: aws.String("v")},
		"a..b":   {DataType: aws.String("String"), StringValue: aws.String("v")},
		"a^b":    {DataType: aws.String("String"), StringValue: aws.String("v")},
		"type":   {DataType: aws.String("Text"), StringValue: aws.String("v")},
		"empty":  {DataType: aws.String("String"), StringValue: aws.String("")},
		"binary": {DataType: aws.String("Binary"), StringValue: aws.String("v")},
		"number": {DataType: aws.String("Number"), StringValue: aws.String("twelve")},
	} {
		err := pub(&sns.PublishInput{MessageAttributes: map[string]snstypes.MessageAttributeValue{name: v}})
		wantAPIError(t, err, "ParameterValueInvalid", "")
	}
	err := pub(&sns.PublishInput{MessageAttributes: map[string]snstypes.MessageAttributeValue{"a^b": {DataType: aws.String("String"), StringValue: aws.String("v")}}})
	wantAPIError(t, err, "ParameterValueInvalid", "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.")

	batch := func(topicARN string, entries ...snstypes.PublishBatchRequestEntry) (*sns.PublishBatchOutput, error) {
		return c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topicARN), PublishBatchRequestEntries: entries})
	}
	entry := func(id, msg string) snstypes.PublishBatchRequestEntry {
		return snstypes.PublishBatchRequestEntry{Id: aws.String(id), Message: aws.String(msg)}
	}
	var eleven []snstypes.PublishBatchRequestEntry
	for i := range 11 {
		eleven = append(eleven, entry(fmt.Sprint(i), "m"))
	}
	_, err = batch(topic, eleven...)
	wantAPIError(t, err, "TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.")
	_, err = batch(topic, entry("1", "a"), entry("1", "b"))
	wantAPIError(t, err, "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")
	_, err = batch(topic, entry("message.id", "a"))
	wantAPIError(t, err, "InvalidBatchEntryId", "The Id of a batch entry in the batch request contains an impermissible character: message.id")
	_, err = batch(topic, entry(strings.Repeat("a", 81), "a"))
	wantAPIError(t, err, "InvalidBatchEntryId", "The Id of a batch entry in the batch request is too long: ")
	_, err = batch(topic, entry("1", strings.Repeat("x", 200000)), entry("2", strings.Repeat("x", 100000)))
	wantAPIError(t, err, "BatchRequestTooLong", "The length of all the messages put together is more than the limit.")
	_, err = batch(fifo, entry("1", "no group"))
	wantAPIError(t, err, "InvalidParameter", "Invalid parameter: The MessageGroupId parameter is required for FIFO topics")
	// An entry whose message SNS refuses fails alone.
	out, err := batch(topic, entry("good", "fine"), entry("empty", ""))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 1 || aws.ToString(out.Successful[0].Id) != "good" || len(out.Failed) != 1 ||
		aws.ToString(out.Failed[0].Id) != "empty" || aws.ToString(out.Failed[0].Code) != "InvalidParameter" || !out.Failed[0].SenderFault {
		t.Fatalf("PublishBatch = %+v", out)
	}
}

// TestSNSFilterPolicies filters messages by attributes and by body with several operators.
func TestSNSFilterPolicies(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	topic := createTopic(t, cl.SNS, "filtered", nil)
	attrURL, attrARN := createQueue(t, cl.SQS, "by-attributes")
	bodyURL, bodyARN := createQueue(t, cl.SQS, "by-body")
	subscribe(t, cl.SNS, topic, "sqs", attrARN, map[string]string{"RawMessageDelivery": "true", "FilterPolicy": `{
		"store": [{"prefix": "eu-"}],
		"price": [{"numeric": [">=", 10, "<", 100]}],
		"kind": [{"anything-but": ["test"]}],
		"tags": ["gift"],
		"$or": [{"vip": [{"exists": true}]}, {"source": [{"equals-ignore-case": "WEB"}]}]}`})
	subscribe(t, cl.SNS, topic, "sqs", bodyARN, map[string]string{"RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody",
		"FilterPolicy": `{"order": {"status": ["paid"], "total": [{"numeric": [">", 50]}]}, "ip": [{"cidr": "10.0.0.0/8"}]}`})

	str := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	num := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(v)}
	}
	arr := func(v string) snstypes.MessageAttributeValue {
		return snstypes.MessageAttributeValue{DataType: aws.String("String.Array"), StringValue: aws.String(v)}
	}
	base := func() map[string]snstypes.MessageAttributeValue {
		return map[string]snstypes.MessageAttributeValue{"store": str("eu-west"), "price": num("42.5"), "kind": str("real"),
			"tags": arr(`["gift", "fragile"]`), "source": str("web")}
	}
	cases := []struct {
		name   string
		change func(map[string]snstypes.MessageAttributeValue)
		pass   bool
	}{
		{"all match", func(map[string]snstypes.MessageAttributeValue) {}, true},
		{"vip instead of source", func(a map[string]snstypes.MessageAttributeValue) { delete(a, "source"); a["vip"] = str("yes") }, true},
		{"wrong prefix", func(a map[string]snstypes.MessageAttributeValue) { a["store"] = str("us-east") }, false},
		{"price too high", func(a map[string]snstypes.MessageAttributeValue) { a["price"] = num("100") }, false},
		{"excluded kind", func(a map[string]snstypes.MessageAttributeValue) { a["kind"] = str("test") }, false},
		{"no gift tag", func(a map[string]snstypes.MessageAttributeValue) { a["tags"] = arr(`["fragile"]`) }, false},
		{"neither or branch", func(a map[string]snstypes.MessageAttributeValue) { a["source"] = str("app") }, false},
	}
	var want []string
	for _, c := range cases {
		a := base()
		c.change(a)
		if _, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(c.name), MessageAttributes: a}); err != nil {
			t.Fatal(err)
		}
		if c.pass {
			want = append(want, c.name)
		}
	}
	got := receiveBodies(t, cl.SQS, attrURL, len(want))
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Fatalf("by attributes received %q, want %q", got, want)
	}
	expectEmpty(t, cl.SQS, attrURL)

	bodies := map[string]bool{
		`{"order": {"status": "paid", "total": 75}, "ip": "10.1.2.3"}`:  true,
		`{"order": {"status": "paid", "total": 25}, "ip": "10.1.2.3"}`:  false,
		`{"order": {"status": "open", "total": 75}, "ip": "10.1.2.3"}`:  false,
		`{"order": {"status": "paid", "total": 75}, "ip": "192.0.2.1"}`: false,
		`not json at all`: false,
	}
	want = nil
	for b, pass := range bodies {
		if _, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
		if pass {
			want = append(want, b)
		}
	}
	if got := receiveBodies(t, cl.SQS, bodyURL, len(want)); !slices.Equal(got, want) {
		t.Fatalf("by body received %q, want %q", got, want)
	}
	expectEmpty(t, cl.SQS, bodyURL)
}

// TestSNSFifoToSQSFifo delivers a FIFO topic's messages to a FIFO queue in group order,
// deduplicated by id and by content.
func TestSNSFifoToSQSFifo(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	topic := createTopic(t, cl.SNS, "ledger.fifo", map[string]string{"FifoTopic": "true", "ContentBasedDeduplication": "true"})
	out, err := cl.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ledger.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(out.QueueUrl)
	queueARN := "arn:aws:sqs:us-east-1:000000000000:ledger.fifo"
	_, err = cl.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("lambda"), Endpoint: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f")})
	wantAPIError(t, err, "InvalidParameter", "FIFO topics deliver only to Amazon SQS queues")
	subscribe(t, cl.SNS, topic, "sqs", queueARN, map[string]string{"RawMessageDelivery": "true"})
	// A standard queue takes a FIFO topic's messages too, deduplicated by the topic, unordered.
	plain, plainARN := createQueue(t, cl.SQS, "plain")
	subscribe(t, cl.SNS, topic, "sqs", plainARN, map[string]string{"RawMessageDelivery": "true"})

	var seqs []string
	for i := range 20 {
		group := []string{"a", "b"}[i%2]
		res, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(fmt.Sprintf("%s-%02d", group, i)),
			MessageGroupId: aws.String(group)})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, aws.ToString(res.SequenceNumber))
	}
	if !slices.IsSorted(seqs) || len(seqs[0]) != 20 {
		t.Errorf("sequence numbers %v not increasing", seqs)
	}
	// The same content again is a duplicate, acknowledged with the first message's id.
	first, _ := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("once"), MessageGroupId: aws.String("a")})
	again, err := cl.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("once"), MessageGroupId: aws.String("b")})
	if err != nil || aws.ToString(again.MessageId) != aws.ToString(first.MessageId) {
		t.Fatalf("duplicate Publish = %v, %v; want the first message's id %s", aws.ToString(again.MessageId), err, aws.ToString(first.MessageId))
	}
	batch, err := cl.SNS.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topic), PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
		{Id: aws.String("1"), Message: aws.String("x"), MessageGroupId: aws.String("c"), MessageDeduplicationId: aws.String("d1")},
		{Id: aws.String("2"), Message: aws.String("y"), MessageGroupId: aws.String("c"), MessageDeduplicationId: aws.String("d1")},
	}})
	if err != nil || len(batch.Successful) != 2 || aws.ToString(batch.Successful[0].MessageId) != aws.ToString(batch.Successful[1].MessageId) {
		t.Fatalf("PublishBatch with one deduplication id twice = %+v, %v", batch, err)
	}

	var byGroup = map[string][]string{}
	deadline := time.Now().Add(20 * time.Second)
	total := 0
	for total < 22 && time.Now().Before(deadline) {
		r, err := cl.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"MessageGroupId", "MessageDeduplicationId"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Messages {
			g := m.Attributes["MessageGroupId"]
			byGroup[g] = append(byGroup[g], aws.ToString(m.Body))
			total++
			if _, err := cl.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, g := range []string{"a", "b"} {
		var want []string
		for i := range 20 {
			if []string{"a", "b"}[i%2] == g {
				want = append(want, fmt.Sprintf("%s-%02d", g, i))
			}
		}
		if g == "a" {
			want = append(want, "once")
		}
		if !slices.Equal(byGroup[g], want) {
			t.Errorf("group %s received %q, want %q", g, byGroup[g], want)
		}
	}
	if !slices.Equal(byGroup["c"], []string{"x"}) {
		t.Errorf("group c received %q, want one message", byGroup["c"])
	}
	expectEmpty(t, cl.SQS, url)
	if got := receiveAll(t, cl.SQS, plain, 22, 20*time.Second); len(got) != 22 {
		t.Errorf("the standard queue received %d messages, want 22", len(got))
	}
	expectEmpty(t, cl.SQS, plain)
}
