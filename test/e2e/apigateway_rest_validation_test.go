package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	rtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func TestAPIGatewayRESTRequestValidation(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("validated")})
	if err != nil {
		t.Fatal(err)
	}
	api, apiID := aws.ToString(a.Id), a.Id
	models, err := c.GetModels(ctx, &apigateway.GetModelsInput{RestApiId: apiID})
	if err != nil || len(models.Items) != 2 {
		t.Fatalf("GetModels of a new API = %+v, %v", models, err)
	}
	if _, err := c.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: apiID, Name: aws.String("Age"), ContentType: aws.String("application/json"),
		Schema: aws.String(`{"type": "integer", "minimum": 0}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: apiID, Name: aws.String("Pet"), ContentType: aws.String("application/json"),
		Schema: aws.String(`{"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": ["name"],
		  "properties": {"name": {"type": "string"}, "age": {"$ref": "https://apigateway.amazonaws.com/restapis/` + api + `/models/Age"}}}`)}); err != nil {
		t.Fatal(err)
	}
	for name, schema := range map[string]string{
		"Broken":  `{"type": 7}`,
		"Outside": `{"$ref": "file:///etc/passwd"}`,
	} {
		_, err := c.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: apiID, Name: aws.String(name), ContentType: aws.String("application/json"), Schema: aws.String(schema)})
		wantGatewayError(t, err, "BadRequestException")
	}
	v, err := c.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: apiID, Name: aws.String("all"),
		ValidateRequestBody: true, ValidateRequestParameters: true})
	if err != nil {
		t.Fatal(err)
	}
	pets := restResource(t, c, api, aws.ToString(a.RootResourceId), "pets")
	_, err = c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: apiID, ResourceId: aws.String(pets), HttpMethod: aws.String("POST"),
		AuthorizationType: aws.String("NONE"), RequestValidatorId: aws.String("nosuch")})
	wantGatewayError(t, err, "BadRequestException")
	if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: apiID, ResourceId: aws.String(pets), HttpMethod: aws.String("POST"),
		AuthorizationType: aws.String("NONE"), RequestValidatorId: v.Id, RequestModels: map[string]string{"application/json": "Pet"},
		RequestParameters: map[string]bool{"method.request.querystring.owner": true, "method.request.header.X-Req": true, "method.request.querystring.opt": false}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: apiID, ResourceId: aws.String(pets), HttpMethod: aws.String("POST"),
		Type: rtypes.IntegrationTypeMock, RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: apiID, ResourceId: aws.String(pets), HttpMethod: aws.String("POST"),
		StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: aws.String(pets), HttpMethod: aws.String("POST"),
		StatusCode: aws.String("200"), ResponseTemplates: map[string]string{"application/json": `{"created": true}`}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteModel(ctx, &apigateway.DeleteModelInput{RestApiId: apiID, ModelName: aws.String("Pet")})
	wantGatewayError(t, err, "ConflictException")
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: apiID, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}

	host := api + ".execute-api.localhost"
	json := map[string]string{"Content-Type": "application/json", "X-Req": "1"}
	for _, tc := range []struct {
		name, path, body string
		header           map[string]string
		status           int
		want             string
	}{
		{"a valid request", "/prod/pets?owner=ann", `{"name": "rex", "age": 3}`, json, 200, `{"created": true}`},
		{"missing required parameters", "/prod/pets", `{"name": "rex"}`, map[string]string{"Content-Type": "application/json"}, 400,
			`{"message":"Missing required request parameters: [X-Req, owner]"}`},
		{"a body without a required property", "/prod/pets?owner=ann", `{"age": 3}`, json, 400, `{"message":"Invalid request body"}`},
		{"a body failing a referenced model", "/prod/pets?owner=ann", `{"name": "rex", "age": -1}`, json, 400, `{"message":"Invalid request body"}`},
		{"a body that is not JSON", "/prod/pets?owner=ann", `rex`, json, 400, `{"message":"Invalid request body"}`},
	} {
		status, _, b := call(t, srv, "POST", tc.path, host, tc.body, tc.header)
		if status != tc.status || string(b) != tc.want {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, b, tc.status, tc.want)
		}
	}
}
