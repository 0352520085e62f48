package lambda

import "context"

// AdmitsOrigin reports whether the CORS configuration of function URL urlID lets web pages
// from origin call it.
func (s *Service) AdmitsOrigin(ctx context.Context, urlID, origin string) bool {
	_, u, err := s.urlTarget(ctx, urlID)
	return err == nil && u.Cors != nil && allowed(u.Cors.AllowOrigins, origin)
}
