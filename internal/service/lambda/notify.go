package lambda

import (
	"context"
	"errors"

	"github.com/kiri-run/kiri/internal/awsproto"
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

// DeliverEvent invokes the function an ARN names asynchronously with an event from an AWS
// service, as the service does. When the function's policy no longer lets the service invoke
// it, the event is dropped, as the service's own invocation would fail. An empty sourceARN
// skips the check (events queued before sources were recorded).
func (s *Service) DeliverEvent(ctx context.Context, arn, principal, sourceARN, sourceAccount string, event []byte) error {
	if sourceARN != "" {
		ok, err := s.InvokableBy(ctx, arn, principal, sourceARN, sourceAccount)
		if err != nil {
			return err
		}
		if !ok {
			s.log.Warn("event dropped: the function is gone or its resource policy does not let the source invoke it",
				"function", arn, "principal", principal, "source", sourceARN)
			return nil
		}
	}
	return s.invokeARNAsync(ctx, arn, event)
}
