package lambda

import (
	"context"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/edge"
)

// Frontend is what Lambda adds to the edge: function URLs, by host or by path, and the
// download URLs of GetFunction's Code.Location.
func (s *Service) Frontend() edge.Frontend {
	code := s.CodeHandler()
	return edge.Frontend{Routes: []edge.Route{{
		Service: "lambda", Operation: "InvokeFunctionUrl",
		Match: func(r *http.Request) (*http.Request, bool) {
			id, ok := functionURL(r)
			if !ok {
				return nil, false
			}
			return r.WithContext(context.WithValue(r.Context(), urlIDKey{}, id)), true
		},
		Serve: func(w http.ResponseWriter, r *http.Request, a *auth.Authenticator) {
			s.ServeFunctionURL(w, r, r.Context().Value(urlIDKey{}).(string), a)
		},
		Admits: func(r *http.Request, origin string) bool {
			id, _ := r.Context().Value(urlIDKey{}).(string)
			return origin != "" && s.admitsOrigin(r.Context(), id, origin)
		},
	}, {
		Service: "lambda", Operation: "GetFunctionCode",
		Match: func(r *http.Request) (*http.Request, bool) {
			return r, r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, CodePath)
		},
		Serve: func(w http.ResponseWriter, r *http.Request, _ *auth.Authenticator) { code.ServeHTTP(w, r) },
	}}}
}

// urlIDKey carries a matched function URL's id from Match to Serve.
type urlIDKey struct{}

// admitsOrigin reports whether the CORS configuration of function URL urlID lets web pages
// from origin call it.
func (s *Service) admitsOrigin(ctx context.Context, urlID, origin string) bool {
	_, u, err := s.urlTarget(ctx, urlID)
	return err == nil && u.Cors != nil && corsConfig(u.Cors).AllowsOrigin(origin)
}

// functionURLPath is the path form of a function URL: /_kiri/lambda-url/<url-id>/<path>.
const functionURLPath = "/_kiri/lambda-url/"

// functionURL reports whether r addresses a Lambda function URL and which one. For the path form
// it rewrites r's path to the part after the URL id, which is what the function sees.
func functionURL(r *http.Request) (string, bool) {
	if name, ok := edge.LocalName(r.Host); ok {
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
