package pipes

import (
	"context"
	"errors"

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
