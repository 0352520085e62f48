package logs

import (
	"testing"
)

func TestEveryOperationHasAnAuthorizationRule(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{idle: true})
	if err := h.svc.api.Load(); err != nil {
		t.Fatal(err)
	}
	implemented := h.svc.api.Implemented()
	if len(implemented) == 0 {
		t.Fatal("the service implements no operation")
	}
	if missing := h.svc.operations().Missing(implemented); len(missing) > 0 {
		t.Fatalf("operations without an authorization rule (refused in enforce mode): %v", missing)
	}
}
