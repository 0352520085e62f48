package e2e

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	rtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// samDefinition is the OpenAPI body SAM's AWS::Serverless::Api generates for a function with an
// Api event GET /hello and Cors '*': an aws_proxy integration and a MOCK OPTIONS method.
const samDefinition = `{
  "swagger": "2.0",
  "info": {"version": "1.0", "title": "sam-app"},
  "paths": {
    "/hello": {
      "get": {
        "x-amazon-apigateway-integration": {
          "type": "aws_proxy",
          "httpMethod": "POST",
          "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations"
        },
        "responses": {}
      },
      "options": {
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "summary": "CORS support",
        "responses": {
          "200": {
            "description": "Default response for CORS method",
            "headers": {
              "Access-Control-Allow-Headers": {"type": "string"},
              "Access-Control-Allow-Methods": {"type": "string"},
              "Access-Control-Allow-Origin": {"type": "string"}
            }
          }
        },
        "x-amazon-apigateway-integration": {
          "type": "mock",
          "requestTemplates": {"application/json": "{\n  \"statusCode\" : 200\n}\n"},
          "responses": {
            "default": {
              "statusCode": "200",
              "responseParameters": {
                "method.response.header.Access-Control-Allow-Headers": "'*'",
                "method.response.header.Access-Control-Allow-Methods": "'OPTIONS,GET'",
                "method.response.header.Access-Control-Allow-Origin": "'*'"
              },
              "responseTemplates": {"application/json": "{}\n"}
            }
          }
        }
      }
    }
  },
  "x-amazon-apigateway-binary-media-types": ["image/png"]
}`

// TestAPIGatewayRESTSAMServerlessAPI deploys a REST API as CloudFormation does for SAM's
// AWS::Serverless::Api: CreateRestApi, PutRestApi (overwrite) with the generated OpenAPI body,
// CreateDeployment and CreateStage Prod; then calls it over HTTP.
func TestAPIGatewayRESTSAMServerlessAPI(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	fn := createHTTPEcho(t, srv.Clients().Lambda, "samhello")
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("sam-app")})
	if err != nil {
		t.Fatal(err)
	}
	api := a.Id
	put, err := c.PutRestApi(ctx, &apigateway.PutRestApiInput{RestApiId: api, Mode: rtypes.PutModeOverwrite,
		Body: []byte(strings.ReplaceAll(samDefinition, "FUNCTION_ARN", fn))})
	if err != nil || len(put.BinaryMediaTypes) != 1 || aws.ToString(put.RootResourceId) != aws.ToString(a.RootResourceId) {
		t.Fatalf("PutRestApi = %+v, %v", put, err)
	}
	dep, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api, StageName: aws.String("Prod"), DeploymentId: dep.Id}); err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(api) + ".execute-api.localhost"
	status, _, b := call(t, srv, "GET", "/Prod/hello", host, "", nil)
	if status != 201 || !strings.Contains(string(b), `"resource":"/hello"`) || !strings.Contains(string(b), `"stage":"Prod"`) {
		t.Fatalf("GET /Prod/hello = %d %s", status, b)
	}
	status, h, b := call(t, srv, "OPTIONS", "/Prod/hello", host, "", nil)
	if status != 200 || h.Get("Access-Control-Allow-Methods") != "OPTIONS,GET" || h.Get("Access-Control-Allow-Origin") != "*" || string(b) != "{}\n" {
		t.Fatalf("OPTIONS /Prod/hello = %d %v %q", status, h, b)
	}
	status, _, b = call(t, srv, "GET", "/Prod/bye", host, "", nil)
	if status != 403 || string(b) != `{"message":"Missing Authentication Token"}` {
		t.Fatalf("GET /Prod/bye = %d %s", status, b)
	}
}

func TestAPIGatewayRESTImport(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := restClient(srv)
	ctx := t.Context()
	def := `{"openapi": "3.0.1", "info": {"title": "imported", "version": "2"},
	  "x-amazon-apigateway-api-key-source": "HEADER",
	  "x-amazon-apigateway-documentation": {"version": "1"},
	  "paths": {"/items/{id}": {"get": {
	    "parameters": [{"name": "id", "in": "path", "required": true}],
	    "responses": {"200": {"description": "ok"}},
	    "x-amazon-apigateway-integration": {"type": "mock", "passthroughBehavior": "when_no_match",
	      "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
	      "responses": {"default": {"statusCode": "200", "responseTemplates": {"application/json": "{\"item\": 1}"}}}}}}}}`
	_, err := c.ImportRestApi(ctx, &apigateway.ImportRestApiInput{Body: []byte(def), FailOnWarnings: true})
	wantGatewayError(t, err, "BadRequestException")
	imp, err := c.ImportRestApi(ctx, &apigateway.ImportRestApiInput{Body: []byte(def)})
	if err != nil || aws.ToString(imp.Name) != "imported" || len(imp.Warnings) != 1 || !strings.Contains(imp.Warnings[0], "x-amazon-apigateway-documentation") {
		t.Fatalf("ImportRestApi = %+v, %v", imp, err)
	}
	res, err := c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: imp.Id, Embed: []string{"methods"}})
	if err != nil || len(res.Items) != 3 {
		t.Fatalf("GetResources = %+v, %v", res, err)
	}
	for _, r := range res.Items {
		if aws.ToString(r.Path) != "/items/{id}" {
			continue
		}
		m := r.ResourceMethods["GET"]
		if !m.RequestParameters["method.request.path.id"] || m.MethodIntegration == nil || aws.ToString(m.MethodIntegration.PassthroughBehavior) != "WHEN_NO_MATCH" ||
			m.MethodIntegration.IntegrationResponses["200"].ResponseTemplates["application/json"] != `{"item": 1}` {
			t.Fatalf("imported method = %+v", m)
		}
	}

	// Merge adds a path; overwrite replaces them all.
	more := `{"swagger": "2.0", "info": {"title": "imported"}, "paths": {"/other": {"x-amazon-apigateway-any-method": {
	  "x-amazon-apigateway-integration": {"type": "http_proxy", "httpMethod": "ANY", "uri": "http://127.0.0.1:1/other"}}}}}`
	if _, err := c.PutRestApi(ctx, &apigateway.PutRestApiInput{RestApiId: imp.Id, Mode: rtypes.PutModeMerge, Body: []byte(more)}); err != nil {
		t.Fatal(err)
	}
	if res, err := c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: imp.Id}); err != nil || len(res.Items) != 4 {
		t.Fatalf("after merge: %+v, %v", res, err)
	}
	if _, err := c.PutRestApi(ctx, &apigateway.PutRestApiInput{RestApiId: imp.Id, Mode: rtypes.PutModeOverwrite, Body: []byte(more)}); err != nil {
		t.Fatal(err)
	}
	if res, err := c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: imp.Id}); err != nil || len(res.Items) != 2 {
		t.Fatalf("after overwrite: %+v, %v", res, err)
	}

	// What Kiri cannot honour is refused, and the API is left as it was.
	for name, body := range map[string]string{
		"an authorizer": `{"swagger": "2.0", "info": {"title": "x"}, "securityDefinitions": {"auth": {"type": "apiKey", "name": "Authorization", "in": "header",
		  "x-amazon-apigateway-authtype": "custom", "x-amazon-apigateway-authorizer": {"type": "token"}}}, "paths": {}}`,
		"a resource policy": `{"swagger": "2.0", "info": {"title": "x"}, "x-amazon-apigateway-policy": {"Version": "2012-10-17", "Statement": []}, "paths": {}}`,
		"a security requirement without its scheme": `{"swagger": "2.0", "info": {"title": "x"}, "paths": {"/a": {"get": {"security": [{"api_key": []}],
		  "x-amazon-apigateway-integration": {"type": "mock"}}}}}`,
		"a template that does not parse": `{"swagger": "2.0", "info": {"title": "x"}, "paths": {"/a": {"get": {
		  "x-amazon-apigateway-integration": {"type": "mock", "requestTemplates": {"application/json": "#foreach($x in"}}}}}}`,
		"YAML":       "swagger: '2.0'\ninfo:\n  title: x\npaths: {}\n",
		"no version": `{"info": {"title": "x"}, "paths": {}}`,
	} {
		_, err := c.PutRestApi(ctx, &apigateway.PutRestApiInput{RestApiId: imp.Id, Mode: rtypes.PutModeOverwrite, Body: []byte(body)})
		if err == nil {
			t.Errorf("PutRestApi with %s was accepted", name)
			continue
		}
		wantGatewayError(t, err, "BadRequestException")
	}
	if res, err := c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: imp.Id}); err != nil || len(res.Items) != 2 {
		t.Fatalf("after refused imports: %+v, %v", res, err)
	}
}
