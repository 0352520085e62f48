package s3

import (
	"context"
	"io"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// ReadObject opens the current (or named) version of an object for another Kiri service acting
// for account, as Lambda does when it fetches function code from S3. The bucket must belong to
// account; errors are S3's (NoSuchBucket, NoSuchKey, NoSuchVersion, AccessDenied).
func (s *Service) ReadObject(ctx context.Context, account, bucketName, key, versionID string) (io.ReadCloser, int64, error) {
	q := s.reader(ctx)
	b, err := loadBucket(q, bucketName)
	if err != nil {
		return nil, 0, err
	}
	if b.Account != account {
		return nil, 0, awsproto.Errorf("AccessDenied", 403, "Access Denied")
	}
	o, err := loadLiveVersion(q, bucketName, key, versionID, "GET")
	if err != nil {
		return nil, 0, err
	}
	if o.Headers.SSECAlgorithm != "" {
		// Without the customer's key the bytes cannot be read back.
		return nil, 0, awsproto.Errorf("InvalidRequest", 400, "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	}
	rc, err := s.openObjectKey(ctx, o, nil, 0, o.Size)
	if err != nil {
		return nil, 0, err
	}
	return rc, o.Size, nil
}
