package apigateway

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// Protocol types of APIs, and the one route selection expression of HTTP APIs.
const (
	protocolHTTP       = "HTTP"
	protocolWebSocket  = "WEBSOCKET"
	httpRouteSelection = "$request.method $request.path"
)

// apiEndpoint is the invoke URL base of an API on this Kiri: http:// for HTTP APIs, ws:// for
// WebSocket APIs.
func (s *Service) apiEndpoint(apiID, protocol string) string {
	scheme := "http"
	if protocol == protocolWebSocket {
		scheme = "ws"
	}
	return fmt.Sprintf("%s://%s.execute-api.localhost:%s", scheme, apiID, s.port)
}

// checkAPIInput refuses what Kiri's HTTP APIs do not build (credentials for quick create's
// integration) and CORS configurations API Gateway refuses.
func checkAPIInput(c *Cors, credentials *string) error {
	if credentials != nil {
		return badRequest("CredentialsArn is not supported by this server yet")
	}
	return checkCors(c)
}

func (s *Service) createApi(ctx context.Context, in *CreateApiRequest) (*CreateApiResponse, error) {
	switch awsproto.Value(in.ProtocolType) {
	case protocolHTTP:
		if in.RouteSelectionExpression != nil && *in.RouteSelectionExpression != httpRouteSelection {
			return nil, badRequest("Unsupported route selection expression for HTTP API: %s", *in.RouteSelectionExpression)
		}
	case protocolWebSocket:
		if err := checkWebSocketAPIInput(in); err != nil {
			return nil, err
		}
	default:
		return nil, badRequest("Invalid protocol type: %s", awsproto.Value(in.ProtocolType))
	}
	if err := checkAPIInput(in.CorsConfiguration, in.CredentialsArn); err != nil {
		return nil, err
	}
	if in.RouteKey != nil && in.Target == nil {
		return nil, badRequest("RouteKey can only be specified along with Target")
	}
	sc := scopeOf(ctx)
	now := s.now().UTC()
	id := newID(10)
	a := Api{
		ApiEndpoint: awsproto.Ptr(s.apiEndpoint(id, awsproto.Value(in.ProtocolType))), ApiId: &id, Name: in.Name, ProtocolType: in.ProtocolType,
		ApiKeySelectionExpression: awsproto.Ptr("$request.header.x-api-key"), CreatedDate: &now,
		Description: in.Description, CorsConfiguration: in.CorsConfiguration, DisableExecuteApiEndpoint: awsproto.Ptr(awsproto.Value(in.DisableExecuteApiEndpoint)),
		RouteSelectionExpression: awsproto.Ptr(httpRouteSelection), Tags: in.Tags, Version: in.Version,
		IpAddressType: awsproto.Ptr("ipv4"),
	}
	if in.ApiKeySelectionExpression != nil {
		a.ApiKeySelectionExpression = in.ApiKeySelectionExpression
	}
	if in.IpAddressType != nil {
		a.IpAddressType = in.IpAddressType
	}
	if awsproto.Value(in.ProtocolType) == protocolWebSocket {
		a.RouteSelectionExpression = in.RouteSelectionExpression
		a.DisableSchemaValidation = nil
	}
	if a.Tags == nil {
		a.Tags = map[string]string{}
	}
	var quick *Integration
	var quickRoute *Route
	if in.Target != nil {
		routeKey := "$default"
		if in.RouteKey != nil {
			routeKey = *in.RouteKey
		}
		if err := checkRouteKey(routeKey); err != nil {
			return nil, err
		}
		uri, err := checkIntegrationURI(*in.Target)
		if err != nil {
			return nil, err
		}
		quick = &Integration{
			ApiGatewayManaged: awsproto.Ptr(true), IntegrationId: awsproto.Ptr(newID(7)), IntegrationType: awsproto.Ptr("AWS_PROXY"),
			IntegrationMethod: awsproto.Ptr("POST"), IntegrationUri: &uri, PayloadFormatVersion: awsproto.Ptr("2.0"),
			ConnectionType: awsproto.Ptr("INTERNET"), TimeoutInMillis: awsproto.Ptr(int32(defaultTimeoutMillis)),
		}
		quickRoute = &Route{
			ApiGatewayManaged: awsproto.Ptr(true), RouteId: awsproto.Ptr(newID(7)), RouteKey: &routeKey,
			ApiKeyRequired: awsproto.Ptr(false), AuthorizationType: awsproto.Ptr("NONE"),
			Target: awsproto.Ptr("integrations/" + *quick.IntegrationId),
		}
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if err := putDoc(tx, sc, id, kindAPI, id, &a); err != nil {
			return err
		}
		if quick == nil {
			return nil
		}
		if err := putDoc(tx, sc, id, kindIntegration, *quick.IntegrationId, quick); err != nil {
			return err
		}
		if err := putDoc(tx, sc, id, kindRoute, *quickRoute.RouteId, quickRoute); err != nil {
			return err
		}
		st := Stage{
			StageName: awsproto.Ptr(defaultStage), AutoDeploy: awsproto.Ptr(true), ApiGatewayManaged: awsproto.Ptr(true),
			CreatedDate: &now, LastUpdatedDate: &now, DefaultRouteSettings: &RouteSettings{DetailedMetricsEnabled: awsproto.Ptr(false)},
			RouteSettings: map[string]RouteSettings{}, StageVariables: map[string]string{}, Tags: map[string]string{},
		}
		return s.deployInto(tx, sc, id, &st, nil, true)
	})
	if err != nil {
		return nil, wrap("create api", err)
	}
	return (*CreateApiResponse)(&a), nil
}

func (s *Service) getApi(ctx context.Context, in *GetApiRequest) (*GetApiResponse, error) {
	a, err := requireAPI(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.ApiId))
	if err != nil {
		return nil, wrap("get api", err)
	}
	return (*GetApiResponse)(a), nil
}

func (s *Service) getApis(ctx context.Context, in *GetApisRequest) (*GetApisResponse, error) {
	limit, err := pageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &GetApisResponse{Items: []Api{}}
	sc := scopeOf(ctx)
	// APIs are listed by the row's api_id column too: ids after the token, in order.
	rows, err := s.st.Query(ctx, `SELECT id, doc FROM apigw_resources WHERE account = ? AND region = ? AND kind = ? AND id > ?
		ORDER BY id LIMIT ?`, sc.account, sc.region, kindAPI, awsproto.Value(in.NextToken), limit+1)
	if err != nil {
		return nil, wrap("get apis", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, wrap("get apis", err)
		}
		if len(out.Items) == limit {
			out.NextToken = out.Items[limit-1].ApiId
			break
		}
		var a Api
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return nil, wrap("get apis", err)
		}
		out.Items = append(out.Items, a)
	}
	return out, wrap("get apis", rows.Err())
}

func (s *Service) updateApi(ctx context.Context, in *UpdateApiRequest) (*UpdateApiResponse, error) {
	if err := checkAPIInput(in.CorsConfiguration, in.CredentialsArn); err != nil {
		return nil, err
	}
	if in.Target != nil || in.RouteKey != nil {
		return nil, badRequest("Target and RouteKey in UpdateApi are not supported by this server yet")
	}
	sc := scopeOf(ctx)
	var a *Api
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = requireAPI(tx.QueryRow, sc, awsproto.Value(in.ApiId)); err != nil {
			return err
		}
		if err := checkRouteSelection(a, in.RouteSelectionExpression); err != nil {
			return err
		}
		if isWebSocket(a) && in.CorsConfiguration != nil {
			return badRequest("CORS configuration is not supported for WebSocket APIs")
		}
		if isWebSocket(a) {
			set(&a.RouteSelectionExpression, in.RouteSelectionExpression)
		}
		set(&a.Name, in.Name)
		set(&a.Description, in.Description)
		set(&a.Version, in.Version)
		set(&a.ApiKeySelectionExpression, in.ApiKeySelectionExpression)
		set(&a.DisableExecuteApiEndpoint, in.DisableExecuteApiEndpoint)
		set(&a.DisableSchemaValidation, in.DisableSchemaValidation)
		set(&a.IpAddressType, in.IpAddressType)
		set(&a.CorsConfiguration, in.CorsConfiguration)
		return putDoc(tx, sc, *a.ApiId, kindAPI, *a.ApiId, a)
	})
	if err != nil {
		return nil, wrap("update api", err)
	}
	return (*UpdateApiResponse)(a), nil
}

func (s *Service) deleteApi(ctx context.Context, in *DeleteApiRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		a, err := requireAPI(tx.QueryRow, sc, awsproto.Value(in.ApiId))
		if err != nil {
			return err
		}
		changed(tx, *a.ApiId)
		_, err = tx.Exec(`DELETE FROM apigw_resources WHERE account = ? AND region = ? AND api_id = ?`, sc.account, sc.region, *a.ApiId)
		return err
	})
	if err != nil {
		return nil, wrap("delete api", err)
	}
	return &struct{}{}, nil
}

// set overwrites *dst with v when v is given.
func set[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}
