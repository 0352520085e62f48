package s3

import (
	"net/http"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// preconditions are the HTTP conditional request headers of a read (GET, HEAD) or of a copy's
// source (x-amz-copy-source-if-*).
type preconditions struct {
	IfMatch, IfNoneMatch               string
	IfModifiedSince, IfUnmodifiedSince *time.Time
}

// conditionOutcome is what evaluating preconditions decides.
type conditionOutcome int

const (
	conditionPass        conditionOutcome = iota
	conditionFailed                       // 412 Precondition Failed
	conditionNotModified                  // 304 Not Modified
)

// evaluate applies RFC 7232's order as S3 does: If-Match (else If-Unmodified-Since) can fail the
// request; then If-None-Match (else If-Modified-Since) can make it not modified. The failing
// header is returned for the error's Condition.
func (p preconditions) evaluate(etag string, modified time.Time) (conditionOutcome, string) {
	// HTTP dates have second precision.
	modified = modified.Truncate(time.Second)
	if p.IfMatch != "" {
		if !etagMatches(p.IfMatch, etag) {
			return conditionFailed, "If-Match"
		}
	} else if p.IfUnmodifiedSince != nil && modified.After(*p.IfUnmodifiedSince) {
		return conditionFailed, "If-Unmodified-Since"
	}
	if p.IfNoneMatch != "" {
		if etagMatches(p.IfNoneMatch, etag) {
			return conditionNotModified, "If-None-Match"
		}
	} else if p.IfModifiedSince != nil && !modified.After(*p.IfModifiedSince) {
		return conditionNotModified, "If-Modified-Since"
	}
	return conditionPass, ""
}

// etagMatches reports whether a comma-separated If-Match/If-None-Match list names etag ("*"
// names any). Quotes and weak prefixes are ignored, as S3 ignores them.
func etagMatches(list, etag string) bool {
	want := unquoteETag(etag)
	for _, c := range strings.Split(list, ",") {
		c = strings.TrimSpace(c)
		if c == "*" || unquoteETag(c) == want {
			return true
		}
	}
	return false
}

func unquoteETag(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	return strings.Trim(s, `"`)
}

// errNotModified is the 304 of a conditional GET or HEAD; it carries no body.
func errNotModified() *awsproto.Error {
	return &awsproto.Error{Code: "NotModified", Message: "Not Modified", Status: http.StatusNotModified}
}
