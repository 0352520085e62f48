package lambda

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/kiri-run/kiri/internal/proxyevent"
)

// urlRequest is what a function URL invocation receives: payload format version 2.0.
type urlRequest struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        urlRequestContext `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type urlRequestContext struct {
	AccountID    string         `json:"accountId"`
	APIID        string         `json:"apiId"`
	Authorizer   *urlAuthorizer `json:"authorizer,omitempty"`
	DomainName   string         `json:"domainName"`
	DomainPrefix string         `json:"domainPrefix"`
	HTTP         urlHTTP        `json:"http"`
	RequestID    string         `json:"requestId"`
	RouteKey     string         `json:"routeKey"`
	Stage        string         `json:"stage"`
	Time         string         `json:"time"`
	TimeEpoch    int64          `json:"timeEpoch"`
}

type urlAuthorizer struct {
	IAM *urlIAM `json:"iam,omitempty"`
}

type urlIAM struct {
	AccessKey string `json:"accessKey"`
	AccountID string `json:"accountId"`
	CallerID  string `json:"callerId"`
	UserARN   string `json:"userArn"`
	UserID    string `json:"userId"`
}

type urlHTTP struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// newURLRequest builds the event for an HTTP request to a function URL. Header and query values
// that repeat are joined with commas, cookies are split out, and a body that is not UTF-8 text
// is base64-encoded, as Lambda does.
func newURLRequest(r *http.Request, body []byte, urlID, region, requestID string, now time.Time) urlRequest {
	ev := urlRequest{
		Version: "2.0", RouteKey: "$default", RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		RequestContext: urlRequestContext{
			AccountID: "anonymous", APIID: urlID,
			DomainName: urlID + ".lambda-url." + region + ".on.aws", DomainPrefix: urlID,
			HTTP:      urlHTTP{Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: proxyevent.SourceIP(r), UserAgent: r.UserAgent()},
			RequestID: requestID, RouteKey: "$default", Stage: "$default",
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
		},
	}
	if ev.RawPath == "" {
		ev.RawPath = "/"
	}
	ev.Headers, ev.Cookies = proxyevent.Headers(r)
	ev.QueryStringParameters = proxyevent.Query(r.URL.Query())
	if len(body) > 0 {
		ev.Body, ev.IsBase64Encoded = proxyevent.Body(body, r.Header.Get("Content-Type"))
	}
	return ev
}

// urlResponse is the structured answer a function may give a function URL.
type urlResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Cookies         []string          `json:"cookies"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
}

// interpretURLResponse maps a function's result to the HTTP response: a JSON object with a
// statusCode is the structured form; anything else valid is returned as a 200 JSON body.
func interpretURLResponse(payload []byte) (status int, header http.Header, body []byte) {
	header = http.Header{}
	var probe map[string]json.RawMessage
	if json.Unmarshal(payload, &probe) == nil {
		if _, ok := probe["statusCode"]; ok {
			var r urlResponse
			if json.Unmarshal(payload, &r) == nil {
				for k, v := range r.Headers {
					header.Set(k, v)
				}
				for _, c := range r.Cookies {
					header.Add("Set-Cookie", c)
				}
				body = []byte(r.Body)
				if r.IsBase64Encoded {
					if b, err := base64.StdEncoding.DecodeString(r.Body); err == nil {
						body = b
					}
				}
				if r.StatusCode == 0 {
					r.StatusCode = http.StatusOK
				}
				return r.StatusCode, header, body
			}
		}
	}
	header.Set("Content-Type", "application/json")
	if s, err := strconv.Unquote(string(payload)); err == nil && json.Valid(payload) {
		// A bare JSON string is returned as its text.
		return http.StatusOK, header, []byte(s)
	}
	return http.StatusOK, header, payload
}
