package pipes

import (
	"context"
	"errors"

	"github.com/kiri-run/kiri/internal/apidest"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/service"
)

// functions invokes Lambda functions synchronously as a pipe's role (implemented by the Lambda
// service): the enrichment, and REQUEST_RESPONSE targets. It returns the function's response
// and its FunctionError ("" when it succeeded).
type functions interface {
	InvokeAsRole(ctx context.Context, arn, principal, roleARN string, payload []byte) ([]byte, string, error)
}

// lazyFunctions invokes through the Lambda service, found when a function is invoked.
type lazyFunctions struct{ services *service.Directory }

func (l lazyFunctions) InvokeAsRole(ctx context.Context, arn, principal, roleARN string, payload []byte) ([]byte, string, error) {
	f, ok := service.Lookup[functions](l.services, "lambda")
	if !ok {
		return nil, "", errors.New("Lambda is not running")
	}
	return f.InvokeAsRole(ctx, arn, principal, roleARN, payload)
}

// destinations calls EventBridge API destinations as a pipe (implemented by the events
// service): the enrichment's answer, or a target's. (The target registry checks them, as it
// checks other targets.)
type destinations interface {
	InvokeAPIDestination(ctx context.Context, arn string, src dispatch.Source, p *apidest.HTTPParameters, payload []byte) ([]byte, error)
}

// lazyDestinations calls through the events service, found when a destination is called.
type lazyDestinations struct{ services *service.Directory }

func (l lazyDestinations) InvokeAPIDestination(ctx context.Context, arn string, src dispatch.Source, p *apidest.HTTPParameters, payload []byte) ([]byte, error) {
	d, ok := service.Lookup[destinations](l.services, "events")
	if !ok {
		return nil, errors.New("EventBridge is not running")
	}
	return d.InvokeAPIDestination(ctx, arn, src, p, payload)
}

// stateMachines runs Express state machines synchronously as a pipe's role (implemented by the
// Step Functions service): the enrichment, and REQUEST_RESPONSE targets.
type stateMachines interface {
	// MachineType is STANDARD or EXPRESS, or "" when arn names no state machine.
	MachineType(ctx context.Context, arn string) (string, error)
	// StartSyncAsRole returns the execution's output and, when it did not succeed, its
	// failure ("" when it succeeded).
	StartSyncAsRole(ctx context.Context, arn, roleARN string, input []byte) ([]byte, string, error)
}

// lazyStateMachines runs through the Step Functions service, found when it is needed.
type lazyStateMachines struct{ services *service.Directory }

func (l lazyStateMachines) find() (stateMachines, error) {
	m, ok := service.Lookup[stateMachines](l.services, "stepfunctions")
	if !ok {
		return nil, errors.New("Step Functions is not running")
	}
	return m, nil
}

func (l lazyStateMachines) MachineType(ctx context.Context, arn string) (string, error) {
	m, err := l.find()
	if err != nil {
		return "", err
	}
	return m.MachineType(ctx, arn)
}

func (l lazyStateMachines) StartSyncAsRole(ctx context.Context, arn, roleARN string, input []byte) ([]byte, string, error) {
	m, err := l.find()
	if err != nil {
		return nil, "", err
	}
	return m.StartSyncAsRole(ctx, arn, roleARN, input)
}
