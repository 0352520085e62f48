package lambda

import (
	"context"
	"errors"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// InvokableBy reports whether a function ARN names a function whose resource policy lets an
// AWS service principal (such as s3.amazonaws.com) invoke it on behalf of the resource
// sourceARN owned by sourceAccount: the aws:SourceArn and aws:SourceAccount conditions of
// AddPermission, evaluated by the policy engine. S3 requires this before it accepts a function
// as a notification destination.
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
	p, err := s.functionPolicy(ctx, r)
	if err != nil || p == nil {
		return false, err
	}
	return serviceMayInvoke(p, policyRef(r), principal, sourceARN, sourceAccount, s.now()), nil
}

// serviceMayInvoke reports whether the function policy p of the function r names lets a
// service principal invoke it for the resource sourceARN of sourceAccount. Conditions a
// service's call cannot meet (an event source token, an organization, a function URL) rule
// their statement out.
func serviceMayInvoke(p *policy.Policy, r funcRef, principal, sourceARN, sourceAccount string, now time.Time) bool {
	req := policy.Request{Principal: policy.Principal{Type: policy.Service, ARN: principal}, Action: "lambda:InvokeFunction",
		Resource: r.arn(), ResourceAccount: r.account, SourceARN: sourceARN, SourceAccount: sourceAccount, Time: now}
	return policy.Evaluate(&req, &policy.Set{Resource: p}).Allowed
}

// kind receives the target registry's deliveries to function ARNs: S3 notifications, SNS
// messages, the destinations of other functions' asynchronous invocations.
type kind struct{ s *Service }

// lambdaPrincipal is the principal of Lambda's own deliveries (destinations), made with the
// function's execution role rather than through the target's resource policy.
const lambdaPrincipal = "lambda.amazonaws.com"

// Check reports whether the function exists and src may invoke it: its resource policy must let
// src's service principal invoke it for src's resource, as AddPermission grants; deliveries made
// as a role (Lambda's own with the execution role, a schedule's with its execution role) act
// with that role, which in enforce mode needs lambda:InvokeFunction on the function (and
// otherwise may invoke functions of its account).
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
	if k.s.deps.Authz.Mode() == authz.Enforce {
		r = policyRef(r)
		p, err := k.s.functionPolicy(ctx, r)
		if err != nil {
			return err
		}
		return dispatch.Authorize(ctx, k.s.deps.Authz, src, authz.Request{
			Action: "lambda:InvokeFunction", Resource: r.arn(), ResourceAccount: r.account, ResourcePolicy: p})
	}
	// Deliveries made as a role of the function's account (Lambda's destinations, schedules'
	// execution roles) need no resource policy; IAM off lets the role invoke.
	if (src.Principal == lambdaPrincipal || src.Role != "") && src.Account == r.account {
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
