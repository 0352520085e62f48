package edge

import (
	"net/http"
	"strings"
)

// virtualHostedBucket returns the bucket a virtual-hosted S3 request names in its Host header,
// under either local root: "photos.localhost:4566", "photos.s3.localhost:4566",
// "photos.s3.eu-west-1.localhost.localstack.cloud" and "photos.localhost.localstack.cloud" all
// address bucket "photos". Bucket names may hold dots. The S3 endpoints themselves
// ("s3.localhost.localstack.cloud", "s3.eu-west-1.localhost") and the names of other Kiri
// endpoints (function URLs, API stages) are not buckets.
func virtualHostedBucket(host string) (string, bool) {
	prefix, ok := localName(host)
	if !ok || prefix == "" {
		return "", false
	}
	for _, reserved := range []string{".lambda-url.", ".execute-api."} {
		if strings.Contains("."+prefix+".", reserved) {
			return "", false
		}
	}
	// Drop the S3 endpoint labels: "photos.s3" and "photos.s3.eu-west-1" name bucket "photos",
	// "s3" and "s3.eu-west-1" no bucket.
	p := "." + prefix
	if i := strings.LastIndex(p, ".s3."); i >= 0 && isRegion(p[i+len(".s3."):]) {
		p = p[:i]
	} else {
		p = strings.TrimSuffix(p, ".s3")
	}
	bucket := strings.TrimPrefix(p, ".")
	return bucket, bucket != ""
}

// isRegion reports whether s has the form of an AWS region name: "us-east-1", "us-gov-west-1".
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) != 2 {
		return false
	}
	for i, p := range parts {
		last := i == len(parts)-1
		if p == "" {
			return false
		}
		for j := 0; j < len(p); j++ {
			c := p[j]
			if last && (c < '0' || c > '9') || !last && (c < 'a' || c > 'z') {
				return false
			}
		}
	}
	return true
}

// toPathStyle rewrites a virtual-hosted request to the path style the router matches. The
// request line (r.RequestURI) is left alone: the client signed that.
func toPathStyle(r *http.Request, bucket string) {
	r.URL.Path = "/" + bucket + r.URL.Path
	if r.URL.RawPath != "" {
		r.URL.RawPath = "/" + bucket + r.URL.RawPath
	}
}
