package iam

import (
	"context"
	"testing"

	"github.com/kiri-run/kiri/internal/service/servicetest"
)

// TestHandlersFitModel loads the IAM model and binds every handler, as the first request would:
// a handler whose types do not fit its operation fails here rather than in production.
func TestHandlersFitModel(t *testing.T) {
	svc, err := New(context.Background(), servicetest.Deps(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.API().Load(); err != nil {
		t.Fatal(err)
	}
}

// TestAWSManagedPoliciesParse reads every embedded AWS managed policy with the policy engine.
func TestAWSManagedPoliciesParse(t *testing.T) {
	c := awsPolicies()
	if len(c.ordered) < 24 {
		t.Fatalf("%d AWS managed policies, want at least 24", len(c.ordered))
	}
	if _, ok := c.byARN["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]; !ok {
		t.Fatal("AWSLambdaBasicExecutionRole is missing or not under service-role/")
	}
}
