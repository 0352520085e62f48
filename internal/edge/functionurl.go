package edge

import (
	"net/http"
	"strings"
)

// functionURLPath is the path form of a function URL: /_kiri/lambda-url/<url-id>/<path>.
const functionURLPath = "/_kiri/lambda-url/"

// functionURL reports whether r addresses a Lambda function URL and which one. For the path form
// it rewrites r's path to the part after the URL id, which is what the function sees.
func functionURL(r *http.Request) (string, bool) {
	if name, ok := localName(r.Host); ok {
		if id, region, ok := strings.Cut(name, ".lambda-url."); ok && region != "" && validURLID(id) {
			return id, true
		}
	}
	tail, ok := strings.CutPrefix(r.URL.Path, functionURLPath)
	if !ok {
		return "", false
	}
	id, path, _ := strings.Cut(tail, "/")
	if !validURLID(id) {
		return "", false
	}
	r.URL.Path = "/" + path
	if r.URL.RawPath != "" {
		if raw, ok := strings.CutPrefix(r.URL.RawPath, functionURLPath+id); ok {
			r.URL.RawPath = raw
			if r.URL.RawPath == "" {
				r.URL.RawPath = "/"
			}
		} else {
			r.URL.RawPath = ""
		}
	}
	return id, true
}

// validURLID reports whether s looks like a function URL id: 32 lower-case letters and digits.
func validURLID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
