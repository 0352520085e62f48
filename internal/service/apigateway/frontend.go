package apigateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/edge"
)

// invokePath is the path form of an invoke URL: /_kiri/apis/<api-id>/<stage>/<path>.
const invokePath = "/_kiri/apis/"

// apiIDKey carries a matched invoke URL's API id from Match to Serve.
type apiIDKey struct{}

// Frontend is what API Gateway adds to the edge: the invoke URLs of HTTP APIs, by host
// (<api-id>.execute-api.localhost) or by path (/_kiri/apis/<api-id>/).
func (s *Service) Frontend() edge.Frontend {
	return edge.Frontend{Routes: []edge.Route{{
		Service: "apigateway", Operation: "Invoke",
		Match: func(r *http.Request) (*http.Request, bool) {
			id, ok := invokeURL(r)
			if !ok {
				return nil, false
			}
			return r.WithContext(context.WithValue(r.Context(), apiIDKey{}, id)), true
		},
		Serve: func(w http.ResponseWriter, r *http.Request, _ *auth.Authenticator) {
			s.serveInvoke(w, r, r.Context().Value(apiIDKey{}).(string))
		},
		Admits: func(r *http.Request, origin string) bool {
			id, _ := r.Context().Value(apiIDKey{}).(string)
			return origin != "" && s.admitsOrigin(r.Context(), id, origin)
		},
	}}}
}

// invokeURL reports whether r addresses an API's invoke URL and which API. For the path form
// it rewrites r's path to the part after the API id, as the host form has it.
func invokeURL(r *http.Request) (string, bool) {
	if name, ok := edge.LocalName(r.Host); ok {
		if id, rest, ok := strings.Cut(name, ".execute-api"); ok && validAPIID(id) && (rest == "" || strings.HasPrefix(rest, ".")) {
			return id, true
		}
	}
	tail, ok := strings.CutPrefix(r.URL.Path, invokePath)
	if !ok {
		return "", false
	}
	id, path, _ := strings.Cut(tail, "/")
	if !validAPIID(id) {
		return "", false
	}
	r.URL.Path = "/" + path
	if raw, ok := strings.CutPrefix(r.URL.RawPath, invokePath+id); ok && raw != "" {
		r.URL.RawPath = raw
	} else {
		r.URL.RawPath = ""
	}
	return id, true
}

// validAPIID reports whether s looks like an API id: 10 lower-case letters and digits.
func validAPIID(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
