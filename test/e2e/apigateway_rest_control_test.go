package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	rtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// restClient is an API Gateway (REST APIs) client on srv.
func restClient(srv *kiritest.Server) *apigateway.Client {
	return apigateway.NewFromConfig(srv.Clients().Config)
}

// rootResource returns the id of a REST API's root resource "/".
func rootResource(t *testing.T, c *apigateway.Client, api string) string {
	t.Helper()
	out, err := c.GetResources(t.Context(), &apigateway.GetResourcesInput{RestApiId: aws.String(api)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Items {
		if aws.ToString(r.Path) == "/" {
			return aws.ToString(r.Id)
		}
	}
	t.Fatalf("no root resource in %+v", out.Items)
	return ""
}

func TestAPIGatewayRESTControlPlane(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	c := restClient(&p.Server)
	ctx := t.Context()

	var ids []string
	for _, name := range []string{"one", "two", "three"} {
		out, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String(name), BinaryMediaTypes: []string{"image/png"},
			EndpointConfiguration: &rtypes.EndpointConfiguration{Types: []rtypes.EndpointType{rtypes.EndpointTypeRegional}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(aws.ToString(out.Id)) != 10 || out.RootResourceId == nil || out.ApiKeySource != rtypes.ApiKeySourceTypeHeader ||
			len(out.EndpointConfiguration.Types) != 1 || out.EndpointConfiguration.Types[0] != rtypes.EndpointTypeRegional {
			t.Fatalf("CreateRestApi = %+v", out)
		}
		ids = append(ids, aws.ToString(out.Id))
	}
	page1, err := c.GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(2)})
	if err != nil || len(page1.Items) != 2 || page1.Position == nil {
		t.Fatalf("GetRestApis page 1 = %+v, %v", page1, err)
	}
	page2, err := c.GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(2), Position: page1.Position})
	if err != nil || len(page2.Items) != 1 || page2.Position != nil {
		t.Fatalf("GetRestApis page 2 = %+v, %v", page2, err)
	}
	_, err = c.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String("nosuchapi0")})
	wantGatewayError(t, err, "NotFoundException")
	_, err = c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("private"),
		EndpointConfiguration: &rtypes.EndpointConfiguration{Types: []rtypes.EndpointType{rtypes.EndpointTypePrivate}}})
	wantGatewayError(t, err, "BadRequestException")

	api := aws.String(ids[0])
	upd, err := c.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: api, PatchOperations: []rtypes.PatchOperation{
		{Op: rtypes.OpReplace, Path: aws.String("/name"), Value: aws.String("pets")},
		{Op: rtypes.OpAdd, Path: aws.String("/binaryMediaTypes/application~1octet-stream")},
		{Op: rtypes.OpRemove, Path: aws.String("/binaryMediaTypes/image~1png")},
	}})
	if err != nil || aws.ToString(upd.Name) != "pets" || len(upd.BinaryMediaTypes) != 1 || upd.BinaryMediaTypes[0] != "application/octet-stream" {
		t.Fatalf("UpdateRestApi = %+v, %v", upd, err)
	}
	_, err = c.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: api, PatchOperations: []rtypes.PatchOperation{
		{Op: rtypes.OpReplace, Path: aws.String("/nonsense"), Value: aws.String("x")}}})
	wantGatewayError(t, err, "BadRequestException")

	root := rootResource(t, c, *api)
	pets, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api, ParentId: aws.String(root), PathPart: aws.String("pets")})
	if err != nil || aws.ToString(pets.Path) != "/pets" {
		t.Fatalf("CreateResource = %+v, %v", pets, err)
	}
	pet, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api, ParentId: pets.Id, PathPart: aws.String("{id}")})
	if err != nil || aws.ToString(pet.Path) != "/pets/{id}" {
		t.Fatalf("CreateResource {id} = %+v, %v", pet, err)
	}
	_, err = c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api, ParentId: pets.Id, PathPart: aws.String("{name}")})
	wantGatewayError(t, err, "BadRequestException")
	_, err = c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api, ParentId: aws.String(root), PathPart: aws.String("pets")})
	wantGatewayError(t, err, "ConflictException")
	proxy, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api, ParentId: aws.String(root), PathPart: aws.String("{proxy+}")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api, ParentId: proxy.Id, PathPart: aws.String("more")})
	wantGatewayError(t, err, "BadRequestException")
	_, err = c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api, ParentId: aws.String("nosuch"), PathPart: aws.String("x")})
	wantGatewayError(t, err, "NotFoundException")

	// Methods: what is not built is refused.
	for _, in := range []*apigateway.PutMethodInput{
		{AuthorizationType: aws.String("AWS_IAM"), AuthorizerId: aws.String("abc123")},
		{AuthorizationType: aws.String("COGNITO_USER_POOLS")},
		{AuthorizationType: aws.String("NONE"), RequestValidatorId: aws.String("v1")},
		{AuthorizationType: aws.String("NONE"), RequestModels: map[string]string{"application/json": "Pet"}},
	} {
		in.RestApiId, in.ResourceId, in.HttpMethod = api, pet.Id, aws.String("GET")
		_, err := c.PutMethod(ctx, in)
		wantGatewayError(t, err, "BadRequestException")
	}
	m, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api, ResourceId: pet.Id, HttpMethod: aws.String("GET"),
		AuthorizationType: aws.String("NONE"), RequestParameters: map[string]bool{"method.request.path.id": true},
		RequestModels: map[string]string{"application/json": "Empty"}})
	if err != nil || aws.ToString(m.AuthorizationType) != "NONE" || !m.RequestParameters["method.request.path.id"] {
		t.Fatalf("PutMethod = %+v, %v", m, err)
	}

	// A deployment needs methods with integrations.
	_, err = c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api, StageName: aws.String("prod")})
	wantGatewayError(t, err, "BadRequestException")

	fn := "arn:aws:lambda:us-east-1:000000000000:function:pets"
	invoke := "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fn + "/invocations"
	for _, in := range []*apigateway.PutIntegrationInput{
		{Type: rtypes.IntegrationTypeAwsProxy, Uri: aws.String(fn), IntegrationHttpMethod: aws.String("POST")},
		{Type: rtypes.IntegrationTypeAwsProxy, Uri: aws.String(invoke), IntegrationHttpMethod: aws.String("GET")},
		{Type: rtypes.IntegrationTypeHttp, Uri: aws.String("http://example.com"), IntegrationHttpMethod: aws.String("GET")},
		{Type: rtypes.IntegrationTypeAws, Uri: aws.String("arn:aws:apigateway:us-east-1:states:action/StartExecution"), IntegrationHttpMethod: aws.String("POST")},
		{Type: rtypes.IntegrationTypeMock, RequestTemplates: map[string]string{"application/json": `#if($input.params('code')`}},
		{Type: rtypes.IntegrationTypeAwsProxy, Uri: aws.String(invoke), IntegrationHttpMethod: aws.String("POST"), ContentHandling: rtypes.ContentHandlingStrategyConvertToBinary},
	} {
		in.RestApiId, in.ResourceId, in.HttpMethod = api, pet.Id, aws.String("GET")
		_, err := c.PutIntegration(ctx, in)
		wantGatewayError(t, err, "BadRequestException")
	}
	integ, err := c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api, ResourceId: pet.Id, HttpMethod: aws.String("GET"),
		Type: rtypes.IntegrationTypeAwsProxy, Uri: aws.String(invoke), IntegrationHttpMethod: aws.String("POST")})
	if err != nil || integ.TimeoutInMillis != 29000 || integ.PassthroughBehavior == nil {
		t.Fatalf("PutIntegration = %+v, %v", integ, err)
	}
	_, err = c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: api, ResourceId: pet.Id,
		HttpMethod: aws.String("GET"), StatusCode: aws.String("200")})
	wantGatewayError(t, err, "NotFoundException")
	if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: api, ResourceId: pet.Id, HttpMethod: aws.String("GET"),
		StatusCode: aws.String("200"), ResponseParameters: map[string]bool{"method.response.header.X-Pet": false}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: api, ResourceId: pet.Id,
		HttpMethod: aws.String("GET"), StatusCode: aws.String("200"), ResponseParameters: map[string]string{"method.response.header.X-Pet": "'yes'"}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: api, ResourceId: pet.Id, HttpMethod: aws.String("GET")})
	if err != nil || got.MethodIntegration == nil || got.MethodIntegration.IntegrationResponses["200"].ResponseParameters["method.response.header.X-Pet"] != "'yes'" ||
		got.MethodResponses["200"].StatusCode == nil {
		t.Fatalf("GetMethod = %+v, %v", got, err)
	}
	res, err := c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api, Embed: []string{"methods"}})
	if err != nil || len(res.Items) != 4 {
		t.Fatalf("GetResources = %+v, %v", res, err)
	}
	for _, r := range res.Items {
		if aws.ToString(r.Path) == "/pets/{id}" && (r.ResourceMethods["GET"].MethodIntegration == nil) {
			t.Fatalf("GetResources with embed=methods shows %+v", r.ResourceMethods)
		}
	}
	small, err := c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api, Limit: aws.Int32(3)})
	if err != nil || len(small.Items) != 3 || small.Position == nil {
		t.Fatalf("GetResources limit 3 = %+v, %v", small, err)
	}

	dep, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api, StageName: aws.String("prod"),
		Variables: map[string]string{"table": "pets"}})
	if err != nil || dep.Id == nil {
		t.Fatalf("CreateDeployment = %+v, %v", dep, err)
	}
	_, err = c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api, StageName: aws.String("beta"), TracingEnabled: aws.Bool(true)})
	wantGatewayError(t, err, "BadRequestException")
	st, err := c.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: api, StageName: aws.String("prod"), PatchOperations: []rtypes.PatchOperation{
		{Op: rtypes.OpReplace, Path: aws.String("/variables/owner"), Value: aws.String("ann")}}})
	if err != nil || st.Variables["table"] != "pets" || st.Variables["owner"] != "ann" || aws.ToString(st.DeploymentId) != aws.ToString(dep.Id) {
		t.Fatalf("UpdateStage = %+v, %v", st, err)
	}
	_, err = c.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: api, StageName: aws.String("prod"), PatchOperations: []rtypes.PatchOperation{
		{Op: rtypes.OpReplace, Path: aws.String("/*/*/throttling/rateLimit"), Value: aws.String("10")}}})
	wantGatewayError(t, err, "BadRequestException")
	_, err = c.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api, StageName: aws.String("prod"), DeploymentId: dep.Id})
	wantGatewayError(t, err, "ConflictException")
	_, err = c.DeleteDeployment(ctx, &apigateway.DeleteDeploymentInput{RestApiId: api, DeploymentId: dep.Id})
	wantGatewayError(t, err, "BadRequestException")

	// Deleting a resource deletes the resources under it.
	if _, err := c.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: api, ResourceId: pets.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: api, ResourceId: pet.Id})
	wantGatewayError(t, err, "NotFoundException")
	_, err = c.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: api, ResourceId: aws.String(root)})
	wantGatewayError(t, err, "BadRequestException")

	// Everything survives kill -9.
	p.Kill()
	p2 := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	c = restClient(&p2.Server)
	got2, err := c.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: api})
	if err != nil || aws.ToString(got2.Name) != "pets" {
		t.Fatalf("GetRestApi after restart = %+v, %v", got2, err)
	}
	st2, err := c.GetStage(ctx, &apigateway.GetStageInput{RestApiId: api, StageName: aws.String("prod")})
	if err != nil || st2.Variables["owner"] != "ann" {
		t.Fatalf("GetStage after restart = %+v, %v", st2, err)
	}
	deps, err := c.GetDeployments(ctx, &apigateway.GetDeploymentsInput{RestApiId: api})
	if err != nil || len(deps.Items) != 1 {
		t.Fatalf("GetDeployments after restart = %+v, %v", deps, err)
	}
	if _, err := c.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: api}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api})
	wantGatewayError(t, err, "NotFoundException")
}
