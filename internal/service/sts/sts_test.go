package sts

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// TestHandlersFitModel loads the STS model and binds every handler, as the first request would:
// a handler whose types do not fit its operation fails here rather than in production.
func TestHandlersFitModel(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	svc, err := New(context.Background(), st, dispatch.NewRelay(st, log, ""), log, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.API().Load(); err != nil {
		t.Fatal(err)
	}
}
