// Package streamlog is Kiri's retained, ordered record log: the structure behind DynamoDB
// Streams (and, later, Kinesis). A stream is split into shards; a shard is an append-only
// sequence of records numbered by increasing sequence numbers, read through iterators (a
// position in a shard), never consumed: readers keep their own positions (checkpoints), and
// records leave only when the retention period trims them.
//
// Records are appended inside the store transaction of the change they describe (Append takes
// the writer's *store.Tx), so a committed change always has its record and a rolled-back one
// never does. Each stream has one open shard; closing the stream closes it. Shards are not
// split or rotated: a stream's lineage is a single shard, whose ParentShardId is empty.
// Readers must still treat the shard list as a lineage (a parent before its children), which
// is what a later rotation would produce.
package streamlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

// Retention is how long a record stays readable: DynamoDB Streams keep records 24 hours.
const Retention = 24 * time.Hour

// notifyTopic announces appends: its payload is the stream's ARN.
const notifyTopic = "streamlog.append"

const schemaV1 = `
CREATE TABLE streamlog_streams (
	arn        TEXT   NOT NULL PRIMARY KEY,
	account    TEXT   NOT NULL,
	region     TEXT   NOT NULL,
	source     TEXT   NOT NULL,
	status     TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	closed_at  BIGINT,
	meta       TEXT   NOT NULL
);
CREATE INDEX streamlog_streams_source ON streamlog_streams (account, region, source);
CREATE TABLE streamlog_shards (
	stream     TEXT   NOT NULL,
	shard      TEXT   NOT NULL,
	parent     TEXT   NOT NULL,
	first_seq  BIGINT NOT NULL,
	last_seq   BIGINT NOT NULL,
	trimmed    BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	closed_at  BIGINT,
	PRIMARY KEY (stream, shard)
);
CREATE TABLE streamlog_records (
	stream     TEXT   NOT NULL,
	shard      TEXT   NOT NULL,
	seq        BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	pkey       TEXT   NOT NULL,
	data       BLOB   NOT NULL,
	PRIMARY KEY (stream, shard, seq)
);
CREATE INDEX streamlog_records_created ON streamlog_records (created_at);
CREATE TABLE streamlog_checkpoints (
	consumer TEXT   NOT NULL,
	stream   TEXT   NOT NULL,
	shard    TEXT   NOT NULL,
	seq      BIGINT NOT NULL,
	PRIMARY KEY (consumer, stream, shard)
);`

var migrations = []store.Migration{{Version: 1, SQL: schemaV1}}

// Log is the record log on a store.
type Log struct {
	st  *store.Store
	now func() time.Time

	mu      sync.Mutex
	waiters map[string]chan struct{}
}

// Open migrates the log's tables on st and returns the log. now is the clock (time.Now when
// nil).
func Open(ctx context.Context, st *store.Store, now func() time.Time) (*Log, error) {
	if now == nil {
		now = time.Now
	}
	if err := st.Migrate(ctx, "streamlog", migrations); err != nil {
		return nil, fmt.Errorf("migrate streamlog: %w", err)
	}
	l := &Log{st: st, now: now, waiters: map[string]chan struct{}{}}
	st.Subscribe(notifyTopic, l.wake)
	return l, nil
}

// Stream is a stream's catalog entry.
type Stream struct {
	ARN     string
	Account string
	Region  string
	// Source is what the stream records (a DynamoDB table's ARN).
	Source string
	// Status is the owner's status word (ENABLED, DISABLED, ...).
	Status  string
	Created time.Time
	// Closed is when the stream stopped taking records; zero while it is open.
	Closed time.Time
	// Meta is the owner's description of the stream, opaque to the log.
	Meta string
}

// Shard is a shard of a stream. Sequence numbers First..Last are its records so far (Last is
// First-1 while it has none); those up to Trimmed are gone.
type Shard struct {
	ID, Parent           string
	First, Last, Trimmed int64
	Created, Closed      time.Time
}

// Open reports whether the shard still takes records.
func (s Shard) Open() bool { return s.Closed.IsZero() }

// Record is one record of a shard.
type Record struct {
	Seq     int64
	Created time.Time
	// Key is the record's partition key: records of one key are read in order by parallel
	// consumers.
	Key  string
	Data []byte
}

// FormatSeq renders a sequence number as clients see it: 21 decimal digits (the least DynamoDB
// Streams accepts), a leading 1 then the number zero-padded, so they order as numbers and as
// text.
func FormatSeq(n int64) string { return fmt.Sprintf("1%020d", n) }

// ParseSeq reads a sequence number FormatSeq rendered.
func ParseSeq(s string) (int64, bool) {
	if len(s) != 21 || s[0] != '1' {
		return 0, false
	}
	n, err := strconv.ParseInt(s[1:], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// shardID names a shard as AWS does: shardId-<creation ms, 20 digits>-<8 hex>.
func shardID(created time.Time, n int) string {
	return fmt.Sprintf("shardId-%020d-%08x", created.UnixMilli(), uint32(created.UnixNano())^uint32(n))
}

// CreateStream adds s to the catalog with one open shard, inside tx.
func (l *Log) CreateStream(tx *store.Tx, s Stream) error {
	if _, err := tx.Exec(`INSERT INTO streamlog_streams (arn, account, region, source, status, created_at, meta) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ARN, s.Account, s.Region, s.Source, s.Status, s.Created.UnixMilli(), s.Meta); err != nil {
		return fmt.Errorf("create stream %s: %w", s.ARN, err)
	}
	if _, err := tx.Exec(`INSERT INTO streamlog_shards (stream, shard, parent, first_seq, last_seq, trimmed, created_at) VALUES (?, ?, '', 1, 0, 0, ?)`,
		s.ARN, shardID(s.Created, 0), s.Created.UnixMilli()); err != nil {
		return fmt.Errorf("create shard of %s: %w", s.ARN, err)
	}
	return nil
}

// CloseStream sets a stream's status and closes it and its open shard, inside tx: it takes
// no more records, and its records stay readable until retention trims them.
func (l *Log) CloseStream(tx *store.Tx, arn, status string) error {
	now := l.now().UnixMilli()
	if _, err := tx.Exec(`UPDATE streamlog_streams SET status = ?, closed_at = ? WHERE arn = ? AND closed_at IS NULL`, status, now, arn); err != nil {
		return fmt.Errorf("close stream %s: %w", arn, err)
	}
	if _, err := tx.Exec(`UPDATE streamlog_shards SET closed_at = ? WHERE stream = ? AND closed_at IS NULL`, now, arn); err != nil {
		return fmt.Errorf("close shards of %s: %w", arn, err)
	}
	tx.Notify(notifyTopic, arn) // readers waiting at the end of a shard learn it closed
	return nil
}

// ErrClosed is Append's answer for a stream without an open shard.
var ErrClosed = errors.New("streamlog: stream is closed")

// Append adds a record to the stream's open shard inside tx. build renders the record's data
// given its shard and sequence number (records carry them).
func (l *Log) Append(tx *store.Tx, arn, key string, build func(shard string, seq int64, created time.Time) ([]byte, error)) error {
	var shard string
	var seq int64
	err := tx.QueryRow(`UPDATE streamlog_shards SET last_seq = last_seq + 1 WHERE stream = ? AND closed_at IS NULL RETURNING shard, last_seq`, arn).Scan(&shard, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrClosed
	}
	if err != nil {
		return fmt.Errorf("append to %s: %w", arn, err)
	}
	created := l.now()
	data, err := build(shard, seq, created)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO streamlog_records (stream, shard, seq, created_at, pkey, data) VALUES (?, ?, ?, ?, ?, ?)`,
		arn, shard, seq, created.UnixMilli(), key, data); err != nil {
		return fmt.Errorf("append to %s: %w", arn, err)
	}
	tx.Notify(notifyTopic, arn)
	return nil
}

const streamCols = `arn, account, region, source, status, created_at, closed_at, meta`

func scanStream(row interface{ Scan(...any) error }) (Stream, error) {
	var s Stream
	var created int64
	var closed sql.NullInt64
	if err := row.Scan(&s.ARN, &s.Account, &s.Region, &s.Source, &s.Status, &created, &closed, &s.Meta); err != nil {
		return s, err
	}
	s.Created = time.UnixMilli(created)
	if closed.Valid {
		s.Closed = time.UnixMilli(closed.Int64)
	}
	return s, nil
}

// Stream reads a stream's catalog entry; ok is false when there is none.
func (l *Log) Stream(ctx context.Context, arn string) (s Stream, ok bool, err error) {
	s, err = scanStream(l.st.QueryRow(ctx, `SELECT `+streamCols+` FROM streamlog_streams WHERE arn = ?`, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("read stream %s: %w", arn, err)
	}
	return s, true, nil
}

// Streams lists up to limit streams of account and region, of source when it is not empty,
// in ARN order after the ARN after.
func (l *Log) Streams(ctx context.Context, account, region, source, after string, limit int) ([]Stream, error) {
	q := `SELECT ` + streamCols + ` FROM streamlog_streams WHERE account = ? AND region = ? AND arn > ?`
	args := []any{account, region, after}
	if source != "" {
		q, args = q+` AND source = ?`, append(args, source)
	}
	rows, err := l.st.Query(ctx, q+` ORDER BY arn LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	defer rows.Close()
	var out []Stream
	for rows.Next() {
		s, err := scanStream(rows)
		if err != nil {
			return nil, fmt.Errorf("list streams: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Shards lists a stream's shards, parents before children.
func (l *Log) Shards(ctx context.Context, arn string) ([]Shard, error) {
	rows, err := l.st.Query(ctx, `SELECT shard, parent, first_seq, last_seq, trimmed, created_at, closed_at FROM streamlog_shards WHERE stream = ? ORDER BY created_at, shard`, arn)
	if err != nil {
		return nil, fmt.Errorf("list shards of %s: %w", arn, err)
	}
	defer rows.Close()
	var out []Shard
	for rows.Next() {
		var s Shard
		var created int64
		var closed sql.NullInt64
		if err := rows.Scan(&s.ID, &s.Parent, &s.First, &s.Last, &s.Trimmed, &created, &closed); err != nil {
			return nil, fmt.Errorf("list shards of %s: %w", arn, err)
		}
		s.Created = time.UnixMilli(created)
		if closed.Valid {
			s.Closed = time.UnixMilli(closed.Int64)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Shard reads one shard of a stream; ok is false when there is none.
func (l *Log) Shard(ctx context.Context, arn, id string) (Shard, bool, error) {
	shards, err := l.Shards(ctx, arn)
	if err != nil {
		return Shard{}, false, err
	}
	for _, s := range shards {
		if s.ID == id {
			return s, true, nil
		}
	}
	return Shard{}, false, nil
}

// Read returns up to limit records of a shard from sequence number from on, stopping before
// maxBytes of data (but returning at least one record).
func (l *Log) Read(ctx context.Context, arn, shard string, from int64, limit, maxBytes int) ([]Record, error) {
	rows, err := l.st.Query(ctx, `SELECT seq, created_at, pkey, data FROM streamlog_records WHERE stream = ? AND shard = ? AND seq >= ? ORDER BY seq LIMIT ?`,
		arn, shard, from, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", arn, shard, err)
	}
	defer rows.Close()
	var out []Record
	size := 0
	for rows.Next() {
		var r Record
		var created int64
		if err := rows.Scan(&r.Seq, &created, &r.Key, &r.Data); err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", arn, shard, err)
		}
		r.Created = time.UnixMilli(created)
		size += len(r.Data)
		if len(out) > 0 && maxBytes > 0 && size > maxBytes {
			break
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Trim removes the records older than the retention period and the streams closed longer than
// it, with their shards and checkpoints.
func (l *Log) Trim(ctx context.Context, retention time.Duration) error {
	cutoff := l.now().Add(-retention).UnixMilli()
	return l.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`UPDATE streamlog_shards SET trimmed = (SELECT MAX(r.seq) FROM streamlog_records r
			WHERE r.stream = streamlog_shards.stream AND r.shard = streamlog_shards.shard AND r.created_at < ?)
			WHERE EXISTS (SELECT 1 FROM streamlog_records r WHERE r.stream = streamlog_shards.stream AND r.shard = streamlog_shards.shard AND r.created_at < ?)`,
			cutoff, cutoff); err != nil {
			return fmt.Errorf("trim shards: %w", err)
		}
		if _, err := tx.Exec(`DELETE FROM streamlog_records WHERE created_at < ?`, cutoff); err != nil {
			return fmt.Errorf("trim records: %w", err)
		}
		for _, q := range []string{
			`DELETE FROM streamlog_records WHERE stream IN (SELECT arn FROM streamlog_streams WHERE closed_at < ?)`,
			`DELETE FROM streamlog_shards WHERE stream IN (SELECT arn FROM streamlog_streams WHERE closed_at < ?)`,
			`DELETE FROM streamlog_checkpoints WHERE stream IN (SELECT arn FROM streamlog_streams WHERE closed_at < ?)`,
			`DELETE FROM streamlog_streams WHERE closed_at < ?`,
		} {
			if _, err := tx.Exec(q, cutoff); err != nil {
				return fmt.Errorf("expire streams: %w", err)
			}
		}
		return nil
	})
}

// Checkpoint is a consumer's position in a shard: the next sequence number to read.
func (l *Log) Checkpoint(ctx context.Context, consumer, arn, shard string) (seq int64, ok bool, err error) {
	err = l.st.QueryRow(ctx, `SELECT seq FROM streamlog_checkpoints WHERE consumer = ? AND stream = ? AND shard = ?`, consumer, arn, shard).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read checkpoint: %w", err)
	}
	return seq, true, nil
}

// SetCheckpoint records a consumer's position in a shard inside tx.
func (l *Log) SetCheckpoint(tx *store.Tx, consumer, arn, shard string, seq int64) error {
	if _, err := tx.Exec(`INSERT INTO streamlog_checkpoints (consumer, stream, shard, seq) VALUES (?, ?, ?, ?)
		ON CONFLICT (consumer, stream, shard) DO UPDATE SET seq = excluded.seq`, consumer, arn, shard, seq); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// DropCheckpoints removes a consumer's positions inside tx.
func (l *Log) DropCheckpoints(tx *store.Tx, consumer string) error {
	if _, err := tx.Exec(`DELETE FROM streamlog_checkpoints WHERE consumer = ?`, consumer); err != nil {
		return fmt.Errorf("drop checkpoints: %w", err)
	}
	return nil
}

// Changed returns a channel closed at the next append to (or close of) the stream arn: a
// reader at the end of a shard waits on it instead of polling.
func (l *Log) Changed(arn string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch, ok := l.waiters[arn]
	if !ok {
		ch = make(chan struct{})
		l.waiters[arn] = ch
	}
	return ch
}

// wake closes the waiters' channels of a stream; the empty payload (a reconnected listener)
// wakes every stream's.
func (l *Log) wake(arn string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, ch := range l.waiters {
		if arn == "" || k == arn {
			close(ch)
			delete(l.waiters, k)
		}
	}
}
