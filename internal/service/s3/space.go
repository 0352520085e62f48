package s3

import (
	"context"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/reserve"
)

// withinSpace runs an operation under the data directory's disk reserve: on a full disk,
// operations that store data are refused with errStorageFull while deletes go on (using the
// reserve if they must), so space can always be freed through the API.
func (s *Service) withinSpace(ctx context.Context, op string, next func(context.Context) error) error {
	return s.deps.Reserve.Run(ctx, spaceKind(op), next, errStorageFull)
}

// spaceKind sorts S3's operations by what they do to disk usage.
func spaceKind(op string) reserve.Kind {
	switch {
	case strings.HasPrefix(op, "Get"), strings.HasPrefix(op, "Head"), strings.HasPrefix(op, "List"):
		return reserve.Reads
	case strings.HasPrefix(op, "Delete"), strings.HasPrefix(op, "Abort"):
		return reserve.Frees
	}
	return reserve.Adds
}

// errStorageFull answers a write that found the disk full. AWS S3 never runs out of space, so
// it documents no error for it; 503 ServiceUnavailable is the nearest it does document: the
// service cannot take the request now, the request was not at fault, and SDKs retry it with
// backoff (and give up with this error while the disk stays full).
func errStorageFull() error {
	return awsproto.Errorf("ServiceUnavailable", http.StatusServiceUnavailable,
		"Kiri's data directory is out of disk space. Delete objects to free space; writes resume once there is room.")
}
