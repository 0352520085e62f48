package e2e

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	rtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAPIGatewayRESTIAMAuthorization serves AWS_IAM methods of a REST API with IAM enforced:
// only requests SigV4-signed for execute-api by a caller whose policies allow
// execute-api:Invoke on the method's ARN get through, refusals are worded as REST APIs word
// them, and $context.identity names the caller.
func TestAPIGatewayRESTIAMAuthorization(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	cl := srv.Clients()
	ctx := t.Context()
	c := restClient(srv)
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("signed")})
	if err != nil {
		t.Fatal(err)
	}
	api := aws.ToString(a.Id)
	reports := restResource(t, c, api, aws.ToString(a.RootResourceId), "reports")
	report := restResource(t, c, api, reports, "{id}")
	admin := restResource(t, c, api, aws.ToString(a.RootResourceId), "admin")
	_, err = c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: a.Id, ResourceId: aws.String(admin), HttpMethod: aws.String("GET"),
		AuthorizationType: aws.String("AWS_IAM"), AuthorizerId: aws.String("abc123")})
	wantGatewayError(t, err, "BadRequestException")
	for _, res := range []string{report, admin} {
		if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: a.Id, ResourceId: aws.String(res), HttpMethod: aws.String("GET"),
			AuthorizationType: aws.String("AWS_IAM")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: a.Id, ResourceId: aws.String(res), HttpMethod: aws.String("GET"),
			Type: rtypes.IntegrationTypeMock, RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: a.Id, ResourceId: aws.String(res), HttpMethod: aws.String("GET"),
			StatusCode: aws.String("200")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: a.Id, ResourceId: aws.String(res),
			HttpMethod: aws.String("GET"), StatusCode: aws.String("200"), ResponseTemplates: map[string]string{"application/json": `{"userArn": "$context.identity.userArn",
 "accountId": "$context.identity.accountId", "accessKey": "$context.identity.accessKey", "caller": "$context.identity.caller"}`}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: a.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	methodARN := "arn:aws:execute-api:us-east-1:" + kiritest.TestAccount + ":" + api + "/prod/GET/reports/*"
	reader := userWithKey(t, srv, cl, "rest-reader", allowDoc(`"execute-api:Invoke"`, methodARN))
	nobody := userWithKey(t, srv, cl, "rest-nobody", "")
	creds := func(c *kiritest.Clients) *aws.Credentials {
		v, err := c.Config.Credentials.Retrieve(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	readerCreds := creds(reader)
	base := "/_kiri/apis/" + api + "/prod"
	status, body := signedCall(t, srv, base+"/reports/7", readerCreds, "execute-api")
	var got map[string]string
	if status != http.StatusOK || json.Unmarshal([]byte(body), &got) != nil {
		t.Fatalf("signed by the reader: %d %s", status, body)
	}
	if got["userArn"] != "arn:aws:iam::"+kiritest.TestAccount+":user/rest-reader" || got["accountId"] != kiritest.TestAccount ||
		got["accessKey"] != readerCreds.AccessKeyID || got["caller"] == "" {
		t.Errorf("$context.identity = %v", got)
	}
	masked := "arn:aws:execute-api:us-east-1:********" + kiritest.TestAccount[8:] + ":" + api
	forged := *readerCreds
	forged.SecretAccessKey = "not-the-secret"
	for name, tc := range map[string]struct {
		path    string
		creds   *aws.Credentials
		service string
		body    string
	}{
		"unsigned": {"/reports/7", nil, "", `{"message":"Missing Authentication Token"}`},
		"a method the policy leaves out": {"/admin", readerCreds, "execute-api",
			`{"Message":"User: arn:aws:iam::` + kiritest.TestAccount + `:user/rest-reader is not authorized to perform: execute-api:Invoke on resource: ` + masked + `/prod/GET/admin"}`},
		"a user without policies": {"/reports/7", creds(nobody), "execute-api",
			`{"Message":"User: arn:aws:iam::` + kiritest.TestAccount + `:user/rest-nobody is not authorized to perform: execute-api:Invoke on resource: ` + masked + `/prod/GET/reports/7"}`},
		"signed for another service": {"/reports/7", readerCreds, "s3", `{"message":"Credential should be scoped to correct service: 'execute-api'. "}`},
	} {
		status, body := signedCall(t, srv, base+tc.path, tc.creds, tc.service)
		if status != http.StatusForbidden || body != tc.body {
			t.Errorf("%s: %d %s", name, status, body)
		}
	}
	if status, body := signedCall(t, srv, base+"/reports/7", &forged, "execute-api"); status != http.StatusForbidden {
		t.Errorf("forged signature: %d %s", status, body)
	}
}
