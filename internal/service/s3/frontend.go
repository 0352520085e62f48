package s3

import (
	"mime"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/edge"
)

// Frontend is what S3 adds to the edge: virtual-hosted buckets, browsers' CORS preflights and
// form uploads, and CORS headers on its API answers.
func (s *Service) Frontend() edge.Frontend {
	return edge.Frontend{
		Rewrite: rewriteVirtualHost,
		CORS:    s.CORSHeaders,
		Routes: []edge.Route{{
			// A preflight, or an OPTIONS without an Origin that is unsigned or signed for S3,
			// which S3 answers 400. A preflight asks the bucket's CORS rules, which decide for
			// foreign sites too.
			Service: "s3", Operation: "PreflightRequest",
			Match: func(r *http.Request) (*http.Request, bool) {
				if r.Method != http.MethodOptions {
					return nil, false
				}
				if r.Header.Get("Origin") != "" {
					return r, true
				}
				sig := auth.Parse(r)
				return r, sig.Service == "s3" || sig.Service == ""
			},
			Serve:  func(w http.ResponseWriter, r *http.Request, _ *auth.Authenticator) { s.Preflight(w, r) },
			Admits: func(*http.Request, string) bool { return true },
		}, {
			Service: "s3", Operation: "PostObject",
			Match: func(r *http.Request) (*http.Request, bool) { return r, isFormUpload(r) },
			Serve: func(w http.ResponseWriter, r *http.Request, a *auth.Authenticator) {
				if r.Header.Get("Origin") != "" {
					if c := awsproto.CallFrom(r.Context()); c != nil {
						for k, v := range s.CORSHeaders(r) {
							c.ResponseHeader[k] = v
						}
					}
				}
				s.PostObject(w, r, a)
			},
			Admits: func(r *http.Request, origin string) bool {
				return origin != "" && s.CORSHeaders(edge.WithOrigin(r, origin)) != nil
			},
		}},
	}
}

// rewriteVirtualHost turns a virtual-hosted request into the path style the router matches.
// Only S3 is addressed by host: a request signed for another service keeps its path.
func rewriteVirtualHost(r *http.Request, sig *auth.Signature) {
	if bucket, ok := virtualHostedBucket(r.Host); ok && (sig.Service == "" || sig.Service == "s3") {
		toPathStyle(r, bucket)
	}
}

// isFormUpload reports whether r is an S3 browser-based upload: a POST of multipart/form-data
// to a bucket (path style, after virtual-hosted requests were rewritten), without the query
// sub-resources other bucket POSTs (?delete) carry.
func isFormUpload(r *http.Request) bool {
	if r.Method != http.MethodPost || r.URL.RawQuery != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return false
	}
	bucket := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/")
	return bucket != "" && !strings.Contains(bucket, "/")
}

// virtualHostedBucket returns the bucket a virtual-hosted S3 request names in its Host header,
// under either local root: "photos.localhost:4566", "photos.s3.localhost:4566",
// "photos.s3.eu-west-1.localhost.localstack.cloud" and "photos.localhost.localstack.cloud" all
// address bucket "photos". Bucket names may hold dots. The S3 endpoints themselves
// ("s3.localhost.localstack.cloud", "s3.eu-west-1.localhost") and the names of other Kiri
// endpoints (function URLs, API stages) are not buckets.
func virtualHostedBucket(host string) (string, bool) {
	prefix, ok := edge.LocalName(host)
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
