package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAPIGatewayRESTExport exports a deployed stage with its integrations and imports the
// export into a second API, which then answers as the first does.
func TestAPIGatewayRESTExport(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	fn := createHTTPEcho(t, srv.Clients().Lambda, "exported")
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.ImportRestApi(ctx, &apigateway.ImportRestApiInput{Body: []byte(strings.ReplaceAll(samDefinition, "FUNCTION_ARN", fn))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: a.Id, StageName: aws.String("Prod")}); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"swagger", "oas30"} {
		out, err := c.GetExport(ctx, &apigateway.GetExportInput{RestApiId: a.Id, StageName: aws.String("Prod"), ExportType: aws.String(typ),
			Accepts: aws.String("application/json"), Parameters: map[string]string{"extensions": "integrations"}})
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Paths map[string]map[string]struct {
				Integration *struct{ Type, URI string } `json:"x-amazon-apigateway-integration"`
			} `json:"paths"`
		}
		if err := json.Unmarshal(out.Body, &doc); err != nil || doc.Paths["/hello"]["get"].Integration == nil ||
			doc.Paths["/hello"]["get"].Integration.Type != "aws_proxy" {
			t.Fatalf("GetExport %s = %s, %v", typ, out.Body, err)
		}
		again, err := c.ImportRestApi(ctx, &apigateway.ImportRestApiInput{Body: out.Body, FailOnWarnings: true})
		if err != nil {
			t.Fatalf("importing the %s export: %v", typ, err)
		}
		if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: again.Id, StageName: aws.String("Prod")}); err != nil {
			t.Fatal(err)
		}
		status, _, b := call(t, srv, "GET", "/Prod/hello", aws.ToString(again.Id)+".execute-api.localhost", "", nil)
		if status != 201 || !strings.Contains(string(b), `"resource":"/hello"`) {
			t.Fatalf("GET /Prod/hello on the %s copy = %d %s", typ, status, b)
		}
		status, h, _ := call(t, srv, "OPTIONS", "/Prod/hello", aws.ToString(again.Id)+".execute-api.localhost", "", nil)
		if status != 200 || h.Get("Access-Control-Allow-Methods") != "OPTIONS,GET" {
			t.Fatalf("OPTIONS /Prod/hello on the %s copy = %d %v", typ, status, h)
		}
	}
	_, err = c.GetExport(ctx, &apigateway.GetExportInput{RestApiId: a.Id, StageName: aws.String("Prod"), ExportType: aws.String("raml")})
	wantGatewayError(t, err, "BadRequestException")
}
