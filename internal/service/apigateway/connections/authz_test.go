package connections

import (
	"context"
	"testing"

	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

func TestEveryOperationHasAnAuthorizationRule(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	svc, err := New(context.Background(), servicetest.DepsOn(t, st))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.api.Load(); err != nil {
		t.Fatal(err)
	}
	implemented := svc.api.Implemented()
	if len(implemented) == 0 {
		t.Fatal("the service implements no operation")
	}
	if missing := svc.operations().Missing(implemented); len(missing) > 0 {
		t.Fatalf("operations without an authorization rule (refused in enforce mode): %v", missing)
	}
}
