package apigateway

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/edge"
)

// invokePath is the path form of an invoke URL: /_kiri/apis/<api-id>/<stage>/<path>.
const invokePath = "/_kiri/apis/"

// connectionsPath starts the paths of the @connections API (apigatewaymanagementapi).
const connectionsPath = "/@connections/"

// apiIDKey carries a matched invoke URL's API id from Match to Serve.
type apiIDKey struct{}

// Frontend is what API Gateway adds to the edge: the invoke URLs of HTTP APIs, by host
// (<api-id>.execute-api.localhost) or by path (/_kiri/apis/<api-id>/).
func (s *Service) Frontend() edge.Frontend {
	return edge.Frontend{Rewrite: rewriteConnections, Routes: []edge.Route{{
		Service: "apigateway", Operation: "Invoke",
		Match: func(r *http.Request) (*http.Request, bool) {
			if strings.HasPrefix(r.URL.Path, connectionsPath) {
				return nil, false // the @connections API, through the router
			}
			id, ok := invokeURL(r)
			if !ok {
				return nil, false
			}
			return r.WithContext(context.WithValue(r.Context(), apiIDKey{}, id)), true
		},
		Serve: func(w http.ResponseWriter, r *http.Request, a *auth.Authenticator) {
			r = r.WithContext(context.WithValue(r.Context(), authenticatorKey{}, a))
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

// rewriteConnections turns a call to the @connections API addressed to a stage, as AWS
// documents it (http://{domainName}/{stage}/@connections/{id}, here also under the path form
// /_kiri/apis/{api-id}/{stage}/), into the API's own path /@connections/{id}, which the router
// hands to the management API's codec. The signature stays valid: it is verified on the
// request line. On a host that is not an invoke URL's, only calls signed for execute-api are
// rewritten.
func rewriteConnections(r *http.Request, sig *auth.Signature) {
	esc := r.URL.EscapedPath()
	i := strings.Index(esc, connectionsPath)
	if i <= 0 {
		return
	}
	prefix := esc[:i]
	if rest, ok := strings.CutPrefix(prefix, invokePath); ok {
		id, _, _ := strings.Cut(rest, "/")
		if !validAPIID(id) {
			return
		}
		prefix = strings.TrimPrefix(rest, id)
	} else if name, local := edge.LocalName(r.Host); !(local && strings.Contains(name, ".execute-api")) && sig.Service != "execute-api" {
		return
	}
	if strings.Count(prefix, "/") > 1 {
		return // more than a stage in front
	}
	tail := esc[i:]
	path, err := url.PathUnescape(tail)
	if err != nil {
		return
	}
	r.URL.Path, r.URL.RawPath = path, ""
	if path != tail {
		r.URL.RawPath = tail
	}
}
