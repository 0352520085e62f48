package s3

import "net/http"

// Preflight answers a browser's CORS preflight (OPTIONS) for a bucket, per its CORS rules.
func (s *Service) Preflight(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusForbidden)
}

// CORSHeaders returns the CORS headers a response to r carries, per the bucket's rules.
func (s *Service) CORSHeaders(r *http.Request) http.Header { return nil }
