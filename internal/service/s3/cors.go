package s3

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// corsMethods are the methods a CORS rule may allow.
var corsMethods = map[string]bool{"GET": true, "PUT": true, "HEAD": true, "POST": true, "DELETE": true}

// maxCORSRules is how many rules a CORS configuration may hold.
const maxCORSRules = 100

func (s *Service) registerCORSOps() {
	awsproto.Handle(s.api, "PutBucketCors", s.putBucketCORS)
	awsproto.Handle(s.api, "GetBucketCors", s.getBucketCORS)
	awsproto.Handle(s.api, "DeleteBucketCors", s.deleteBucketCORS)
}

// validCORS checks a CORS configuration as S3 does.
func validCORS(cfg *CORSConfiguration) error {
	if cfg == nil || len(cfg.CORSRules) == 0 || len(cfg.CORSRules) > maxCORSRules {
		return errMalformedXML()
	}
	for _, r := range cfg.CORSRules {
		if len(r.AllowedMethods) == 0 || len(r.AllowedOrigins) == 0 {
			return errMalformedXML()
		}
		for _, m := range r.AllowedMethods {
			if !corsMethods[m] {
				return errInvalidRequest("Found unsupported HTTP method in CORS config. Unsupported method is %s", m)
			}
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return errInvalidRequest("AllowedOrigin %q can not have more than one wildcard.", o)
			}
		}
		for _, h := range r.AllowedHeaders {
			if strings.Count(h, "*") > 1 {
				return errInvalidRequest("AllowedHeader %q can not have more than one wildcard.", h)
			}
		}
		if len(awsproto.Value(r.ID)) > 255 {
			return errInvalidArgument("ID", awsproto.Value(r.ID), "ID length should not exceed allowed limit of 255")
		}
	}
	return nil
}

func (s *Service) putBucketCORS(ctx context.Context, in *PutBucketCorsRequest) (*struct{}, error) {
	if err := validCORS(in.CORSConfiguration); err != nil {
		return nil, err
	}
	return &struct{}{}, s.updateBucketConfig(ctx, awsproto.Value(in.Bucket), configCORS, in.CORSConfiguration.CORSRules)
}

func (s *Service) getBucketCORS(ctx context.Context, in *GetBucketCorsRequest) (*GetBucketCorsOutput, error) {
	var rules []CORSRule
	if err := s.readBucketConfig(ctx, awsproto.Value(in.Bucket), configCORS, &rules, errNoSuchCORSConfig); err != nil {
		return nil, err
	}
	return &GetBucketCorsOutput{CORSRules: rules}, nil
}

func (s *Service) deleteBucketCORS(ctx context.Context, in *DeleteBucketCorsRequest) (*struct{}, error) {
	return &struct{}{}, s.updateBucketConfig(ctx, awsproto.Value(in.Bucket), configCORS, nil)
}

// wildcardMatch reports whether s matches pattern, which may hold one "*" standing for any run
// of characters.
func wildcardMatch(pattern, s string) bool {
	before, after, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

// corsMatch is the rule a CORS request matched and the allowed origin pattern it matched by.
type corsMatch struct {
	rule   *CORSRule
	origin string
}

// matchCORS returns the first rule allowing origin, method and every one of headers
// (lower-cased), as S3 evaluates them.
func matchCORS(rules []CORSRule, origin, method string, headers []string) (corsMatch, bool) {
	for i := range rules {
		r := &rules[i]
		allowedOrigin := ""
		for _, o := range r.AllowedOrigins {
			if wildcardMatch(o, origin) {
				allowedOrigin = o
				break
			}
		}
		if allowedOrigin == "" || !containsString(r.AllowedMethods, method) || !headersAllowed(r.AllowedHeaders, headers) {
			continue
		}
		return corsMatch{rule: r, origin: allowedOrigin}, true
	}
	return corsMatch{}, false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func headersAllowed(allowed, requested []string) bool {
	for _, h := range requested {
		ok := false
		for _, a := range allowed {
			if wildcardMatch(strings.ToLower(a), h) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// headers are the Access-Control-* headers a matched request gets.
func (m corsMatch) headers(origin string, preflight bool, requestedHeaders string) http.Header {
	h := http.Header{}
	if m.origin == "*" {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Allow-Methods", strings.Join(m.rule.AllowedMethods, ", "))
	if preflight && requestedHeaders != "" {
		h.Set("Access-Control-Allow-Headers", requestedHeaders)
	}
	if len(m.rule.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(m.rule.ExposeHeaders, ", "))
	}
	if m.rule.MaxAgeSeconds != nil {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(*m.rule.MaxAgeSeconds)))
	}
	h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
	return h
}

// bucketOfPath is the bucket a path-style request addresses ("" for the service root).
func bucketOfPath(path string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return name
}

// corsRules loads a bucket's CORS rules; ok is false when it has none.
func (s *Service) corsRules(ctx context.Context, bucketName string) (rules []CORSRule, ok bool, err error) {
	q := s.reader(ctx)
	if _, err := loadBucket(q, bucketName); err != nil {
		return nil, false, err
	}
	ok, err = loadConfigJSON(q, bucketName, configCORS, &rules)
	return rules, ok, err
}

func errCORSResponse(msg string) *awsproto.Error {
	return awsproto.Errorf("AccessForbidden", http.StatusForbidden, "%s", msg)
}

// Preflight answers a browser's CORS preflight (OPTIONS) for a bucket, per its CORS rules.
func (s *Service) Preflight(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	call := awsproto.CallFrom(ctx)
	if call == nil {
		call = &awsproto.Call{}
	}
	origin := r.Header.Get("Origin")
	method := r.Header.Get("Access-Control-Request-Method")
	name := bucketOfPath(r.URL.Path)
	switch {
	case origin == "":
		s.api.WriteError(w, r, call, awsproto.Errorf("BadRequest", 400, "Insufficient information. Origin request header needed."))
		return
	case method == "" || !corsMethods[method]:
		s.api.WriteError(w, r, call, awsproto.Errorf("BadRequest", 400, "Invalid Access-Control-Request-Method: %s", method))
		return
	case name == "":
		s.api.WriteError(w, r, call, errCORSResponse("CORSResponse: Bucket not found"))
		return
	}
	rules, ok, err := s.corsRules(ctx, name)
	if err != nil {
		s.api.WriteError(w, r, call, err)
		return
	}
	if !ok {
		s.api.WriteError(w, r, call, errCORSResponse("CORSResponse: CORS is not enabled for this bucket."))
		return
	}
	reqHeaders := r.Header.Get("Access-Control-Request-Headers")
	var headers []string
	for _, h := range strings.Split(reqHeaders, ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			headers = append(headers, h)
		}
	}
	m, ok := matchCORS(rules, origin, method, headers)
	if !ok {
		s.api.WriteError(w, r, call, errCORSResponse("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."))
		return
	}
	out := w.Header()
	for k, v := range m.headers(origin, true, reqHeaders) {
		out[k] = v
	}
	if call.RequestID != "" {
		out.Set("x-amz-request-id", call.RequestID)
	}
	out.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// CORSHeaders returns the CORS headers a response to r carries, per the bucket's rules.
func (s *Service) CORSHeaders(r *http.Request) http.Header {
	origin := r.Header.Get("Origin")
	name := bucketOfPath(r.URL.Path)
	if origin == "" || name == "" {
		return nil
	}
	rules, ok, err := s.corsRules(r.Context(), name)
	if err != nil || !ok {
		var ae *awsproto.Error
		if err != nil && !errors.As(err, &ae) {
			s.log.Warn("load cors rules", "bucket", name, "err", err)
		}
		return nil
	}
	// A request naming Access-Control-Request-Method is matched on that method, as a
	// preflight is; S3 does so for actual requests too.
	method := r.Method
	if m := r.Header.Get("Access-Control-Request-Method"); m != "" {
		method = m
	}
	m, ok := matchCORS(rules, origin, method, nil)
	if !ok {
		return nil
	}
	return m.headers(origin, false, "")
}
