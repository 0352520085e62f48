package lambda

import (
	"context"
	"errors"
	"testing"

	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

func TestEveryOperationHasAnAuthorizationRule(t *testing.T) {
	t.Parallel()
	s, _ := testService(t)
	implemented := s.api.Implemented()
	if len(implemented) == 0 {
		t.Fatal("the service implements no operation")
	}
	if missing := s.operations().Missing(implemented); len(missing) > 0 {
		t.Fatalf("operations without an authorization rule (refused in enforce mode): %v", missing)
	}
}

// roles attaches one identity-based policy to each role it names, by ARN, as IAM will.
type roles map[string]string

func (r roles) IdentityPolicies(_ context.Context, p policy.Principal) ([]*policy.Policy, *policy.Policy, error) {
	doc, ok := r[p.Parent]
	if !ok {
		return nil, nil, nil
	}
	pol, err := policy.Parse(doc, policy.Identity)
	return []*policy.Policy{pol}, nil, err
}

const testRole = "arn:aws:iam::000000000000:role/r"

// TestMappingNeedsTheRoleToReadTheQueue checks CreateEventSourceMapping in enforce mode: the
// function's execution role must be allowed each action Lambda's pollers call on the queue.
func TestMappingNeedsTheRoleToReadTheQueue(t *testing.T) {
	for _, c := range []struct {
		name, policy, refusal string
	}{
		{"a role that may read the queue", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"` + testQueue + `"}]}`, ""},
		{"a role that may not delete", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Action":["sqs:ReceiveMessage","sqs:GetQueueAttributes"],"Resource":"*"}]}`,
			"The provided execution role does not have permissions to call DeleteMessage on SQS"},
		{"a role without policies", "", "The provided execution role does not have permissions to call ReceiveMessage on SQS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ctx, _, _ := mappingService(t)
			ids := roles{}
			if c.policy != "" {
				ids[testRole] = c.policy
			}
			s.deps.Authz = authz.New(authz.Enforce, func() authz.Identities { return ids }, nil)
			_, err := s.createEventSourceMapping(ctx, &CreateEventSourceMappingRequest{FunctionName: ptr("f"), EventSourceArn: ptr(testQueue)})
			if c.refusal == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, "InvalidParameterValueException", c.refusal)
		})
	}
}

// TestDestinationsActAsTheExecutionRole checks the function Kind in enforce mode: another
// function's destination delivery needs its role's lambda:InvokeFunction, a service
// principal the function policy's grant.
func TestDestinationsActAsTheExecutionRole(t *testing.T) {
	s, ctx, _, _ := mappingService(t)
	const caller = "arn:aws:iam::000000000000:role/caller"
	s.deps.Authz = authz.New(authz.Enforce, func() authz.Identities {
		return roles{caller: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:f"}]}`}
	}, nil)
	arn := "arn:aws:lambda:us-east-1:000000000000:function:f"
	for _, c := range []struct {
		name    string
		src     dispatch.Source
		allowed bool
	}{
		{"a role allowed to invoke it", dispatch.Source{Principal: lambdaPrincipal, Account: "000000000000", Role: caller}, true},
		{"a role without that permission", dispatch.Source{Principal: lambdaPrincipal, Account: "000000000000", Role: testRole}, false},
		{"S3 without the function policy's grant", dispatch.Source{Principal: "s3.amazonaws.com", ARN: "arn:aws:s3:::b", Account: "000000000000"}, false},
	} {
		err := kind{s}.Check(ctx, arn, c.src)
		if denied := errors.Is(err, dispatch.ErrTargetDenied); denied == c.allowed || (!denied && err != nil) {
			t.Errorf("%s: %v, want allowed = %v", c.name, err, c.allowed)
		}
	}
}
