package logs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// stream is a log stream row.
type stream struct {
	id, groupID                          int64
	name                                 string
	created, first, last, ingested, size int64
	seq                                  int64
}

const streamColumns = `id, group_id, name, created_at, first_event, last_event, last_ingestion, stored_bytes, upload_seq`

func scanStream(sc interface{ Scan(...any) error }) (stream, error) {
	var st stream
	err := sc.Scan(&st.id, &st.groupID, &st.name, &st.created, &st.first, &st.last, &st.ingested, &st.size, &st.seq)
	return st, err
}

// lookupStream reads stream name of group g, or answers ResourceNotFoundException.
func (s *Service) lookupStream(ctx context.Context, g group, name string) (stream, error) {
	st, err := scanStream(s.st.QueryRow(ctx, `SELECT `+streamColumns+` FROM logs_streams WHERE group_id = ? AND name = ?`, g.id, name))
	if errors.Is(err, sql.ErrNoRows) {
		return stream{}, streamNotFound()
	}
	if err != nil {
		return stream{}, fmt.Errorf("look up log stream %q: %w", name, err)
	}
	return st, nil
}

func (s *Service) createLogStream(ctx context.Context, in *CreateLogStreamRequest) (*struct{}, error) {
	name := awsproto.Value(in.LogStreamName)
	if err := checkStreamName("logStreamName", name); err != nil {
		return nil, err
	}
	g, err := s.callerGroup(ctx, awsproto.Value(in.LogGroupName))
	if err != nil {
		return nil, err
	}
	now := s.now().UnixMilli()
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRow(`INSERT INTO logs_streams (group_id, name, created_at) VALUES (?, ?, ?)
			ON CONFLICT (group_id, name) DO NOTHING RETURNING id`, g.id, name, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return streamExists()
		}
		if err != nil {
			return err
		}
		// The group may have been deleted since it was read; its streams must not outlive it.
		var alive int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM logs_groups WHERE id = ?`, g.id).Scan(&alive); err != nil {
			return err
		}
		if alive == 0 {
			return groupNotFound()
		}
		return nil
	})
	if err != nil {
		return nil, wrapStoreError("create log stream", err)
	}
	return &struct{}{}, nil
}

func (s *Service) deleteLogStream(ctx context.Context, in *DeleteLogStreamRequest) (*struct{}, error) {
	name := awsproto.Value(in.LogStreamName)
	if err := checkStreamName("logStreamName", name); err != nil {
		return nil, err
	}
	g, err := s.callerGroup(ctx, awsproto.Value(in.LogGroupName))
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRow(`DELETE FROM logs_streams WHERE group_id = ? AND name = ? RETURNING id`, g.id, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return streamNotFound()
		}
		if err != nil {
			return err
		}
		return s.enqueuePurge(tx, purgeStream, id)
	})
	if err != nil {
		return nil, wrapStoreError("delete log stream", err)
	}
	return &struct{}{}, nil
}

func (s *Service) describeLogStreams(ctx context.Context, in *DescribeLogStreamsRequest) (*DescribeLogStreamsResponse, error) {
	byTime := awsproto.Value(in.OrderBy) == "LastEventTime"
	if byTime && in.LogStreamNamePrefix != nil {
		return nil, invalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	prefix := awsproto.Value(in.LogStreamNamePrefix)
	if err := checkStreamName("logStreamNamePrefix", prefix); err != nil {
		return nil, err
	}
	g, err := s.resolveGroup(ctx, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	cur, start, err := decodeCursor(in.NextToken, "streams")
	if err != nil {
		return nil, err
	}
	desc := awsproto.Value(in.Descending)
	limit := pageSize(in.Limit, 50)

	var q strings.Builder
	q.WriteString(`SELECT ` + streamColumns + ` FROM logs_streams WHERE group_id = ?`)
	args := []any{g.id}
	if prefix != "" {
		q.WriteString(` AND substr(name, 1, ?) = ?`)
		args = append(args, utf8.RuneCountInString(prefix), prefix)
	}
	cmp := ">"
	dir := "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	switch {
	case byTime && !start:
		q.WriteString(` AND (last_event ` + cmp + ` ? OR (last_event = ? AND name ` + cmp + ` ?))`)
		args = append(args, cur.Time, cur.Time, cur.Name)
	case !start:
		q.WriteString(` AND name ` + cmp + ` ?`)
		args = append(args, cur.Name)
	}
	if byTime {
		q.WriteString(` ORDER BY last_event ` + dir + `, name ` + dir)
	} else {
		q.WriteString(` ORDER BY name ` + dir)
	}
	q.WriteString(` LIMIT ` + strconv.Itoa(limit+1))

	rows, err := s.st.Query(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("describe log streams: %w", err)
	}
	defer rows.Close()
	out := &DescribeLogStreamsResponse{LogStreams: []LogStream{}}
	var last stream
	for rows.Next() {
		st, err := scanStream(rows)
		if err != nil {
			return nil, fmt.Errorf("describe log streams: %w", err)
		}
		if len(out.LogStreams) == limit {
			out.NextToken = encodeCursor(cursor{Kind: "streams", Name: last.name, Time: last.last})
			break
		}
		out.LogStreams = append(out.LogStreams, describeStream(g, st))
		last = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("describe log streams: %w", err)
	}
	return out, nil
}

func describeStream(g group, st stream) LogStream {
	ls := LogStream{
		LogStreamName: awsproto.Ptr(st.name),
		CreationTime:  awsproto.Ptr(st.created),
		Arn:           awsproto.Ptr(streamARN(g.region, g.account, g.name, st.name)),
		StoredBytes:   awsproto.Ptr(st.size),
	}
	if st.ingested > 0 {
		ls.FirstEventTimestamp = awsproto.Ptr(st.first)
		ls.LastEventTimestamp = awsproto.Ptr(st.last)
		ls.LastIngestionTime = awsproto.Ptr(st.ingested)
		ls.UploadSequenceToken = awsproto.Ptr(sequenceToken(st.seq))
	}
	return ls
}

// sequenceToken renders an upload sequence number the way AWS's tokens look (a long decimal).
func sequenceToken(seq int64) string {
	return fmt.Sprintf("4963%052d", seq)
}
