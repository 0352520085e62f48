package apigateway

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/cors"
	"github.com/kiri-run/kiri/internal/service"
)

// maxPayload is the largest request body an HTTP API accepts: 10 MB.
const maxPayload = 10 << 20

// functionInvoker runs a function for API Gateway (implemented by the Lambda service).
type functionInvoker interface {
	InvokeForService(ctx context.Context, arn, principal, sourceARN, sourceAccount string, payload []byte) ([]byte, string, error)
}

// principal is the service principal API Gateway invokes functions as.
const principal = "apigateway.amazonaws.com"

// writeMessage answers with API Gateway's own {"message": ...} body.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// writeJSON answers with v as a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// deployedAPI is what an invoke URL serves: the API's owner, the stage the request names,
// and the deployment that stage points at.
type deployedAPI struct {
	sc       scope
	apiID    string
	stage    Stage
	deployed snapshot
	path     string // the request path after the stage
}

// loadAPI finds an API by its id alone, as invoke URLs name it; nil when there is none or its
// invoke URLs are off.
func (s *Service) loadAPI(ctx context.Context, apiID string) (*Api, scope, error) {
	e, err := s.cache.api(apiID, func() (*Api, scope, error) { return s.readAPI(ctx, apiID) })
	if err != nil {
		return nil, scope{}, err
	}
	return e.api, e.sc, nil
}

// readAPI reads an API by its id alone from the store.
func (s *Service) readAPI(ctx context.Context, apiID string) (*Api, scope, error) {
	var sc scope
	var doc string
	err := s.st.QueryRow(ctx, `SELECT account, region, doc FROM apigw_resources WHERE api_id = ? AND kind = ? AND id = ?`,
		apiID, kindAPI, apiID).Scan(&sc.account, &sc.region, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sc, nil
	}
	if err != nil {
		return nil, sc, err
	}
	var a Api
	if err := json.Unmarshal([]byte(doc), &a); err != nil {
		return nil, sc, err
	}
	if awsproto.Value(a.DisableExecuteApiEndpoint) {
		return nil, sc, nil
	}
	return &a, sc, nil
}

// loadDeployed finds the stage a request path names (a named stage's segment, else the
// $default stage) and its deployment; ok is false when there is none. What it returns is
// shared with other requests: callers must not modify it.
func (s *Service) loadDeployed(ctx context.Context, sc scope, apiID, path string) (*deployedAPI, bool, error) {
	e, err := s.cache.api(apiID, func() (*Api, scope, error) { return s.readAPI(ctx, apiID) })
	if err != nil || e.api == nil {
		return nil, false, err
	}
	stage := func(name string) (*cachedStage, error) {
		return s.cache.stage(e, name, func() (*cachedStage, error) { return s.deployedStage(ctx, sc, apiID, name) })
	}
	d := deployedAPI{sc: sc, apiID: apiID, path: path}
	first, rest, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	var cs *cachedStage
	if first != "" && first != defaultStage {
		if cs, err = stage(first); err != nil {
			return nil, false, err
		}
		d.path = "/" + rest
	}
	if cs == nil {
		if cs, err = stage(defaultStage); err != nil || cs == nil {
			return nil, false, err
		}
		d.path = path
	}
	d.stage, d.deployed = cs.stage, cs.deployed
	return &d, true, nil
}

// serveInvoke serves a request to an API's invoke URL: it answers CORS preflights from the
// API's configuration, finds the deployed stage and route, and calls the route's Lambda or HTTP
// proxy integration.
func (s *Service) serveInvoke(w http.ResponseWriter, r *http.Request, apiID string) {
	ctx := r.Context()
	requestID := newID(16)
	w.Header().Set("Apigw-Requestid", requestID)
	a, sc, err := s.loadAPI(ctx, apiID)
	if err != nil {
		s.log.Error("load API", "api", apiID, "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if a == nil {
		if rest, ok := service.Lookup[restInvoker](s.services, "apigateway"); ok && rest.ServeInvoke(w, r, apiID) {
			return
		}
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	if isWebSocket(a) {
		s.serveWebSocket(w, r, apiID, sc)
		return
	}
	if c := a.CorsConfiguration; c != nil {
		if cors.IsPreflight(r) {
			corsConfig(c).Preflight(w.Header(), r)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			w = &corsWriter{ResponseWriter: w, cors: corsConfig(c), origin: origin}
		}
	}
	d, ok, err := s.loadDeployed(ctx, sc, apiID, r.URL.Path)
	if err != nil {
		s.log.Error("load deployed API", "api", apiID, "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if !ok {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	rec := &accessRecord{start: s.now(), requestID: requestID, d: d}
	w = &recorder{ResponseWriter: w, rec: rec}
	defer s.writeAccessLog(ctx, r, rec)
	m := matchRoute(d.deployed.Routes, r.Method, d.path)
	if m == nil {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	rec.routeKey = awsproto.Value(m.route.RouteKey)
	if limit, burst, ok := d.stage.limits(rec.routeKey); ok &&
		!s.throttles.allow(throttleKey{apiID, awsproto.Value(d.stage.StageName), rec.routeKey}, limit, burst, s.now()) {
		writeMessage(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}
	integ := d.integration(awsproto.Value(m.route.Target))
	if integ == nil {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	if len(body) > maxPayload {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	req := &proxyRequest{r: r, body: body, d: d, match: m, requestID: requestID, now: s.now()}
	if !s.authorize(w, req, rec) {
		return
	}
	path := ""
	if integ.IntegrationSubtype == nil && len(integ.RequestParameters) > 0 {
		req.r, path = s.mapRequest(req, rec, integ.RequestParameters)
	}
	if len(integ.ResponseParameters) > 0 {
		rec.mapResponse = func(status int, h http.Header, body []byte) int {
			return s.mapResponse(req, rec, integ.ResponseParameters, status, h, body)
		}
	}
	if awsproto.Value(integ.IntegrationType) == typeHTTP {
		s.forward(w, req.r, rec, m, integ, body, path)
		return
	}
	switch awsproto.Value(integ.IntegrationSubtype) {
	case subtypeSQSSend:
		s.sendToSQS(w, req, rec, integ)
		return
	case subtypeEventsPut:
		s.putToEventBridge(w, req, rec, integ)
		return
	case subtypeSFNStart, subtypeSFNSync:
		s.startExecution(w, req, rec, integ)
		return
	}
	var payload []byte
	if awsproto.Value(integ.PayloadFormatVersion) == "2.0" {
		payload, err = json.Marshal(req.v2())
	} else {
		payload, err = json.Marshal(req.v1())
	}
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	s.invoke(w, r.Context(), rec, m, integ, r.Method, payload)
}

// integration is the deployed integration a route target names.
func (d *deployedAPI) integration(target string) *Integration {
	id, ok := strings.CutPrefix(target, "integrations/")
	if !ok {
		return nil
	}
	for i := range d.deployed.Integrations {
		if awsproto.Value(d.deployed.Integrations[i].IntegrationId) == id {
			return &d.deployed.Integrations[i]
		}
	}
	return nil
}

// sourceARN is the execute-api ARN API Gateway invokes a function for:
// arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH, or …/STAGE/$default.
func (d *deployedAPI) sourceARN(routeKey, method string) string {
	res := "$default"
	if routeKey != defaultRoute {
		_, path, _ := strings.Cut(routeKey, " ")
		res = method + path
	}
	return fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s", d.sc.region, d.sc.account, d.apiID, awsproto.Value(d.stage.StageName), res)
}

// invoke calls the integration's function within its timeout and writes its answer.
func (s *Service) invoke(w http.ResponseWriter, ctx context.Context, rec *accessRecord, m *routeMatch, integ *Integration, method string, payload []byte) {
	d := rec.d
	lambda, ok := service.Lookup[functionInvoker](s.services, "lambda")
	if !ok {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	ictx, cancel := context.WithTimeout(ctx, integ.timeout())
	defer cancel()
	start := s.now()
	out, fnErr, err := lambda.InvokeForService(ictx, integrationFunction(awsproto.Value(integ.IntegrationUri)), principal,
		d.sourceARN(awsproto.Value(m.route.RouteKey), method), d.sc.account, payload)
	rec.integrationLatency, rec.integrationStatus = s.now().Sub(start), http.StatusOK
	switch {
	case err != nil:
		rec.integrationStatus, rec.integrationError = http.StatusInternalServerError, err.Error()
	case fnErr != "":
		rec.integrationError = "The Lambda function returned an error: " + fnErr
	}
	switch {
	case err != nil && errors.Is(ictx.Err(), context.DeadlineExceeded):
		writeMessage(w, http.StatusGatewayTimeout, "Gateway Timeout")
		return
	case err != nil:
		s.log.Warn("integration failed", "api", d.apiID, "function", awsproto.Value(integ.IntegrationUri), "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	case fnErr != "":
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	var res *proxyResponse
	if awsproto.Value(integ.PayloadFormatVersion) == "2.0" {
		res, err = interpretV2(out)
	} else {
		res, err = interpretV1(out)
	}
	if err != nil {
		s.log.Warn("malformed Lambda proxy response", "api", d.apiID, "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if rec.mapResponse != nil {
		res.status = rec.mapResponse(res.status, res.header, res.body)
	}
	for k, vs := range res.header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(res.body)))
	w.WriteHeader(res.status)
	w.Write(res.body)
}

// timeout is how long the integration may take to answer.
func (i *Integration) timeout() time.Duration {
	if t := awsproto.Value(i.TimeoutInMillis); t > 0 {
		return time.Duration(t) * time.Millisecond
	}
	return defaultTimeoutMillis * time.Millisecond
}
