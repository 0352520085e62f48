package eventsource

import (
	"encoding/json"
	"fmt"
)

// Record is a record read from a source: its id (an SQS message id or a stream sequence
// number), an SQS receipt handle, and its JSON.
type Record struct {
	ID, Receipt string
	JSON        []byte
}

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

// sqsRecord is one record of an SQS source, as Lambda invokes a function with it (AWS Lambda
// Developer Guide, "Using Lambda with Amazon SQS") and as Pipes passes it on, its members in
// Lambda's order.
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

// SQS turns a received message into its record for the queue queueARN in region.
func SQS(raw []byte, queueARN, region string) (Record, error) {
	var m sqsMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return Record{}, fmt.Errorf("decode received message: %w", err)
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
		return Record{}, err
	}
	return Record{ID: m.MessageId, Receipt: m.ReceiptHandle, JSON: b}, nil
}

// StreamSuffix is what Stream appends to the records of the stream arn.
func StreamSuffix(arn string) []byte {
	b, _ := json.Marshal(arn)
	return []byte(`,"eventSourceARN":` + string(b) + `}`)
}

// Stream is a stream record's JSON (data, as the stream log holds it) with the stream's
// eventSourceARN, whose StreamSuffix is suffix.
func Stream(data, suffix []byte) []byte {
	b := make([]byte, 0, len(data)+len(suffix))
	b = append(b, data[:len(data)-1]...)
	return append(b, suffix...)
}
