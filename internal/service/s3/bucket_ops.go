package s3

// registerBucketOps registers the bucket operations.
func (s *Service) registerBucketOps() {}
