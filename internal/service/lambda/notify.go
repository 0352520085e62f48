package lambda

import (
	"context"
	"errors"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/wildcard"
)

// InvokableBy reports whether a function ARN names a function whose resource policy lets an
// AWS service principal (such as s3.amazonaws.com) invoke it on behalf of the resource
// sourceARN owned by sourceAccount: the aws:SourceArn and aws:SourceAccount conditions of
// AddPermission. S3 requires this before it accepts a function as a notification destination.
func (s *Service) InvokableBy(ctx context.Context, arn, principal, sourceARN, sourceAccount string) (bool, error) {
	r, ok := parseFunctionName(arn)
	if !ok || r.account == "" {
		return false, nil
	}
	_, err := s.resolve(ctx, r.account, r.region, arn, "")
	var apiErr *awsproto.Error
	if errors.As(err, &apiErr) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if r.qualifier == "$LATEST" {
		r.qualifier = "" // the unqualified function's policy
	}
	perms, err := loadPermissions(s.reader(ctx), r)
	if err != nil {
		return false, err
	}
	for _, p := range perms {
		if p.allowsService(principal, sourceARN, sourceAccount) {
			return true, nil
		}
	}
	return false, nil
}

// allowsService reports whether the permission lets a service principal invoke the function
// for the given source. Conditions a service call cannot meet (an event source token, an
// organization, a function URL) rule the permission out.
func (p permission) allowsService(principal, sourceARN, sourceAccount string) bool {
	switch {
	case p.Action != "lambda:InvokeFunction" && p.Action != "lambda:*":
		return false
	case p.Principal != principal && p.Principal != "*":
		return false
	case p.SourceArn != "" && !wildcard.ARNLike(p.SourceArn, sourceARN):
		return false
	case p.SourceAccount != "" && p.SourceAccount != sourceAccount:
		return false
	}
	return p.EventSourceToken == "" && p.PrincipalOrgID == "" && p.FunctionURLAuthType == "" && !p.InvokedViaFunctionURL
}

// kind receives the target registry's deliveries to function ARNs: S3 notifications, SNS
// messages, the destinations of other functions' asynchronous invocations.
type kind struct{ s *Service }

// lambdaPrincipal is the principal of Lambda's own deliveries (destinations), made with the
// function's execution role rather than through the target's resource policy.
const lambdaPrincipal = "lambda.amazonaws.com"

// Check reports whether the function exists and src may invoke it: its resource policy must let
// src's service principal invoke it for src's resource, as AddPermission grants; Lambda's own
// deliveries act with the execution role, which may invoke functions of its account.
func (k kind) Check(ctx context.Context, arn string, src dispatch.Source) error {
	r, ok := parseFunctionName(arn)
	if !ok || r.account == "" {
		return dispatch.ErrNoTarget
	}
	if _, err := k.s.resolve(ctx, r.account, r.region, arn, ""); err != nil {
		var apiErr *awsproto.Error
		if errors.As(err, &apiErr) {
			return dispatch.ErrNoTarget
		}
		return err
	}
	if src.Principal == lambdaPrincipal && src.Account == r.account {
		return nil
	}
	ok, err := k.s.InvokableBy(ctx, arn, src.Principal, src.ARN, src.Account)
	if err != nil {
		return err
	}
	if !ok {
		return dispatch.ErrTargetDenied
	}
	return nil
}

// Deliver accepts an Event invocation of the function with the delivery's payload, once src
// may still invoke it.
func (k kind) Deliver(ctx context.Context, d dispatch.Delivery) error {
	if d.Source.ARN != "" || d.Source.Principal == lambdaPrincipal {
		if err := k.Check(ctx, d.Target, d.Source); err != nil {
			if errors.Is(err, dispatch.ErrTargetDenied) {
				k.s.log.Warn("event not delivered: the function's resource policy does not let the source invoke it",
					"function", d.Target, "principal", d.Source.Principal, "source", d.Source.ARN)
			}
			return err
		}
	}
	return k.s.invokeARNAsync(ctx, d.Target, d.Payload)
}
