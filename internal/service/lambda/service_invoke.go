package lambda

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// ErrNotInvokable reports a function a service may not invoke: there is no such function, or
// (with IAM enforced) its resource policy does not let the service invoke it for the source.
var ErrNotInvokable = errors.New("function not found or not invokable by the service")

// InvokeForService runs the function arn names synchronously for an AWS service principal
// (API Gateway's proxy integrations) acting for the resource sourceARN of sourceAccount, and
// returns the function's response and its FunctionError ("" when it succeeded). With IAM
// enforced the function's resource policy must let principal invoke it for sourceARN, as
// AddPermission grants. ctx's deadline bounds the invocation.
func (s *Service) InvokeForService(ctx context.Context, arn, principal, sourceARN, sourceAccount string, payload []byte) ([]byte, string, error) {
	_, t, err := s.resolveForService(ctx, arn)
	if err != nil {
		return nil, "", err
	}
	if s.deps.Authz.Mode() == authz.Enforce {
		ok, err := s.InvokableBy(ctx, arn, principal, sourceARN, sourceAccount)
		if err != nil {
			return nil, "", err
		}
		if !ok {
			return nil, "", ErrNotInvokable
		}
	}
	return s.invokeResolved(ctx, t, payload)
}

// InvokeAsRole runs the function arn names synchronously for an AWS service principal acting
// as the IAM role roleARN (API Gateway's authorizers with AuthorizerCredentialsArn, EventBridge
// Pipes' enrichments and targets), and returns the function's response and its FunctionError
// ("" when it succeeded). Whether the role may invoke is the delivery rule of the function's
// target kind: with IAM enforced the role must be allowed lambda:InvokeFunction on the function
// (its identity-based policies, and the function's policy across accounts); otherwise the
// function must be of the role's account.
func (s *Service) InvokeAsRole(ctx context.Context, arn, principal, roleARN string, payload []byte) ([]byte, string, error) {
	_, t, err := s.resolveForService(ctx, arn)
	if err != nil {
		return nil, "", err
	}
	err = kind{s}.Check(ctx, arn, dispatch.Source{Principal: principal, Account: roleAccount(roleARN), Role: roleARN})
	if errors.Is(err, dispatch.ErrTargetDenied) {
		return nil, "", fmt.Errorf("%w: %w", ErrNotInvokable, err)
	}
	if err != nil {
		return nil, "", err
	}
	return s.invokeResolved(ctx, t, payload)
}

// roleAccount is the account of a role ARN.
func roleAccount(roleARN string) string {
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}

// resolveForService finds the function arn names for a service's invocation; ErrNotInvokable
// when there is none.
func (s *Service) resolveForService(ctx context.Context, arn string) (funcRef, *target, error) {
	r, ok := parseFunctionName(arn)
	if !ok || r.account == "" {
		return r, nil, ErrNotInvokable
	}
	t, err := s.resolve(ctx, r.account, r.region, arn, "")
	var apiErr *awsproto.Error
	if errors.As(err, &apiErr) {
		return r, nil, fmt.Errorf("%w: %s", ErrNotInvokable, apiErr.Message)
	}
	return r, t, err
}

// invokeResolved runs a resolved function synchronously with payload.
func (s *Service) invokeResolved(ctx context.Context, t *target, payload []byte) ([]byte, string, error) {
	if t.state == statePending {
		return nil, "", errors.New("the function is pending")
	}
	inv := &invocation{t: t, payload: payload, requestID: newRequestID(), traceID: traceHeader(ctx)}
	res, err := s.run(ctx, inv, nil)
	if err != nil {
		return nil, "", err
	}
	return res.Payload, res.FunctionError, nil
}
