package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/service"
)

// templated are the services whose templated targets Scheduler delivers to, through the target
// registry's Kinds.
var templated = map[string]bool{"sqs": true, "sns": true, "lambda": true, "events": true, "states": true}

// roleChecker decides whether a service may assume a role (implemented by STS).
type roleChecker interface {
	CheckServiceRole(ctx context.Context, service, account, roleARN string) error
}

// checkTarget validates a schedule's target and returns it with Scheduler's defaults.
func (s *Service) checkTarget(ctx context.Context, sc scope, in *Target) (*Target, error) {
	t := *in
	arn := awsproto.Value(t.Arn)
	if strings.HasPrefix(arn, universalPrefix) {
		switch {
		case t.Input == nil:
			return nil, validation("Input is required for a universal target.")
		case t.SqsParameters != nil || t.EventBridgeParameters != nil || t.EcsParameters != nil || t.KinesisParameters != nil ||
			t.SageMakerPipelineParameters != nil:
			return nil, validation("A universal target takes its request from Input, not from target parameters.")
		}
		call, err := universalCall(arn, sampleInput(*t.Input), sc.region)
		if err != nil {
			return nil, validation("%s", err.Error())
		}
		if strings.HasSuffix(call.Target, ".fifo") && call.Group == "" {
			return nil, validation("MessageGroupId is required to send to an Amazon SQS FIFO queue.")
		}
		return s.checkTargetCommon(ctx, sc, &t, call.Target)
	}
	svc := dispatch.ARNService(arn)
	switch {
	case t.EcsParameters != nil:
		return nil, validation("EcsParameters are not supported by this server: Amazon ECS targets are not available.")
	case t.KinesisParameters != nil:
		return nil, validation("KinesisParameters are not supported by this server: Amazon Kinesis targets are not available.")
	case t.SageMakerPipelineParameters != nil:
		return nil, validation("SageMakerPipelineParameters are not supported by this server: SageMaker targets are not available.")
	case svc == "":
		return nil, validation("Provided target %s is not a valid ARN.", arn)
	case !templated[svc] || s.targets == nil || !s.targets.Delivers(arn):
		return nil, validation("Target %s is not supported by this server.", arn)
	case t.SqsParameters != nil && svc != "sqs":
		return nil, validation("SqsParameters can only be specified for an Amazon SQS target.")
	case t.EventBridgeParameters != nil && svc != "events":
		return nil, validation("EventBridgeParameters can only be specified for an EventBridge target.")
	case svc == "events" && t.EventBridgeParameters == nil:
		return nil, validation("EventBridgeParameters are required for an EventBridge target.")
	}
	fifo := svc == "sqs" && strings.HasSuffix(arn, ".fifo")
	group := t.SqsParameters != nil && t.SqsParameters.MessageGroupId != nil
	if fifo && !group {
		return nil, validation("MessageGroupId is required for an Amazon SQS FIFO queue target.")
	}
	if !fifo && group {
		return nil, validation("MessageGroupId can only be specified for an Amazon SQS FIFO queue target.")
	}
	if svc == "events" && t.Input != nil && !isJSONObject(sampleInput(*t.Input)) {
		return nil, validation("Input must be a JSON object for an EventBridge target: it becomes the event's detail.")
	}
	return s.checkTargetCommon(ctx, sc, &t, arn)
}

// checkTargetCommon checks what every target has (its role, where it delivers to, its
// dead-letter queue) and fills in the default retry policy.
func (s *Service) checkTargetCommon(ctx context.Context, sc scope, t *Target, deliverTo string) (*Target, error) {
	if err := s.checkRole(ctx, sc, awsproto.Value(t.RoleArn)); err != nil {
		return nil, err
	}
	if err := s.checkDelivers(ctx, deliverTo); err != nil {
		return nil, err
	}
	if t.DeadLetterConfig != nil {
		if err := s.checkDelivers(ctx, awsproto.Value(t.DeadLetterConfig.Arn)); err != nil {
			return nil, err
		}
	}
	rp := RetryPolicy{MaximumRetryAttempts: awsproto.Ptr(int32(defaultRetryAttempts)), MaximumEventAgeInSeconds: awsproto.Ptr(int32(defaultEventAge))}
	if t.RetryPolicy != nil {
		if t.RetryPolicy.MaximumRetryAttempts != nil {
			rp.MaximumRetryAttempts = t.RetryPolicy.MaximumRetryAttempts
		}
		if t.RetryPolicy.MaximumEventAgeInSeconds != nil {
			rp.MaximumEventAgeInSeconds = t.RetryPolicy.MaximumEventAgeInSeconds
		}
	}
	t.RetryPolicy = &rp
	return t, nil
}

// checkDelivers asks the target registry about a target. Like Scheduler, it accepts a target
// that does not exist (yet) or does not let the role in: invocations then fail into the
// dead-letter queue. Only a target whose service Kiri does not deliver to is refused.
func (s *Service) checkDelivers(ctx context.Context, arn string) error {
	if !s.targets.Delivers(arn) {
		return validation("Target %s is not supported by this server.", arn)
	}
	err := s.targets.Check(ctx, arn, dispatch.Source{Principal: principal})
	if err == nil || errors.Is(err, dispatch.ErrNoTarget) || errors.Is(err, dispatch.ErrTargetDenied) {
		return nil
	}
	return err
}

// checkRole refuses, when IAM is enforced, an execution role that does not exist or does not
// trust Scheduler.
func (s *Service) checkRole(ctx context.Context, sc scope, role string) error {
	if !s.enforcing() {
		return nil
	}
	sts, ok := service.Lookup[roleChecker](s.services, "sts")
	if !ok {
		return errors.New("STS is not running")
	}
	if err := sts.CheckServiceRole(ctx, principal, sc.account, role); err != nil {
		return validation("The execution role you provide must allow AWS EventBridge Scheduler to assume the role.")
	}
	return nil
}

// sampleInput is an input template with sample context attributes, to validate what it becomes.
func sampleInput(input string) string {
	return strings.NewReplacer("<aws.scheduler.attempt-number>", "1", "<aws.scheduler.schedule-arn>", "arn",
		"<aws.scheduler.scheduled-time>", "time", "<aws.scheduler.execution-id>", "id").Replace(input)
}

func isJSONObject(s string) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &m) == nil
}
