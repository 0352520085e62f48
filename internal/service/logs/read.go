package logs

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// Read limits, as AWS documents them: a response holds at most 10,000 events and 1 MB.
const (
	maxReadEvents = 10000
	maxReadBytes  = 1_048_576
	// filterScanBudget bounds the events one FilterLogEvents call examines; past it the call
	// returns what it found with a nextToken, as AWS does when a search runs long.
	filterScanBudget = 20000
	filterChunk      = 1000
)

// position is an event's place in a stream's order (timestamp, then arrival).
type position struct{ ts, id int64 }

// GetLogEvents tokens look like AWS's: "f/" or "b/", then 38 digits, then "/s".
func eventToken(dir byte, p position) string {
	return fmt.Sprintf("%c/%019d%019d/s", dir, p.ts, p.id)
}

func parseEventToken(tok string) (dir byte, p position, err error) {
	if len(tok) != 2+38+2 || (tok[0] != 'f' && tok[0] != 'b') || tok[1] != '/' || !strings.HasSuffix(tok, "/s") {
		return 0, p, invalidToken()
	}
	ts, err1 := strconv.ParseInt(tok[2:21], 10, 64)
	id, err2 := strconv.ParseInt(tok[21:40], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, p, invalidToken()
	}
	return tok[0], position{ts, id}, nil
}

func (s *Service) getLogEvents(ctx context.Context, in *GetLogEventsRequest) (*GetLogEventsResponse, error) {
	streamName := awsproto.Value(in.LogStreamName)
	if err := checkStreamName("logStreamName", streamName); err != nil {
		return nil, err
	}
	g, err := s.resolveGroup(ctx, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	st, err := s.lookupStream(ctx, g, streamName)
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.Limit, maxReadEvents)
	forward := awsproto.Value(in.StartFromHead)
	var from *position
	if in.NextToken != nil {
		dir, p, err := parseEventToken(*in.NextToken)
		if err != nil {
			return nil, err
		}
		forward, from = dir == 'f', &p
	}

	var q strings.Builder
	q.WriteString(`SELECT id, ts, ingested, message FROM logs_events WHERE stream_id = ?`)
	args := []any{st.id}
	if in.StartTime != nil {
		q.WriteString(` AND ts >= ?`)
		args = append(args, *in.StartTime)
	}
	if in.EndTime != nil {
		q.WriteString(` AND ts < ?`)
		args = append(args, *in.EndTime)
	}
	if from != nil {
		cmp := "<"
		if forward {
			cmp = ">"
		}
		q.WriteString(` AND (ts ` + cmp + ` ? OR (ts = ? AND id ` + cmp + ` ?))`)
		args = append(args, from.ts, from.ts, from.id)
	}
	if forward {
		q.WriteString(` ORDER BY ts, id`)
	} else {
		q.WriteString(` ORDER BY ts DESC, id DESC`)
	}
	q.WriteString(` LIMIT ` + strconv.Itoa(limit))

	rows, err := s.st.Query(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("get log events: %w", err)
	}
	defer rows.Close()
	events := []OutputLogEvent{}
	var first, last position
	size := 0
	for rows.Next() {
		var p position
		var e OutputLogEvent
		e.Timestamp, e.IngestionTime, e.Message = new(int64), new(int64), new(string)
		if err := rows.Scan(&p.id, e.Timestamp, e.IngestionTime, e.Message); err != nil {
			return nil, fmt.Errorf("get log events: %w", err)
		}
		p.ts = *e.Timestamp
		if size += len(*e.Message) + eventOverhead; size > maxReadBytes && len(events) > 0 {
			break
		}
		if len(events) == 0 {
			first = p
		}
		last = p
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get log events: %w", err)
	}
	if !forward {
		slices.Reverse(events)
		first, last = last, first
	}
	out := &GetLogEventsResponse{Events: events}
	switch {
	case len(events) > 0:
		out.NextForwardToken = awsproto.Ptr(eventToken('f', last))
		out.NextBackwardToken = awsproto.Ptr(eventToken('b', first))
	case from != nil:
		// At the end (or the start) of the stream AWS hands back the token it was given.
		out.NextForwardToken = awsproto.Ptr(eventToken('f', *from))
		out.NextBackwardToken = awsproto.Ptr(eventToken('b', *from))
	default:
		out.NextForwardToken = awsproto.Ptr(eventToken('f', position{}))
		out.NextBackwardToken = awsproto.Ptr(eventToken('b', position{}))
	}
	return out, nil
}

func (s *Service) filterLogEvents(ctx context.Context, in *FilterLogEventsRequest) (*FilterLogEventsResponse, error) {
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != nil {
		return nil, invalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive")
	}
	if len(in.LogStreamNames) > 100 {
		return nil, invalidParameter("1 validation error detected: Value '[%d items]' at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100", len(in.LogStreamNames))
	}
	m, err := compilePattern(awsproto.Value(in.FilterPattern))
	if err != nil {
		return nil, err
	}
	g, err := s.resolveGroup(ctx, in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	cur, start, err := decodeCursor(in.NextToken, "filter")
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.Limit, maxReadEvents)

	var q strings.Builder
	q.WriteString(`SELECT e.id, e.ts, e.ingested, e.message, s.name FROM logs_events e
		JOIN logs_streams s ON s.id = e.stream_id WHERE e.group_id = ?`)
	args := []any{g.id}
	if in.StartTime != nil {
		q.WriteString(` AND e.ts >= ?`)
		args = append(args, *in.StartTime)
	}
	if in.EndTime != nil {
		q.WriteString(` AND e.ts <= ?`)
		args = append(args, *in.EndTime)
	}
	if len(in.LogStreamNames) > 0 {
		q.WriteString(` AND s.name IN (` + placeholders(len(in.LogStreamNames)) + `)`)
		for _, n := range in.LogStreamNames {
			args = append(args, n)
		}
	}
	if p := awsproto.Value(in.LogStreamNamePrefix); p != "" {
		q.WriteString(` AND substr(s.name, 1, ?) = ?`)
		args = append(args, len([]rune(p)), p)
	}
	q.WriteString(` AND (e.ts > ? OR (e.ts = ? AND e.id > ?)) ORDER BY e.ts, e.id LIMIT ` + strconv.Itoa(filterChunk))
	base := q.String()

	out := &FilterLogEventsResponse{Events: []FilteredLogEvent{}}
	pos := position{ts: -1 << 63}
	if !start {
		pos = position{cur.Time, cur.ID}
	}
	scanned, size := 0, 0
	for {
		n, full, err := s.filterChunk(ctx, base, append(args, pos.ts, pos.ts, pos.id), m, out, &pos, limit, &size)
		if err != nil {
			return nil, err
		}
		scanned += n
		if full || n == filterChunk && (len(out.Events) >= limit || scanned >= filterScanBudget) {
			out.NextToken = encodeCursor(cursor{Kind: "filter", Time: pos.ts, ID: pos.id})
			return out, nil
		}
		if n < filterChunk {
			return out, nil
		}
	}
}

// filterChunk scans one chunk of events after pos, appending matches to out and advancing pos
// past every event it examined. It returns how many rows it read, and whether the page filled
// (limit or 1 MB) before the chunk ended.
func (s *Service) filterChunk(ctx context.Context, query string, args []any, m matcher, out *FilterLogEventsResponse,
	pos *position, limit int, size *int) (n int, full bool, err error) {
	rows, err := s.st.Query(ctx, query, args...)
	if err != nil {
		return 0, false, fmt.Errorf("filter log events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if len(out.Events) >= limit {
			return n, true, nil
		}
		var p position
		var ingested int64
		var msg, streamName string
		if err := rows.Scan(&p.id, &p.ts, &ingested, &msg, &streamName); err != nil {
			return n, false, fmt.Errorf("filter log events: %w", err)
		}
		if m.match(msg) {
			if *size+len(msg)+eventOverhead > maxReadBytes && len(out.Events) > 0 {
				return n, true, nil
			}
			*size += len(msg) + eventOverhead
			out.Events = append(out.Events, FilteredLogEvent{
				EventId:       awsproto.Ptr(fmt.Sprintf("%056d", p.id)),
				Timestamp:     awsproto.Ptr(p.ts),
				IngestionTime: awsproto.Ptr(ingested),
				Message:       awsproto.Ptr(msg),
				LogStreamName: awsproto.Ptr(streamName),
			})
		}
		*pos = p
		n++
	}
	if err := rows.Err(); err != nil {
		return n, false, fmt.Errorf("filter log events: %w", err)
	}
	return n, false, nil
}
