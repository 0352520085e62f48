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
