package sts

import (
	"context"
	"testing"

	"github.com/kiri-run/kiri/internal/service/servicetest"
)

// TestHandlersFitModel loads the STS model and binds every handler, as the first request would:
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
