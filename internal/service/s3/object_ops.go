package s3

// registerObjectOps registers the object operations.
func (s *Service) registerObjectOps() {}
