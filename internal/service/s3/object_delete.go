package s3

import (
	"context"
	"errors"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxDeleteObjects is the most keys one DeleteObjects request may name.
const maxDeleteObjects = 1000

func (s *Service) deleteObjects(ctx context.Context, in *DeleteObjectsRequest) (*DeleteObjectsOutput, error) {
	bucketName := awsproto.Value(in.Bucket)
	if _, err := loadBucket(s.reader(ctx), bucketName); err != nil {
		return nil, err
	}
	if !hasIntegrityHeader(ctx) {
		return nil, awsproto.Errorf("InvalidRequest", 400, "Missing required header for this request: Content-MD5")
	}
	if in.Delete == nil || len(in.Delete.Objects) == 0 || len(in.Delete.Objects) > maxDeleteObjects {
		return nil, errMalformedXML()
	}
	for _, id := range in.Delete.Objects {
		if id.Key == nil {
			return nil, errMalformedXML()
		}
	}
	quiet := awsproto.Value(in.Delete.Quiet)
	out := &DeleteObjectsOutput{}
	owner := callerAccount(ctx)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		out.Deleted, out.Errors = nil, nil
		b, err := loadBucket(tx, bucketName)
		if err != nil {
			return err
		}
		for _, id := range in.Delete.Objects {
			key, version := *id.Key, awsproto.Value(id.VersionId)
			var res deleteResult
			err := s.decide(ctx, tx, b, key, version, versioned("s3:DeleteObject", version))
			if err == nil {
				res, err = s.deleteInTx(ctx, tx, b, key, version, awsproto.Value(id.ETag), owner)
			}
			if ae := (*awsproto.Error)(nil); errors.As(err, &ae) {
				e := Error{Key: awsproto.Ptr(key), Code: awsproto.Ptr(ae.Code), Message: awsproto.Ptr(ae.Message)}
				if version != "" {
					e.VersionId = awsproto.Ptr(version)
				}
				out.Errors = append(out.Errors, e)
				continue
			}
			if err != nil {
				return err
			}
			if quiet {
				continue
			}
			d := DeletedObject{Key: awsproto.Ptr(key)}
			if version != "" {
				d.VersionId = awsproto.Ptr(version)
			}
			if res.DeleteMarker {
				d.DeleteMarker = awsproto.Ptr(true)
				d.DeleteMarkerVersionId = awsproto.Ptr(res.VersionID)
			}
			out.Deleted = append(out.Deleted, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// hasIntegrityHeader reports whether a request carries Content-MD5 or a flexible checksum of
// its body, which S3 requires of DeleteObjects.
func hasIntegrityHeader(ctx context.Context) bool {
	h := callHeader(ctx)
	if h.Get("Content-Md5") != "" || h.Get("X-Amz-Trailer") != "" {
		return true
	}
	for _, a := range checksumAlgorithms {
		if h.Get("X-Amz-Checksum-"+a) != "" {
			return true
		}
	}
	return false
}
