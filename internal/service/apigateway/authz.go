package apigateway

import (
	"context"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// operations is how each operation authorizes in enforce mode, as the Service Authorization
// Reference's "Actions defined by Amazon API Gateway Management V2" says: the HTTP method's
// action (apigateway:GET, POST, PATCH, DELETE) on the resource path the call addresses,
// arn:aws:apigateway:REGION::/apis/API-ID/routes/ROUTE-ID and so on.
func (s *Service) operations() authz.Operations {
	on := func(action string, path func(in any) string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			c := awsproto.CallFrom(ctx)
			return []authz.Request{{Action: "apigateway:" + action, Resource: "arn:aws:apigateway:" + c.Region + "::" + path(in)}}, nil
		}
	}
	api := func(id *string) string { return "/apis/" + awsproto.Value(id) }
	sub := func(id *string, kind string, sub *string) string {
		return api(id) + "/" + kind + "/" + awsproto.Value(sub)
	}
	return authz.Operations{
		"CreateApi": on("POST", func(any) string { return "/apis" }),
		"GetApis":   on("GET", func(any) string { return "/apis" }),
		"GetApi":    on("GET", func(in any) string { return api(in.(*GetApiRequest).ApiId) }),
		"UpdateApi": on("PATCH", func(in any) string { return api(in.(*UpdateApiRequest).ApiId) }),
		"DeleteApi": on("DELETE", func(in any) string { return api(in.(*DeleteApiRequest).ApiId) }),
		"DeleteCorsConfiguration": on("DELETE", func(in any) string {
			return api(in.(*DeleteCorsConfigurationRequest).ApiId) + "/cors"
		}),

		"CreateRoute": on("POST", func(in any) string { return api(in.(*CreateRouteRequest).ApiId) + "/routes" }),
		"GetRoutes":   on("GET", func(in any) string { return api(in.(*GetRoutesRequest).ApiId) + "/routes" }),
		"GetRoute": on("GET", func(in any) string {
			i := in.(*GetRouteRequest)
			return sub(i.ApiId, "routes", i.RouteId)
		}),
		"UpdateRoute": on("PATCH", func(in any) string {
			i := in.(*UpdateRouteRequest)
			return sub(i.ApiId, "routes", i.RouteId)
		}),
		"DeleteRoute": on("DELETE", func(in any) string {
			i := in.(*DeleteRouteRequest)
			return sub(i.ApiId, "routes", i.RouteId)
		}),

		"CreateRouteResponse": on("POST", func(in any) string {
			i := in.(*CreateRouteResponseRequest)
			return sub(i.ApiId, "routes", i.RouteId) + "/routeresponses"
		}),
		"GetRouteResponses": on("GET", func(in any) string {
			i := in.(*GetRouteResponsesRequest)
			return sub(i.ApiId, "routes", i.RouteId) + "/routeresponses"
		}),
		"GetRouteResponse": on("GET", func(in any) string {
			i := in.(*GetRouteResponseRequest)
			return sub(i.ApiId, "routes", i.RouteId) + "/routeresponses/" + awsproto.Value(i.RouteResponseId)
		}),
		"UpdateRouteResponse": on("PATCH", func(in any) string {
			i := in.(*UpdateRouteResponseRequest)
			return sub(i.ApiId, "routes", i.RouteId) + "/routeresponses/" + awsproto.Value(i.RouteResponseId)
		}),
		"DeleteRouteResponse": on("DELETE", func(in any) string {
			i := in.(*DeleteRouteResponseRequest)
			return sub(i.ApiId, "routes", i.RouteId) + "/routeresponses/" + awsproto.Value(i.RouteResponseId)
		}),

		"CreateIntegration": on("POST", func(in any) string { return api(in.(*CreateIntegrationRequest).ApiId) + "/integrations" }),
		"GetIntegrations":   on("GET", func(in any) string { return api(in.(*GetIntegrationsRequest).ApiId) + "/integrations" }),
		"GetIntegration": on("GET", func(in any) string {
			i := in.(*GetIntegrationRequest)
			return sub(i.ApiId, "integrations", i.IntegrationId)
		}),
		"UpdateIntegration": on("PATCH", func(in any) string {
			i := in.(*UpdateIntegrationRequest)
			return sub(i.ApiId, "integrations", i.IntegrationId)
		}),
		"DeleteIntegration": on("DELETE", func(in any) string {
			i := in.(*DeleteIntegrationRequest)
			return sub(i.ApiId, "integrations", i.IntegrationId)
		}),

		"CreateAuthorizer": on("POST", func(in any) string { return api(in.(*CreateAuthorizerRequest).ApiId) + "/authorizers" }),
		"GetAuthorizers":   on("GET", func(in any) string { return api(in.(*GetAuthorizersRequest).ApiId) + "/authorizers" }),
		"GetAuthorizer": on("GET", func(in any) string {
			i := in.(*GetAuthorizerRequest)
			return sub(i.ApiId, "authorizers", i.AuthorizerId)
		}),
		"UpdateAuthorizer": on("PATCH", func(in any) string {
			i := in.(*UpdateAuthorizerRequest)
			return sub(i.ApiId, "authorizers", i.AuthorizerId)
		}),
		"DeleteAuthorizer": on("DELETE", func(in any) string {
			i := in.(*DeleteAuthorizerRequest)
			return sub(i.ApiId, "authorizers", i.AuthorizerId)
		}),

		"CreateStage": on("POST", func(in any) string { return api(in.(*CreateStageRequest).ApiId) + "/stages" }),
		"GetStages":   on("GET", func(in any) string { return api(in.(*GetStagesRequest).ApiId) + "/stages" }),
		"GetStage": on("GET", func(in any) string {
			i := in.(*GetStageRequest)
			return sub(i.ApiId, "stages", i.StageName)
		}),
		"UpdateStage": on("PATCH", func(in any) string {
			i := in.(*UpdateStageRequest)
			return sub(i.ApiId, "stages", i.StageName)
		}),
		"DeleteStage": on("DELETE", func(in any) string {
			i := in.(*DeleteStageRequest)
			return sub(i.ApiId, "stages", i.StageName)
		}),

		"DeleteRouteSettings": on("DELETE", func(in any) string {
			i := in.(*DeleteRouteSettingsRequest)
			return sub(i.ApiId, "stages", i.StageName) + "/routesettings/" + awsproto.Value(i.RouteKey)
		}),

		"CreateDeployment": on("POST", func(in any) string { return api(in.(*CreateDeploymentRequest).ApiId) + "/deployments" }),
		"GetDeployments":   on("GET", func(in any) string { return api(in.(*GetDeploymentsRequest).ApiId) + "/deployments" }),
		"GetDeployment": on("GET", func(in any) string {
			i := in.(*GetDeploymentRequest)
			return sub(i.ApiId, "deployments", i.DeploymentId)
		}),
		"TagResource":   on("POST", func(in any) string { return "/tags/" + awsproto.Value(in.(*TagResourceRequest).ResourceArn) }),
		"UntagResource": on("DELETE", func(in any) string { return "/tags/" + awsproto.Value(in.(*UntagResourceRequest).ResourceArn) }),
		"GetTags":       on("GET", func(in any) string { return "/tags/" + awsproto.Value(in.(*GetTagsRequest).ResourceArn) }),
		"DeleteDeployment": on("DELETE", func(in any) string {
			i := in.(*DeleteDeploymentRequest)
			return sub(i.ApiId, "deployments", i.DeploymentId)
		}),
	}
}
