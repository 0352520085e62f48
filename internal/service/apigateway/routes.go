package apigateway

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// routeMethods are the methods a route key may start with.
var routeMethods = map[string]bool{"ANY": true, "GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "HEAD": true, "OPTIONS": true}

// checkRouteKey accepts $default and "METHOD /path" keys whose path segments are literals or
// {parameters}, with a greedy {name+} only as the last segment.
func checkRouteKey(key string) error {
	if key == defaultRoute {
		return nil
	}
	method, path, ok := strings.Cut(key, " ")
	if !ok || !routeMethods[method] || !strings.HasPrefix(path, "/") {
		return badRequest("Unable to create route with route key %s. Route key must be $default or an HTTP method and a resource path, for example GET /pets.", key)
	}
	if path == "/" {
		return nil
	}
	segs := strings.Split(path[1:], "/")
	seen := map[string]bool{}
	for i, seg := range segs {
		if seg == "" {
			return badRequest("Invalid route key %s: a resource path must not contain empty segments", key)
		}
		if !strings.HasPrefix(seg, "{") && !strings.HasSuffix(seg, "}") {
			if strings.ContainsAny(seg, "{} ") {
				return badRequest("Invalid route key %s", key)
			}
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(seg, "{"), "}")
		if len(name)+2 != len(seg) || name == "" || strings.ContainsAny(name, "{}/ ") {
			return badRequest("Invalid route key %s", key)
		}
		if greedy, ok := strings.CutSuffix(name, "+"); ok {
			if i != len(segs)-1 || greedy == "" {
				return badRequest("Invalid route key %s: a greedy path variable must be the last segment of the resource path", key)
			}
			name = greedy
		}
		if seen[name] {
			return badRequest("Invalid route key %s: the path parameter %s is repeated", key, name)
		}
		seen[name] = true
	}
	return nil
}

// checkRouteInput refuses route settings HTTP APIs do not have: request parameters, models
// and API keys.
func checkRouteInput(models map[string]string, params map[string]ParameterConstraints, apiKey *bool) error {
	if len(models) > 0 || len(params) > 0 {
		return badRequest("RequestModels and RequestParameters are not supported for HTTP APIs")
	}
	if awsproto.Value(apiKey) {
		return badRequest("API keys are not supported for HTTP APIs")
	}
	return nil
}

// checkTarget requires a route target to name an integration of the API.
func checkTarget(tx *store.Tx, sc scope, apiID string, target *string) error {
	if target == nil {
		return nil
	}
	id, ok := strings.CutPrefix(*target, "integrations/")
	if !ok {
		return badRequest("Invalid target %s: a target must be integrations/{integration-id}", *target)
	}
	var in Integration
	found, err := getDoc(tx.QueryRow, sc, apiID, kindIntegration, id, &in)
	if err != nil {
		return err
	}
	if !found {
		return badRequest("Invalid integration identifier specified %s", id)
	}
	return nil
}

// checkKeyFree refuses a route key another route of the API has.
func checkKeyFree(tx *store.Tx, sc scope, apiID, key, except string) error {
	routes, err := listAll[Route](tx.Query, sc, apiID, kindRoute)
	if err != nil {
		return err
	}
	for _, r := range routes {
		if awsproto.Value(r.RouteKey) == key && awsproto.Value(r.RouteId) != except {
			return conflict("Route with key %s already exists for this API", key)
		}
	}
	return nil
}

func (s *Service) createRoute(ctx context.Context, in *CreateRouteRequest) (*CreateRouteResult, error) {
	key := awsproto.Value(in.RouteKey)
	if err := checkRouteInput(in.RequestModels, in.RequestParameters, in.ApiKeyRequired); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.ApiId)
	r := Route{
		RouteId: awsproto.Ptr(newID(7)), RouteKey: &key, ApiKeyRequired: awsproto.Ptr(false), AuthorizationType: awsproto.Ptr(authNone),
		AuthorizerId: in.AuthorizerId, AuthorizationScopes: in.AuthorizationScopes,
		Target: in.Target, OperationName: in.OperationName, ApiGatewayManaged: awsproto.Ptr(false),
		RouteResponseSelectionExpression: in.RouteResponseSelectionExpression,
	}
	set(&r.AuthorizationType, in.AuthorizationType)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		a, err := requireAPI(tx.QueryRow, sc, apiID)
		if err != nil {
			return err
		}
		if err := checkRouteFor(a, &key, in.RouteResponseSelectionExpression); err != nil {
			return err
		}
		if err := checkTarget(tx, sc, apiID, in.Target); err != nil {
			return err
		}
		if err := checkRouteAuth(tx, sc, apiID, key, *r.AuthorizationType, r.AuthorizerId, r.AuthorizationScopes); err != nil {
			return err
		}
		if err := checkKeyFree(tx, sc, apiID, key, ""); err != nil {
			return err
		}
		if err := putDoc(tx, sc, apiID, kindRoute, *r.RouteId, &r); err != nil {
			return err
		}
		return s.autoDeploy(tx, sc, apiID)
	})
	if err != nil {
		return nil, wrap("create route", err)
	}
	return (*CreateRouteResult)(&r), nil
}

func (s *Service) getRoute(ctx context.Context, in *GetRouteRequest) (*GetRouteResult, error) {
	var r Route
	if err := requireDoc(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.ApiId), kindRoute, awsproto.Value(in.RouteId), "Route", &r); err != nil {
		return nil, wrap("get route", err)
	}
	return (*GetRouteResult)(&r), nil
}

func (s *Service) getRoutes(ctx context.Context, in *GetRoutesRequest) (*GetRoutesResponse, error) {
	out := &GetRoutesResponse{Items: []Route{}}
	next, err := s.page(ctx, awsproto.Value(in.ApiId), kindRoute, in.MaxResults, in.NextToken, func(doc []byte) error {
		var r Route
		err := json.Unmarshal(doc, &r)
		out.Items = append(out.Items, r)
		return err
	})
	out.NextToken = next
	return out, wrap("get routes", err)
}

// page lists one page of an API's resources of a kind.
func (s *Service) page(ctx context.Context, apiID, kind string, max, token *string, add func(doc []byte) error) (*string, error) {
	limit, err := pageSize(max)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	if _, err := requireAPI(storeRow(ctx, s.st), sc, apiID); err != nil {
		return nil, err
	}
	next, err := listDocs(storeRows(ctx, s.st), sc, apiID, kind, awsproto.Value(token), limit, add)
	if err != nil || next == "" {
		return nil, err
	}
	return &next, nil
}

func (s *Service) updateRoute(ctx context.Context, in *UpdateRouteRequest) (*UpdateRouteResult, error) {
	if err := checkRouteInput(in.RequestModels, in.RequestParameters, in.ApiKeyRequired); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	apiID, id := awsproto.Value(in.ApiId), awsproto.Value(in.RouteId)
	var r Route
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if err := requireDoc(tx.QueryRow, sc, apiID, kindRoute, id, "Route", &r); err != nil {
			return err
		}
		a, err := requireAPI(tx.QueryRow, sc, apiID)
		if err != nil {
			return err
		}
		if err := checkRouteFor(a, in.RouteKey, in.RouteResponseSelectionExpression); err != nil {
			return err
		}
		if err := checkTarget(tx, sc, apiID, in.Target); err != nil {
			return err
		}
		if in.RouteKey != nil {
			if err := checkKeyFree(tx, sc, apiID, *in.RouteKey, id); err != nil {
				return err
			}
		}
		set(&r.RouteKey, in.RouteKey)
		set(&r.Target, in.Target)
		set(&r.OperationName, in.OperationName)
		set(&r.RouteResponseSelectionExpression, in.RouteResponseSelectionExpression)
		if t := in.AuthorizationType; t != nil && (*t == authNone || *t == authIAM) {
			// Routes that use no authorizer drop the one they had, and its scopes.
			r.AuthorizerId, r.AuthorizationScopes = nil, nil
		}
		set(&r.AuthorizationType, in.AuthorizationType)
		set(&r.AuthorizerId, in.AuthorizerId)
		if in.AuthorizationScopes != nil {
			r.AuthorizationScopes = in.AuthorizationScopes
		}
		if err := checkRouteAuth(tx, sc, apiID, awsproto.Value(r.RouteKey), awsproto.Value(r.AuthorizationType), r.AuthorizerId, r.AuthorizationScopes); err != nil {
			return err
		}
		if err := putDoc(tx, sc, apiID, kindRoute, id, &r); err != nil {
			return err
		}
		return s.autoDeploy(tx, sc, apiID)
	})
	if err != nil {
		return nil, wrap("update route", err)
	}
	return (*UpdateRouteResult)(&r), nil
}

func (s *Service) deleteRoute(ctx context.Context, in *DeleteRouteRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID, id := awsproto.Value(in.ApiId), awsproto.Value(in.RouteId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var r Route
		if err := requireDoc(tx.QueryRow, sc, apiID, kindRoute, id, "Route", &r); err != nil {
			return err
		}
		if err := deleteDoc(tx, sc, apiID, kindRoute, id); err != nil {
			return err
		}
		if err := deleteRouteResponses(tx, sc, apiID, id); err != nil {
			return err
		}
		return s.autoDeploy(tx, sc, apiID)
	})
	if err != nil {
		return nil, wrap("delete route", err)
	}
	return &struct{}{}, nil
}
