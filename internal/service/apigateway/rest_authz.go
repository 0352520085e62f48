package apigateway

import (
	"context"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
)

// restOperations is how each REST API operation authorizes in enforce mode, as the Service
// Authorization Reference's "Actions defined by Amazon API Gateway Management" says: the HTTP
// method's action (apigateway:GET, POST, PUT, PATCH, DELETE) on the resource path the call
// addresses, arn:aws:apigateway:REGION::/restapis/API-ID/resources/RESOURCE-ID and so on.
func restOperations() authz.Operations {
	on := func(action string, path func(in any) string) authz.Rule {
		return func(ctx context.Context, in any) ([]authz.Request, error) {
			c := awsproto.CallFrom(ctx)
			return []authz.Request{{Action: "apigateway:" + action, Resource: "arn:aws:apigateway:" + c.Region + "::" + path(in)}}, nil
		}
	}
	api := func(id *string) string { return "/restapis/" + awsproto.Value(id) }
	resource := func(id, res *string) string { return api(id) + "/resources/" + awsproto.Value(res) }
	method := func(id, res, m *string) string { return resource(id, res) + "/methods/" + awsproto.Value(m) }
	stage := func(id, name *string) string { return api(id) + "/stages/" + awsproto.Value(name) }
	plan := func(id *string) string { return "/usageplans/" + awsproto.Value(id) }
	deployment := func(id, d *string) string { return api(id) + "/deployments/" + awsproto.Value(d) }
	return authz.Operations{
		"CreateRestApi": on("POST", func(any) string { return "/restapis" }),
		"ImportRestApi": on("POST", func(any) string { return "/restapis" }),
		"GetRestApis":   on("GET", func(any) string { return "/restapis" }),
		"GetRestApi":    on("GET", func(in any) string { return api(in.(*restapi.GetRestApiRequest).RestApiId) }),
		"UpdateRestApi": on("PATCH", func(in any) string { return api(in.(*restapi.UpdateRestApiRequest).RestApiId) }),
		"PutRestApi":    on("PUT", func(in any) string { return api(in.(*restapi.PutRestApiRequest).RestApiId) }),
		"DeleteRestApi": on("DELETE", func(in any) string { return api(in.(*restapi.DeleteRestApiRequest).RestApiId) }),

		"CreateResource": on("POST", func(in any) string {
			i := in.(*restapi.CreateResourceRequest)
			return resource(i.RestApiId, i.ParentId)
		}),
		"GetResources": on("GET", func(in any) string { return api(in.(*restapi.GetResourcesRequest).RestApiId) + "/resources" }),
		"GetResource": on("GET", func(in any) string {
			i := in.(*restapi.GetResourceRequest)
			return resource(i.RestApiId, i.ResourceId)
		}),
		"DeleteResource": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteResourceRequest)
			return resource(i.RestApiId, i.ResourceId)
		}),

		"PutMethod": on("PUT", func(in any) string {
			i := in.(*restapi.PutMethodRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod)
		}),
		"GetMethod": on("GET", func(in any) string {
			i := in.(*restapi.GetMethodRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod)
		}),
		"DeleteMethod": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteMethodRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod)
		}),
		"PutMethodResponse": on("PUT", func(in any) string {
			i := in.(*restapi.PutMethodResponseRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/responses/" + awsproto.Value(i.StatusCode)
		}),
		"GetMethodResponse": on("GET", func(in any) string {
			i := in.(*restapi.GetMethodResponseRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/responses/" + awsproto.Value(i.StatusCode)
		}),
		"DeleteMethodResponse": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteMethodResponseRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/responses/" + awsproto.Value(i.StatusCode)
		}),

		"UpdateMethod": on("PATCH", func(in any) string {
			i := in.(*restapi.UpdateMethodRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod)
		}),
		"UpdateMethodResponse": on("PATCH", func(in any) string {
			i := in.(*restapi.UpdateMethodResponseRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/responses/" + awsproto.Value(i.StatusCode)
		}),
		"UpdateIntegration": on("PATCH", func(in any) string {
			i := in.(*restapi.UpdateIntegrationRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/integration"
		}),
		"UpdateIntegrationResponse": on("PATCH", func(in any) string {
			i := in.(*restapi.UpdateIntegrationResponseRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/integration/responses/" + awsproto.Value(i.StatusCode)
		}),
		"UpdateDeployment": on("PATCH", func(in any) string {
			i := in.(*restapi.UpdateDeploymentRequest)
			return deployment(i.RestApiId, i.DeploymentId)
		}),
		"PutIntegration": on("PUT", func(in any) string {
			i := in.(*restapi.PutIntegrationRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/integration"
		}),
		"GetIntegration": on("GET", func(in any) string {
			i := in.(*restapi.GetIntegrationRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/integration"
		}),
		"DeleteIntegration": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteIntegrationRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/integration"
		}),
		"PutIntegrationResponse": on("PUT", func(in any) string {
			i := in.(*restapi.PutIntegrationResponseRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/integration/responses/" + awsproto.Value(i.StatusCode)
		}),
		"GetIntegrationResponse": on("GET", func(in any) string {
			i := in.(*restapi.GetIntegrationResponseRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/integration/responses/" + awsproto.Value(i.StatusCode)
		}),
		"DeleteIntegrationResponse": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteIntegrationResponseRequest)
			return method(i.RestApiId, i.ResourceId, i.HttpMethod) + "/integration/responses/" + awsproto.Value(i.StatusCode)
		}),

		"CreateDeployment": on("POST", func(in any) string { return api(in.(*restapi.CreateDeploymentRequest).RestApiId) + "/deployments" }),
		"GetDeployments":   on("GET", func(in any) string { return api(in.(*restapi.GetDeploymentsRequest).RestApiId) + "/deployments" }),
		"GetDeployment": on("GET", func(in any) string {
			i := in.(*restapi.GetDeploymentRequest)
			return deployment(i.RestApiId, i.DeploymentId)
		}),
		"DeleteDeployment": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteDeploymentRequest)
			return deployment(i.RestApiId, i.DeploymentId)
		}),

		"CreateAuthorizer": on("POST", func(in any) string { return api(in.(*restapi.CreateAuthorizerRequest).RestApiId) + "/authorizers" }),
		"GetAuthorizers":   on("GET", func(in any) string { return api(in.(*restapi.GetAuthorizersRequest).RestApiId) + "/authorizers" }),
		"GetAuthorizer": on("GET", func(in any) string {
			i := in.(*restapi.GetAuthorizerRequest)
			return api(i.RestApiId) + "/authorizers/" + awsproto.Value(i.AuthorizerId)
		}),
		"UpdateAuthorizer": on("PATCH", func(in any) string {
			i := in.(*restapi.UpdateAuthorizerRequest)
			return api(i.RestApiId) + "/authorizers/" + awsproto.Value(i.AuthorizerId)
		}),
		"DeleteAuthorizer": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteAuthorizerRequest)
			return api(i.RestApiId) + "/authorizers/" + awsproto.Value(i.AuthorizerId)
		}),

		"CreateModel": on("POST", func(in any) string { return api(in.(*restapi.CreateModelRequest).RestApiId) + "/models" }),
		"GetModels":   on("GET", func(in any) string { return api(in.(*restapi.GetModelsRequest).RestApiId) + "/models" }),
		"GetModel": on("GET", func(in any) string {
			i := in.(*restapi.GetModelRequest)
			return api(i.RestApiId) + "/models/" + awsproto.Value(i.ModelName)
		}),
		"DeleteModel": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteModelRequest)
			return api(i.RestApiId) + "/models/" + awsproto.Value(i.ModelName)
		}),
		"CreateRequestValidator": on("POST", func(in any) string {
			return api(in.(*restapi.CreateRequestValidatorRequest).RestApiId) + "/requestvalidators"
		}),
		"GetRequestValidators": on("GET", func(in any) string {
			return api(in.(*restapi.GetRequestValidatorsRequest).RestApiId) + "/requestvalidators"
		}),
		"GetRequestValidator": on("GET", func(in any) string {
			i := in.(*restapi.GetRequestValidatorRequest)
			return api(i.RestApiId) + "/requestvalidators/" + awsproto.Value(i.RequestValidatorId)
		}),
		"UpdateRequestValidator": on("PATCH", func(in any) string {
			i := in.(*restapi.UpdateRequestValidatorRequest)
			return api(i.RestApiId) + "/requestvalidators/" + awsproto.Value(i.RequestValidatorId)
		}),
		"DeleteRequestValidator": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteRequestValidatorRequest)
			return api(i.RestApiId) + "/requestvalidators/" + awsproto.Value(i.RequestValidatorId)
		}),

		"CreateApiKey": on("POST", func(any) string { return "/apikeys" }),
		"GetApiKeys":   on("GET", func(any) string { return "/apikeys" }),
		"GetApiKey":    on("GET", func(in any) string { return "/apikeys/" + awsproto.Value(in.(*restapi.GetApiKeyRequest).ApiKey) }),
		"UpdateApiKey": on("PATCH", func(in any) string { return "/apikeys/" + awsproto.Value(in.(*restapi.UpdateApiKeyRequest).ApiKey) }),
		"DeleteApiKey": on("DELETE", func(in any) string { return "/apikeys/" + awsproto.Value(in.(*restapi.DeleteApiKeyRequest).ApiKey) }),

		"CreateUsagePlan": on("POST", func(any) string { return "/usageplans" }),
		"GetUsagePlans":   on("GET", func(any) string { return "/usageplans" }),
		"GetUsagePlan":    on("GET", func(in any) string { return plan(in.(*restapi.GetUsagePlanRequest).UsagePlanId) }),
		"DeleteUsagePlan": on("DELETE", func(in any) string { return plan(in.(*restapi.DeleteUsagePlanRequest).UsagePlanId) }),
		"CreateUsagePlanKey": on("POST", func(in any) string {
			return plan(in.(*restapi.CreateUsagePlanKeyRequest).UsagePlanId) + "/keys"
		}),
		"GetUsagePlanKeys": on("GET", func(in any) string { return plan(in.(*restapi.GetUsagePlanKeysRequest).UsagePlanId) + "/keys" }),
		"GetUsagePlanKey": on("GET", func(in any) string {
			i := in.(*restapi.GetUsagePlanKeyRequest)
			return plan(i.UsagePlanId) + "/keys/" + awsproto.Value(i.KeyId)
		}),
		"DeleteUsagePlanKey": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteUsagePlanKeyRequest)
			return plan(i.UsagePlanId) + "/keys/" + awsproto.Value(i.KeyId)
		}),

		"CreateStage": on("POST", func(in any) string { return api(in.(*restapi.CreateStageRequest).RestApiId) + "/stages" }),
		"GetStages":   on("GET", func(in any) string { return api(in.(*restapi.GetStagesRequest).RestApiId) + "/stages" }),
		"GetStage": on("GET", func(in any) string {
			i := in.(*restapi.GetStageRequest)
			return stage(i.RestApiId, i.StageName)
		}),
		"GetExport": on("GET", func(in any) string {
			i := in.(*restapi.GetExportRequest)
			return stage(i.RestApiId, i.StageName) + "/exports/" + awsproto.Value(i.ExportType)
		}),
		"UpdateStage": on("PATCH", func(in any) string {
			i := in.(*restapi.UpdateStageRequest)
			return stage(i.RestApiId, i.StageName)
		}),
		"DeleteStage": on("DELETE", func(in any) string {
			i := in.(*restapi.DeleteStageRequest)
			return stage(i.RestApiId, i.StageName)
		}),
	}
}
