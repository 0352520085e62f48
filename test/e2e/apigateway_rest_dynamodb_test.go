package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	rtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// dynamoIntegration is an AWS integration with a DynamoDB action, acting as role, whose request
// template makes the action's input; answers of status 2xx take integration response 200 and
// 4xx ones 400, each through its template.
func dynamoIntegration(t *testing.T, c *apigateway.Client, api, resource, method, action, role, request, ok, failed string) {
	t.Helper()
	ctx := t.Context()
	restMethod(t, c, api, resource, method, &apigateway.PutIntegrationInput{Type: rtypes.IntegrationTypeAws,
		IntegrationHttpMethod: aws.String("POST"), Uri: aws.String("arn:aws:apigateway:us-east-1:dynamodb:action/" + action),
		Credentials: aws.String(role), RequestTemplates: map[string]string{"application/json": request}})
	for status, tmpl := range map[string]string{"200": ok, "400": failed} {
		if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: aws.String(api), ResourceId: aws.String(resource),
			HttpMethod: aws.String(method), StatusCode: aws.String(status)}); err != nil {
			t.Fatal(err)
		}
		in := &apigateway.PutIntegrationResponseInput{RestApiId: aws.String(api), ResourceId: aws.String(resource), HttpMethod: aws.String(method),
			StatusCode: aws.String(status), ResponseTemplates: map[string]string{"application/json": tmpl}}
		if status == "400" {
			in.SelectionPattern = aws.String(`4\d{2}`)
		}
		if _, err := c.PutIntegrationResponse(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAPIGatewayRESTDynamoDBIntegration is AWS's tutorial of a REST API in front of DynamoDB
// without a function, with IAM enforced: POST builds PutItem's input from the body with
// $input.path, GET runs Query and its response template turns Items into JSON; DynamoDB's
// errors (the role's AccessDeniedException, a missing table) go through the 4xx response.
func TestAPIGatewayRESTDynamoDBIntegration(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	cl := srv.Clients()
	ctx := t.Context()
	if _, err := cl.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("Comments"),
		BillingMode: dtypes.BillingModePayPerRequest,
		AttributeDefinitions: []dtypes.AttributeDefinition{{AttributeName: aws.String("pageId"), AttributeType: dtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("commentId"), AttributeType: dtypes.ScalarAttributeTypeS}},
		KeySchema: []dtypes.KeySchemaElement{{AttributeName: aws.String("pageId"), KeyType: dtypes.KeyTypeHash},
			{AttributeName: aws.String("commentId"), KeyType: dtypes.KeyTypeRange}}}); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("gw-dynamodb"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:us-east-1:*:table/Comments"}]}`
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("gw-dynamodb"), PolicyName: aws.String("comments"),
		PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	roleARN := aws.ToString(role.Role.Arn)

	c := restClient(srv)
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("comments")})
	if err != nil {
		t.Fatal(err)
	}
	api := aws.ToString(a.Id)
	comments := restResource(t, c, api, aws.ToString(a.RootResourceId), "comments")
	page := restResource(t, c, api, comments, "{pageId}")
	failed := `{"error": "$util.escapeJavaScript($input.path('$.message'))"}`
	dynamoIntegration(t, c, api, comments, "POST", "PutItem", roleARN, `{
  "TableName": "Comments",
  "Item": {
    "commentId": {"S": "$context.requestId"},
    "pageId": {"S": "$input.path('$.pageId')"},
    "userName": {"S": "$input.path('$.userName')"},
    "message": {"S": "$util.escapeJavaScript($input.path('$.message'))"}
  }
}`, `{"saved": true}`, failed)
	dynamoIntegration(t, c, api, page, "GET", "Query", roleARN, `{
  "TableName": "Comments",
  "KeyConditionExpression": "pageId = :v1",
  "ExpressionAttributeValues": {":v1": {"S": "$input.params('pageId')"}}
}`, `#set($inputRoot = $input.path('$'))
{"comments": [
#foreach($elem in $inputRoot.Items) {"commentId": "$elem.commentId.S", "userName": "$elem.userName.S", "message": "$util.escapeJavaScript($elem.message.S)"}#if($foreach.hasNext),#end
#end
]}`, failed)
	// DeleteItem is not in the role's policy: DynamoDB's AccessDeniedException answers.
	dynamoIntegration(t, c, api, page, "DELETE", "DeleteItem", roleARN,
		`{"TableName": "Comments", "Key": {"pageId": {"S": "$input.params('pageId')"}, "commentId": {"S": "x"}}}`, `{}`, failed)
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: a.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	host := api + ".execute-api.localhost"
	json := map[string]string{"Content-Type": "application/json"}
	for _, body := range []string{`{"pageId": "home", "userName": "ann", "message": "first \"quoted\""}`,
		`{"pageId": "home", "userName": "bob", "message": "second"}`, `{"pageId": "about", "userName": "cy", "message": "elsewhere"}`} {
		if status, _, b := call(t, srv, http.MethodPost, "/prod/comments", host, body, json); status != 200 || string(b) != `{"saved": true}` {
			t.Fatalf("POST /prod/comments = %d %s", status, b)
		}
	}
	status, _, b := call(t, srv, http.MethodGet, "/prod/comments/home", host, "", json)
	var got struct {
		Comments []struct{ CommentID, UserName, Message string }
	}
	if status != 200 || decodeJSON(b, &got) != nil || len(got.Comments) != 2 {
		t.Fatalf("GET /prod/comments/home = %d %s", status, b)
	}
	users := map[string]string{}
	for _, cm := range got.Comments {
		users[cm.UserName] = cm.Message
		if cm.CommentID == "" {
			t.Fatalf("comment without id: %s", b)
		}
	}
	if users["ann"] != `first "quoted"` || users["bob"] != "second" {
		t.Fatalf("GET /prod/comments/home = %s", b)
	}
	status, _, b = call(t, srv, http.MethodDelete, "/prod/comments/home", host, "", json)
	if status != 400 || !strings.Contains(string(b), "not authorized to perform: dynamodb:DeleteItem") {
		t.Fatalf("DELETE without dynamodb:DeleteItem = %d %s", status, b)
	}
	if _, err := cl.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("Comments")}); err != nil {
		t.Fatal(err)
	}
	status, _, b = call(t, srv, http.MethodGet, "/prod/comments/home", host, "", json)
	if status != 400 || !strings.Contains(string(b), "Requested resource not found") {
		t.Fatalf("GET of a deleted table = %d %s", status, b)
	}
}

func decodeJSON(b []byte, v any) error { return json.Unmarshal(b, v) }

// AWS integrations with services Kiri's REST APIs do not reach are refused.
func TestAPIGatewayRESTDynamoDBIntegrationChecks(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("checks")})
	if err != nil {
		t.Fatal(err)
	}
	root := aws.ToString(a.RootResourceId)
	if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: a.Id, ResourceId: aws.String(root), HttpMethod: aws.String("POST"),
		AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	for uri, method := range map[string]string{
		"arn:aws:apigateway:us-east-1:states:action/StartExecution": "POST",
		"arn:aws:apigateway:us-east-1:dynamodb:path/Comments":       "POST",
		"arn:aws:apigateway:us-east-1:dynamodb:action/PutItem":      "GET",
	} {
		_, err := c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: a.Id, ResourceId: aws.String(root), HttpMethod: aws.String("POST"),
			Type: rtypes.IntegrationTypeAws, IntegrationHttpMethod: aws.String(method), Uri: aws.String(uri)})
		wantGatewayError(t, err, "BadRequestException")
	}
}
