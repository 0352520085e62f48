package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	rtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func TestAPIGatewayRESTUpdates(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("updates")})
	if err != nil {
		t.Fatal(err)
	}
	api, apiID := aws.ToString(a.Id), a.Id
	res := aws.String(restResource(t, c, api, aws.ToString(a.RootResourceId), "thing"))
	get := aws.String("GET")
	restMethod(t, c, api, *res, "GET", &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeMock,
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}})
	if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: apiID, ResourceId: res, HttpMethod: get, StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: apiID, ResourceId: res, HttpMethod: get, StatusCode: aws.String("202")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: res, HttpMethod: get,
		StatusCode: aws.String("200"), ResponseTemplates: map[string]string{"application/json": `{"v": 1}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: res, HttpMethod: get,
		StatusCode: aws.String("202"), SelectionPattern: aws.String("202"), ResponseTemplates: map[string]string{"application/json": `{"v": "accepted"}`}}); err != nil {
		t.Fatal(err)
	}

	m, err := c.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: apiID, ResourceId: res, HttpMethod: get, PatchOperations: []rtypes.PatchOperation{
		{Op: rtypes.OpAdd, Path: aws.String("/requestParameters/method.request.querystring.q"), Value: aws.String("false")},
		{Op: rtypes.OpReplace, Path: aws.String("/operationName"), Value: aws.String("GetThing")}}})
	if err != nil || aws.ToString(m.OperationName) != "GetThing" || m.MethodIntegration == nil || len(m.RequestParameters) != 1 {
		t.Fatalf("UpdateMethod = %+v, %v", m, err)
	}
	_, err = c.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: apiID, ResourceId: res, HttpMethod: get, PatchOperations: []rtypes.PatchOperation{
		{Op: rtypes.OpReplace, Path: aws.String("/authorizationType"), Value: aws.String("COGNITO_USER_POOLS")}}})
	wantGatewayError(t, err, "BadRequestException")
	i, err := c.UpdateIntegration(ctx, &apigateway.UpdateIntegrationInput{RestApiId: apiID, ResourceId: res, HttpMethod: get, PatchOperations: []rtypes.PatchOperation{
		{Op: rtypes.OpReplace, Path: aws.String("/requestTemplates/application~1json"), Value: aws.String(`{"statusCode": $input.params('code')}`)}}})
	if err != nil || len(i.IntegrationResponses) != 2 {
		t.Fatalf("UpdateIntegration = %+v, %v", i, err)
	}
	_, err = c.UpdateIntegration(ctx, &apigateway.UpdateIntegrationInput{RestApiId: apiID, ResourceId: res, HttpMethod: get, PatchOperations: []rtypes.PatchOperation{
		{Op: rtypes.OpReplace, Path: aws.String("/type"), Value: aws.String("HTTP")}}})
	wantGatewayError(t, err, "BadRequestException")
	if _, err := c.UpdateIntegrationResponse(ctx, &apigateway.UpdateIntegrationResponseInput{RestApiId: apiID, ResourceId: res, HttpMethod: get,
		StatusCode: aws.String("200"), PatchOperations: []rtypes.PatchOperation{
			{Op: rtypes.OpReplace, Path: aws.String("/responseTemplates/application~1json"), Value: aws.String(`{"v": 2}`)}}}); err != nil {
		t.Fatal(err)
	}
	dep, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: apiID, StageName: aws.String("prod")})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := c.UpdateDeployment(ctx, &apigateway.UpdateDeploymentInput{RestApiId: apiID, DeploymentId: dep.Id, PatchOperations: []rtypes.PatchOperation{
		{Op: rtypes.OpReplace, Path: aws.String("/description"), Value: aws.String("first")}}}); err != nil || aws.ToString(d.Description) != "first" {
		t.Fatalf("UpdateDeployment = %+v, %v", d, err)
	}
	host := api + ".execute-api.localhost"
	for path, want := range map[string]string{"/prod/thing?code=200": `{"v": 2}`, "/prod/thing?code=202": `{"v": "accepted"}`} {
		if _, _, b := call(t, srv, "GET", path, host, "", nil); string(b) != want {
			t.Errorf("GET %s = %s, want %s", path, b, want)
		}
	}
}
