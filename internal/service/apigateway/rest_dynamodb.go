package apigateway

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
)

// dynamoURI is an AWS integration with a JSON-protocol service Kiri runs, DynamoDB or
// EventBridge: one of its actions (arn:aws:apigateway:REGION:dynamodb:action/PutItem,
// arn:aws:apigateway:REGION:events:action/PutEvents).
var dynamoURI = regexp.MustCompile(`^arn:aws[a-z-]*:apigateway:([a-z0-9-]+):(dynamodb|events):action/([A-Za-z]+)$`)

// dynamoRunner runs a service's actions for other services (implemented by the DynamoDB and
// EventBridge services).
type dynamoRunner interface {
	RunForService(ctx context.Context, account, region, role, action string, input []byte) (int, []byte)
}

// checkDynamoTarget checks an AWS integration with DynamoDB: an action URI, the POST method
// and a role to act as (required when IAM is enforced).
func checkDynamoTarget(uri, method string, credentials *string, enforcing bool) error {
	if dynamoURI.FindStringSubmatch(uri) == nil {
		return badRequest("AWS integrations with DynamoDB and EventBridge are supported for actions only (arn:aws:apigateway:REGION:SERVICE:action/ACTION): %s", uri)
	}
	if method != "POST" {
		return badRequest("DynamoDB and EventBridge integrations must use the POST integration HTTP method")
	}
	return checkServiceCredentials(credentials, enforcing)
}

// runDynamo serves an AWS integration with DynamoDB: the integration request (as the request
// template makes it) is the action's JSON input, run as the integration's role; DynamoDB's
// answer, or its error, goes through the integration response its status selects.
func (s *RESTService) runDynamo(w http.ResponseWriter, c *restCall, integ *restapi.Integration) {
	m := dynamoURI.FindStringSubmatch(awsproto.Value(integ.Uri))
	body, ok := s.integrationRequest(w, c, integ)
	if !ok {
		return
	}
	db, found := service.Lookup[dynamoRunner](s.services, m[2])
	if !found {
		internalError(w, http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), time.Duration(awsproto.Value(integ.TimeoutInMillis))*time.Millisecond)
	defer cancel()
	role, ok := s.integrationRole(ctx, w, c, integ)
	if !ok {
		return
	}
	status, out := db.RunForService(ctx, c.sc.account, m[1], role, m[3], body)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		writeRESTMessage(w, http.StatusGatewayTimeout, "Endpoint request timed out")
		return
	}
	s.writeServiceAnswer(w, c, integ, status, out)
}
