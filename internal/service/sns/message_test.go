package sns

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
)

// TestCanonicalString checks the string signed for a notification against the example of the
// SNS Developer Guide ("Verifying the signatures of Amazon SNS messages").
func TestCanonicalString(t *testing.T) {
	t.Parallel()
	n := &notification{Type: typeNotification, Message: "My Test Message", MessageID: "4d4dc071-ddbf-465d-bba8-08f81c89da64",
		Subject: "My subject", Timestamp: "2019-01-31T04:37:04.321Z", TopicARN: "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P"}
	want := "Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\nTimestamp\n2019-01-31T04:37:04.321Z\n" +
		"TopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\nType\nNotification\n"
	if got := string(canonical(n, "")); got != want {
		t.Errorf("notification:\n%q\nwant\n%q", got, want)
	}
	n.Subject = ""
	if got := string(canonical(n, "")); bytes.Contains([]byte(got), []byte("Subject")) {
		t.Errorf("a message without a subject signs one: %q", got)
	}
	c := &notification{Type: typeSubscriptionConfirmation, Message: "My Test Message", MessageID: "3d891288-136d-417f-bc05-901c108273ee",
		Timestamp: "2019-01-31T19:25:13.719Z", Token: "233", TopicARN: "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P"}
	want = "Message\nMy Test Message\nMessageId\n3d891288-136d-417f-bc05-901c108273ee\nSubscribeURL\nhttps://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P&Token=233\n" +
		"Timestamp\n2019-01-31T19:25:13.719Z\nToken\n233\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\nType\nSubscriptionConfirmation\n"
	u := urls{endpoint: "https://sns.us-east-2.amazonaws.com"}
	if got := string(canonical(c, u.subscribe(c.TopicARN, c.Token))); got != want {
		t.Errorf("confirmation:\n%q\nwant\n%q", got, want)
	}
}

// TestEnvelopeOfEvent turns a function's event back into the envelope a queue receives, for
// the dead-letter queue of a function subscription.
func TestEnvelopeOfEvent(t *testing.T) {
	t.Parallel()
	u := urls{endpoint: "http://127.0.0.1:4566", certPath: "/SimpleNotificationService-x.pem"}
	n := &notification{Type: typeNotification, MessageID: "m", TopicARN: "arn:aws:sns:us-east-1:000000000000:t", Subject: "s",
		Message: "<hi> & bye", Timestamp: "2026-01-01T00:00:00.000Z", SignatureVersion: "2", Signature: "c2ln",
		Attributes: map[string]dispatch.Attribute{"a": {Type: "String", Value: "v"}, "b": {Type: "Binary", Binary: []byte{1}}}}
	sub := n.TopicARN + ":id"
	got, err := envelopeOfEvent(u.lambdaEventOf(n, sub), "2")
	if err != nil {
		t.Fatal(err)
	}
	if want := u.envelopeOf(n, sub); !bytes.Equal(got, want) {
		t.Errorf("envelope from the event:\n%s\nwant\n%s", got, want)
	}
	n.Subject, n.Attributes = "", nil
	var ev lambdaEvent
	if err := json.Unmarshal(u.lambdaEventOf(n, sub), &ev); err != nil || ev.Records[0].Sns.Subject != nil || ev.Records[0].Sns.MessageAttributes == nil {
		t.Errorf("event without subject and attributes: %+v, %v", ev, err)
	}
	if !bytes.Contains(u.lambdaEventOf(n, sub), []byte(`"Subject":null`)) {
		t.Errorf("a missing subject is not null: %s", u.lambdaEventOf(n, sub))
	}
}

func TestParseStructure(t *testing.T) {
	t.Parallel()
	m, err := parseStructure(`{"default": "d", "sqs": "q", "lambda": 3, "http": null}`)
	if err != nil || m["default"] != "d" || m["sqs"] != "q" || len(m) != 2 {
		t.Fatalf("parseStructure = %v, %v", m, err)
	}
	for msg, want := range map[string]string{
		`not json`:              "Invalid parameter: Message Structure - JSON message body failed to parse",
		`["default"]`:           "Invalid parameter: Message Structure - JSON message body failed to parse",
		`{"default": "a"} {}`:   "Invalid parameter: Message Structure - JSON message body failed to parse",
		`null`:                  "Invalid parameter: Message Structure - JSON message body failed to parse",
		`{"sqs": "q"}`:          "Invalid parameter: Message Structure - No default entry in JSON message body",
		`{"default": {"a": 1}}`: "Invalid parameter: Message Structure - No default entry in JSON message body",
	} {
		_, err := parseStructure(msg)
		if ae, ok := err.(*awsproto.Error); !ok || ae.Code != "InvalidParameter" || ae.Message != want {
			t.Errorf("%s: err = %v, want %q", msg, err, want)
		}
	}
}

// FuzzMessageStructure feeds MessageStructure json messages to the parser: it never panics,
// and what it accepts has a default message.
func FuzzMessageStructure(f *testing.F) {
	for _, s := range []string{`{"default": "d", "sqs": "q"}`, `{"default": 1}`, `{}`, `[]`, `"x"`, `{"default": "\u00e9\n"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseStructure(s)
		if err != nil {
			return
		}
		if _, ok := m["default"]; !ok {
			t.Fatalf("%q accepted without a default: %v", s, m)
		}
	})
}

func TestCheckAttributes(t *testing.T) {
	t.Parallel()
	str := func(typ, v string) MessageAttributeValue {
		return MessageAttributeValue{DataType: awsproto.Ptr(typ), StringValue: awsproto.Ptr(v)}
	}
	attrs, size, err := checkAttributes(map[string]MessageAttributeValue{
		"s": str("String", "v"), "n": str("Number.float", "1.5e3"), "a": str("String.Array", `["x", 1, true, null]`),
		"b": {DataType: awsproto.Ptr("Binary"), BinaryValue: []byte{1, 2}},
	})
	if err != nil || len(attrs) != 4 || string(attrs["b"].Binary) != "\x01\x02" || size != len("sv")+len("String")+len("n1.5e3Number.float")+len(`a["x", 1, true, null]String.Array`)+len("b")+2+len("Binary") {
		t.Fatalf("checkAttributes = %v, %d, %v", attrs, size, err)
	}
	for name, c := range map[string]struct {
		attrs map[string]MessageAttributeValue
		msg   string
	}{
		"a number that is not": {map[string]MessageAttributeValue{"n": str("Number", "1a")}, "Could not cast message attribute 'n' value to number."},
		"an array that is not": {map[string]MessageAttributeValue{"a": str("String.Array", "x")}, "The message attribute 'a' with type 'String.Array' must contain a JSON array."},
		"an empty label":       {map[string]MessageAttributeValue{"l": str("String.", "x")}, "The message attribute 'l' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."},
		"a long name":          {map[string]MessageAttributeValue{string(bytes.Repeat([]byte("a"), 257)): str("String", "x")}, "Length of message attribute name must be less than 256 bytes."},
		"a non-ASCII letter":   {map[string]MessageAttributeValue{"é": str("String", "x")}, "Invalid non-alphanumeric character '#xE9' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots."},
		"a binary as string":   {map[string]MessageAttributeValue{"s": {DataType: awsproto.Ptr("String"), BinaryValue: []byte{1}}}, "The message attribute 's' with type 'String' must use field 'String'."},
		"no value":             {map[string]MessageAttributeValue{"s": {DataType: awsproto.Ptr("Binary")}}, "The message attribute 's' must contain non-empty message attribute value for message attribute type 'Binary'."},
	} {
		_, _, err := checkAttributes(c.attrs)
		if ae, ok := err.(*awsproto.Error); !ok || ae.Code != "ParameterValueInvalid" || ae.Message != c.msg {
			t.Errorf("%s: err = %v, want %q", name, err, c.msg)
		}
	}
}
