package s3

// registerMultipartOps registers the multipart upload operations.
func (s *Service) registerMultipartOps() {}
