package dynamodb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/streamlog"
)

// DynamoDB Streams. A table's stream is a stream of the shared record log (internal/streamlog)
// named by its ARN, TABLE_ARN/stream/LABEL, the label being the ISO time it was enabled. Every
// item change writes its stream record in applyChange, in the transaction of the write, so an
// acknowledged write always has its record and a refused one never does. Disabling the stream
// (or deleting the table) closes it: it takes no more records and stays readable, DISABLED,
// until its records are trimmed 24 hours later. The Streams API is package streams.

// Stream view types.
const (
	viewKeysOnly  = "KEYS_ONLY"
	viewNewImage  = "NEW_IMAGE"
	viewOldImage  = "OLD_IMAGE"
	viewNewAndOld = "NEW_AND_OLD_IMAGES"
)

// Stream statuses, as DescribeStream reports them.
const (
	StreamEnabled  = "ENABLED"
	StreamDisabled = "DISABLED"
)

// jobStreamTrim trims stream records past the retention period.
const (
	jobStreamTrim      = "dynamodb.streams.trim"
	streamTrimInterval = 5 * time.Minute
)

// streamState is a table's stream: the latest one, enabled or not.
type streamState struct {
	Enabled  bool   `json:"enabled"`
	ViewType string `json:"viewType"`
	ARN      string `json:"arn"`
	Label    string `json:"label"`
}

// StreamMeta is what the record log keeps about a table's stream (streamlog.Stream.Meta as
// JSON), for the Streams API.
type StreamMeta struct {
	TableName string `json:"table"`
	Label     string `json:"label"`
	ViewType  string `json:"viewType"`
	// Hash and Range are the table's key attribute names.
	Hash  string `json:"hash"`
	Range string `json:"range,omitempty"`
}

// StreamRecord is a stream record as stored in the log: the Record of GetRecords, and of
// the event a Lambda function receives, but for eventSourceARN.
type StreamRecord struct {
	EventID      string           `json:"eventID"`
	EventName    string           `json:"eventName"`
	EventVersion string           `json:"eventVersion"`
	EventSource  string           `json:"eventSource"`
	AWSRegion    string           `json:"awsRegion"`
	Dynamodb     StreamRecordBody `json:"dynamodb"`
	UserIdentity *UserIdentity    `json:"userIdentity,omitempty"`
}

// StreamRecordBody is the dynamodb member of a stream record.
type StreamRecordBody struct {
	ApproximateCreationDateTime int64     `json:"ApproximateCreationDateTime"`
	Keys                        attr.Item `json:"Keys"`
	NewImage                    attr.Item `json:"NewImage,omitempty"`
	OldImage                    attr.Item `json:"OldImage,omitempty"`
	SequenceNumber              string    `json:"SequenceNumber"`
	SizeBytes                   int64     `json:"SizeBytes"`
	StreamViewType              string    `json:"StreamViewType"`
}

// UserIdentity is who made a change when it was not a caller: DynamoDB itself for
// time-to-live deletions.
type UserIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
}

// ttlIdentity marks the records of time-to-live deletions.
var ttlIdentity = &UserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}

// streamLabel is a stream's label: the ISO 8601 time it was enabled, to the millisecond.
func streamLabel(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000") }

// streamSpec checks a StreamSpecification: enable (with its view type) or disable.
func streamSpec(spec *StreamSpecification) (enable bool, view string, err error) {
	enable, view = awsproto.Value(spec.StreamEnabled), awsproto.Value(spec.StreamViewType)
	switch {
	case enable && view == "":
		return false, "", validation("One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true")
	case !enable && view != "":
		return false, "", validation("One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false")
	}
	return enable, view, nil
}

// changeStream applies a StreamSpecification of CreateTable (cur nil) or UpdateTable to next,
// inside tx: enabling starts a new stream in the log, disabling closes the enabled one.
func (s *Service) changeStream(tx *store.Tx, next *table, spec *StreamSpecification) error {
	if spec == nil {
		return nil
	}
	enable, view, err := streamSpec(spec)
	if err != nil {
		return err
	}
	cur := next.Meta.Stream
	switch {
	case enable && cur != nil && cur.Enabled:
		return validation("Table already has an enabled stream: TableName: " + next.Key.Name)
	case !enable && (cur == nil || !cur.Enabled):
		return validation("Table already has no enabled stream: TableName: " + next.Key.Name)
	case !enable:
		next.Meta.Stream = &streamState{ARN: cur.ARN, Label: cur.Label, ViewType: cur.ViewType}
		return s.records.CloseStream(tx, cur.ARN, StreamDisabled)
	}
	now := s.now()
	label := streamLabel(now)
	if cur != nil && cur.Label >= label {
		// Two streams of one table never share a label.
		t, _ := time.Parse("2006-01-02T15:04:05.000", cur.Label)
		label = streamLabel(t.Add(time.Millisecond))
	}
	st := &streamState{Enabled: true, ViewType: view, ARN: next.Key.arn() + "/stream/" + label, Label: label}
	meta, err := json.Marshal(StreamMeta{TableName: next.Key.Name, Label: label, ViewType: view, Hash: next.Meta.Hash, Range: next.Meta.Range})
	if err != nil {
		return err
	}
	if err := s.records.CreateStream(tx, streamlog.Stream{ARN: st.ARN, Account: next.Key.Account, Region: next.Key.Region,
		Source: next.Key.arn(), Status: StreamEnabled, Created: now, Meta: string(meta)}); err != nil {
		return err
	}
	next.Meta.Stream = st
	return nil
}

// closeTableStream closes a deleted table's enabled stream.
func (s *Service) closeTableStream(tx *store.Tx, t *table) error {
	if st := t.Meta.Stream; st != nil && st.Enabled {
		return s.records.CloseStream(tx, st.ARN, StreamDisabled)
	}
	return nil
}

// describeStream adds a table's stream to its description.
func describeStream(d *TableDescription, t *table) {
	st := t.Meta.Stream
	if st == nil {
		return
	}
	d.LatestStreamArn, d.LatestStreamLabel = awsproto.Ptr(st.ARN), awsproto.Ptr(st.Label)
	if st.Enabled {
		d.StreamSpecification = &StreamSpecification{StreamEnabled: awsproto.Ptr(true), StreamViewType: awsproto.Ptr(st.ViewType)}
	}
}

// recordChange writes the stream record of an item change inside its write, when the table's
// stream is enabled. A write that leaves the item as it was writes none, as DynamoDB documents.
func (s *Service) recordChange(tx *store.Tx, t *table, c change) error {
	st := t.Meta.Stream
	if st == nil || !st.Enabled {
		return nil
	}
	name := "MODIFY"
	switch {
	case c.old == nil:
		name = "INSERT"
	case c.new == nil:
		name = "REMOVE"
	case bytes.Equal(attr.AppendItem(nil, c.old), attr.AppendItem(nil, c.new)):
		return nil
	}
	image := c.new
	if image == nil {
		image = c.old
	}
	keys := t.keyItem(image)
	body := StreamRecordBody{Keys: keys, StreamViewType: st.ViewType}
	size := keys.Size()
	if st.ViewType == viewNewImage || st.ViewType == viewNewAndOld {
		body.NewImage = c.new
		size += c.new.Size()
	}
	if st.ViewType == viewOldImage || st.ViewType == viewNewAndOld {
		body.OldImage = c.old
		size += c.old.Size()
	}
	body.SizeBytes = int64(size)
	rec := StreamRecord{EventID: eventID(), EventName: name, EventVersion: "1.1", EventSource: "aws:dynamodb",
		AWSRegion: t.Key.Region, Dynamodb: body}
	if c.expired {
		rec.UserIdentity = ttlIdentity
	}
	err := s.records.Append(tx, st.ARN, hex.EncodeToString(c.key.hk), func(_ string, seq int64, created time.Time) ([]byte, error) {
		rec.Dynamodb.SequenceNumber = streamlog.FormatSeq(seq)
		rec.Dynamodb.ApproximateCreationDateTime = created.Unix()
		b, err := json.Marshal(&rec)
		if err != nil {
			return nil, fmt.Errorf("encode stream record: %w", err)
		}
		return b, nil
	})
	if errors.Is(err, streamlog.ErrClosed) {
		return nil // disabled by an UpdateTable this write raced with
	}
	return err
}

// eventID is a stream record's unique id: 32 hex digits.
func eventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// trimStreams drops stream records past the retention period, and streams disabled longer.
func (s *Service) trimStreams(ctx context.Context) error {
	return s.records.Trim(ctx, streamlog.Retention)
}
