package dynamodb

import (
	"context"

	"github.com/kiri-run/kiri/internal/service"
)

// RunForService runs a DynamoDB action (PutItem, Query, ...) with its JSON input for another
// service acting in account and region with role (API Gateway's AWS integrations); see
// service.RunJSONAction.
func (s *Service) RunForService(ctx context.Context, account, region, role, action string, input []byte) (int, []byte) {
	return service.RunJSONAction(ctx, s.api, account, region, role, action, input)
}
