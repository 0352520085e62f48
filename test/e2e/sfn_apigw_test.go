package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	rtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

const apiFunction = `
import json
def handler(event, context):
    body = json.loads(event["body"])
    return {"doubled": body["n"] * 2, "path": event["rawPath"], "x": event["queryStringParameters"]["x"],
            "h": event["headers"].get("x-flow")}
`

// TestStepFunctionsAPIGatewayInvoke calls an HTTP API in front of a Lambda function with
// arn:aws:states:::apigateway:invoke: path, query, headers and a JSON body reach the function,
// its answer comes back as ResponseBody with StatusCode and Headers, and a call to an API that
// is not there fails as ApiGateway.404 for a Catch.
func TestStepFunctionsAPIGatewayInvoke(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	fn := createTestFunction(t, cl.Lambda, "calc", kiritest.ZipSource(t, map[string]string{"app.py": apiFunction}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = ltypes.RuntimePython312, aws.String("app.handler")
	})
	waitActive(t, cl.Lambda, "calc")
	api, err := apiClient(srv).CreateApi(t.Context(), &apigatewayv2.CreateApiInput{Name: aws.String("calc"), ProtocolType: "HTTP", Target: fn.FunctionArn})
	if err != nil {
		t.Fatal(err)
	}
	endpoint := aws.ToString(api.ApiId) + ".execute-api.us-east-1.amazonaws.com"
	def := `{"StartAt":"Call","States":{
		"Call":{"Type":"Task","Resource":"arn:aws:states:::apigateway:invoke","Parameters":{"ApiEndpoint":"` + endpoint + `","Method":"POST",
			"Path":"calc/double","QueryParameters":{"x":["1"]},"Headers":{"X-Flow":["yes"]},"RequestBody":{"n.$":"$.n"},"AuthType":"NO_AUTH"},
			"ResultSelector":{"body.$":"$.ResponseBody","status.$":"$.StatusCode","text.$":"$.StatusText","type.$":"$.Headers.Content-Type[0]"},
			"ResultPath":"$.call","Next":"Missing"},
		"Missing":{"Type":"Task","Resource":"arn:aws:states:::apigateway:invoke","Parameters":{"ApiEndpoint":"abcde12345.execute-api.us-east-1.amazonaws.com","Method":"GET"},
			"Catch":[{"ErrorEquals":["ApiGateway.404"],"ResultPath":"$.missing","Next":"Done"}],"ResultPath":null,"Next":"Done"},
		"Done":{"Type":"Pass","End":true}}}`
	arn := createMachine(t, cl.SFN, "apigw", def, "")
	d := runToEnd(t, cl.SFN, arn, `{"n":21}`)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	var out struct {
		Call struct {
			Body struct {
				Doubled    int
				Path, X, H string
			}
			Status     int
			Text, Type string
		}
		Missing struct{ Error string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil {
		t.Fatal(err)
	}
	if out.Call.Body.Doubled != 42 || out.Call.Body.Path != "/calc/double" || out.Call.Body.X != "1" || out.Call.Body.H != "yes" ||
		out.Call.Status != 200 || out.Call.Text != "OK" || out.Call.Type != "application/json" {
		t.Errorf("call: %s", aws.ToString(d.Output))
	}
	if out.Missing.Error != "ApiGateway.404" {
		t.Errorf("missing API: %s", aws.ToString(d.Output))
	}
}

// TestStepFunctionsAPIGatewayInvokeIAM calls an AWS_IAM method of a REST API with IAM
// enforced: with AuthType IAM_ROLE the request is signed as a session of the state machine's
// role, which the method sees as its caller; unsigned (NO_AUTH) it fails as ApiGateway.403.
func TestStepFunctionsAPIGatewayInvokeIAM(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	cl := srv.Clients()
	ctx := t.Context()
	c := restClient(srv)
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("signed")})
	if err != nil {
		t.Fatal(err)
	}
	res := restResource(t, c, aws.ToString(a.Id), aws.ToString(a.RootResourceId), "whoami")
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
		HttpMethod: aws.String("GET"), StatusCode: aws.String("200"),
		ResponseTemplates: map[string]string{"application/json": `{"userArn": "$context.identity.userArn"}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: a.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("caller"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}`
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("caller"), PolicyName: aws.String("invoke"),
		PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	endpoint := aws.ToString(a.Id) + ".execute-api.us-east-1.amazonaws.com"
	def := `{"StartAt":"Signed","States":{
		"Signed":{"Type":"Task","Resource":"arn:aws:states:::apigateway:invoke","Parameters":{"ApiEndpoint":"` + endpoint + `","Method":"GET",
			"Stage":"prod","Path":"whoami","AuthType":"IAM_ROLE"},"ResultSelector":{"arn.$":"$.ResponseBody.userArn"},"ResultPath":"$.signed","Next":"Unsigned"},
		"Unsigned":{"Type":"Task","Resource":"arn:aws:states:::apigateway:invoke","Parameters":{"ApiEndpoint":"` + endpoint + `","Method":"GET",
			"Stage":"prod","Path":"whoami","AuthType":"NO_AUTH"},
			"Catch":[{"ErrorEquals":["ApiGateway.403"],"ResultPath":"$.unsigned","Next":"Done"}],"ResultPath":null,"Next":"Done"},
		"Done":{"Type":"Pass","End":true}}}`
	m, err := cl.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("signed"), Definition: aws.String(def), RoleArn: role.Role.Arn})
	if err != nil {
		t.Fatal(err)
	}
	d := runToEnd(t, cl.SFN, aws.ToString(m.StateMachineArn), `{}`)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	var out struct {
		Signed   struct{ Arn string }
		Unsigned struct{ Error, Cause string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil {
		t.Fatal(err)
	}
	if out.Signed.Arn != "arn:aws:sts::"+kiritest.TestAccount+":assumed-role/caller/StepFunctions" {
		t.Errorf("signed call: %s", aws.ToString(d.Output))
	}
	if out.Unsigned.Error != "ApiGateway.403" || !strings.Contains(out.Unsigned.Cause, "Missing Authentication Token") {
		t.Errorf("unsigned call: %s", aws.ToString(d.Output))
	}
}
