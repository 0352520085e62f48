package s3

import "context"

// completedUpload finds the object a finished multipart upload made, when it is still the
// key's current version: S3 answers a repeated CompleteMultipartUpload with the result of the
// first instead of NoSuchUpload.
func (s *Service) completedUpload(ctx context.Context, bucketName, key, id string) (object, bool) {
	if id == "" {
		return object{}, false
	}
	o, err := loadObject(s.reader(ctx), bucketName, key, "")
	if err != nil || o.DeleteMarker || o.Headers.UploadID != id {
		return object{}, false
	}
	return o, true
}
