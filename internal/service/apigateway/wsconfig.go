package apigateway

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// The route keys API Gateway gives WebSocket APIs, and their integrations' default timeout.
const (
	routeConnect           = "$connect"
	routeDisconnect        = "$disconnect"
	webSocketTimeoutMillis = 29000
	kindRouteResponse      = "routeresponse"
)

// isWebSocket reports whether a is a WebSocket API.
func isWebSocket(a *Api) bool { return awsproto.Value(a.ProtocolType) == protocolWebSocket }

// checkWebSocketAPIInput checks what CreateApi gives a WebSocket API: a route selection
// expression, and none of the HTTP APIs' quick create and CORS.
func checkWebSocketAPIInput(in *CreateApiRequest) error {
	if in.RouteSelectionExpression == nil {
		return badRequest("RouteSelectionExpression is required for WebSocket APIs")
	}
	if _, err := parseSelection(*in.RouteSelectionExpression); err != nil {
		return err
	}
	if in.Target != nil || in.RouteKey != nil {
		return badRequest("Target and RouteKey are not supported for WebSocket APIs")
	}
	if in.CorsConfiguration != nil {
		return badRequest("CORS configuration is not supported for WebSocket APIs")
	}
	return nil
}

// checkRouteSelection checks a new route selection expression for the API a.
func checkRouteSelection(a *Api, expr *string) error {
	if expr == nil {
		return nil
	}
	if !isWebSocket(a) {
		if *expr != httpRouteSelection {
			return badRequest("Unsupported route selection expression for HTTP API: %s", *expr)
		}
		return nil
	}
	_, err := parseSelection(*expr)
	return err
}

// selection is a parsed selection expression: literal text and $request.body paths, joined.
type selection []selectionPart

// selectionPart is literal text, or (when path is not nil) the value at a JSON path of the body.
type selectionPart struct {
	text string
	path []string
}

// parseSelection parses a WebSocket route selection expression as API Gateway accepts them:
// $request.body.PATH, or text with ${request.body.PATH} placeholders, for example
// "${request.body.service}/${request.body.action}".
func parseSelection(expr string) (selection, error) {
	invalid := badRequest("Invalid route selection expression specified: %s. Supported expressions are $request.body.{path} and text with ${request.body.{path}} placeholders", expr)
	if rest, ok := strings.CutPrefix(expr, "$request.body."); ok {
		path, err := selectionPath(rest)
		if err != nil {
			return nil, invalid
		}
		return selection{{path: path}}, nil
	}
	var sel selection
	for rest := expr; rest != ""; {
		i := strings.Index(rest, "${")
		if i < 0 {
			sel = append(sel, selectionPart{text: rest})
			break
		}
		if i > 0 {
			sel = append(sel, selectionPart{text: rest[:i]})
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil, invalid
		}
		inner, ok := strings.CutPrefix(rest[i+2:i+end], "request.body.")
		if !ok {
			return nil, invalid
		}
		path, err := selectionPath(inner)
		if err != nil {
			return nil, invalid
		}
		sel = append(sel, selectionPart{path: path})
		rest = rest[i+end+1:]
	}
	if len(sel) == 0 || strings.ContainsAny(expr, " \t") {
		return nil, invalid
	}
	for _, p := range sel {
		if p.path != nil {
			return sel, nil
		}
	}
	return nil, invalid
}

// selectionPath splits a dotted JSON path of names.
func selectionPath(s string) ([]string, error) {
	path := strings.Split(s, ".")
	for _, p := range path {
		if p == "" || strings.ContainsAny(p, "${}[] ") {
			return nil, badRequest("invalid path")
		}
	}
	return path, nil
}

// evaluate returns the route key the expression selects for a message body; ok is false when the
// body is not a JSON object or a path names no string, number or boolean.
func (sel selection) evaluate(body []byte) (string, bool) {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil || doc == nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range sel {
		if p.path == nil {
			b.WriteString(p.text)
			continue
		}
		var v any = doc
		for _, name := range p.path {
			m, ok := v.(map[string]any)
			if !ok {
				return "", false
			}
			v = m[name]
		}
		switch v := v.(type) {
		case string:
			b.WriteString(v)
		case float64, bool:
			j, _ := json.Marshal(v)
			b.Write(j)
		default:
			return "", false
		}
	}
	return b.String(), true
}

// checkRouteFor checks a route key (when given) and route response selection expression for the
// API a: WebSocket route keys are $connect, $disconnect, $default or any text not starting
// with $, and only WebSocket routes have a route response selection expression, $default.
func checkRouteFor(a *Api, key, responseSelection *string) error {
	if !isWebSocket(a) {
		if responseSelection != nil {
			return badRequest("RouteResponseSelectionExpression is not supported for HTTP APIs")
		}
		if key == nil {
			return nil
		}
		return checkRouteKey(*key)
	}
	if responseSelection != nil && *responseSelection != "$default" {
		return badRequest("Invalid route response selection expression specified: %s. Only $default is supported", *responseSelection)
	}
	if key == nil {
		return nil
	}
	switch k := *key; {
	case k == routeConnect || k == routeDisconnect || k == defaultRoute:
	case k == "" || len(k) > 128:
		return badRequest("Route key must be between 1 and 128 characters")
	case strings.HasPrefix(k, "$"):
		return badRequest("Unable to create route with route key %s. Route keys starting with $ are reserved: use $connect, $disconnect or $default", k)
	}
	return nil
}

// checkTemplateInput refuses the settings of integrations with mapping templates, which Kiri
// does not build.
func checkTemplateInput(contentHandling, passthrough, templateSelection *string) error {
	if contentHandling != nil || passthrough != nil || templateSelection != nil {
		return badRequest("ContentHandlingStrategy, PassthroughBehavior and TemplateSelectionExpression are not supported by this server yet")
	}
	return nil
}

// checkWebSocketIntegration checks an integration of a WebSocket API: Kiri's WebSocket APIs
// call Lambda functions through AWS_PROXY integrations.
func checkWebSocketIntegration(i *Integration) error {
	if awsproto.Value(i.IntegrationType) != typeLambda || i.IntegrationSubtype != nil {
		return badRequest("Integration type %s is not supported by this server yet for WebSocket APIs; only AWS_PROXY integrations with Lambda functions are",
			awsproto.Value(i.IntegrationType))
	}
	if awsproto.Value(i.PayloadFormatVersion) != "1.0" {
		return badRequest("Unsupported payload format version %s for WebSocket APIs; they support 1.0 only", awsproto.Value(i.PayloadFormatVersion))
	}
	if t := awsproto.Value(i.TimeoutInMillis); t > webSocketTimeoutMillis {
		return badRequest("Timeout must be between 50 milliseconds and 29 seconds for WebSocket APIs")
	}
	return nil
}

// routeResponse is a route response as stored: the response and the route it belongs to.
type routeResponse struct {
	RouteResponse
	RouteID string `json:"routeId"`
}

// routeResponseDocID is a route response's row id: its route's id and its own.
func routeResponseDocID(routeID, id string) string { return routeID + ":" + id }

// checkRouteResponseInput checks a route response: the $default key, without models or
// parameters, which Kiri does not build.
func checkRouteResponseInput(key, modelSelection *string, models map[string]string, params map[string]ParameterConstraints) error {
	if key != nil && *key != "$default" {
		return badRequest("Invalid route response key %s: only $default is supported by this server yet", *key)
	}
	if modelSelection != nil || len(models) > 0 || len(params) > 0 {
		return badRequest("Response models and parameters are not supported by this server yet")
	}
	return nil
}

// requireWebSocketRoute loads a route of a WebSocket API, or answers as API Gateway does.
func requireWebSocketRoute(q rowQuery, sc scope, apiID, routeID string) error {
	var r Route
	if err := requireDoc(q, sc, apiID, kindRoute, routeID, "Route", &r); err != nil {
		return err
	}
	a, err := requireAPI(q, sc, apiID)
	if err != nil {
		return err
	}
	if !isWebSocket(a) {
		return badRequest("Route responses are supported only for WebSocket APIs")
	}
	return nil
}

func (s *Service) createRouteResponse(ctx context.Context, in *CreateRouteResponseRequest) (*CreateRouteResponseResponse, error) {
	if in.RouteResponseKey == nil {
		return nil, badRequest("RouteResponseKey is required")
	}
	if err := checkRouteResponseInput(in.RouteResponseKey, in.ModelSelectionExpression, in.ResponseModels, in.ResponseParameters); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	apiID, routeID := awsproto.Value(in.ApiId), awsproto.Value(in.RouteId)
	rr := routeResponse{RouteResponse: RouteResponse{RouteResponseId: awsproto.Ptr(newID(6)), RouteResponseKey: in.RouteResponseKey}, RouteID: routeID}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if err := requireWebSocketRoute(tx.QueryRow, sc, apiID, routeID); err != nil {
			return err
		}
		existing, err := s.routeResponses(tx.Query, sc, apiID, routeID)
		if err != nil {
			return err
		}
		for _, e := range existing {
			if awsproto.Value(e.RouteResponseKey) == *in.RouteResponseKey {
				return conflict("Route response with key %s already exists for this route", *in.RouteResponseKey)
			}
		}
		if err := putDoc(tx, sc, apiID, kindRouteResponse, routeResponseDocID(routeID, *rr.RouteResponseId), &rr); err != nil {
			return err
		}
		return s.autoDeploy(tx, sc, apiID)
	})
	if err != nil {
		return nil, wrap("create route response", err)
	}
	return (*CreateRouteResponseResponse)(&rr.RouteResponse), nil
}

// routeResponses reads a route's responses.
func (s *Service) routeResponses(q rowsQuery, sc scope, apiID, routeID string) ([]routeResponse, error) {
	all, err := listAll[routeResponse](q, sc, apiID, kindRouteResponse)
	if err != nil {
		return nil, err
	}
	var out []routeResponse
	for _, rr := range all {
		if rr.RouteID == routeID {
			out = append(out, rr)
		}
	}
	return out, nil
}

// requireRouteResponse loads a route response, or answers NotFoundException.
func requireRouteResponse(q rowQuery, sc scope, apiID, routeID, id string) (*routeResponse, error) {
	if err := requireWebSocketRoute(q, sc, apiID, routeID); err != nil {
		return nil, err
	}
	var rr routeResponse
	ok, err := getDoc(q, sc, apiID, kindRouteResponse, routeResponseDocID(routeID, id), &rr)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("Invalid RouteResponse identifier specified %s:%s:%s", sc.account, apiID, id)
	}
	return &rr, nil
}

func (s *Service) getRouteResponse(ctx context.Context, in *GetRouteResponseRequest) (*GetRouteResponseResponse, error) {
	rr, err := requireRouteResponse(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.ApiId), awsproto.Value(in.RouteId), awsproto.Value(in.RouteResponseId))
	if err != nil {
		return nil, wrap("get route response", err)
	}
	return (*GetRouteResponseResponse)(&rr.RouteResponse), nil
}

func (s *Service) getRouteResponses(ctx context.Context, in *GetRouteResponsesRequest) (*GetRouteResponsesResponse, error) {
	sc := scopeOf(ctx)
	apiID, routeID := awsproto.Value(in.ApiId), awsproto.Value(in.RouteId)
	if err := requireWebSocketRoute(storeRow(ctx, s.st), sc, apiID, routeID); err != nil {
		return nil, wrap("get route responses", err)
	}
	all, err := s.routeResponses(storeRows(ctx, s.st), sc, apiID, routeID)
	if err != nil {
		return nil, wrap("get route responses", err)
	}
	out := &GetRouteResponsesResponse{Items: []RouteResponse{}}
	for _, rr := range all {
		out.Items = append(out.Items, rr.RouteResponse)
	}
	return out, nil
}

func (s *Service) updateRouteResponse(ctx context.Context, in *UpdateRouteResponseRequest) (*UpdateRouteResponseResponse, error) {
	if err := checkRouteResponseInput(in.RouteResponseKey, in.ModelSelectionExpression, in.ResponseModels, in.ResponseParameters); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	apiID, routeID := awsproto.Value(in.ApiId), awsproto.Value(in.RouteId)
	var rr *routeResponse
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if rr, err = requireRouteResponse(tx.QueryRow, sc, apiID, routeID, awsproto.Value(in.RouteResponseId)); err != nil {
			return err
		}
		set(&rr.RouteResponseKey, in.RouteResponseKey)
		if err := putDoc(tx, sc, apiID, kindRouteResponse, routeResponseDocID(routeID, *rr.RouteResponseId), rr); err != nil {
			return err
		}
		return s.autoDeploy(tx, sc, apiID)
	})
	if err != nil {
		return nil, wrap("update route response", err)
	}
	return (*UpdateRouteResponseResponse)(&rr.RouteResponse), nil
}

func (s *Service) deleteRouteResponse(ctx context.Context, in *DeleteRouteResponseRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID, routeID, id := awsproto.Value(in.ApiId), awsproto.Value(in.RouteId), awsproto.Value(in.RouteResponseId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := requireRouteResponse(tx.QueryRow, sc, apiID, routeID, id); err != nil {
			return err
		}
		if err := deleteDoc(tx, sc, apiID, kindRouteResponse, routeResponseDocID(routeID, id)); err != nil {
			return err
		}
		return s.autoDeploy(tx, sc, apiID)
	})
	if err != nil {
		return nil, wrap("delete route response", err)
	}
	return &struct{}{}, nil
}

// deleteRouteResponses deletes a route's responses with the route.
func deleteRouteResponses(tx *store.Tx, sc scope, apiID, routeID string) error {
	_, err := tx.Exec(`DELETE FROM apigw_resources WHERE account = ? AND region = ? AND api_id = ? AND kind = ? AND id LIKE ?`,
		sc.account, sc.region, apiID, kindRouteResponse, routeID+":%")
	return err
}

// socketIdentitySource is an identity source of a WebSocket API's authorizer: a header or
// query string parameter of the $connect request.
var socketIdentitySource = regexp.MustCompile(`^route\.request\.(header\.[A-Za-z0-9!#$%&'*+.^_` + "`" + `|~-]+|querystring\.[^\s]+)$`)

// checkSocketAuthorizer checks a WebSocket API's authorizer: a Lambda REQUEST authorizer
// answering with an IAM policy, its identity sources headers or query string parameters of
// the $connect request.
func checkSocketAuthorizer(a *Authorizer) error {
	if t := awsproto.Value(a.AuthorizerType); t != authorizerRequest {
		return badRequest("Invalid authorizer type %s for WebSocket API. Supported type is REQUEST", t)
	}
	for _, src := range a.IdentitySource {
		if !socketIdentitySource.MatchString(src) {
			return badRequest("Invalid identity source %s. Identity sources of WebSocket API authorizers supported by this server are route.request.header.<name> and route.request.querystring.<name>", src)
		}
	}
	if a.JwtConfiguration != nil || a.AuthorizerPayloadFormatVersion != nil || a.EnableSimpleResponses != nil {
		return badRequest("JwtConfiguration, AuthorizerPayloadFormatVersion and EnableSimpleResponses are not supported for WebSocket APIs")
	}
	if err := checkAuthorizerFunction(a); err != nil {
		return err
	}
	return checkAuthorizerTTL(a)
}
