package logs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/runtime"
	"github.com/kiri-run/kiri/internal/store"
)

// PutLogEvents limits, as AWS documents them.
const (
	maxBatchBytes    = 1_048_576
	eventOverhead    = 26 // bytes counted per event on top of its message
	maxBatchSpan     = 24 * time.Hour
	maxEventAge      = 14 * 24 * time.Hour
	maxEventFuture   = 2 * time.Hour
	millisPerDay     = int64(24 * time.Hour / time.Millisecond)
	chronologicalMsg = "Log events in a single PutLogEvents request must be in chronological order."
)

// Event is one log event appended by Kiri itself (function output).
type Event struct {
	Time    time.Time
	Message string
}

// AppendLogs stores events under group/stream, creating the group and stream when missing, as
// Lambda does. All events go in one store write; their ingestion time is now.
func (s *Service) AppendLogs(ctx context.Context, account, region, groupName, streamName string, events []Event) error {
	if !validGroupName(groupName) || len(groupName) > 512 {
		return fmt.Errorf("append logs: invalid log group name %q", groupName)
	}
	if streamName == "" || len(streamName) > 512 || checkStreamName("logStreamName", streamName) != nil {
		return fmt.Errorf("append logs: invalid log stream name %q", streamName)
	}
	batch := make([]record, 0, len(events))
	for _, e := range events {
		if e.Message == "" {
			continue // CloudWatch Logs has no empty events
		}
		batch = append(batch, record{ts: e.Time.UnixMilli(), message: e.Message})
	}
	if len(batch) == 0 {
		return nil
	}
	now := s.now().UnixMilli()
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		gid, _, err := ensureGroup(tx, account, region, groupName, now)
		if err != nil {
			return err
		}
		sid, err := ensureStream(tx, gid, streamName, now)
		if err != nil {
			return err
		}
		_, err = insertEvents(tx, gid, sid, batch, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("append logs to %s/%s: %w", groupName, streamName, err)
	}
	return nil
}

// insertRows are the row counts of the multi-row INSERTs insertEvents uses, largest first.
var insertRows = []int{64, 16, 4, 1}

// insertEventsSQL holds the INSERT statement for each of insertRows.
var insertEventsSQL = func() map[int]string {
	m := map[int]string{}
	for _, n := range insertRows {
		q := `INSERT INTO logs_events (group_id, stream_id, ts, ingested, size, message) VALUES (?, ?, ?, ?, ?, ?)`
		q += strings.Repeat(`, (?, ?, ?, ?, ?, ?)`, n-1)
		m[n] = q
	}
	return m
}()

// record is one event to store.
type record struct {
	ts      int64
	message string
}

// ensureStream returns the id of stream name in group gid, creating it when missing.
func ensureStream(tx *store.Tx, gid int64, name string, now int64) (int64, error) {
	var id int64
	err := tx.QueryRow(`SELECT id FROM logs_streams WHERE group_id = ? AND name = ?`, gid, name).Scan(&id)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	err = tx.QueryRow(`INSERT INTO logs_streams (group_id, name, created_at) VALUES (?, ?, ?) RETURNING id`, gid, name, now).Scan(&id)
	return id, err
}

// insertEvents stores batch (not empty) in stream sid and updates the stream's event fields;
// it returns the stream's new upload sequence number.
func insertEvents(tx *store.Tx, gid, sid int64, batch []record, now int64) (int64, error) {
	first, last := batch[0].ts, batch[0].ts
	var size int64
	for _, r := range batch {
		first, last = min(first, r.ts), max(last, r.ts)
		size += int64(len(r.message))
	}
	// Rows go in by multi-row INSERTs of a few fixed sizes, so the statements stay few and
	// cached while a batch of a thousand events costs a few dozen statements, not a thousand.
	args := make([]any, 0, 6*insertRows[0])
	for rest := batch; len(rest) > 0; {
		n := insertRows[len(insertRows)-1]
		for _, size := range insertRows {
			if len(rest) >= size {
				n = size
				break
			}
		}
		args = args[:0]
		for _, r := range rest[:n] {
			args = append(args, gid, sid, r.ts, now, len(r.message), r.message)
		}
		if _, err := tx.Exec(insertEventsSQL[n], args...); err != nil {
			return 0, err
		}
		rest = rest[n:]
	}
	var seq int64
	err := tx.QueryRow(`UPDATE logs_streams SET
			first_event = CASE WHEN last_ingestion = 0 OR first_event > ? THEN ? ELSE first_event END,
			last_event = CASE WHEN last_ingestion = 0 OR last_event < ? THEN ? ELSE last_event END,
			last_ingestion = ?, stored_bytes = stored_bytes + ?, upload_seq = upload_seq + 1
		WHERE id = ? RETURNING upload_seq`,
		first, first, last, last, now, size, sid).Scan(&seq)
	if err != nil {
		return 0, err
	}
	return seq, nil
}

func (s *Service) putLogEvents(ctx context.Context, in *PutLogEventsRequest) (*PutLogEventsResponse, error) {
	streamName := awsproto.Value(in.LogStreamName)
	if err := checkStreamName("logStreamName", streamName); err != nil {
		return nil, err
	}
	if err := checkBatch(in.LogEvents); err != nil {
		return nil, err
	}
	g, err := s.callerGroup(ctx, awsproto.Value(in.LogGroupName))
	if err != nil {
		return nil, err
	}
	st, err := s.lookupStream(ctx, g, streamName)
	if err != nil {
		return nil, err
	}
	now := s.now()
	accepted, rejected := screenEvents(in.LogEvents, now, g.retention)
	out := &PutLogEventsResponse{RejectedLogEventsInfo: rejected}
	if len(accepted) == 0 {
		out.NextSequenceToken = awsproto.Ptr(sequenceToken(st.seq))
		return out, nil
	}
	var seq int64
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		var alive int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM logs_streams WHERE id = ?`, st.id).Scan(&alive); err != nil {
			return err
		}
		if alive == 0 {
			return streamNotFound()
		}
		seq, err = insertEvents(tx, g.id, st.id, accepted, now.UnixMilli())
		return err
	})
	if err != nil {
		return nil, wrapStoreError("put log events", err)
	}
	out.NextSequenceToken = awsproto.Ptr(sequenceToken(seq))
	return out, nil
}

// checkBatch applies the limits that fail a whole PutLogEvents call: size, order and span.
func checkBatch(events []InputLogEvent) error {
	size := 0
	for i, e := range events {
		size += len(awsproto.Value(e.Message)) + eventOverhead
		if i > 0 && awsproto.Value(e.Timestamp) < awsproto.Value(events[i-1].Timestamp) {
			return invalidParameter(chronologicalMsg)
		}
	}
	if size > maxBatchBytes {
		return invalidParameter("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}
	if len(events) > 0 {
		span := awsproto.Value(events[len(events)-1].Timestamp) - awsproto.Value(events[0].Timestamp)
		if span > maxBatchSpan.Milliseconds() {
			return invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
		}
	}
	return nil
}

// screenEvents splits a chronological batch into the events to store and AWS's report of the
// rejected ones: too old (over 14 days), expired (past the group's retention) and too new
// (over 2 hours ahead). Rejected events are a prefix and a suffix of the batch.
func screenEvents(events []InputLogEvent, now time.Time, retentionDays int32) ([]record, *RejectedLogEventsInfo) {
	nowMS := now.UnixMilli()
	oldest := nowMS - maxEventAge.Milliseconds()
	expired := int64(-1 << 63)
	if retentionDays > 0 {
		expired = nowMS - int64(retentionDays)*millisPerDay
	}
	newest := nowMS + maxEventFuture.Milliseconds()
	var info RejectedLogEventsInfo
	rejected := false
	accepted := make([]record, 0, len(events))
	for i, e := range events {
		ts := awsproto.Value(e.Timestamp)
		switch {
		case ts < oldest:
			info.TooOldLogEventEndIndex = awsproto.Ptr(int32(i))
			if ts < expired {
				info.ExpiredLogEventEndIndex = awsproto.Ptr(int32(i))
			}
			rejected = true
		case ts < expired:
			info.ExpiredLogEventEndIndex = awsproto.Ptr(int32(i))
			rejected = true
		case ts > newest:
			if info.TooNewLogEventStartIndex == nil {
				info.TooNewLogEventStartIndex = awsproto.Ptr(int32(i))
			}
			rejected = true
		default:
			accepted = append(accepted, record{ts: ts, message: awsproto.Value(e.Message)})
		}
	}
	if !rejected {
		return accepted, nil
	}
	return accepted, &info
}

// AppendRuntimeLogs stores the output of function instances, as the function runtime ships it
// (see AppendLogs).
func (s *Service) AppendRuntimeLogs(ctx context.Context, account, region, group, stream string, events []runtime.LogEvent) error {
	out := make([]Event, len(events))
	for i, e := range events {
		out[i] = Event{Time: e.Time, Message: e.Message}
	}
	return s.AppendLogs(ctx, account, region, group, stream, out)
}
