package apigateway

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/proxyevent"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/service/apigateway/mapping"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
	"github.com/kiri-run/kiri/internal/uuid"
)

// restInvoker serves the invoke URLs of REST APIs; HTTP APIs' invoke URLs hand it the ids that
// are not theirs.
type restInvoker interface {
	ServeInvoke(w http.ResponseWriter, r *http.Request, apiID string) bool
}

// restCall is one request to a deployed REST API stage.
type restCall struct {
	r         *http.Request
	body      []byte
	sc        scope
	apiID     string
	stage     restapi.Stage
	deployed  restSnapshot
	resource  *restapi.Resource
	method    *restapi.Method
	path      string // the request path after the stage
	params    map[string]string
	requestID string
	now       time.Time
	// authorizer is what a Lambda authorizer gave: its principalId and context.
	authorizer map[string]any
	// iam is the caller of an AWS_IAM method.
	iam *iamAuth
}

// writeRESTMessage answers with a REST API's own {"message": ...} body.
func writeRESTMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("X-Amzn-Errortype", restErrorType(status))
	writeMessage(w, status, msg)
}

func restErrorType(status int) string {
	switch status {
	case http.StatusForbidden:
		return "ForbiddenException"
	case http.StatusTooManyRequests:
		return "TooManyRequestsException"
	case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge:
		return "BadRequestException"
	}
	return "InternalServerErrorException"
}

// missingToken is REST APIs' answer to a request no method matches.
func missingToken(w http.ResponseWriter) {
	w.Header().Set("X-Amzn-Errortype", "MissingAuthenticationTokenException")
	writeMessage(w, http.StatusForbidden, missingTokenMessage)
}

// internalError is REST APIs' answer to a failed or malformed integration: note the lower-case
// "server error", unlike HTTP APIs'.
func internalError(w http.ResponseWriter, status int) {
	w.Header().Set("X-Amzn-Errortype", "InternalServerErrorException")
	writeMessage(w, status, "Internal server error")
}

// ServeInvoke serves a request to a REST API's invoke URL; it reports false when apiID is no
// REST API's, or its invoke URL is off.
func (s *RESTService) ServeInvoke(w http.ResponseWriter, r *http.Request, apiID string) bool {
	ctx := r.Context()
	a, sc, err := s.loadRestAPI(ctx, apiID)
	if err != nil {
		s.log.Error("load REST API", "api", apiID, "error", err)
		internalError(w, http.StatusInternalServerError)
		return true
	}
	if a == nil || awsproto.Value(a.DisableExecuteApiEndpoint) {
		return false
	}
	c := &restCall{r: r, sc: sc, apiID: apiID, requestID: uuid.New(), now: s.now()}
	w.Header().Set("X-Amzn-Requestid", c.requestID)
	found, err := s.loadRestStage(ctx, c)
	if err != nil {
		s.log.Error("load REST API stage", "api", apiID, "error", err)
		internalError(w, http.StatusInternalServerError)
		return true
	}
	if !found || !c.match() {
		missingToken(w)
		return true
	}
	switch awsproto.Value(c.method.AuthorizationType) {
	case "CUSTOM":
		if !s.authorize(w, c) {
			return true
		}
	case "AWS_IAM":
		if !s.authorizeIAM(w, c) {
			return true
		}
	}
	if awsproto.Value(c.method.ApiKeyRequired) {
		status, msg, err := s.checkAPIKey(ctx, c)
		if err != nil {
			s.log.Error("check API key", "api", apiID, "error", err)
			internalError(w, http.StatusInternalServerError)
			return true
		}
		if status != 0 {
			writeRESTMessage(w, status, msg)
			return true
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		writeRESTMessage(w, http.StatusBadRequest, "Bad Request")
		return true
	}
	if len(body) > maxPayload {
		writeRESTMessage(w, http.StatusRequestEntityTooLarge, "Request Too Long")
		return true
	}
	c.body = body
	if !c.validateRequest(w) {
		return true
	}
	integ := c.method.MethodIntegration
	switch awsproto.Value(integ.Type) {
	case restLambdaProxy:
		s.invokeLambdaProxy(w, c, integ)
	case restHTTPProxy:
		s.forwardREST(w, c, integ)
	case restMock:
		s.answerMock(w, c, integ)
	case restAWS:
		if sqsURI.MatchString(awsproto.Value(integ.Uri)) {
			s.sendToQueue(w, c, integ)
			return true
		}
		if dynamoURI.MatchString(awsproto.Value(integ.Uri)) {
			s.runDynamo(w, c, integ)
			return true
		}
		s.invokeLambdaCustom(w, c, integ)
	default:
		internalError(w, http.StatusInternalServerError)
	}
	return true
}

// loadRestAPI finds a REST API by its id alone, as invoke URLs name it; nil when there is none.
func (s *RESTService) loadRestAPI(ctx context.Context, apiID string) (*restapi.RestApi, scope, error) {
	var sc scope
	var doc string
	err := s.st.QueryRow(ctx, `SELECT account, region, doc FROM apigw_resources WHERE api_id = ? AND kind = ? AND id = ?`,
		apiID, kindRestAPI, apiID).Scan(&sc.account, &sc.region, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sc, nil
	}
	if err != nil {
		return nil, sc, err
	}
	var a restapi.RestApi
	return &a, sc, json.Unmarshal([]byte(doc), &a)
}

// loadRestStage finds the stage the request's first path segment names and its deployment.
func (s *RESTService) loadRestStage(ctx context.Context, c *restCall) (bool, error) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(c.r.URL.Path, "/"), "/")
	if name == "" {
		return false, nil
	}
	q := storeRow(ctx, s.st)
	ok, err := getDoc(q, c.sc, c.apiID, kindRestStage, name, &c.stage)
	if err != nil || !ok {
		return false, err
	}
	c.path = "/" + rest
	return getDoc(q, c.sc, c.apiID, kindRestDeployment, awsproto.Value(c.stage.DeploymentId), &c.deployed)
}

// match picks the resource and method a request takes, as REST APIs order them: a literal path
// part before a {variable}, a variable before a greedy {variable+}, and the request's method
// before ANY. It reports false when none matches.
func (c *restCall) match() bool {
	segs := strings.Split(strings.Trim(c.path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	var bestRank []int
	for i := range c.deployed.Resources {
		res := &c.deployed.Resources[i]
		m, ok := res.ResourceMethods[c.r.Method]
		methodRank := 0
		if !ok {
			if m, ok = res.ResourceMethods["ANY"]; !ok {
				continue
			}
			methodRank = 1
		}
		var tmpl []string
		if p := strings.Trim(awsproto.Value(res.Path), "/"); p != "" {
			tmpl = strings.Split(p, "/")
		}
		params, rank, ok := matchResourcePath(tmpl, segs)
		if !ok {
			continue
		}
		rank = append(rank, methodRank)
		if bestRank == nil || less(rank, bestRank) {
			bestRank, c.resource, c.params = rank, res, params
			c.method = &m
		}
	}
	return c.resource != nil
}

// matchResourcePath matches a resource path's parts against a request path's segments; rank
// orders matches, lower first: per part 0 for a literal, 1 for a variable, 2 for a greedy one.
func matchResourcePath(tmpl, segs []string) (map[string]string, []int, bool) {
	params := map[string]string{}
	rank := make([]int, 0, len(tmpl))
	for i, part := range tmpl {
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "+}") {
			if i >= len(segs) {
				return nil, nil, false
			}
			params[part[1:len(part)-2]] = strings.Join(segs[i:], "/")
			return params, append(rank, 2), true
		}
		if i >= len(segs) || segs[i] == "" {
			return nil, nil, false
		}
		if strings.HasPrefix(part, "{") {
			params[part[1:len(part)-1]] = segs[i]
			rank = append(rank, 1)
			continue
		}
		if part != segs[i] {
			return nil, nil, false
		}
		rank = append(rank, 0)
	}
	if len(segs) != len(tmpl) {
		return nil, nil, false
	}
	return params, rank, true
}

// sourceARN is the execute-api ARN of the method a request calls:
// arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH.
func (c *restCall) sourceARN() string {
	return "arn:aws:execute-api:" + c.sc.region + ":" + c.sc.account + ":" + c.apiID + "/" + awsproto.Value(c.stage.StageName) +
		"/" + c.r.Method + c.path
}

// restEvent is the Lambda proxy event of REST APIs: payload format 1.0 without its version.
type restEvent struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  restContext         `json:"requestContext"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

// restContext is a REST API event's request context: payload format 1.0's, with what a Lambda
// authorizer gave.
type restContext struct {
	contextV1
	Authorizer map[string]any `json:"authorizer,omitempty"`
}

// event builds the Lambda proxy event as REST APIs do: the resource's path template, the path
// after the stage, and a request context naming the resource, stage and full path.
func (c *restCall) event() *restEvent {
	r := c.r
	stage := awsproto.Value(c.stage.StageName)
	ev := &restEvent{
		Resource: awsproto.Value(c.resource.Path), Path: c.path, HTTPMethod: r.Method,
		RequestContext: restContext{contextV1: contextV1{
			AccountID: c.sc.account, APIID: c.apiID, DomainName: hostName(r), DomainPrefix: c.apiID,
			ExtendedRequestID: c.requestID, HTTPMethod: r.Method,
			Identity: identityV1{SourceIP: proxyevent.SourceIP(r), UserAgent: r.UserAgent()},
			Path:     "/" + stage + c.path, Protocol: r.Proto, RequestID: c.requestID,
			RequestTime: c.now.UTC().Format(requestTimeLayout), RequestTimeEpoch: c.now.UnixMilli(),
			ResourceID: awsproto.Value(c.resource.Id), ResourcePath: awsproto.Value(c.resource.Path), Stage: stage,
		}, Authorizer: c.authorizer},
	}
	if c.iam != nil {
		c.iam.fill(&ev.RequestContext.Identity)
	}
	if len(c.params) > 0 {
		ev.PathParameters = c.params
	}
	if len(c.stage.Variables) > 0 {
		ev.StageVariables = c.stage.Variables
	}
	ev.Headers, ev.MultiValueHeaders, ev.QueryStringParameters, ev.MultiValueQueryStringParameters = v1Values(r)
	if len(c.body) > 0 {
		var b string
		if ev.IsBase64Encoded = c.binary(r.Header.Get("Content-Type")); ev.IsBase64Encoded {
			b = base64.StdEncoding.EncodeToString(c.body)
		} else {
			b = string(c.body)
		}
		ev.Body = &b
	}
	return ev
}

// binary reports whether a media type is one of the API's binary media types.
func (c *restCall) binary(mediaType string) bool {
	mt, _, _ := strings.Cut(mediaType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" {
		return false
	}
	for _, b := range c.deployed.API.BinaryMediaTypes {
		b = strings.ToLower(b)
		if b == mt || b == "*/*" || strings.HasSuffix(b, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(b, "*")) {
			return true
		}
	}
	return false
}

// invokeFunction calls an integration's function within its timeout; on failure it answers
// the client itself and reports ok false.
func (s *RESTService) invokeFunction(w http.ResponseWriter, c *restCall, integ *restapi.Integration, payload []byte) (out []byte, fnErr string, ok bool) {
	lambda, found := service.Lookup[functionInvoker](s.services, "lambda")
	if !found {
		internalError(w, http.StatusInternalServerError)
		return nil, "", false
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), time.Duration(awsproto.Value(integ.TimeoutInMillis))*time.Millisecond)
	defer cancel()
	out, fnErr, err := lambda.InvokeForService(ctx, integrationFunction(awsproto.Value(integ.Uri)), principal, c.sourceARN(), c.sc.account, payload)
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		writeRESTMessage(w, http.StatusGatewayTimeout, "Endpoint request timed out")
		return nil, "", false
	case err != nil:
		s.log.Warn("REST API integration failed", "api", c.apiID, "function", awsproto.Value(integ.Uri), "error", err)
		internalError(w, http.StatusInternalServerError)
		return nil, "", false
	}
	return out, fnErr, true
}

// invokeLambdaProxy calls an AWS_PROXY integration's function with the proxy event and writes
// the response it describes; a function error or a malformed response is a 502.
func (s *RESTService) invokeLambdaProxy(w http.ResponseWriter, c *restCall, integ *restapi.Integration) {
	payload, err := json.Marshal(c.event())
	if err != nil {
		internalError(w, http.StatusInternalServerError)
		return
	}
	out, fnErr, ok := s.invokeFunction(w, c, integ, payload)
	if !ok {
		return
	}
	if fnErr != "" {
		internalError(w, http.StatusBadGateway)
		return
	}
	var st structured
	if err := json.Unmarshal(out, &st); err != nil || st.StatusCode == nil {
		s.log.Warn("malformed Lambda proxy response", "api", c.apiID)
		internalError(w, http.StatusBadGateway)
		return
	}
	// A base64 body is decoded only when the client accepts a binary media type of the API;
	// else it is passed on as the text it is.
	b64 := st.IsBase64Encoded
	st.IsBase64Encoded = b64 && c.binary(firstAccept(c.r.Header.Get("Accept")))
	res, err := st.response()
	if err != nil {
		internalError(w, http.StatusBadGateway)
		return
	}
	writeResponse(w, res.status, res.header, res.body)
}

// firstAccept is the first media type of an Accept header.
func firstAccept(accept string) string {
	first, _, _ := strings.Cut(accept, ",")
	return first
}

func writeResponse(w http.ResponseWriter, status int, h http.Header, body []byte) {
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// mappedParams are the integration request parameters of one location (path, querystring or
// header), from the method request's parameters, literals and stage variables.
func (c *restCall) mappedParams(integ *restapi.Integration, location string) map[string]string {
	out := map[string]string{}
	for k, src := range integ.RequestParameters {
		name, ok := strings.CutPrefix(k, "integration.request."+location+".")
		if !ok {
			continue
		}
		if v, ok := c.paramValue(src); ok {
			out[name] = v
		}
	}
	return out
}

// paramValue is the value of a mapping source: method.request.{path,querystring,header}.NAME,
// 'literal' or stageVariables.NAME.
func (c *restCall) paramValue(src string) (string, bool) {
	switch {
	case strings.HasPrefix(src, "'"):
		return strings.Trim(src, "'"), true
	case strings.HasPrefix(src, "stageVariables."):
		v, ok := c.stage.Variables[strings.TrimPrefix(src, "stageVariables.")]
		return v, ok
	case strings.HasPrefix(src, "method.request.path."):
		v, ok := c.params[strings.TrimPrefix(src, "method.request.path.")]
		return v, ok
	case strings.HasPrefix(src, "method.request.querystring."):
		q := c.r.URL.Query()
		name := strings.TrimPrefix(src, "method.request.querystring.")
		return q.Get(name), q.Has(name)
	case strings.HasPrefix(src, "method.request.header."):
		v := c.r.Header.Values(strings.TrimPrefix(src, "method.request.header."))
		if len(v) == 0 {
			return "", false
		}
		return v[len(v)-1], true
	}
	return "", false
}

// forwardREST sends the request to an HTTP_PROXY integration's URL, its {name} path variables
// filled from the integration's request parameters, and writes the backend's answer as it is.
func (s *RESTService) forwardREST(w http.ResponseWriter, c *restCall, integ *restapi.Integration) {
	pathParams := c.mappedParams(integ, "path")
	for k, v := range c.params {
		if _, ok := pathParams[k]; !ok {
			pathParams[k] = v
		}
	}
	u, err := integrationURL(awsproto.Value(integ.Uri), pathParams, c.r.URL.RawQuery)
	if err != nil {
		internalError(w, http.StatusInternalServerError)
		return
	}
	q := u.Query()
	for k, v := range c.mappedParams(integ, "querystring") {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	method := awsproto.Value(integ.HttpMethod)
	if method == "ANY" {
		method = c.r.Method
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), time.Duration(awsproto.Value(integ.TimeoutInMillis))*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(c.body))
	if err != nil {
		internalError(w, http.StatusInternalServerError)
		return
	}
	req.Header = c.r.Header.Clone()
	dropHopByHop(req.Header)
	for k, v := range c.mappedParams(integ, "header") {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Forwarded-For", strings.TrimPrefix(c.r.Header.Get("X-Forwarded-For")+", "+proxyevent.SourceIP(c.r), ", "))
	resp, err := proxyClient.Do(req)
	var out []byte
	if err == nil {
		out, err = io.ReadAll(io.LimitReader(resp.Body, maxPayload+1))
		resp.Body.Close()
	}
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		writeRESTMessage(w, http.StatusGatewayTimeout, "Endpoint request timed out")
		return
	case err != nil:
		s.log.Warn("REST API HTTP integration failed", "api", c.apiID, "url", u.Redacted(), "error", err)
		internalError(w, http.StatusInternalServerError)
		return
	}
	h := resp.Header.Clone()
	dropHopByHop(h)
	writeResponse(w, resp.StatusCode, h, out)
}

// requestTemplate is the literal request template a non-proxy integration uses for the
// request's content type, and whether the passthrough behaviour lets the request through at
// all (else the client gets 415).
func (c *restCall) requestTemplate(integ *restapi.Integration) (tmpl string, has, pass bool) {
	ct, _, _ := strings.Cut(c.r.Header.Get("Content-Type"), ";")
	ct = strings.TrimSpace(ct)
	if ct == "" {
		ct = "application/json"
	}
	if t, ok := integ.RequestTemplates[ct]; ok {
		return t, true, true
	}
	switch awsproto.Value(integ.PassthroughBehavior) {
	case "NEVER":
		return "", false, false
	case "WHEN_NO_TEMPLATES":
		return "", false, len(integ.RequestTemplates) == 0
	}
	return "", false, true
}

// answerMock answers from a MOCK integration: the rendered request template's statusCode
// selects the integration response, whose template and parameters make the answer.
func (s *RESTService) answerMock(w http.ResponseWriter, c *restCall, integ *restapi.Integration) {
	body, ok := s.integrationRequest(w, c, integ)
	if !ok {
		return
	}
	status := 200
	if len(bytes.TrimSpace(body)) > 0 {
		var v struct {
			StatusCode *int `json:"statusCode"`
		}
		if json.Unmarshal(body, &v) != nil || v.StatusCode == nil {
			internalError(w, http.StatusInternalServerError)
			return
		}
		status = *v.StatusCode
	}
	ir := selectResponse(integ, strconv.Itoa(status))
	if ir == nil {
		internalError(w, http.StatusInternalServerError)
		return
	}
	s.writeIntegrationResponse(w, c, ir, nil, nil)
}

// integrationRequest is the body a non-proxy integration receives: the request template for
// the request's content type rendered, or the request body passed through as the passthrough
// behaviour allows; on refusal it answers the client itself and reports false.
func (s *RESTService) integrationRequest(w http.ResponseWriter, c *restCall, integ *restapi.Integration) ([]byte, bool) {
	tmpl, has, pass := c.requestTemplate(integ)
	if !pass {
		writeRESTMessage(w, http.StatusUnsupportedMediaType, "Unsupported Media Type")
		return nil, false
	}
	body, ok := convertBody(c.body, c.binary(c.r.Header.Get("Content-Type")), awsproto.Value(integ.ContentHandling))
	if !ok {
		internalError(w, http.StatusInternalServerError)
		return nil, false
	}
	if !has {
		return body, true
	}
	out, err := mapping.Render(tmpl, c.mappingInput(body))
	if err != nil {
		c.templateError(w, s, err)
		return nil, false
	}
	return []byte(out), true
}

// templateError answers a request whose mapping template failed: a body that is not JSON is
// the client's 400, anything else an internal error.
func (c *restCall) templateError(w http.ResponseWriter, s *RESTService, err error) {
	if errors.Is(err, mapping.ErrInvalidJSON) {
		writeRESTMessage(w, http.StatusBadRequest, err.Error())
		return
	}
	s.log.Warn("REST API mapping template failed", "api", c.apiID, "error", err)
	internalError(w, http.StatusInternalServerError)
}

// mappingInput is what a mapping template sees of this request, with body as $input.
func (c *restCall) mappingInput(body []byte) mapping.Input {
	r := c.r
	in := mapping.Input{Body: body, StageVariables: c.stage.Variables,
		Params: mapping.Params{Path: c.params, QueryString: map[string]string{}, Header: map[string]string{}}}
	for k, vs := range r.URL.Query() {
		in.Params.QueryString[k] = vs[len(vs)-1]
	}
	for k, vs := range r.Header {
		in.Params.Header[k] = vs[len(vs)-1]
	}
	stage := awsproto.Value(c.stage.StageName)
	in.Context = map[string]any{
		"accountId": c.sc.account, "apiId": c.apiID, "domainName": hostName(r), "domainPrefix": c.apiID,
		"extendedRequestId": c.requestID, "httpMethod": r.Method, "path": "/" + stage + c.path, "protocol": r.Proto,
		"requestId": c.requestID, "requestTime": c.now.UTC().Format(requestTimeLayout), "requestTimeEpoch": c.now.UnixMilli(),
		"resourceId": awsproto.Value(c.resource.Id), "resourcePath": awsproto.Value(c.resource.Path), "stage": stage,
		"identity": map[string]any{"sourceIp": proxyevent.SourceIP(r), "userAgent": r.UserAgent()},
	}
	if c.authorizer != nil {
		in.Context["authorizer"] = c.authorizer
	}
	if c.iam != nil {
		maps.Copy(in.Context["identity"].(map[string]any), c.iam.identityFields())
	}
	return in
}

// invokeLambdaCustom calls an AWS (non-proxy) Lambda integration's function with the request
// body, or its request template rendered, and answers through the integration response the
// function's error message (or, on success, the default) selects.
func (s *RESTService) invokeLambdaCustom(w http.ResponseWriter, c *restCall, integ *restapi.Integration) {
	payload, ok := s.integrationRequest(w, c, integ)
	if !ok {
		return
	}
	if len(bytes.TrimSpace(payload)) == 0 {
		payload = []byte("{}")
	}
	out, fnErr, ok := s.invokeFunction(w, c, integ, payload)
	if !ok {
		return
	}
	key := ""
	if fnErr != "" {
		var e struct {
			ErrorMessage string `json:"errorMessage"`
		}
		json.Unmarshal(out, &e)
		key = e.ErrorMessage
	}
	ir := selectResponse(integ, key)
	if ir == nil {
		internalError(w, http.StatusInternalServerError)
		return
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	s.writeIntegrationResponse(w, c, ir, h, out)
}

// selectResponse picks the integration response whose selection pattern matches key whole (a
// Lambda error message, or a status code), else the default one (without a pattern); nil when
// there is none. For a Lambda function that succeeded, key is "" and the default answers.
func selectResponse(integ *restapi.Integration, key string) *restapi.IntegrationResponse {
	var def *restapi.IntegrationResponse
	for _, code := range keysInOrder(integ.IntegrationResponses) {
		ir := integ.IntegrationResponses[code]
		p := awsproto.Value(ir.SelectionPattern)
		if p == "" {
			def = &ir
			continue
		}
		if key == "" {
			continue
		}
		if re, err := regexp.Compile(`^(?:` + p + `)$`); err == nil && re.MatchString(key) {
			return &ir
		}
	}
	return def
}

// writeIntegrationResponse answers through an integration response: its status, its header
// parameters (literals or the integration's response headers), and its template for
// application/json rendered over the integration's body (which may override the status and
// headers through $context.responseOverride), else that body as it is.
func (s *RESTService) writeIntegrationResponse(w http.ResponseWriter, c *restCall, ir *restapi.IntegrationResponse, h http.Header, body []byte) {
	status, _ := strconv.Atoi(awsproto.Value(ir.StatusCode))
	out := http.Header{}
	out.Set("Content-Type", "application/json")
	for k, src := range ir.ResponseParameters {
		name := strings.TrimPrefix(k, "method.response.header.")
		switch {
		case strings.HasPrefix(src, "'"):
			out.Set(name, strings.Trim(src, "'"))
		case strings.HasPrefix(src, "integration.response.header.") && h != nil:
			if v := h.Get(strings.TrimPrefix(src, "integration.response.header.")); v != "" {
				out.Set(name, v)
			}
		}
	}
	if t, ok := ir.ResponseTemplates["application/json"]; ok {
		rendered, st, headers, err := mapping.RenderResponse(t, c.mappingInput(body))
		if err != nil {
			s.log.Warn("REST API response template failed", "api", c.apiID, "error", err)
			internalError(w, http.StatusInternalServerError)
			return
		}
		body = []byte(rendered)
		if st != 0 {
			status = st
		}
		for k, v := range headers {
			out.Set(k, v)
		}
	}
	// An integration's answer is text (a function's JSON, a template's output): only
	// CONVERT_TO_BINARY changes it, decoding it from base64.
	body, ok := convertBody(body, false, awsproto.Value(ir.ContentHandling))
	if !ok {
		internalError(w, http.StatusInternalServerError)
		return
	}
	writeResponse(w, status, out, body)
}

// convertBody converts a payload as a content handling strategy says: CONVERT_TO_TEXT turns a
// binary payload into base64 text, CONVERT_TO_BINARY decodes a text payload from base64; with
// no strategy, or a payload already of the kind asked for, it passes as it is. ok is false
// when a payload to decode is not base64.
func convertBody(body []byte, binary bool, handling string) ([]byte, bool) {
	switch {
	case handling == convertToText && binary:
		return []byte(base64.StdEncoding.EncodeToString(body)), true
	case handling == convertToBinary && !binary:
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(body)))
		return b, err == nil
	}
	return body, true
}
