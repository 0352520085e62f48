package apigateway

import (
	"testing"

	"github.com/kiri-run/kiri/internal/service/servicetest"
)

func TestEveryRESTOperationHasAnAuthorizationRule(t *testing.T) {
	t.Parallel()
	s, err := NewREST(t.Context(), servicetest.Deps(t))
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
	if missing := restOperations().Missing(implemented); len(missing) > 0 {
		t.Fatalf("operations without an authorization rule (refused in enforce mode): %v", missing)
	}
}
