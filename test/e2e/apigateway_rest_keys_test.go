package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	rtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func TestAPIGatewayRESTAPIKeysAndUsagePlans(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := restClient(srv)
	ctx := t.Context()
	a, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("keys")})
	if err != nil {
		t.Fatal(err)
	}
	api := aws.ToString(a.Id)
	apiID := aws.String(api)
	root := aws.ToString(a.RootResourceId)
	// GET / needs a key; GET /open does not.
	if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: apiID, ResourceId: aws.String(root), HttpMethod: aws.String("GET"),
		AuthorizationType: aws.String("NONE"), ApiKeyRequired: true}); err != nil {
		t.Fatal(err)
	}
	mock := func(resource, method string) {
		if _, err := c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: apiID, ResourceId: aws.String(resource), HttpMethod: aws.String(method),
			Type: rtypes.IntegrationTypeMock, RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: apiID, ResourceId: aws.String(resource), HttpMethod: aws.String(method),
			StatusCode: aws.String("200")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: apiID, ResourceId: aws.String(resource), HttpMethod: aws.String(method),
			StatusCode: aws.String("200"), ResponseTemplates: map[string]string{"application/json": `{"ok": true}`}}); err != nil {
			t.Fatal(err)
		}
	}
	mock(root, "GET")
	open := restResource(t, c, api, root, "open")
	if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: apiID, ResourceId: aws.String(open), HttpMethod: aws.String("GET"),
		AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	mock(open, "GET")
	for _, stage := range []string{"throttled", "quota", "none"} {
		if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: apiID, StageName: aws.String(stage)}); err != nil {
			t.Fatal(err)
		}
	}

	key, err := c.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("alice"), Enabled: true})
	if err != nil || len(aws.ToString(key.Value)) < 20 {
		t.Fatalf("CreateApiKey = %+v, %v", key, err)
	}
	fixed, err := c.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("bob"), Enabled: true, Value: aws.String("bob-key-0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("short"), Value: aws.String("short")})
	wantGatewayError(t, err, "BadRequestException")
	listed, err := c.GetApiKeys(ctx, &apigateway.GetApiKeysInput{IncludeValues: aws.Bool(true)})
	if err != nil || len(listed.Items) != 2 || listed.Items[0].Value == nil {
		t.Fatalf("GetApiKeys(includeValues) = %+v, %v", listed, err)
	}
	hidden, err := c.GetApiKeys(ctx, &apigateway.GetApiKeysInput{})
	if err != nil || len(hidden.Items) != 2 || hidden.Items[0].Value != nil {
		t.Fatalf("GetApiKeys = %+v, %v", hidden, err)
	}

	_, err = c.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("bad"),
		ApiStages: []rtypes.ApiStage{{ApiId: apiID, Stage: aws.String("nosuch")}}})
	wantGatewayError(t, err, "BadRequestException")
	throttled, err := c.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("throttled"),
		ApiStages: []rtypes.ApiStage{{ApiId: apiID, Stage: aws.String("throttled")}},
		Throttle:  &rtypes.ThrottleSettings{RateLimit: 0.001, BurstLimit: 2}})
	if err != nil {
		t.Fatal(err)
	}
	quota, err := c.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("quota"),
		ApiStages: []rtypes.ApiStage{{ApiId: apiID, Stage: aws.String("quota")}},
		Quota:     &rtypes.QuotaSettings{Limit: 2, Period: rtypes.QuotaPeriodTypeDay}})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("again"),
		ApiStages: []rtypes.ApiStage{{ApiId: apiID, Stage: aws.String("throttled")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*string{throttled.Id, quota.Id} {
		if _, err := c.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: p, KeyId: key.Id, KeyType: aws.String("API_KEY")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: again.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")})
	wantGatewayError(t, err, "ConflictException")
	pk, err := c.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: quota.Id})
	if err != nil || len(pk.Items) != 1 || aws.ToString(pk.Items[0].Value) != aws.ToString(key.Value) {
		t.Fatalf("GetUsagePlanKeys = %+v, %v", pk, err)
	}

	host := api + ".execute-api.localhost"
	get := func(path, value string) (int, string) {
		t.Helper()
		h := map[string]string{}
		if value != "" {
			h["x-api-key"] = value
		}
		status, _, b := call(t, srv, "GET", path, host, "", h)
		return status, string(b)
	}
	forbidden := `{"message":"Forbidden"}`
	for _, tc := range []struct {
		name, path, key string
		status          int
		body            string
	}{
		{"a method without a key requirement", "/none/open", "", 200, ""},
		{"no key", "/throttled/", "", 403, forbidden},
		{"an unknown key", "/throttled/", "nope-nope-nope-nope-nope", 403, forbidden},
		{"a key in no plan of the stage", "/none/", aws.ToString(key.Value), 403, forbidden},
		{"a key in no plan", "/throttled/", "bob-key-0123456789abcdef", 403, forbidden},
		{"the key within the burst", "/throttled/", aws.ToString(key.Value), 200, `{"ok": true}`},
		{"the key within the burst again", "/throttled/", aws.ToString(key.Value), 200, `{"ok": true}`},
		{"the key past the burst", "/throttled/", aws.ToString(key.Value), 429, `{"message":"Too Many Requests"}`},
		{"the key within the quota", "/quota/", aws.ToString(key.Value), 200, `{"ok": true}`},
		{"the key within the quota again", "/quota/", aws.ToString(key.Value), 200, `{"ok": true}`},
		{"the key past the quota", "/quota/", aws.ToString(key.Value), 429, `{"message":"Limit Exceeded"}`},
	} {
		if status, body := get(tc.path, tc.key); status != tc.status || tc.body != "" && body != tc.body {
			t.Errorf("%s: GET %s = %d %s, want %d %s", tc.name, tc.path, status, body, tc.status, tc.body)
		}
	}

	// A disabled or deleted key is refused.
	if _, err := c.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: key.Id, PatchOperations: []rtypes.PatchOperation{
		{Op: rtypes.OpReplace, Path: aws.String("/enabled"), Value: aws.String("false")}}}); err != nil {
		t.Fatal(err)
	}
	if status, body := get("/quota/", aws.ToString(key.Value)); status != 403 || body != forbidden {
		t.Fatalf("disabled key: %d %s", status, body)
	}
	if _, err := c.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: key.Id}); err != nil {
		t.Fatal(err)
	}
	if pk, err := c.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: quota.Id}); err != nil || len(pk.Items) != 0 {
		t.Fatalf("GetUsagePlanKeys after the key's deletion = %+v, %v", pk, err)
	}
	_, err = c.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: key.Id})
	wantGatewayError(t, err, "NotFoundException")
	_, err = c.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: fixed.Id})
	if err != nil {
		t.Fatal(err)
	}
}
