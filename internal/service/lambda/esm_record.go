package lambda

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// sqsMessage is a message as SQS's ReceiveMessage answers it (JSON protocol), with every
// attribute: what a poller receives.
type sqsMessage struct {
	MessageId              string
	ReceiptHandle          string
	Body                   string
	MD5OfBody              string
	MD5OfMessageAttributes *string
	Attributes             map[string]string
	MessageAttributes      map[string]struct {
		StringValue *string
		BinaryValue []byte
		DataType    string
	}
}

// sqsRecord is one record of the event Lambda invokes a function with for an SQS source
// (AWS Lambda Developer Guide, "Using Lambda with Amazon SQS"), its members in Lambda's order.
type sqsRecord struct {
	MessageID              string                        `json:"messageId"`
	ReceiptHandle          string                        `json:"receiptHandle"`
	Body                   string                        `json:"body"`
	Attributes             sqsRecordAttributes           `json:"attributes"`
	MessageAttributes      map[string]sqsRecordAttribute `json:"messageAttributes"`
	MD5OfMessageAttributes *string                       `json:"md5OfMessageAttributes"`
	MD5OfBody              string                        `json:"md5OfBody"`
	EventSource            string                        `json:"eventSource"`
	EventSourceARN         string                        `json:"eventSourceARN"`
	AWSRegion              string                        `json:"awsRegion"`
}

// sqsRecordAttributes are a record's system attributes; the FIFO ones only for FIFO queues.
type sqsRecordAttributes struct {
	ApproximateReceiveCount          string `json:"ApproximateReceiveCount"`
	SentTimestamp                    string `json:"SentTimestamp"`
	SequenceNumber                   string `json:"SequenceNumber,omitempty"`
	MessageGroupID                   string `json:"MessageGroupId,omitempty"`
	SenderID                         string `json:"SenderId"`
	MessageDeduplicationID           string `json:"MessageDeduplicationId,omitempty"`
	ApproximateFirstReceiveTimestamp string `json:"ApproximateFirstReceiveTimestamp"`
	AWSTraceHeader                   string `json:"AWSTraceHeader,omitempty"`
	DeadLetterQueueSourceArn         string `json:"DeadLetterQueueSourceArn,omitempty"`
}

// sqsRecordAttribute is a message attribute in a record. The list members are always empty:
// SQS reserves them.
type sqsRecordAttribute struct {
	StringValue      *string  `json:"stringValue,omitempty"`
	BinaryValue      []byte   `json:"binaryValue,omitempty"`
	StringListValues []string `json:"stringListValues"`
	BinaryListValues []string `json:"binaryListValues"`
	DataType         string   `json:"dataType"`
}

// polledRecord is a received message and its record's JSON.
type polledRecord struct {
	id, receipt string
	json        []byte
}

// sqsRecordOf turns a received message into its record for the queue queueARN in region.
func sqsRecordOf(raw []byte, queueARN, region string) (polledRecord, error) {
	var m sqsMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return polledRecord{}, fmt.Errorf("decode received message: %w", err)
	}
	a := m.Attributes
	rec := sqsRecord{
		MessageID: m.MessageId, ReceiptHandle: m.ReceiptHandle, Body: m.Body,
		Attributes: sqsRecordAttributes{
			ApproximateReceiveCount: a["ApproximateReceiveCount"], SentTimestamp: a["SentTimestamp"],
			SequenceNumber: a["SequenceNumber"], MessageGroupID: a["MessageGroupId"], SenderID: a["SenderId"],
			MessageDeduplicationID: a["MessageDeduplicationId"], ApproximateFirstReceiveTimestamp: a["ApproximateFirstReceiveTimestamp"],
			AWSTraceHeader: a["AWSTraceHeader"], DeadLetterQueueSourceArn: a["DeadLetterQueueSourceArn"],
		},
		MessageAttributes:      make(map[string]sqsRecordAttribute, len(m.MessageAttributes)),
		MD5OfMessageAttributes: m.MD5OfMessageAttributes,
		MD5OfBody:              m.MD5OfBody,
		EventSource:            "aws:sqs",
		EventSourceARN:         queueARN,
		AWSRegion:              region,
	}
	for name, v := range m.MessageAttributes {
		rec.MessageAttributes[name] = sqsRecordAttribute{StringValue: v.StringValue, BinaryValue: v.BinaryValue,
			StringListValues: []string{}, BinaryListValues: []string{}, DataType: v.DataType}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return polledRecord{}, err
	}
	return polledRecord{id: m.MessageId, receipt: m.ReceiptHandle, json: b}, nil
}

// recordsEvent is the event of a batch: {"Records":[...]}.
func recordsEvent(recs []polledRecord) []byte {
	n := len(`{"Records":[]}`)
	for _, r := range recs {
		n += len(r.json) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"Records":[`...)
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r.json...)
	}
	return append(b, "]}"...)
}

// eventChunks splits a batch into events that each fit Invoke's synchronous payload limit.
func eventChunks(recs []polledRecord, limit int) [][]polledRecord {
	var out [][]polledRecord
	start, size := 0, len(`{"Records":[]}`)
	for i, r := range recs {
		if i > start && size+len(r.json)+1 > limit {
			out = append(out, recs[start:i])
			start, size = i, len(`{"Records":[]}`)
		}
		size += len(r.json) + 1
	}
	if start < len(recs) {
		out = append(out, recs[start:])
	}
	return out
}

// batchItemFailures reads a function's partial batch response: the ids of the records that
// failed; ok is false when the response fails the whole batch. As Lambda documents
// ("Handling errors for an SQS event source"), an empty or null response or batchItemFailures
// list is a complete success; a response that is not JSON, or an item whose itemIdentifier is
// missing (a bad key name), null, empty or not a message of the batch, is a complete failure.
func batchItemFailures(payload []byte, ids map[string]bool) (failed map[string]bool, ok bool) {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || string(payload) == "null" {
		return nil, true
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(payload, &resp); err != nil {
		return nil, false
	}
	list := bytes.TrimSpace(resp["batchItemFailures"])
	if len(list) == 0 || string(list) == "null" {
		return nil, true
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(list, &items); err != nil {
		return nil, false
	}
	failed = make(map[string]bool, len(items))
	for _, it := range items {
		var id *string
		if raw, ok := it["itemIdentifier"]; !ok || json.Unmarshal(raw, &id) != nil || id == nil || *id == "" || !ids[*id] {
			return nil, false
		}
		failed[*id] = true
	}
	return failed, true
}
