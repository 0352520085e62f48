package dynamodb

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// RunForService runs a DynamoDB action (PutItem, Query, ...) with its JSON input for another
// service acting in account and region with role, an IAM role ARN it assumed (API Gateway's AWS
// integrations; "" acts as the account): the call goes through DynamoDB's own codec,
// validation and authorization as a session of the role, as a client signed as the role would.
// It returns the status and JSON body of DynamoDB's answer, its error included.
func (s *Service) RunForService(ctx context.Context, account, region, role, action string, input []byte) (int, []byte) {
	call := &awsproto.Call{AccountID: account, Region: region, Operation: action}
	if p, ok := authz.RolePrincipal(role, ""); ok {
		call.PrincipalARN, call.ParentARN = p.ARN, role
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/", bytes.NewReader(input))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", s.api.TargetPrefix()+"."+action)
	rec := httptest.NewRecorder()
	(&awsproto.Route{Service: s.api, Operation: action}).Serve(rec, req, call)
	return rec.Code, rec.Body.Bytes()
}
