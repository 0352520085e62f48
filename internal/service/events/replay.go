package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// Replay states.
const (
	replayStarting   = "STARTING"
	replayRunning    = "RUNNING"
	replayCancelling = "CANCELLING"
	replayCompleted  = "COMPLETED"
	replayCancelled  = "CANCELLED"
)

// replayQueue holds one job per running replay; replayBatch is how many archived events one
// step of it sends.
const (
	replayQueue = "events.replay"
	replayBatch = 100
)

// replayRow is a replay as stored.
type replayRow struct {
	ID          int64
	Account     string
	Region      string
	Name        string
	ArchiveID   int64
	ArchiveARN  string
	Description string
	Destination string
	FilterARNs  []string
	Start, End  time.Time
	State       string
	Reason      string
	Last        time.Time // the ingestion time of the last event replayed; zero for none
	Started     time.Time
	Ended       time.Time // zero while it runs
}

func (r *replayRow) arn() string {
	return "arn:aws:events:" + r.Region + ":" + r.Account + ":replay/" + r.Name
}

const replayColumns = "id, account, region, name, archive_id, archive_arn, description, destination, filter_arns, start_time, end_time, state, reason, last_time, started_at, ended_at"

func scanReplay(row interface{ Scan(...any) error }) (*replayRow, error) {
	var r replayRow
	var filters string
	var start, end, last, started, ended int64
	if err := row.Scan(&r.ID, &r.Account, &r.Region, &r.Name, &r.ArchiveID, &r.ArchiveARN, &r.Description, &r.Destination, &filters,
		&start, &end, &r.State, &r.Reason, &last, &started, &ended); err != nil {
		return nil, err
	}
	if filters != "" {
		r.FilterARNs = strings.Split(filters, "\n")
	}
	r.Start, r.End, r.Started = time.Unix(0, start), time.Unix(0, end), time.Unix(0, started)
	if last != 0 {
		r.Last = time.Unix(0, last)
	}
	if ended != 0 {
		r.Ended = time.Unix(0, ended)
	}
	return &r, nil
}

func replayNotFound(name string) *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", 400, "Replay %s does not exist.", name)
}

func loadReplay(q querier, account, region, name string) (*replayRow, error) {
	r, err := scanReplay(q.QueryRow("SELECT "+replayColumns+" FROM events_replays WHERE account = ? AND region = ? AND name = ?", account, region, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, replayNotFound(name)
	}
	return r, err
}

func (s *Service) startReplay(ctx context.Context, in *StartReplayRequest) (*StartReplayResponse, error) {
	account, region := callerScope(ctx)
	name := awsproto.Value(in.ReplayName)
	if !validName(name, 64, false) {
		return nil, validation("1 validation error detected: Value '%s' at 'replayName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", name)
	}
	start, end := awsproto.Value(in.EventStartTime), awsproto.Value(in.EventEndTime)
	if !start.Before(end) {
		return nil, validation("Parameter EventStartTime is not valid. Reason: EventStartTime must be before EventEndTime.")
	}
	now := s.now()
	if end.After(now) {
		return nil, validation("Parameter EventEndTime is not valid. Reason: EventEndTime must not be in the future.")
	}
	archiveARN := awsproto.Value(in.EventSourceArn)
	parts := strings.SplitN(archiveARN, ":", 6)
	if len(parts) != 6 || parts[2] != "events" || !strings.HasPrefix(parts[5], "archive/") {
		return nil, validation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", archiveARN)
	}
	archiveName := strings.TrimPrefix(parts[5], "archive/")
	if parts[3] != region || parts[4] != account {
		return nil, archiveNotFound(archiveName)
	}
	dest := awsproto.Value(awsproto.Value(in.Destination).Arn)
	filters := awsproto.Value(in.Destination).FilterArns
	r := &replayRow{Account: account, Region: region, Name: name, ArchiveARN: archiveARN, Description: awsproto.Value(in.Description),
		Destination: dest, FilterARNs: filters, Start: start, End: end, State: replayStarting, Started: now}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		a, err := mustArchive(ctx, tx, archiveName)
		if err != nil {
			return err
		}
		if dest != a.Bus.arn() {
			return validation("Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.")
		}
		for _, f := range filters {
			if k, _, ok := parseRuleARN(f); !ok || k != a.Bus {
				return validation("Parameter Destination.FilterArns is not valid. Reason: %s is not a rule of %s.", f, dest)
			}
		}
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM events_replays WHERE account = ? AND region = ? AND name = ?", account, region, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return awsproto.Errorf("ResourceAlreadyExistsException", 400, "Replay %s already exists.", name)
		}
		r.ArchiveID = a.ID
		if err := tx.QueryRow(`INSERT INTO events_replays (account, region, name, archive_id, archive_arn, description, destination, filter_arns,
			start_time, end_time, state, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			account, region, name, a.ID, archiveARN, r.Description, dest, strings.Join(filters, "\n"),
			start.UnixNano(), end.UnixNano(), replayStarting, now.UnixNano()).Scan(&r.ID); err != nil {
			return fmt.Errorf("start replay: %w", err)
		}
		_, err = s.eng.Send(tx, replayQueue, queue.Outgoing{Body: []byte(strconv.FormatInt(r.ID, 10))})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &StartReplayResponse{ReplayArn: awsproto.Ptr(r.arn()), State: awsproto.Ptr(replayStarting), ReplayStartTime: &now}, nil
}

// replayStep sends the next batch of a replay's archived events to its bus's rules, each with
// "replay-name", and records how far it got, in one transaction; the job comes back until the
// archive holds no more events in the replay's window, or the replay is cancelled.
func (s *Service) replayStep(ctx context.Context, m queue.Message) error {
	id, err := strconv.ParseInt(string(m.Body), 10, 64)
	if err != nil {
		return queue.Permanent(fmt.Errorf("decode replay job: %w", err))
	}
	r, err := scanReplay(s.st.QueryRow(ctx, "SELECT "+replayColumns+" FROM events_replays WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.State == replayCompleted || r.State == replayCancelled {
		return nil
	}
	k, ok := parseBusARN(r.Destination)
	if !ok {
		return queue.Permanent(fmt.Errorf("replay %s: destination %s", r.Name, r.Destination))
	}
	b, err := loadBus(s.reader(ctx), k)
	if err != nil {
		return err
	}
	var routes *busRoutes
	if b != nil {
		if routes, err = s.routesOf(ctx, b); err != nil {
			return err
		}
	}
	var only map[string]bool
	if len(r.FilterARNs) > 0 {
		only = map[string]bool{}
		for _, f := range r.FilterARNs {
			only[f] = true
		}
	}
	after := r.Start.UnixNano() - 1
	if !r.Last.IsZero() {
		after = r.Last.UnixNano()
	}
	rows, err := s.st.Query(ctx, `SELECT ingested_at, event FROM events_archived WHERE archive_id = ? AND ingested_at > ? AND ingested_at < ?
		ORDER BY ingested_at, id LIMIT ?`, r.ArchiveID, after, r.End.UnixNano(), replayBatch)
	if err != nil {
		return err
	}
	var all []queued
	var last int64
	n := 0
	for rows.Next() {
		var at int64
		var event string
		if err := rows.Scan(&at, &event); err != nil {
			rows.Close()
			return err
		}
		n++
		last = at
		ev := ingested{bus: k, event: withReplayName([]byte(event), r.Name), at: time.Unix(0, at)}
		var head struct{ ID string }
		_ = json.Unmarshal(ev.event, &head)
		ev.id = head.ID
		ds, _, err := s.route(ctx, routes, ev, only)
		if err != nil {
			rows.Close()
			return err
		}
		all = append(all, ds...)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	done := n < replayBatch
	return s.st.Write(ctx, func(tx *store.Tx) error {
		var state string
		if err := tx.QueryRow("SELECT state FROM events_replays WHERE id = ?", id).Scan(&state); err != nil {
			return err
		}
		now := s.now().UnixNano()
		if state == replayCancelling {
			_, err := tx.Exec("UPDATE events_replays SET state = ?, ended_at = ? WHERE id = ?", replayCancelled, now, id)
			return err
		}
		for _, q := range all {
			if err := s.targets.Enqueue(tx, q.d, q.p); err != nil {
				return err
			}
		}
		if n > 0 {
			if _, err := tx.Exec("UPDATE events_replays SET last_time = ? WHERE id = ?", last, id); err != nil {
				return err
			}
		}
		if done {
			_, err := tx.Exec("UPDATE events_replays SET state = ?, ended_at = ? WHERE id = ?", replayCompleted, now, id)
			return err
		}
		if _, err := tx.Exec("UPDATE events_replays SET state = ? WHERE id = ?", replayRunning, id); err != nil {
			return err
		}
		_, err := s.eng.Send(tx, replayQueue, queue.Outgoing{Body: m.Body})
		return err
	})
}

// withReplayName adds "replay-name" to an archived event, as EventBridge marks replayed events.
func withReplayName(event []byte, name string) []byte {
	i := len(event) - 1
	for i >= 0 && event[i] != '}' {
		i--
	}
	if i < 0 {
		return event
	}
	out := append([]byte{}, event[:i]...)
	out = append(out, `,"replay-name":`...)
	out = append(out, marshal(name)...)
	return append(out, event[i:]...)
}

func (s *Service) describeReplay(ctx context.Context, in *DescribeReplayRequest) (*DescribeReplayResponse, error) {
	account, region := callerScope(ctx)
	r, err := loadReplay(s.reader(ctx), account, region, awsproto.Value(in.ReplayName))
	if err != nil {
		return nil, err
	}
	v := replayShape(r)
	out := &DescribeReplayResponse{ReplayArn: awsproto.Ptr(r.arn()), ReplayName: v.ReplayName, EventSourceArn: v.EventSourceArn,
		State: v.State, StateReason: v.StateReason, EventStartTime: v.EventStartTime, EventEndTime: v.EventEndTime,
		EventLastReplayedTime: v.EventLastReplayedTime, ReplayStartTime: v.ReplayStartTime, ReplayEndTime: v.ReplayEndTime,
		Destination: &ReplayDestination{Arn: awsproto.Ptr(r.Destination), FilterArns: r.FilterARNs}}
	if r.Description != "" {
		out.Description = &r.Description
	}
	return out, nil
}

func replayShape(r *replayRow) Replay {
	v := Replay{ReplayName: awsproto.Ptr(r.Name), EventSourceArn: awsproto.Ptr(r.ArchiveARN), State: awsproto.Ptr(r.State),
		EventStartTime: awsproto.Ptr(r.Start), EventEndTime: awsproto.Ptr(r.End), ReplayStartTime: awsproto.Ptr(r.Started)}
	if r.Reason != "" {
		v.StateReason = awsproto.Ptr(r.Reason)
	}
	if !r.Last.IsZero() {
		v.EventLastReplayedTime = awsproto.Ptr(r.Last)
	}
	if !r.Ended.IsZero() {
		v.ReplayEndTime = awsproto.Ptr(r.Ended)
	}
	return v
}

func (s *Service) listReplays(ctx context.Context, in *ListReplaysRequest) (*ListReplaysResponse, error) {
	account, region := callerScope(ctx)
	after, err := decodeToken(in.NextToken, "replays")
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.Limit, 100)
	rows, err := s.st.Query(ctx, "SELECT "+replayColumns+" FROM events_replays WHERE account = ? AND region = ? AND name > ? ORDER BY name", account, region, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListReplaysResponse{Replays: []Replay{}}
	for rows.Next() {
		r, err := scanReplay(rows)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(r.Name, awsproto.Value(in.NamePrefix)) || (in.State != nil && *in.State != r.State) ||
			(in.EventSourceArn != nil && *in.EventSourceArn != r.ArchiveARN) {
			continue
		}
		if len(out.Replays) == limit {
			out.NextToken = encodeToken("replays", *out.Replays[limit-1].ReplayName)
			break
		}
		out.Replays = append(out.Replays, replayShape(r))
	}
	return out, rows.Err()
}

func (s *Service) cancelReplay(ctx context.Context, in *CancelReplayRequest) (*CancelReplayResponse, error) {
	account, region := callerScope(ctx)
	var r *replayRow
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if r, err = loadReplay(tx, account, region, awsproto.Value(in.ReplayName)); err != nil {
			return err
		}
		if r.State != replayStarting && r.State != replayRunning {
			return awsproto.Errorf("IllegalStatusException", 400, "Replay %s is not in a valid state for this operation.", r.Name)
		}
		_, err = tx.Exec("UPDATE events_replays SET state = ? WHERE id = ?", replayCancelling, r.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &CancelReplayResponse{ReplayArn: awsproto.Ptr(r.arn()), State: awsproto.Ptr(replayCancelling)}, nil
}
