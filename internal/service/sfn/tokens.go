package sfn

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// A task token names one task an execution waits for: an activity's task or a
// .waitForTaskToken callback. The token row outlives the task, so a late SendTask* call is
// told the task is gone (TaskTimedOut) rather than that the token is invalid.
type tokenRow struct {
	Execution string `json:"e"`
	Effect    string `json:"i"`
}

func putToken(tx *store.Tx, token, execution, effect string) error {
	_, err := tx.Exec(`INSERT INTO sfn_tokens (token, execution, effect, doc) VALUES (?, ?, ?, ?) ON CONFLICT (token) DO NOTHING`,
		token, execution, effect, "{}")
	return err
}

// activityTask is the body of a message offering an activity's task to its workers.
type activityTask struct {
	Token string `json:"token"`
	Input string `json:"input"`
}

// activityQueue is the queue of an activity's tasks waiting for a worker.
func activityQueue(arn string) string { return "sfn.activity " + arn }

// activityOf reports whether a Task resource is an activity, and which.
func activityOf(resource string) (string, bool) {
	r, ok := parseARN(resource)
	return resource, ok && r.kind == "activity" && len(r.rest) == 0
}

func (s *Service) offerActivityTask(tx *store.Tx, activity string, t activityTask) error {
	body, _ := json.Marshal(t)
	_, err := s.eng.Send(tx, activityQueue(activity), queue.Outgoing{Body: body})
	return err
}

// maxActivityPoll is how long GetActivityTask waits for a task, as AWS does.
const maxActivityPoll = 60 * time.Second

func (s *Service) getActivityTask(ctx context.Context, in *GetActivityTaskInput) (*GetActivityTaskOutput, error) {
	arn := awsproto.Value(in.ActivityArn)
	if _, err := parseActivityARN(arn); err != nil {
		return nil, err
	}
	a, err := loadActivity(s.reader(ctx), arn)
	if err != nil {
		return nil, wrap("get activity task", err)
	}
	if a == nil {
		return nil, activityNotFound(arn)
	}
	deadline := time.Now().Add(maxActivityPoll)
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return &GetActivityTaskOutput{}, nil
		}
		got, err := s.eng.Receive(ctx, activityQueue(arn), queue.ReceiveOptions{Max: 1, Visibility: time.Minute, Wait: wait})
		if err != nil {
			return nil, wrap("get activity task", err)
		}
		if len(got) == 0 {
			return &GetActivityTaskOutput{}, nil
		}
		if _, err := s.eng.Delete(ctx, activityQueue(arn), got[0].Receipt); err != nil {
			return nil, wrap("get activity task", err)
		}
		var t activityTask
		if err := json.Unmarshal(got[0].Body, &t); err != nil {
			continue
		}
		// A task whose execution ended or moved on meanwhile is not handed out.
		row, ok, err := s.lookupToken(ctx, t.Token)
		if err != nil {
			return nil, wrap("get activity task", err)
		}
		if !ok || !s.stillPending(ctx, row) {
			continue
		}
		worker := awsproto.Value(in.WorkerName)
		err = s.st.Write(ctx, func(tx *store.Tx) error {
			return s.reportTx(tx, row.Execution, row.Effect, func(r *asl.Run) { r.Started(row.Effect, worker) }, false)
		})
		if err != nil {
			return nil, wrap("get activity task", err)
		}
		return &GetActivityTaskOutput{Input: &t.Input, TaskToken: &t.Token}, nil
	}
}

func (s *Service) lookupToken(ctx context.Context, token string) (tokenRow, bool, error) {
	var r tokenRow
	err := s.st.QueryRow(ctx, `SELECT execution, effect FROM sfn_tokens WHERE token = ?`, token).Scan(&r.Execution, &r.Effect)
	if errNoRows(err) {
		return r, false, nil
	}
	return r, err == nil, err
}

func (s *Service) stillPending(ctx context.Context, row tokenRow) bool {
	l, err := s.loadLive(s.reader(ctx), row.Execution)
	return err == nil && l != nil && l.ex.Status == statusRunning && l.pending[row.Effect] != nil
}

// byToken settles the task a token names with apply, or answers why it cannot.
func (s *Service) byToken(ctx context.Context, token string, apply func(l *live, tx *store.Tx, id string) error) error {
	row, ok, err := s.lookupToken(ctx, token)
	if err != nil {
		return err
	}
	if !ok {
		return apiError("InvalidToken", "Invalid Token: 'Invalid token'")
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		l, err := s.loadLive(tx.QueryRow, row.Execution)
		if err != nil {
			return err
		}
		if l == nil || l.ex.Status != statusRunning || l.pending[row.Effect] == nil {
			return apiError("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
		}
		return apply(l, tx, row.Effect)
	})
}

func (s *Service) sendTaskSuccess(ctx context.Context, in *SendTaskSuccessInput) (*SendTaskSuccessOutput, error) {
	output := awsproto.Value(in.Output)
	if !json.Valid([]byte(output)) {
		return nil, apiError("InvalidOutput", "Invalid Output: '%s'", output)
	}
	err := s.byToken(ctx, awsproto.Value(in.TaskToken), func(l *live, tx *store.Tx, id string) error {
		return s.settleLive(tx, l, id, func(r *asl.Run) { r.Complete(id, []byte(output)) })
	})
	if err != nil {
		return nil, wrap("send task success", err)
	}
	return &SendTaskSuccessOutput{}, nil
}

func (s *Service) sendTaskFailure(ctx context.Context, in *SendTaskFailureInput) (*SendTaskFailureOutput, error) {
	err := s.byToken(ctx, awsproto.Value(in.TaskToken), func(l *live, tx *store.Tx, id string) error {
		return s.settleLive(tx, l, id, func(r *asl.Run) { r.Fail(id, awsproto.Value(in.Error), awsproto.Value(in.Cause)) })
	})
	if err != nil {
		return nil, wrap("send task failure", err)
	}
	return &SendTaskFailureOutput{}, nil
}

func (s *Service) sendTaskHeartbeat(ctx context.Context, in *SendTaskHeartbeatInput) (*SendTaskHeartbeatOutput, error) {
	err := s.byToken(ctx, awsproto.Value(in.TaskToken), func(l *live, tx *store.Tx, id string) error {
		p := l.pending[id]
		if p.Task == nil || p.Task.HeartbeatSeconds <= 0 {
			return nil
		}
		p.Heartbeat++
		if err := s.sendTimer(tx, effectMsg{Execution: l.ex.ARN, Effect: id, Kind: timerHeartbeat, Seq: p.Heartbeat},
			s.now().Add(time.Duration(p.Task.HeartbeatSeconds)*time.Second)); err != nil {
			return err
		}
		return s.putLive(tx, l)
	})
	if err != nil {
		return nil, wrap("send task heartbeat", err)
	}
	return &SendTaskHeartbeatOutput{}, nil
}

// taskResult is how a task ended: its output, or an error name and cause; wait when its
// result comes later through its task token or a nested execution.
type taskResult struct {
	output         []byte
	errName, cause string
	wait           bool
	// submitted is the answer of the request a .sync or .waitForTaskToken task made, which
	// then waits (TaskSubmitted); submitFailed marks that request's refusal (TaskSubmitFailed).
	submitted    []byte
	submitFailed bool
}

func (r taskResult) apply(id string) func(*asl.Run) {
	if r.submitFailed {
		return func(run *asl.Run) { run.FailToSubmit(id, r.errName, r.cause) }
	}
	if r.errName != "" {
		return func(run *asl.Run) { run.Fail(id, r.errName, r.cause) }
	}
	return func(run *asl.Run) { run.Complete(id, r.output) }
}

func failed(name, format string, args ...any) taskResult {
	return taskResult{errName: name, cause: fmt.Sprintf(format, args...)}
}
