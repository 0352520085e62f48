package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// securedDefinition is what SAM generates for an Api with a Lambda TOKEN authorizer and API
// keys, plus request validators and a model.
const securedDefinition = `{
  "swagger": "2.0",
  "info": {"title": "secured"},
  "securityDefinitions": {
    "MyAuth": {"type": "apiKey", "name": "Authorization", "in": "header", "x-amazon-apigateway-authtype": "custom",
      "x-amazon-apigateway-authorizer": {"type": "token", "authorizerResultTtlInSeconds": 60,
        "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:auth/invocations"}},
    "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}
  },
  "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": true, "validateRequestParameters": true}},
  "definitions": {"Pet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "tag": {"$ref": "#/definitions/Tag"}}},
    "Tag": {"type": "string", "maxLength": 5}},
  "paths": {
    "/pets": {
      "get": {"security": [{"MyAuth": []}, {"api_key": []}],
        "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
          "responses": {"default": {"statusCode": "200"}}}},
      "post": {"x-amazon-apigateway-request-validator": "all",
        "parameters": [{"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Pet"}}],
        "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
          "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"saved\": true}"}}}}}
    }
  }
}`

func TestAPIGatewayRESTImportSecurityAndValidation(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := restClient(srv)
	ctx := t.Context()
	imp, err := c.ImportRestApi(ctx, &apigateway.ImportRestApiInput{Body: []byte(securedDefinition), FailOnWarnings: true})
	if err != nil {
		t.Fatal(err)
	}
	auths, err := c.GetAuthorizers(ctx, &apigateway.GetAuthorizersInput{RestApiId: imp.Id})
	if err != nil || len(auths.Items) != 1 || aws.ToString(auths.Items[0].IdentitySource) != "method.request.header.Authorization" ||
		aws.ToInt32(auths.Items[0].AuthorizerResultTtlInSeconds) != 60 || auths.Items[0].Type != "TOKEN" {
		t.Fatalf("GetAuthorizers = %+v, %v", auths, err)
	}
	res, err := c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: imp.Id, Embed: []string{"methods"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Items {
		if aws.ToString(r.Path) != "/pets" {
			continue
		}
		get, post := r.ResourceMethods["GET"], r.ResourceMethods["POST"]
		if aws.ToString(get.AuthorizationType) != "CUSTOM" || aws.ToString(get.AuthorizerId) != aws.ToString(auths.Items[0].Id) || !aws.ToBool(get.ApiKeyRequired) {
			t.Fatalf("GET /pets = %+v", get)
		}
		if post.RequestValidatorId == nil || post.RequestModels["application/json"] != "Pet" || aws.ToString(post.AuthorizationType) != "NONE" {
			t.Fatalf("POST /pets = %+v", post)
		}
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: imp.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(imp.Id) + ".execute-api.localhost"
	h := map[string]string{"Content-Type": "application/json"}
	for body, want := range map[string]string{
		`{"name": "rex", "tag": "good"}`:     `{"saved": true}`,
		`{"tag": "good"}`:                    `{"message":"Invalid request body"}`,
		`{"name": "rex", "tag": "too long"}`: `{"message":"Invalid request body"}`,
	} {
		if _, _, b := call(t, srv, "POST", "/prod/pets", host, body, h); string(b) != want {
			t.Errorf("POST %s = %s, want %s", body, b, want)
		}
	}
	if status, _, b := call(t, srv, "GET", "/prod/pets", host, "", nil); status != 401 {
		t.Errorf("GET /prod/pets without a token = %d %s", status, b)
	}

	for name, def := range map[string]string{
		"IAM authorization": `{"swagger": "2.0", "info": {"title": "x"}, "securityDefinitions": {"sigv4": {"type": "apiKey", "name": "Authorization",
		  "in": "header", "x-amazon-apigateway-authtype": "awsSigv4"}}, "paths": {}}`,
		"a Cognito authorizer": `{"swagger": "2.0", "info": {"title": "x"}, "securityDefinitions": {"pool": {"type": "apiKey", "name": "Authorization",
		  "in": "header", "x-amazon-apigateway-authorizer": {"type": "cognito_user_pools", "providerARNs": ["arn:aws:cognito-idp:us-east-1:000000000000:userpool/p"]}}}, "paths": {}}`,
		"an unknown default validator": `{"swagger": "2.0", "info": {"title": "x"}, "x-amazon-apigateway-request-validator": "none", "paths": {}}`,
		"an inline body schema": `{"swagger": "2.0", "info": {"title": "x"}, "paths": {"/a": {"post": {"parameters": [{"in": "body", "name": "b",
		  "schema": {"type": "object"}}], "x-amazon-apigateway-integration": {"type": "mock"}}}}}`,
	} {
		_, err := c.ImportRestApi(ctx, &apigateway.ImportRestApiInput{Body: []byte(def)})
		if err == nil || !strings.Contains(err.Error(), "BadRequestException") {
			t.Errorf("importing %s: %v, want BadRequestException", name, err)
		}
	}
}
