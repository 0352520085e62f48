package sfn

import (
	"context"
	"testing"

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
	if len(implemented) < 20 {
		t.Fatalf("the service implements %d operations", len(implemented))
	}
	if missing := s.operations().Missing(implemented); len(missing) > 0 {
		t.Fatalf("operations without an authorization rule (refused in enforce mode): %v", missing)
	}
}
