package sfn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/jsonobj"
	"github.com/kiri-run/kiri/internal/service"
)

// apiCall is the Parameters of an apigateway:invoke task.
type apiCall struct {
	ApiEndpoint     string
	Method          string
	Headers         map[string][]string
	Stage           string
	Path            string
	QueryParameters map[string][]string
	RequestBody     json.RawMessage
	AllowNullValues bool
	AuthType        string
}

// roleIssuer issues a role's temporary credentials to a service acting on its own behalf
// (implemented by STS).
type roleIssuer interface {
	RoleCredentials(ctx context.Context, service, account, roleARN, session string, d time.Duration) (auth.Key, error)
}

// invokeAPI calls an API of this server's API Gateway as the apigateway:invoke integration
// does. The request goes to Kiri's own listener, as a client's would, so it meets the same
// routing, authorizers, IAM checks and throttles; with AuthType IAM_ROLE or RESOURCE_POLICY
// it is signed with credentials of a session of role.
func (s *Service) invokeAPI(ctx context.Context, sc scope, role string, params []byte) taskResult {
	var p apiCall
	if err := json.Unmarshal(params, &p); err != nil || p.ApiEndpoint == "" || p.Method == "" {
		return failed("States.Runtime", "The Parameters of an apigateway:invoke Task must give ApiEndpoint and Method")
	}
	host := strings.ToLower(p.ApiEndpoint)
	id, rest, ok := strings.Cut(host, ".execute-api.")
	if !ok || !apiID(id) || !(strings.HasSuffix(rest, ".amazonaws.com") || rest == "localhost" || strings.HasPrefix(rest, "localhost:")) {
		return failed("States.Runtime", "The ApiEndpoint %s is not an API of this server", p.ApiEndpoint)
	}
	authType := p.AuthType
	if authType == "" {
		authType = "NO_AUTH"
	}
	if authType != "NO_AUTH" && authType != "IAM_ROLE" && authType != "RESOURCE_POLICY" {
		return failed("States.Runtime", "AuthType must be one of NO_AUTH, IAM_ROLE, RESOURCE_POLICY")
	}
	base, err := url.Parse(s.endpoint)
	if err != nil || base.Host == "" {
		return failed("ApiGateway.ServiceException", "this server's endpoint is unknown")
	}
	var segs []string
	for _, part := range []string{p.Stage, strings.Trim(p.Path, "/")} {
		if part != "" {
			segs = append(segs, part)
		}
	}
	path := "/" + strings.Join(segs, "/")
	q := url.Values{}
	for k, vs := range p.QueryParameters {
		q[k] = vs
	}
	var body []byte
	if len(p.RequestBody) > 0 && string(p.RequestBody) != "null" {
		var str string
		if json.Unmarshal(p.RequestBody, &str) == nil {
			body = []byte(str)
		} else {
			body = p.RequestBody
			if !p.AllowNullValues {
				body = dropNulls(body)
			}
		}
	}
	u := url.URL{Scheme: base.Scheme, Host: base.Host, Path: path, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(p.Method), u.String(), bytes.NewReader(body))
	if err != nil {
		return failed("States.Runtime", "%s", err.Error())
	}
	req.Host = id + ".execute-api.localhost"
	for k, vs := range p.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authType != "NO_AUTH" {
		if res, ok := s.signAsRole(ctx, sc, role, req, body); !ok {
			return res
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return failed("ApiGateway.ServiceException", "%s", err.Error())
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		return taskResult{errName: "ApiGateway." + strconv.Itoa(resp.StatusCode), cause: string(respBody)}
	}
	var outBody any = string(respBody)
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && json.Valid(respBody) {
		outBody = json.RawMessage(respBody)
	}
	out, _ := json.Marshal(map[string]any{"Headers": resp.Header, "ResponseBody": outBody,
		"StatusCode": resp.StatusCode, "StatusText": http.StatusText(resp.StatusCode)})
	return taskResult{output: out}
}

// signAsRole signs req for execute-api with temporary credentials of a session of role.
func (s *Service) signAsRole(ctx context.Context, sc scope, role string, req *http.Request, body []byte) (taskResult, bool) {
	issuer, ok := service.Lookup[roleIssuer](s.services, "sts")
	if !ok {
		return failed("ApiGateway.ServiceException", "STS is not running"), false
	}
	k, err := issuer.RoleCredentials(ctx, principal, sc.account, role, "StepFunctions", 15*time.Minute)
	if err != nil {
		return failed("ApiGateway.403", "%s", err.Error()), false
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, SessionToken: k.SessionToken}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", sc.region, s.now()); err != nil {
		return failed("States.Runtime", "%s", err.Error()), false
	}
	return taskResult{}, true
}

// dropNulls removes the members whose value is null from a JSON body, as the integration
// does unless AllowNullValues is true.
func dropNulls(body []byte) []byte {
	v, err := jsonobj.Decode(body)
	if err != nil {
		return body
	}
	var strip func(any) any
	strip = func(v any) any {
		switch x := v.(type) {
		case *jsonobj.Object:
			out := jsonobj.New(x.Len())
			for k, e := range x.All() {
				if e != nil {
					out.Set(k, strip(e))
				}
			}
			return out
		case []any:
			for i, e := range x {
				x[i] = strip(e)
			}
		}
		return v
	}
	return jsonobj.Marshal(strip(v))
}

// apiID reports whether id has the form of an API's id: ten lower-case letters and digits.
func apiID(id string) bool {
	if len(id) != 10 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
