package logs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// Queues this service sends to and handles.
const (
	// topicPurge deletes the events of a deleted group or stream, or a group's events past its
	// retention, in bounded chunks.
	topicPurge = "logs.purge"
	// topicSweep is the periodic retention sweep.
	topicSweep = "logs.sweep"
)

// Purge kinds.
const (
	purgeGroup  = "group"
	purgeStream = "stream"
	purgeExpire = "expire"
)

// purgeChunk bounds the rows one store write deletes, so purges never hold the writer long.
const purgeChunk = 5000

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

type purgeJob struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
}

func (s *Service) enqueuePurge(tx *store.Tx, kind string, id int64) error {
	b, _ := json.Marshal(purgeJob{Kind: kind, ID: id})
	_, err := s.queue.Send(tx, topicPurge, queue.Outgoing{Group: kind + ":" + strconv.FormatInt(id, 10), Body: b})
	return err
}

func (s *Service) putRetentionPolicy(ctx context.Context, in *PutRetentionPolicyRequest) (*struct{}, error) {
	days := awsproto.Value(in.RetentionInDays)
	if !slices.Contains(retentionDays, days) {
		vals := make([]string, len(retentionDays))
		for i, d := range retentionDays {
			vals[i] = strconv.Itoa(int(d))
		}
		return nil, invalidParameter("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
			days, strings.Join(vals, ", "))
	}
	return s.setRetention(ctx, awsproto.Value(in.LogGroupName), days)
}

func (s *Service) deleteRetentionPolicy(ctx context.Context, in *DeleteRetentionPolicyRequest) (*struct{}, error) {
	return s.setRetention(ctx, awsproto.Value(in.LogGroupName), 0)
}

// setRetention stores a group's retention (0 = never expire); a new retention is applied at
// once by an expire job rather than waiting for the next sweep.
func (s *Service) setRetention(ctx context.Context, name string, days int32) (*struct{}, error) {
	g, err := s.callerGroup(ctx, name)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(`UPDATE logs_groups SET retention_days = ? WHERE id = ?`, days, g.id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return groupNotFound()
		}
		if days == 0 {
			return nil
		}
		return s.enqueuePurge(tx, purgeExpire, g.id)
	})
	if err != nil {
		return nil, wrapStoreError("put retention policy", err)
	}
	return &struct{}{}, nil
}

// purge runs one purge job to completion, chunk by chunk.
func (s *Service) purge(ctx context.Context, rec queue.Message) error {
	var job purgeJob
	if err := json.Unmarshal(rec.Body, &job); err != nil {
		return queue.Permanent(fmt.Errorf("decode purge job: %w", err))
	}
	switch job.Kind {
	case purgeGroup:
		_, err := s.deleteEvents(ctx, `group_id = ?`, job.ID)
		return err
	case purgeStream:
		_, err := s.deleteEvents(ctx, `stream_id = ?`, job.ID)
		return err
	case purgeExpire:
		return s.expireGroup(ctx, job.ID)
	}
	return queue.Permanent(fmt.Errorf("unknown purge kind %q", job.Kind))
}

// deleteEvents deletes the events matching where, purgeChunk rows per store write, and
// reports how many it deleted.
func (s *Service) deleteEvents(ctx context.Context, where string, args ...any) (int64, error) {
	q := `DELETE FROM logs_events WHERE id IN (SELECT id FROM logs_events WHERE ` + where + ` LIMIT ` + strconv.Itoa(purgeChunk) + `)`
	var total int64
	for {
		var n int64
		err := s.st.Write(ctx, func(tx *store.Tx) error {
			res, err := tx.Exec(q, args...)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("purge log events: %w", err)
		}
		total += n
		if n < purgeChunk {
			return total, nil
		}
	}
}

// expireGroup deletes group gid's events older than its retention and refreshes its streams'
// first-event time and stored bytes.
func (s *Service) expireGroup(ctx context.Context, gid int64) error {
	var days int32
	err := s.st.QueryRow(ctx, `SELECT retention_days FROM logs_groups WHERE id = ?`, gid).Scan(&days)
	if errors.Is(err, sql.ErrNoRows) || err == nil && days == 0 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read retention of log group %d: %w", gid, err)
	}
	cutoff := s.now().Add(-time.Duration(days) * 24 * time.Hour).UnixMilli()
	n, err := s.deleteEvents(ctx, `group_id = ? AND ts < ?`, gid, cutoff)
	if err != nil || n == 0 {
		return err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE logs_streams SET
			stored_bytes = (SELECT CAST(COALESCE(SUM(e.size), 0) AS BIGINT) FROM logs_events e WHERE e.stream_id = logs_streams.id),
			first_event = COALESCE((SELECT MIN(e.ts) FROM logs_events e WHERE e.stream_id = logs_streams.id), first_event)
			WHERE group_id = ?`, gid)
		return err
	})
	if err != nil {
		return fmt.Errorf("refresh log streams of group %d: %w", gid, err)
	}
	return nil
}

// sweepAll expires the events of every group that has a retention.
func (s *Service) sweepAll(ctx context.Context) error {
	rows, err := s.st.Query(ctx, `SELECT id FROM logs_groups WHERE retention_days > 0 ORDER BY id`)
	if err != nil {
		return fmt.Errorf("list log groups with retention: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.expireGroup(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
