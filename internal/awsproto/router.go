package awsproto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// ErrNoService is returned by Resolve when no registered service claims a request.
var ErrNoService = errors.New("awsproto: no service for request")

// maxFormBody bounds the query-protocol form bodies the router buffers.
const maxFormBody = 16 << 20

// uriPart is one path segment of a REST request URI template.
type uriPart struct {
	lit    string
	label  string
	greedy bool
}

// queryLit is a literal query requirement of a template ("?versioning", "?list-type=2").
type queryLit struct {
	key, value string
	hasValue   bool
}

// restRoute is the compiled HTTP binding of one REST operation.
type restRoute struct {
	op         string
	method     string
	parts      []uriPart
	labels     []string
	queryLits  []queryLit
	reqQuery   []string
	reqHeaders []string
	score      int
}

func compileRoute(name string, o *operation, in *shape) *restRoute {
	r := &restRoute{op: name, method: o.HTTP.Method}
	if o.Deprecated {
		r.score-- // a deprecated alias loses to its replacement on the same template
	}
	path, query, _ := strings.Cut(o.HTTP.RequestURI, "?")
	path = strings.Trim(path, "/")
	if path != "" {
		for _, seg := range strings.Split(path, "/") {
			switch {
			case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}"):
				l := seg[1 : len(seg)-2]
				r.parts = append(r.parts, uriPart{label: l, greedy: true})
				r.labels = append(r.labels, l)
				r.score--
			case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
				l := seg[1 : len(seg)-1]
				r.parts = append(r.parts, uriPart{label: l})
				r.labels = append(r.labels, l)
			default:
				r.parts = append(r.parts, uriPart{lit: seg})
				r.score += 10
			}
		}
	}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, has := strings.Cut(kv, "=")
			r.queryLits = append(r.queryLits, queryLit{key: k, value: v, hasValue: has})
			r.score += 10
		}
	}
	for _, req := range in.Required {
		ref := in.Members[req]
		if ref == nil {
			continue
		}
		wire := req
		if ref.LocationName != "" {
			wire = ref.LocationName
		}
		switch ref.Location {
		case "querystring":
			r.reqQuery = append(r.reqQuery, wire)
			r.score += 10
		case "header":
			r.reqHeaders = append(r.reqHeaders, wire)
			r.score += 10
		}
	}
	return r
}

func (s *Service) buildRoutes() error {
	for name, e := range s.ops {
		if e.op.HTTP.Method == "" || e.op.HTTP.RequestURI == "" {
			return fmt.Errorf("awsproto: %s.%s has no HTTP binding", s.name, name)
		}
		s.routes = append(s.routes, compileRoute(name, e.op, e.in))
	}
	sort.Slice(s.routes, func(i, j int) bool {
		a, b := s.routes[i], s.routes[j]
		if a.score != b.score {
			return a.score > b.score
		}
		return a.op < b.op
	})
	return nil
}

// match reports whether the escaped request path fits the template, returning label values.
func (r *restRoute) match(path string, labels []string) ([]string, bool) {
	p := strings.TrimPrefix(path, "/")
	for _, part := range r.parts {
		if part.greedy {
			if p == "" {
				return nil, false
			}
			v, err := url.PathUnescape(p)
			if err != nil {
				return nil, false
			}
			labels = append(labels, v)
			p = ""
			break
		}
		seg, rest, _ := strings.Cut(p, "/")
		if seg == "" {
			return nil, false
		}
		if part.label != "" {
			v, err := url.PathUnescape(seg)
			if err != nil {
				return nil, false
			}
			labels = append(labels, v)
		} else if seg != part.lit {
			return nil, false
		}
		p = rest
	}
	if p != "" {
		return nil, false
	}
	return labels, true
}

// queryLitsFit reports whether the query holds the literals of the route's template
// (`?acl`, `?x-id=GetObject`). Checking them first rules out most routes sharing a path
// without unescaping its labels.
func (r *restRoute) queryLitsFit(q url.Values) bool {
	for _, l := range r.queryLits {
		vs, ok := q[l.key]
		if !ok || (l.hasValue && (len(vs) == 0 || vs[0] != l.value)) {
			return false
		}
	}
	return true
}

// requiredFit reports whether the request carries the route's required query parameters and
// headers: the strict pass of resolveREST prefers the routes whose required members are there.
func (r *restRoute) requiredFit(q url.Values, h http.Header) bool {
	for _, k := range r.reqQuery {
		if _, ok := q[k]; !ok {
			return false
		}
	}
	for _, k := range r.reqHeaders {
		if h.Get(k) == "" {
			return false
		}
	}
	return true
}

// resolveREST finds the operation of s addressed by req, or ok=false.
func (s *Service) resolveREST(req *http.Request, q url.Values) (*Route, bool) {
	if s.Load() != nil {
		return nil, false
	}
	path := req.URL.EscapedPath()
	for _, strict := range []bool{true, false} {
		for _, r := range s.routes {
			if r.method != req.Method || !r.queryLitsFit(q) || (strict && !r.requiredFit(q, req.Header)) {
				continue
			}
			labels, ok := r.match(path, nil)
			if !ok {
				continue
			}
			return &Route{Service: s, Operation: r.op, rest: r, labels: labels, query: q}, true
		}
	}
	return nil, false
}

// Router finds the service and operation an HTTP request addresses.
type Router struct {
	byTarget  map[string]*Service
	bySigning map[string][]*Service
	query     []*Service
	rest      []*Service // non-S3 first, rest-xml (S3) last: S3 is the catch-all
}

// NewRouter returns a Router over services.
func NewRouter(services ...*Service) *Router {
	r := &Router{byTarget: map[string]*Service{}, bySigning: map[string][]*Service{}}
	var xml []*Service
	var all []*Service
	for _, s := range services {
		all = append(all, s)
		if s.twin != nil {
			all = append(all, s.twin)
		}
	}
	for _, s := range all {
		r.bySigning[s.SigningName()] = append(r.bySigning[s.SigningName()], s)
		switch s.protocol {
		case "json":
			r.byTarget[s.TargetPrefix()] = s
		case "query":
			r.query = append(r.query, s)
		case "rest-json":
			r.rest = append(r.rest, s)
		case "rest-xml":
			xml = append(xml, s)
		}
	}
	r.rest = append(r.rest, xml...)
	return r
}

// Route is the service and operation one request addresses.
type Route struct {
	Service   *Service
	Operation string // "" when unknown
	Err       *Error // set when the operation could not be identified

	rest   *restRoute
	labels []string
	query  url.Values
	form   *queryForm
}

func (rt *Route) label(name string) (string, bool) {
	if rt.rest == nil {
		return "", false
	}
	for i, l := range rt.rest.labels {
		if l == name && i < len(rt.labels) {
			return rt.labels[i], true
		}
	}
	return "", false
}

// Resolve finds the service and operation an HTTP request addresses. signingName is the service
// from the SigV4 credential scope ("" when unsigned). It uses X-Amz-Target (json), the query
// protocol's Action (form body or URL query; it may read and buffer a form body, restoring
// req.Body), then REST method+path+query templates, with S3 as the catch-all for paths no other
// REST service claims. The result's Err is set when the service is known but the operation is
// not; Serve then writes it. A non-nil error means no registered service claims the request.
func (r *Router) Resolve(req *http.Request, signingName string) (*Route, error) {
	if target := req.Header.Get("X-Amz-Target"); target != "" {
		i := strings.LastIndexByte(target, '.')
		if i < 0 {
			return nil, fmt.Errorf("%w: X-Amz-Target %q", ErrNoService, target)
		}
		s := r.byTarget[target[:i]]
		if s == nil {
			return nil, fmt.Errorf("%w: X-Amz-Target %q", ErrNoService, target)
		}
		op := target[i+1:]
		if s.op(op) == nil {
			return &Route{Service: s, Err: Errorf("UnknownOperationException", 400, "")}, nil
		}
		return &Route{Service: s, Operation: op}, nil
	}
	signed := r.bySigning[signingName]
	if r.isQuery(req, signed) {
		return r.resolveQuery(req, signed)
	}
	candidates := r.rest
	if len(signed) > 0 {
		candidates = nil
		for _, s := range signed {
			if s.protocol == "rest-json" || s.protocol == "rest-xml" {
				candidates = append(candidates, s)
			}
		}
		if len(candidates) == 0 {
			if len(signed) == 1 {
				return &Route{Service: signed[0], Err: unknownOperation(signed[0], "")}, nil
			}
			return nil, fmt.Errorf("%w: %s %s", ErrNoService, req.Method, req.URL.Path)
		}
	}
	q := req.URL.Query()
	for _, s := range candidates {
		if rt, ok := s.resolveREST(req, q); ok {
			return rt, nil
		}
	}
	// A signed request belongs to its service; an unsigned one falls to S3, the catch-all.
	if n := len(candidates); n > 0 && (len(signed) > 0 || n == 1 || candidates[n-1].protocol == "rest-xml") {
		s := candidates[n-1]
		return &Route{Service: s, Err: unknownOperation(s, ""), query: q}, nil
	}
	return nil, fmt.Errorf("%w: %s %s", ErrNoService, req.Method, req.URL.Path)
}

// isQuery reports whether req looks like a query-protocol request.
func (r *Router) isQuery(req *http.Request, signed []*Service) bool {
	for _, s := range signed {
		if s.protocol == "query" {
			return true
		}
	}
	if len(signed) > 0 || len(r.query) == 0 {
		return false
	}
	if req.Method == http.MethodPost && isForm(req) {
		return true
	}
	return req.URL.Query().Has("Action")
}

func isForm(req *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

func unknownOperation(s *Service, action string) *Error {
	switch s.protocol {
	case "query":
		if action == "" {
			return Errorf("MissingAction", 400, "Missing Action")
		}
		return Errorf("InvalidAction", 400, "The action %s is not valid for this web service.", truncate(action))
	case "rest-xml":
		return Errorf("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
	}
	return Errorf("UnknownOperationException", 404, "")
}

// readForm parses the parameters of a query-protocol request, buffering and restoring the body.
func readForm(req *http.Request) (url.Values, error) {
	vals := url.Values{}
	if req.Method == http.MethodPost && req.Body != nil && isForm(req) {
		body, err := io.ReadAll(io.LimitReader(req.Body, maxFormBody+1))
		if err != nil {
			return nil, fmt.Errorf("read form body: %w", err)
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		if len(body) > maxFormBody {
			return nil, errors.New("form body too large")
		}
		if vals, err = url.ParseQuery(string(body)); err != nil {
			return nil, fmt.Errorf("parse form body: %w", err)
		}
	}
	uq, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("parse query string: %w", err)
	}
	for k, v := range uq {
		if _, ok := vals[k]; !ok {
			vals[k] = v
		}
	}
	return vals, nil
}

// requestURL is the URL req addressed, without its query.
func requestURL(req *http.Request) string {
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + req.Host + req.URL.EscapedPath()
}

func (r *Router) resolveQuery(req *http.Request, signed []*Service) (*Route, error) {
	var pick *Service
	for _, s := range signed {
		if s.protocol == "query" {
			pick = s
			break
		}
	}
	vals, err := readForm(req)
	if err != nil {
		if pick != nil {
			return &Route{Service: pick, Err: Errorf("MalformedQueryString", 400, "%s", err.Error())}, nil
		}
		return nil, fmt.Errorf("%w: %v", ErrNoService, err)
	}
	action, version := vals.Get("Action"), vals.Get("Version")
	if pick == nil {
		for _, s := range r.query {
			if version != "" && s.APIVersion() == version {
				pick = s
				break
			}
		}
	}
	if pick == nil {
		for _, s := range r.query {
			if s.op(action) != nil {
				pick = s
				break
			}
		}
	}
	if pick == nil {
		if len(r.query) != 1 {
			return nil, fmt.Errorf("%w: query action %q", ErrNoService, truncate(action))
		}
		pick = r.query[0]
	}
	if pick.op(action) == nil {
		return &Route{Service: pick, Err: unknownOperation(pick, action)}, nil
	}
	if p := pick.opts.QueryURLParam; p != "" && !vals.Has(p) && req.URL.Path != "/" && req.URL.Path != "" {
		vals.Set(p, requestURL(req))
	}
	return &Route{Service: pick, Operation: action, form: newQueryForm(vals)}, nil
}
