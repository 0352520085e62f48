package service

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// RunJSONAction runs an action of a JSON-protocol service (DynamoDB's PutItem, EventBridge's
// PutEvents, ...) with its JSON input for another service acting in account and region with
// role, an IAM role ARN it assumed (API Gateway's AWS integrations; "" acts as the account):
// the call goes through api's own codec, validation and authorization as a session of the
// role, as a client signed as the role would. It returns the status and JSON body of the
// answer, its error included.
func RunJSONAction(ctx context.Context, api *awsproto.Service, account, region, role, action string, input []byte) (int, []byte) {
	call := &awsproto.Call{AccountID: account, Region: region, Operation: action}
	if p, ok := authz.RolePrincipal(role, ""); ok {
		call.PrincipalARN, call.ParentARN = p.ARN, role
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(input))
	req.Header.Set("Content-Type", api.JSONType())
	req.Header.Set("X-Amz-Target", api.TargetPrefix()+"."+action)
	rec := httptest.NewRecorder()
	(&awsproto.Route{Service: api, Operation: action}).Serve(rec, req, call)
	return rec.Code, rec.Body.Bytes()
}

// RunAction runs an action of any service, whatever its protocol, for another service acting
// in account and region with role as RunJSONAction does (Step Functions' AWS SDK
// integrations): input names the action's members as the AWS SDKs name them, and so does the
// output it returns; see awsproto.Service.RunJSON. A failure is the service's *awsproto.Error.
func RunAction(ctx context.Context, api *awsproto.Service, account, region, role, action string, input []byte) ([]byte, *awsproto.Error) {
	call := &awsproto.Call{AccountID: account, Region: region}
	if p, ok := authz.RolePrincipal(role, ""); ok {
		call.PrincipalARN, call.ParentARN = p.ARN, role
	}
	return api.RunJSON(ctx, call, action, input)
}
