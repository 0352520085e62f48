package sqs

import (
	"context"
	"errors"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/service/servicetest"
)

func TestEveryOperationHasAnAuthorizationRule(t *testing.T) {
	t.Parallel()
	s, err := New(context.Background(), servicetest.Deps(t))
	if err != nil {
		t.Fatal(err)
	}
	implemented := s.api.Implemented()
	if len(implemented) == 0 {
		t.Fatal("the service implements no operation")
	}
	if missing := s.operations().Missing(implemented); len(missing) > 0 {
		t.Fatalf("operations without an authorization rule (refused in enforce mode): %v", missing)
	}
}

// roles attaches identity-based policies to roles by ARN, as IAM will.
type roles map[string]string

func (r roles) IdentityPolicies(_ context.Context, p policy.Principal) ([]*policy.Policy, *policy.Policy, error) {
	doc, ok := r[p.Parent]
	if !ok {
		return nil, nil, nil
	}
	pol, err := policy.Parse(doc, policy.Identity)
	return []*policy.Policy{pol}, nil, err
}

// TestDeliveriesNeedTheQueuePolicyOrTheRole drives the queue's dispatch.Kind in enforce mode:
// a service principal needs the queue policy's grant for its source, a delivery made with a
// function's role needs the role's permission.
func TestDeliveriesNeedTheQueuePolicyOrTheRole(t *testing.T) {
	t.Parallel()
	const (
		account = "111111111111"
		writer  = "arn:aws:iam::111111111111:role/writer"
		reader  = "arn:aws:iam::111111111111:role/reader"
		bucket  = "arn:aws:s3:::photos"
	)
	d := servicetest.Deps(t)
	d.Authz = authz.New(authz.Enforce, func() authz.Identities {
		return roles{
			writer: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:*:111111111111:*"}]}`,
			reader: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:ReceiveMessage","Resource":"*"}]}`,
		}
	}, nil)
	s, err := New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	ctx := awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: account, Region: "us-east-1"})
	out, err := s.createQueue(ctx, &CreateQueueRequest{QueueName: awsproto.Ptr("inbox")})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:sqs:us-east-1:111111111111:inbox"
	k := kind{s}
	fromS3 := dispatch.Source{Principal: "s3.amazonaws.com", ARN: bucket, Account: account}
	if err := k.Check(ctx, arn, fromS3); !errors.Is(err, dispatch.ErrTargetDenied) {
		t.Fatalf("S3 without the queue policy's grant: %v, want ErrTargetDenied", err)
	}
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sqs:SendMessage",` +
		`"Resource":"` + arn + `","Condition":{"ArnLike":{"aws:SourceArn":"` + bucket + `"}}}]}`
	if _, err := s.setQueueAttributes(ctx, &SetQueueAttributesRequest{QueueUrl: out.QueueUrl, Attributes: map[string]string{"Policy": grant}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		src     dispatch.Source
		allowed bool
	}{
		{"S3 for the granted bucket", fromS3, true},
		{"S3 for another bucket", dispatch.Source{Principal: "s3.amazonaws.com", ARN: "arn:aws:s3:::other", Account: account}, false},
		{"SNS, which the policy does not name", dispatch.Source{Principal: "sns.amazonaws.com", ARN: "arn:aws:sns:us-east-1:111111111111:t", Account: account}, false},
		{"a function whose role may send", dispatch.Source{Principal: "lambda.amazonaws.com", Account: account, Role: writer}, true},
		{"a function whose role may only receive", dispatch.Source{Principal: "lambda.amazonaws.com", Account: account, Role: reader}, false},
		{"a function whose role IAM does not know", dispatch.Source{Principal: "lambda.amazonaws.com", Account: account, Role: "arn:aws:iam::111111111111:role/none"}, false},
	} {
		err := k.Check(ctx, arn, c.src)
		if denied := errors.Is(err, dispatch.ErrTargetDenied); denied == c.allowed || (!denied && err != nil) {
			t.Errorf("%s: %v, want allowed = %v", c.name, err, c.allowed)
		}
	}
}
