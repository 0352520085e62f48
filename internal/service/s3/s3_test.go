package s3

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// TestHandlersFitModel loads the S3 model and binds every handler, as the first request would:
// a handler whose types do not fit its operation fails here rather than in production.
func TestHandlersFitModel(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	blobs, err := blob.OpenFS(filepath.Join(t.TempDir(), "blobs"), blob.FSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(context.Background(), Deps{Store: st, Blobs: blobs, Relay: dispatch.NewRelay(st, log, ""), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.API().Load(); err != nil {
		t.Fatal(err)
	}
}
