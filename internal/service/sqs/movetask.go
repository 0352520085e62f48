package sqs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// Message move task statuses.
const (
	taskRunning   = "RUNNING"
	taskCompleted = "COMPLETED"
	taskCancelled = "CANCELLED"
	taskFailed    = "FAILED"
)

const (
	// moveTopic announces a started task to the node that runs the move worker.
	moveTopic = "sqs.move"
	// moveWorker is the engine worker that runs every move task, on one node.
	moveWorker = "sqs.move-tasks"
	// maxMoveRate bounds MaxNumberOfMessagesPerSecond.
	maxMoveRate = 500
	// moveBatch is what a task without a rate moves per step; moveYield is its pause between steps.
	moveBatch = 1000
	moveYield = 10 * time.Millisecond
	// moveRetry is the pause after a step failed for a reason of Kiri's own.
	moveRetry = 5 * time.Second
)

// failureNonExistentQueue is a task's FailureReason when a queue it moves to went away.
const failureNonExistentQueue = "AWS.SimpleQueueService.NonExistentQueue"

// taskHandle is what a TaskHandle carries: the task and its source queue.
type taskHandle struct {
	TaskID    string `json:"taskId"`
	SourceArn string `json:"sourceArn"`
}

func (h taskHandle) encode() string {
	b, _ := json.Marshal(h)
	return base64.StdEncoding.EncodeToString(b)
}

func decodeTaskHandle(s string) (taskHandle, bool) {
	var h taskHandle
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &h) != nil || h.TaskID == "" || h.SourceArn == "" {
		return taskHandle{}, false
	}
	return h, true
}

func newTaskID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return uuid.Format(b)
}

func sourceNotFound() *awsproto.Error {
	return resourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.")
}

func (s *Service) startMessageMoveTask(ctx context.Context, in *StartMessageMoveTaskRequest) (*StartMessageMoveTaskResult, error) {
	src, err := s.queueFromARN(ctx, awsproto.Value(in.SourceArn))
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, sourceNotFound()
	}
	var one int
	err = s.st.QueryRow(ctx, "SELECT 1 FROM sqs_queues WHERE dead_letter = ? LIMIT 1", src.ARN).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, invalidParameter("Source queue must be configured as a Dead Letter Queue.")
	}
	if err != nil {
		return nil, fmt.Errorf("start move task: %w", err)
	}
	dest := awsproto.Value(in.DestinationArn)
	if dest != "" {
		dq, err := s.queueFromARN(ctx, dest)
		if err != nil {
			return nil, err
		}
		if dq == nil {
			return nil, resourceNotFound("The resource that you specified for the DestinationArn parameter doesn't exist.")
		}
	}
	rate := 0
	if r := in.MaxNumberOfMessagesPerSecond; r != nil {
		if *r < 1 || *r > maxMoveRate {
			return nil, invalidValue("MaxNumberOfMessagesPerSecond", strconv.Itoa(int(*r)), "Must be between 1 and 500, if provided.")
		}
		rate = int(*r)
	}
	stats, err := s.eng.Stats(ctx, src.Engine)
	if err != nil {
		return nil, err
	}
	h := taskHandle{TaskID: newTaskID(), SourceArn: src.ARN}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		var one int
		err := tx.QueryRow("SELECT 1 FROM sqs_move_tasks WHERE source_arn = ? AND status = ?", src.ARN, taskRunning).Scan(&one)
		if err == nil {
			return invalidParameter("There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO sqs_move_tasks (task, source_arn, dest_arn, rate, status, to_move, started_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, h.TaskID, src.ARN, dest, rate, taskRunning, stats.Visible, s.now().UnixMilli()); err != nil {
			return fmt.Errorf("start move task: %w", err)
		}
		tx.Notify(moveTopic, "")
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &StartMessageMoveTaskResult{TaskHandle: awsproto.Ptr(h.encode())}, nil
}

func (s *Service) listMessageMoveTasks(ctx context.Context, in *ListMessageMoveTasksRequest) (*ListMessageMoveTasksResult, error) {
	src, err := s.queueFromARN(ctx, awsproto.Value(in.SourceArn))
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, sourceNotFound()
	}
	limit := 1
	if m := in.MaxResults; m != nil {
		if *m < 1 || *m > 10 {
			return nil, invalidValue("MaxResults", strconv.Itoa(int(*m)), "Must be between 1 and 10, if provided.")
		}
		limit = int(*m)
	}
	rows, err := s.st.Query(ctx, `SELECT task, dest_arn, rate, status, to_move, moved, failure, started_at
		FROM sqs_move_tasks WHERE source_arn = ? ORDER BY id DESC LIMIT ?`, src.ARN, limit)
	if err != nil {
		return nil, fmt.Errorf("list move tasks: %w", err)
	}
	defer rows.Close()
	out := &ListMessageMoveTasksResult{Results: []ListMessageMoveTasksResultEntry{}}
	for rows.Next() {
		var task, dest, status, failure string
		var rate int32
		var toMove, moved, started int64
		if err := rows.Scan(&task, &dest, &rate, &status, &toMove, &moved, &failure, &started); err != nil {
			return nil, fmt.Errorf("list move tasks: %w", err)
		}
		e := ListMessageMoveTasksResultEntry{
			SourceArn:                         awsproto.Ptr(src.ARN),
			Status:                            awsproto.Ptr(status),
			StartedTimestamp:                  awsproto.Ptr(started),
			ApproximateNumberOfMessagesMoved:  awsproto.Ptr(moved),
			ApproximateNumberOfMessagesToMove: awsproto.Ptr(toMove),
			DestinationArn:                    optional(dest),
			FailureReason:                     optional(failure),
		}
		if rate > 0 {
			e.MaxNumberOfMessagesPerSecond = awsproto.Ptr(rate)
		}
		if status == taskRunning {
			e.TaskHandle = awsproto.Ptr(taskHandle{TaskID: task, SourceArn: src.ARN}.encode())
		}
		out.Results = append(out.Results, e)
	}
	return out, rows.Err()
}

func (s *Service) cancelMessageMoveTask(ctx context.Context, in *CancelMessageMoveTaskRequest) (*CancelMessageMoveTaskResult, error) {
	h, ok := decodeTaskHandle(awsproto.Value(in.TaskHandle))
	if !ok {
		return nil, invalidParameter("Value for parameter TaskHandle is invalid.")
	}
	src, err := s.queueFromARN(ctx, h.SourceArn)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, sourceNotFound()
	}
	var moved int64
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		var status string
		err := tx.QueryRow("SELECT status, moved FROM sqs_move_tasks WHERE task = ? AND source_arn = ?", h.TaskID, src.ARN).Scan(&status, &moved)
		if errors.Is(err, sql.ErrNoRows) {
			return resourceNotFound("Task does not exist.")
		}
		if err != nil {
			return err
		}
		if status != taskRunning {
			return invalidParameter("Only active tasks can be cancelled.")
		}
		_, err = tx.Exec("UPDATE sqs_move_tasks SET status = ? WHERE task = ?", taskCancelled, h.TaskID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &CancelMessageMoveTaskResult{ApproximateNumberOfMessagesMoved: awsproto.Ptr(moved)}, nil
}

// moveRunner runs message move tasks in one engine worker, so that on several nodes one runs
// them, and a restart resumes the tasks it finds RUNNING. A task moves its rate of messages a
// second, or batches back to back without one; each step moves and counts in one write.
type moveRunner struct {
	s      *Service
	wake   chan struct{}
	nextAt map[int64]time.Time // when each running task steps next; the worker's own
}

// startMoveRunner registers the move worker with the engine, which runs it once it runs.
func startMoveRunner(s *Service) {
	r := &moveRunner{s: s, wake: make(chan struct{}, 1), nextAt: map[int64]time.Time{}}
	s.eng.StartWorker(moveWorker, r.run)
}

func (r *moveRunner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run steps the running tasks until ctx ends, sleeping until the next one is due or a task
// starts (on any node: the store announces it); with no task running it does nothing.
func (r *moveRunner) run(ctx context.Context) {
	unsub := r.s.st.Subscribe(moveTopic, func(string) { r.poke() })
	defer unsub()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, err := r.step(ctx)
		if err != nil && ctx.Err() == nil {
			r.s.log.Error("run message move tasks", "err", err)
			next = time.Now().Add(moveRetry)
		}
		var due <-chan time.Time
		if !next.IsZero() {
			timer.Reset(max(time.Until(next), time.Millisecond))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-due:
		}
		timer.Stop()
	}
}

// moveTask is a running task as the worker reads it.
type moveTask struct {
	id                 int64
	source, dest       string
	rate               int
	toMove, movedSoFar int64
}

// step moves a batch of every running task that is due, and returns when the next is due
// (zero: none runs).
func (r *moveRunner) step(ctx context.Context) (time.Time, error) {
	rows, err := r.s.st.Query(ctx, "SELECT id, source_arn, dest_arn, rate, to_move, moved FROM sqs_move_tasks WHERE status = ?", taskRunning)
	if err != nil {
		return time.Time{}, err
	}
	var tasks []moveTask
	for rows.Next() {
		var t moveTask
		if err := rows.Scan(&t.id, &t.source, &t.dest, &t.rate, &t.toMove, &t.movedSoFar); err != nil {
			rows.Close()
			return time.Time{}, err
		}
		tasks = append(tasks, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return time.Time{}, err
	}
	running := map[int64]time.Time{}
	var next time.Time
	for _, t := range tasks {
		at := r.nextAt[t.id]
		if now := time.Now(); !at.After(now) {
			n, done, err := r.move(ctx, t)
			if err != nil {
				return time.Time{}, err
			}
			if done {
				continue
			}
			at = now.Add(time.Second)
			if t.rate == 0 && n == moveBatch {
				at = now.Add(moveYield)
			}
		}
		running[t.id] = at
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	r.nextAt = running
	return next, nil
}

// errMoveTarget stops a step whose messages have nowhere to go.
var errMoveTarget = errors.New("sqs: a move task's destination queue does not exist")

// move moves one batch of task t and reports how many moved and whether the task ended.
func (r *moveRunner) move(ctx context.Context, t moveTask) (int, bool, error) {
	s := r.s
	batch := moveBatch
	if t.rate > 0 {
		batch = t.rate
	}
	if left := t.toMove - t.movedSoFar; left < int64(batch) {
		batch = int(max(left, 0))
	}
	var n int
	var done bool
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		n, done = 0, false
		var status string
		if err := tx.QueryRow("SELECT status FROM sqs_move_tasks WHERE id = ?", t.id).Scan(&status); err != nil || status != taskRunning {
			done = true
			return err
		}
		sk, _ := parseQueueARN(t.source)
		src, err := s.loadQueueInTx(tx, sk)
		if err != nil {
			return err
		}
		if src == nil {
			return errMoveTarget
		}
		if batch > 0 {
			if n, err = s.eng.Redrive(tx, src.Engine, batch, s.moveRoute(tx, src, t.dest)); err != nil {
				return err
			}
		}
		status = taskRunning
		if n < batch || t.movedSoFar+int64(n) >= t.toMove {
			status, done = taskCompleted, true
		}
		_, err = tx.Exec("UPDATE sqs_move_tasks SET moved = moved + ?, status = ? WHERE id = ?", n, status, t.id)
		return err
	})
	if errors.Is(err, errMoveTarget) {
		err = s.st.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec("UPDATE sqs_move_tasks SET status = ?, failure = ? WHERE id = ? AND status = ?",
				taskFailed, failureNonExistentQueue, t.id, taskRunning)
			return err
		})
		return 0, true, err
	}
	return n, done, err
}

// moveRoute sends each message of src to dest, or, without one, back to the queue it was
// first sent to; a queue that no longer exists fails the task.
func (s *Service) moveRoute(tx *store.Tx, src *queueRow, dest string) func(queue.Message) (string, time.Duration, error) {
	found := map[queueKey]*queueRow{}
	lookup := func(k queueKey) (*queueRow, error) {
		if q, ok := found[k]; ok {
			return q, nil
		}
		q, err := s.loadQueueInTx(tx, k)
		if err != nil {
			return nil, err
		}
		if q == nil {
			return nil, errMoveTarget
		}
		found[k] = q
		return q, nil
	}
	return func(m queue.Message) (string, time.Duration, error) {
		k, ok := parseQueueARN(dest)
		if !ok {
			md, err := decodeMeta(m.Meta)
			if err != nil {
				return "", 0, err
			}
			k = queueKey{Account: src.Key.Account, Region: src.Key.Region, Name: md.Origin}
		}
		q, err := lookup(k)
		if err != nil {
			return "", 0, err
		}
		return q.Engine, q.S.Retention, nil
	}
}
