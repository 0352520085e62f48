package edge

import (
	"mime"
	"net/http"
	"strings"
)

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
