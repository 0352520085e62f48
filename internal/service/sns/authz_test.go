package sns

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
	if err := s.api.Load(); err != nil {
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

// TestDeliveriesNeedTheTopicPolicyOrTheRole drives the topic's dispatch.Kind in enforce mode.
func TestDeliveriesNeedTheTopicPolicyOrTheRole(t *testing.T) {
	t.Parallel()
	const (
		account = "111111111111"
		role    = "arn:aws:iam::111111111111:role/app"
		bucket  = "arn:aws:s3:::photos"
	)
	d := servicetest.Deps(t)
	d.Authz = authz.New(authz.Enforce, func() authz.Identities {
		return roles{role: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*"}]}`}
	}, nil)
	s, err := New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	ctx := awsproto.WithCall(context.Background(), &awsproto.Call{AccountID: account, Region: "us-east-1"})
	out, err := s.createTopic(ctx, &CreateTopicInput{Name: awsproto.Ptr("events")})
	if err != nil {
		t.Fatal(err)
	}
	arn := awsproto.Value(out.TopicArn)
	k := kind{s}
	fromS3 := dispatch.Source{Principal: "s3.amazonaws.com", ARN: bucket, Account: account}
	if err := k.Check(ctx, arn, fromS3); !errors.Is(err, dispatch.ErrTargetDenied) {
		t.Fatalf("S3 under the default topic policy: %v, want ErrTargetDenied", err)
	}
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"SNS:Publish",` +
		`"Resource":"` + arn + `","Condition":{"StringEquals":{"aws:SourceAccount":"` + account + `"}}}]}`
	if _, err := s.setTopicAttributes(ctx, &SetTopicAttributesInput{TopicArn: out.TopicArn, AttributeName: awsproto.Ptr("Policy"), AttributeValue: &grant}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		src     dispatch.Source
		allowed bool
	}{
		{"S3 for a bucket of the granted account", fromS3, true},
		{"S3 for another account's bucket", dispatch.Source{Principal: "s3.amazonaws.com", ARN: bucket, Account: "222222222222"}, false},
		{"a function whose role may publish", dispatch.Source{Principal: "lambda.amazonaws.com", Account: account, Role: role}, true},
		{"a function whose role has no policy", dispatch.Source{Principal: "lambda.amazonaws.com", Account: account, Role: "arn:aws:iam::111111111111:role/none"}, false},
	} {
		err := k.Check(ctx, arn, c.src)
		if denied := errors.Is(err, dispatch.ErrTargetDenied); denied == c.allowed || (!denied && err != nil) {
			t.Errorf("%s: %v, want allowed = %v", c.name, err, c.allowed)
		}
	}
}
