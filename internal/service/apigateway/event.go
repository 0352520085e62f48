package apigateway

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/proxyevent"
)

// proxyRequest is one request to a Lambda proxy integration, from which both payload formats
// are built.
type proxyRequest struct {
	r         *http.Request
	body      []byte
	d         *deployedAPI
	match     *routeMatch
	requestID string
	now       time.Time
	auth      *authContext // what the route's authorizer learned; nil without one
}

// eventV2 is payload format version 2.0.
type eventV2 struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	StageVariables        map[string]string `json:"stageVariables,omitempty"`
	RequestContext        contextV2         `json:"requestContext"`
	Body                  *string           `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type contextV2 struct {
	AccountID    string `json:"accountId"`
	APIID        string `json:"apiId"`
	Authorizer   any    `json:"authorizer,omitempty"`
	DomainName   string `json:"domainName"`
	DomainPrefix string `json:"domainPrefix"`
	HTTP         httpV2 `json:"http"`
	RequestID    string `json:"requestId"`
	RouteKey     string `json:"routeKey"`
	Stage        string `json:"stage"`
	Time         string `json:"time"`
	TimeEpoch    int64  `json:"timeEpoch"`
}

type httpV2 struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// eventV1 is payload format version 1.0, REST APIs' proxy event.
type eventV1 struct {
	Version                         string              `json:"version"`
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	RequestContext                  contextV1           `json:"requestContext"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

type contextV1 struct {
	AccountID         string         `json:"accountId"`
	APIID             string         `json:"apiId"`
	Authorizer        map[string]any `json:"authorizer,omitempty"`
	DomainName        string         `json:"domainName"`
	DomainPrefix      string         `json:"domainPrefix"`
	ExtendedRequestID string         `json:"extendedRequestId"`
	HTTPMethod        string         `json:"httpMethod"`
	Identity          identityV1     `json:"identity"`
	Path              string         `json:"path"`
	Protocol          string         `json:"protocol"`
	RequestID         string         `json:"requestId"`
	RequestTime       string         `json:"requestTime"`
	RequestTimeEpoch  int64          `json:"requestTimeEpoch"`
	ResourceID        string         `json:"resourceId"`
	ResourcePath      string         `json:"resourcePath"`
	Stage             string         `json:"stage"`
}

type identityV1 struct {
	AccessKey *string `json:"accessKey"`
	AccountID *string `json:"accountId"`
	Caller    *string `json:"caller"`
	SourceIP  string  `json:"sourceIp"`
	User      *string `json:"user"`
	UserAgent string  `json:"userAgent"`
	UserARN   *string `json:"userArn"`
}

const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

func (p *proxyRequest) routeKey() string { return awsproto.Value(p.match.route.RouteKey) }

func (p *proxyRequest) stage() string { return awsproto.Value(p.d.stage.StageName) }

func (p *proxyRequest) stageVariables() map[string]string {
	if len(p.d.stage.StageVariables) == 0 {
		return nil
	}
	return p.d.stage.StageVariables
}

func (p *proxyRequest) rawPath() string {
	if raw := p.r.URL.EscapedPath(); raw != "" {
		return raw
	}
	return "/"
}

// encodedBody is the request body as the event carries it: text as it is, anything else
// base64-encoded; nil when there is none.
func (p *proxyRequest) encodedBody() (*string, bool) {
	if len(p.body) == 0 {
		return nil, false
	}
	s, b64 := proxyevent.Body(p.body, p.r.Header.Get("Content-Type"))
	return &s, b64
}

// v2 builds the payload format 2.0 event: repeated headers and query values joined with
// commas, cookies split out of the Cookie header.
func (p *proxyRequest) v2() *eventV2 {
	r := p.r
	ev := &eventV2{
		Version: "2.0", RouteKey: p.routeKey(), RawPath: p.rawPath(), RawQueryString: r.URL.RawQuery,
		PathParameters: p.match.params, StageVariables: p.stageVariables(),
		RequestContext: contextV2{
			AccountID: p.d.sc.account, APIID: p.d.apiID, DomainName: hostName(r), DomainPrefix: p.d.apiID,
			HTTP:      httpV2{Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: proxyevent.SourceIP(r), UserAgent: r.UserAgent()},
			RequestID: p.requestID, RouteKey: p.routeKey(), Stage: p.stage(),
			Time: p.now.UTC().Format(requestTimeLayout), TimeEpoch: p.now.UnixMilli(),
		},
	}
	ev.RequestContext.Authorizer = p.auth.v2()
	ev.Headers, ev.Cookies = proxyevent.Headers(r)
	ev.QueryStringParameters = proxyevent.Query(r.URL.Query())
	ev.Body, ev.IsBase64Encoded = p.encodedBody()
	return ev
}

// v1 builds the payload format 1.0 event: single-value maps hold each header's and query
// parameter's last value, and the multi-value maps all of them.
func (p *proxyRequest) v1() *eventV1 {
	r := p.r
	resource := p.routeKey()
	if resource != defaultRoute {
		_, resource, _ = strings.Cut(resource, " ")
	}
	ev := &eventV1{
		Version: "1.0", Resource: resource, Path: r.URL.Path, HTTPMethod: r.Method,
		PathParameters: p.match.params, StageVariables: p.stageVariables(),
		RequestContext: contextV1{
			AccountID: p.d.sc.account, APIID: p.d.apiID, DomainName: hostName(r), DomainPrefix: p.d.apiID,
			ExtendedRequestID: p.requestID, HTTPMethod: r.Method,
			Identity: identityV1{SourceIP: proxyevent.SourceIP(r), UserAgent: r.UserAgent()},
			Path:     r.URL.Path, Protocol: r.Proto, RequestID: p.requestID,
			RequestTime: p.now.UTC().Format(requestTimeLayout), RequestTimeEpoch: p.now.UnixMilli(),
			ResourceID: p.routeKey(), ResourcePath: resource, Stage: p.stage(),
		},
	}
	ev.Headers, ev.MultiValueHeaders, ev.QueryStringParameters, ev.MultiValueQueryStringParameters = v1Values(r)
	ev.RequestContext.Authorizer = p.auth.v1()
	if a := p.auth; a != nil && a.iam != nil {
		a.iam.fill(&ev.RequestContext.Identity)
	}
	ev.Body, ev.IsBase64Encoded = p.encodedBody()
	return ev
}

// v1Values are a request's headers (Host included) and query parameters as payload format
// 1.0 carries them: each one's last value, and all of them; the query maps are nil when there
// is no query.
func v1Values(r *http.Request) (headers map[string]string, multiHeaders map[string][]string, query map[string]string, multiQuery map[string][]string) {
	headers, multiHeaders = make(map[string]string, len(r.Header)+1), make(map[string][]string, len(r.Header)+1)
	for k, vs := range r.Header {
		headers[k], multiHeaders[k] = vs[len(vs)-1], vs
	}
	headers["Host"], multiHeaders["Host"] = r.Host, []string{r.Host}
	if q := r.URL.Query(); len(q) > 0 {
		query, multiQuery = make(map[string]string, len(q)), make(map[string][]string, len(q))
		for k, vs := range q {
			query[k], multiQuery[k] = vs[len(vs)-1], vs
		}
	}
	return headers, multiHeaders, query, multiQuery
}

// hostName is the request's host without its port.
func hostName(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		return h
	}
	return r.Host
}

// proxyResponse is the HTTP response a function's answer maps to.
type proxyResponse struct {
	status int
	header http.Header
	body   []byte
}

// structured is the response object both payload formats read.
type structured struct {
	StatusCode        *int             `json:"statusCode"`
	Headers           map[string]any   `json:"headers"`
	MultiValueHeaders map[string][]any `json:"multiValueHeaders"`
	Cookies           []string         `json:"cookies"`
	Body              *string          `json:"body"`
	IsBase64Encoded   bool             `json:"isBase64Encoded"`
}

var errMalformed = errors.New("malformed Lambda proxy response")

// interpretV1 reads a payload format 1.0 answer: an object with a statusCode, headers,
// multiValueHeaders, a body and isBase64Encoded; anything else is malformed.
func interpretV1(payload []byte) (*proxyResponse, error) {
	var s structured
	if err := json.Unmarshal(payload, &s); err != nil || s.StatusCode == nil {
		return nil, errMalformed
	}
	return s.response()
}

// interpretV2 reads a payload format 2.0 answer: an object with a statusCode is the structured
// form; any other valid JSON is the body of a 200 application/json response, as API Gateway
// infers it.
func interpretV2(payload []byte) (*proxyResponse, error) {
	if !json.Valid(payload) {
		return nil, errMalformed
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(payload, &probe) == nil {
		if _, ok := probe["statusCode"]; ok {
			var s structured
			if err := json.Unmarshal(payload, &s); err != nil || s.StatusCode == nil {
				return nil, errMalformed
			}
			res, err := s.response()
			if err == nil && res.header.Get("Content-Type") == "" {
				res.header.Set("Content-Type", "application/json")
			}
			return res, err
		}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &proxyResponse{status: http.StatusOK, header: h, body: payload}, nil
}

func (s *structured) response() (*proxyResponse, error) {
	if *s.StatusCode < 100 || *s.StatusCode > 599 {
		return nil, errMalformed
	}
	res := &proxyResponse{status: *s.StatusCode, header: http.Header{}}
	for k, vs := range s.MultiValueHeaders {
		for _, v := range vs {
			res.header.Add(k, scalar(v))
		}
	}
	for k, v := range s.Headers {
		res.header.Set(k, scalar(v))
	}
	for _, c := range s.Cookies {
		res.header.Add("Set-Cookie", c)
	}
	if s.Body != nil {
		res.body = []byte(*s.Body)
		if s.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(*s.Body)
			if err != nil {
				return nil, errMalformed
			}
			res.body = b
		}
	}
	return res, nil
}

// scalar renders a header value a function gave as a JSON string, number or boolean.
func scalar(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
