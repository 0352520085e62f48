package sns

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/pattern"
)

// The types of the messages SNS sends to endpoints.
const (
	typeNotification             = "Notification"
	typeSubscriptionConfirmation = "SubscriptionConfirmation"
	typeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// maxMessageBytes is SNS's message size limit, the message attributes included (256 KiB).
const maxMessageBytes = 262144

// maxSubject bounds a Subject.
const maxSubject = 100

// timestampLayout is the form of a message's Timestamp.
const timestampLayout = "2006-01-02T15:04:05.000Z"

// notification is one message SNS sends, before it is rendered for an endpoint.
type notification struct {
	Type       string                        `json:"type"`
	MessageID  string                        `json:"id"`
	TopicARN   string                        `json:"topic"`
	Subject    string                        `json:"subject,omitempty"`
	Message    string                        `json:"message"`
	Timestamp  string                        `json:"ts"`
	Sequence   string                        `json:"seq,omitempty"`
	Token      string                        `json:"token,omitempty"`
	Attributes map[string]dispatch.Attribute `json:"attrs,omitempty"`
	// SignatureVersion is the topic's; "" for a FIFO topic, whose messages are not signed.
	SignatureVersion string `json:"sigv,omitempty"`
	// Signature is filled in once the message is signed.
	Signature string `json:"sig,omitempty"`
}

// attributeJSON is a message attribute as the JSON of a notification carries it.
type attributeJSON struct {
	Type  string `json:"Type"`
	Value string `json:"Value"`
}

func attributesJSON(attrs map[string]dispatch.Attribute) map[string]attributeJSON {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]attributeJSON, len(attrs))
	for name, a := range attrs {
		v := a.Value
		if strings.HasPrefix(a.Type, "Binary") {
			v = base64.StdEncoding.EncodeToString(a.Binary)
		}
		out[name] = attributeJSON{Type: a.Type, Value: v}
	}
	return out
}

// envelope is the JSON SNS delivers to queues and HTTP/S endpoints (and to dead-letter
// queues), in SNS's member order.
type envelope struct {
	Type              string                   `json:"Type"`
	MessageID         string                   `json:"MessageId"`
	Token             string                   `json:"Token,omitempty"`
	SequenceNumber    string                   `json:"SequenceNumber,omitempty"`
	TopicArn          string                   `json:"TopicArn"`
	Subject           string                   `json:"Subject,omitempty"`
	Message           string                   `json:"Message"`
	SubscribeURL      string                   `json:"SubscribeURL,omitempty"`
	Timestamp         string                   `json:"Timestamp"`
	SignatureVersion  string                   `json:"SignatureVersion,omitempty"`
	Signature         string                   `json:"Signature,omitempty"`
	SigningCertURL    string                   `json:"SigningCertURL,omitempty"`
	UnsubscribeURL    string                   `json:"UnsubscribeURL,omitempty"`
	MessageAttributes map[string]attributeJSON `json:"MessageAttributes,omitempty"`
}

// lambdaEvent is the event a function subscribed to a topic is invoked with.
type lambdaEvent struct {
	Records []lambdaRecord `json:"Records"`
}

type lambdaRecord struct {
	EventSource          string        `json:"EventSource"`
	EventVersion         string        `json:"EventVersion"`
	EventSubscriptionArn string        `json:"EventSubscriptionArn"`
	Sns                  lambdaMessage `json:"Sns"`
}

// lambdaMessage is the Sns member of a function's event. It differs from the envelope: a
// missing Subject is null, MessageAttributes is always present, the URLs end in "Url", and
// SignatureVersion is always "1", as Lambda receives it.
type lambdaMessage struct {
	Type              string                   `json:"Type"`
	MessageID         string                   `json:"MessageId"`
	TopicArn          string                   `json:"TopicArn"`
	Subject           *string                  `json:"Subject"`
	Message           string                   `json:"Message"`
	Timestamp         string                   `json:"Timestamp"`
	SignatureVersion  string                   `json:"SignatureVersion"`
	Signature         string                   `json:"Signature"`
	SigningCertURL    string                   `json:"SigningCertUrl"`
	UnsubscribeURL    string                   `json:"UnsubscribeUrl"`
	MessageAttributes map[string]attributeJSON `json:"MessageAttributes"`
}

// marshal encodes v as JSON without escaping <, > and &, as SNS writes its messages.
func marshal(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(v) // the types encoded here cannot fail
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// urls are where SNS's messages point their readers.
type urls struct {
	endpoint string // Kiri's, e.g. http://127.0.0.1:4566
	certPath string // the signing certificate's path
}

func (u urls) subscribe(topicARN, token string) string {
	return u.endpoint + "/?Action=ConfirmSubscription&TopicArn=" + topicARN + "&Token=" + token
}

func (u urls) unsubscribe(subARN string) string {
	return u.endpoint + "/?Action=Unsubscribe&SubscriptionArn=" + subARN
}

func (u urls) cert() string { return u.endpoint + u.certPath }

// envelopeOf renders n as the JSON envelope for the subscription subARN. n must be signed
// already unless its topic is FIFO.
func (u urls) envelopeOf(n *notification, subARN string) []byte {
	e := envelope{
		Type: n.Type, MessageID: n.MessageID, SequenceNumber: n.Sequence, TopicArn: n.TopicARN, Subject: n.Subject,
		Message: n.Message, Timestamp: n.Timestamp, MessageAttributes: attributesJSON(n.Attributes),
	}
	if n.SignatureVersion != "" {
		e.SignatureVersion, e.Signature, e.SigningCertURL = n.SignatureVersion, n.Signature, u.cert()
	}
	if n.Type == typeNotification {
		e.UnsubscribeURL = u.unsubscribe(subARN)
	} else {
		e.Token, e.SubscribeURL = n.Token, u.subscribe(n.TopicARN, n.Token)
	}
	return marshal(e)
}

// lambdaEventOf renders n as the event of the function subscription subARN.
func (u urls) lambdaEventOf(n *notification, subARN string) []byte {
	m := lambdaMessage{
		Type: n.Type, MessageID: n.MessageID, TopicArn: n.TopicARN, Message: n.Message, Timestamp: n.Timestamp,
		SignatureVersion: "1", Signature: n.Signature, SigningCertURL: u.cert(), UnsubscribeURL: u.unsubscribe(subARN),
		MessageAttributes: attributesJSON(n.Attributes),
	}
	if n.Subject != "" {
		m.Subject = &n.Subject
	}
	if m.MessageAttributes == nil {
		m.MessageAttributes = map[string]attributeJSON{}
	}
	return marshal(lambdaEvent{Records: []lambdaRecord{{
		EventSource: "aws:sns", EventVersion: "1.0", EventSubscriptionArn: subARN, Sns: m,
	}}})
}

// envelopeOfEvent turns a function's event back into the envelope SNS sends to the
// subscription's dead-letter queue; sigVersion is the topic's signature version.
func envelopeOfEvent(event []byte, sigVersion string) ([]byte, error) {
	var ev lambdaEvent
	if err := json.Unmarshal(event, &ev); err != nil || len(ev.Records) != 1 {
		return nil, fmt.Errorf("not a function's SNS event")
	}
	m := ev.Records[0].Sns
	e := envelope{
		Type: m.Type, MessageID: m.MessageID, TopicArn: m.TopicArn, Message: m.Message, Timestamp: m.Timestamp,
		SignatureVersion: sigVersion, Signature: m.Signature, SigningCertURL: m.SigningCertURL,
		UnsubscribeURL: m.UnsubscribeURL, MessageAttributes: m.MessageAttributes,
	}
	if m.Subject != nil {
		e.Subject = *m.Subject
	}
	if len(e.MessageAttributes) == 0 {
		e.MessageAttributes = nil
	}
	return marshal(e), nil
}

// parseStructure reads the message of a Publish with MessageStructure json: a JSON object of
// messages by protocol, whose "default" member is required. Members whose values are not
// strings are ignored, as SNS ignores them.
func parseStructure(msg string) (map[string]string, error) {
	var raw map[string]json.RawMessage
	d := json.NewDecoder(strings.NewReader(msg))
	if err := d.Decode(&raw); err != nil || d.More() || raw == nil {
		return nil, invalidParameter("Message Structure - JSON message body failed to parse")
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if v = bytes.TrimSpace(v); len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
			out[k] = s
		}
	}
	if _, ok := out["default"]; !ok {
		return nil, invalidParameter("Message Structure - No default entry in JSON message body")
	}
	return out, nil
}

// checkSubject refuses a Subject SNS refuses: empty, 100 characters or more, or holding line
// breaks or control characters.
func checkSubject(s *string) error {
	if s == nil {
		return nil
	}
	v := *s
	if v == "" || utf8.RuneCountInString(v) >= maxSubject || !utf8.ValidString(v) {
		return invalidParameter("Subject")
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return invalidParameter("Subject")
		}
	}
	return nil
}

// checkAttributes validates a Publish's message attributes as SNS does and returns them as the
// target registry carries them, with their size (names, types and values) toward the message
// limit.
func checkAttributes(in map[string]MessageAttributeValue) (map[string]dispatch.Attribute, int, error) {
	if len(in) == 0 {
		return nil, 0, nil
	}
	out := make(map[string]dispatch.Attribute, len(in))
	for _, name := range slices.Sorted(maps.Keys(in)) {
		v := in[name]
		typ := awsproto.Value(v.DataType)
		if err := checkAttributeHead(name, typ); err != nil {
			return nil, 0, err
		}
		if v.StringValue == nil && v.BinaryValue == nil {
			return nil, 0, emptyAttribute(name, typ)
		}
		a := dispatch.Attribute{Type: typ}
		field := "String"
		if strings.HasPrefix(typ, "Binary") {
			field, a.Binary = "Binary", v.BinaryValue
		} else if v.StringValue != nil {
			a.Value = *v.StringValue
		}
		if field == "Binary" && v.BinaryValue == nil || field == "String" && v.StringValue == nil {
			return nil, 0, invalidValue("The message attribute '" + name + "' with type '" + typ + "' must use field '" + field + "'.")
		}
		out[name] = a
	}
	size, err := checkAttributeSet(out)
	if err != nil {
		return nil, 0, err
	}
	return out, size, nil
}

// checkAttributeSet applies SNS's rules to message attributes (from Publish, or delivered by
// another service) and returns their size toward the message limit.
func checkAttributeSet(attrs map[string]dispatch.Attribute) (int, error) {
	size := 0
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		if err := checkAttributeHead(name, a.Type); err != nil {
			return 0, err
		}
		if a.Value == "" && len(a.Binary) == 0 {
			return 0, emptyAttribute(name, a.Type)
		}
		if err := checkAttributeValue(name, a.Type, a.Value); err != nil {
			return 0, err
		}
		size += len(name) + len(a.Type) + len(a.Value) + len(a.Binary)
	}
	return size, nil
}

func emptyAttribute(name, typ string) *awsproto.Error {
	return invalidValue("The message attribute '" + name + "' must contain non-empty message attribute value for message attribute type '" + typ + "'.")
}

// checkAttributeHead checks an attribute's name and data type: String, Number or Binary, with
// an optional ".label".
func checkAttributeHead(name, typ string) error {
	if err := checkAttributeName(name); err != nil {
		return err
	}
	base, label, labelled := strings.Cut(typ, ".")
	if base != "String" && base != "Number" && base != "Binary" || labelled && label == "" {
		return invalidValue("The message attribute '" + name + "' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.")
	}
	return nil
}

// checkAttributeName applies SNS's rules for message attribute names: up to 256 bytes of
// letters, digits, hyphens, underscores and periods, not starting or ending with a period
// and without two in a row.
func checkAttributeName(name string) error {
	switch {
	case len(name) > 256:
		return invalidValue("Length of message attribute name must be less than 256 bytes.")
	case name == "":
		return invalidValue("The message attribute name must not be empty.")
	case name[0] == '.':
		return invalidValue("Invalid message attribute name starting with character '.' was found.")
	case name[len(name)-1] == '.':
		return invalidValue("Invalid message attribute name ending with character '.' was found.")
	}
	for i, r := range name {
		if r != '.' && r != '-' && r != '_' && !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return invalidValue(fmt.Sprintf("Invalid non-alphanumeric character '#x%X' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.", r))
		}
		if r == '.' && i > 0 && name[i-1] == '.' {
			return invalidValue("Message attribute name can not have successive '.' character.")
		}
	}
	return nil
}

// checkAttributeValue checks the values of the types SNS reads: a Number must be a number, a
// String.Array a JSON array.
func checkAttributeValue(name, typ, v string) error {
	switch {
	case typ == "String.Array":
		var arr []any
		if json.Unmarshal([]byte(v), &arr) != nil {
			return invalidValue("The message attribute '" + name + "' with type 'String.Array' must contain a JSON array.")
		}
	case strings.HasPrefix(typ, "Number"):
		if f, err := strconv.ParseFloat(v, 64); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return invalidValue("Could not cast message attribute '" + name + "' value to number.")
		}
	}
	return nil
}

// filterAttributes are a message's attributes as filter policies read them.
func filterAttributes(attrs map[string]dispatch.Attribute) map[string]pattern.MessageAttribute {
	out := make(map[string]pattern.MessageAttribute, len(attrs))
	for name, a := range attrs {
		out[name] = pattern.MessageAttribute{DataType: a.Type, StringValue: a.Value}
	}
	return out
}
