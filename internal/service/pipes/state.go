package pipes

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// topicSettle queues the messages that finish pipe transitions.
const topicSettle = "pipes.settle"

// invalidPrefix opens the StateReason of a pipe that failed to create, update or start, as
// Pipes words it.
const invalidPrefix = "Input parameter is invalid from the request due to : "

// workerName is the engine worker name of a pipe's poller.
func workerName(p *pipe) string { return "pipes.pipe." + p.Account + "/" + p.Region + "/" + p.Name }

// consumer is the pipe's name in the stream log's checkpoint table.
func consumer(p *pipe) string { return "pipes." + p.arn() }

// settle finishes a pipe's transition: it checks what the pipe needs, starts or stops its
// poller and records the state reached, or removes a deleted pipe. Redelivered after a crash,
// it does the same again.
func (s *Service) settle(ctx context.Context, m queue.Message) error {
	parts := strings.SplitN(string(m.Body), "/", 3)
	if len(parts) != 3 {
		return queue.Permanent(fmt.Errorf("settle pipe: bad key %q", m.Body))
	}
	p, err := loadPipe(s.reader(ctx), parts[0], parts[1], parts[2])
	if err != nil || p == nil {
		return err
	}
	switch {
	case p.CurrentState == stateDeleting:
		s.deps.Queue.StopWorker(workerName(p))
		return s.deps.Store.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(`DELETE FROM pipes_pipes WHERE account = ? AND region = ? AND name = ?`, p.Account, p.Region, p.Name); err != nil {
				return err
			}
			return s.records.DropCheckpoints(tx, consumer(p))
		})
	case !p.inTransition():
		return nil
	}
	next, reason := stateStopped, ""
	if p.DesiredState == stateRunning {
		if reason, err = s.ready(ctx, p); err != nil {
			return err
		}
		if reason == "" {
			next = stateRunning
		} else {
			next = failedState(p.CurrentState)
		}
	}
	if next == stateRunning {
		s.startPoller(p)
	} else {
		s.deps.Queue.StopWorker(workerName(p))
	}
	return s.deps.Store.Write(ctx, func(tx *store.Tx) error {
		now, err := loadPipe(tx, p.Account, p.Region, p.Name)
		if err != nil || now == nil || now.CurrentState != p.CurrentState || !now.Modified.Equal(p.Modified) {
			return err // changed meanwhile: its own message settles it
		}
		now.CurrentState, now.StateReason = next, reason
		if reason != "" {
			now.StateReason = invalidPrefix + reason
		}
		return savePipe(tx, now)
	})
}

// failedState is the state a pipe that cannot run reaches from a transition.
func failedState(from string) string {
	switch from {
	case stateCreating:
		return stateCreateFailed
	case stateUpdating:
		return stateUpdateFailed
	}
	return stateStartFailed
}

// resume starts the pollers of running pipes when Kiri starts; pipes in transition are
// settled by their queued messages.
func (s *Service) resume(ctx context.Context) error {
	rows, err := s.deps.Store.Query(ctx, `SELECT account, region, name FROM pipes_pipes`)
	if err != nil {
		return fmt.Errorf("load pipes: %w", err)
	}
	var keys [][3]string
	for rows.Next() {
		var k [3]string
		if err := rows.Scan(&k[0], &k[1], &k[2]); err != nil {
			rows.Close()
			return err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range keys {
		p, err := loadPipe(s.reader(ctx), k[0], k[1], k[2])
		if err != nil {
			return err
		}
		if p != nil && p.CurrentState == stateRunning {
			s.startPoller(p)
		}
	}
	return nil
}

// startPoller runs (or restarts, with its new configuration) a pipe's poller.
func (s *Service) startPoller(p *pipe) {
	r, err := s.newRunner(p)
	if err != nil {
		s.log.Error("pipe not started", "pipe", p.arn(), "err", err)
		return
	}
	if p.stream() {
		s.deps.Queue.StartWorker(workerName(p), r.runStream)
		return
	}
	s.deps.Queue.StartWorker(workerName(p), r.runQueue)
}

// roleChecker checks a role a service assumes (implemented by STS).
type roleChecker interface {
	CheckServiceRole(ctx context.Context, svc, account, roleARN string) error
}

// ready reports why p cannot run ("" when it can): its role, source, enrichment, target and
// dead-letter queue must exist, and with IAM enforced the role must trust Pipes and be allowed
// what the pipe does with it. An error is a failure of the check itself.
func (s *Service) ready(ctx context.Context, p *pipe) (string, error) {
	enforce := s.deps.Authz.Mode() == authz.Enforce
	if enforce {
		sts, ok := service.Lookup[roleChecker](s.deps.Services, "sts")
		if !ok || sts.CheckServiceRole(ctx, pipesPrincipal, p.Account, p.RoleArn) != nil {
			return "Pipes cannot assume the role " + p.RoleArn + ".", nil
		}
	}
	if why, err := s.sourceReady(ctx, p, enforce); why != "" || err != nil {
		return why, err
	}
	check := func(arn, what string) (string, error) {
		if runsSync(p, arn) {
			return s.machineReady(ctx, p, arn, what, enforce)
		}
		err := s.deps.Targets.Check(ctx, arn, p.source())
		switch {
		case errors.Is(err, dispatch.ErrNoTarget):
			return fmt.Sprintf("The provided %s %s does not exist.", what, arn), nil
		case errors.Is(err, dispatch.ErrTargetDenied):
			return fmt.Sprintf("The provided customer role does not have permissions to deliver to the %s %s.", what, arn), nil
		}
		return "", err
	}
	if p.Enrichment != "" {
		if why, err := check(p.Enrichment, "enrichment"); why != "" || err != nil {
			return why, err
		}
	}
	if dl := deadLetter(p); dl != "" {
		if why, err := check(dl, "dead-letter queue"); why != "" || err != nil {
			return why, err
		}
	}
	return check(p.Target, "target")
}

// runsSync reports whether the pipe runs the state machine arn names synchronously: its
// enrichment, or its REQUEST_RESPONSE target.
func runsSync(p *pipe, arn string) bool {
	if dispatch.ARNService(arn) != "states" {
		return false
	}
	if arn == p.Enrichment {
		return true
	}
	sp := p.TargetParameters.StepFunctionStateMachineParameters
	return arn == p.Target && sp != nil && awsproto.Value(sp.InvocationType) == invokeSync
}

// machineReady reports why the pipe cannot run the state machine arn synchronously ("" when it
// can): it must exist, and with IAM enforced the role must be allowed
// states:StartSyncExecution on it (else it must be of the pipe's account).
func (s *Service) machineReady(ctx context.Context, p *pipe, arn, what string, enforce bool) (string, error) {
	typ, err := s.machines.MachineType(ctx, arn)
	if err != nil {
		return "", err
	}
	if typ == "" {
		return fmt.Sprintf("The provided %s %s does not exist.", what, arn), nil
	}
	if !enforce {
		if arnField(arn, 4) != p.Account {
			return fmt.Sprintf("The provided customer role does not have permissions to deliver to the %s %s.", what, arn), nil
		}
		return "", nil
	}
	err = s.deps.Authz.AuthorizeRole(ctx, p.RoleArn, "", authz.Request{Action: "states:StartSyncExecution", Resource: arn})
	if _, denied := authz.IsDenied(err); denied {
		return fmt.Sprintf("The provided customer role does not have permissions to deliver to the %s %s.", what, arn), nil
	}
	return "", err
}

// deadLetter is the dead-letter destination of a stream pipe ("" for none).
func deadLetter(p *pipe) string {
	if sp := p.SourceParameters; sp != nil && sp.DynamoDBStreamParameters != nil && sp.DynamoDBStreamParameters.DeadLetterConfig != nil {
		return awsproto.Value(sp.DynamoDBStreamParameters.DeadLetterConfig.Arn)
	}
	return ""
}

// sourceReady reports why the pipe cannot read its source ("" when it can).
func (s *Service) sourceReady(ctx context.Context, p *pipe, enforce bool) (string, error) {
	if arnField(p.Source, 3) != p.Region || arnField(p.Source, 4) != p.Account {
		return "Kiri's pipes read sources of their own account and region.", nil
	}
	if p.stream() {
		st, ok, err := s.records.Stream(ctx, p.Source)
		if err != nil {
			return "", err
		}
		if !ok || st.Status != "ENABLED" {
			return "Stream not found: " + p.Source, nil
		}
		if enforce {
			for _, action := range []string{"DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"} {
				err := s.deps.Authz.AuthorizeRole(ctx, p.RoleArn, "", authz.Request{Action: "dynamodb:" + action, Resource: p.Source, ResourceAccount: p.Account})
				if _, denied := authz.IsDenied(err); denied {
					return "The provided customer role does not have permissions to call " + action + " on DynamoDB streams", nil
				}
				if err != nil {
					return "", err
				}
			}
		}
		return "", nil
	}
	_, _, ok, err := s.queues.PollQueue(ctx, p.Source)
	if err != nil {
		return "", err
	}
	if !ok {
		return "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist.", nil
	}
	if enforce {
		pol, err := s.queues.QueuePolicy(ctx, p.Source)
		if err != nil {
			return "", err
		}
		for _, action := range []string{"ReceiveMessage", "DeleteMessage", "GetQueueAttributes"} {
			err := s.deps.Authz.AuthorizeRole(ctx, p.RoleArn, "", authz.Request{Action: "sqs:" + action, Resource: p.Source, ResourceAccount: p.Account, ResourcePolicy: pol})
			if _, denied := authz.IsDenied(err); denied {
				return "The provided customer role does not have permissions to call " + action + " on SQS", nil
			}
			if err != nil {
				return "", err
			}
		}
	}
	return "", nil
}
