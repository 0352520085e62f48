package edge

import (
	"net"
	"net/http"
	"strings"
)

// virtualHostedBucket returns the bucket a virtual-hosted S3 request names in its Host header:
// "photos.localhost:4566" and "photos.s3.localhost:4566" address bucket "photos". Bucket names
// may hold dots. Hosts under .localhost that name other Kiri endpoints (function URLs, API
// stages) are not buckets.
func virtualHostedBucket(host string) (string, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	prefix, ok := strings.CutSuffix(host, ".localhost")
	if !ok || prefix == "" {
		return "", false
	}
	for _, reserved := range []string{".lambda-url.", ".execute-api."} {
		if strings.Contains(prefix+".", reserved) {
			return "", false
		}
	}
	if prefix == "s3" {
		return "", false
	}
	prefix = strings.TrimSuffix(prefix, ".s3")
	return prefix, prefix != ""
}

// toPathStyle rewrites a virtual-hosted request to the path style the router matches. The
// request line (r.RequestURI) is left alone: the client signed that.
func toPathStyle(r *http.Request, bucket string) {
	r.URL.Path = "/" + bucket + r.URL.Path
	if r.URL.RawPath != "" {
		r.URL.RawPath = "/" + bucket + r.URL.RawPath
	}
}
