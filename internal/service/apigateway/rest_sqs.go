package apigateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
)

// sqsURI is an AWS integration with SQS: a queue's path (arn:aws:apigateway:REGION:sqs:path/
// ACCOUNT/QUEUE) or the SendMessage action (…:sqs:action/SendMessage, the queue given by the
// QueueUrl parameter).
var sqsURI = regexp.MustCompile(`^arn:aws[a-z-]*:apigateway:([a-z0-9-]+):sqs:(?:path/(\d{12})/([A-Za-z0-9_-]+(?:\.fifo)?)|action/(SendMessage))$`)

// checkSQSTarget checks an AWS integration with SQS: its URI, and a role to send as (required
// when IAM is enforced).
func checkSQSTarget(uri string, credentials *string, enforcing bool) error {
	if sqsURI.FindStringSubmatch(uri) == nil {
		return badRequest("AWS integrations with SQS are supported for the SendMessage action and queue paths only: %s", uri)
	}
	return checkServiceCredentials(credentials, enforcing)
}

// checkServiceCredentials checks the role an AWS service integration acts as: an IAM role
// ARN, required when IAM is enforced.
func checkServiceCredentials(credentials *string, enforcing bool) error {
	if credentials != nil && !roleARN.MatchString(*credentials) {
		return badRequest("Invalid ARN specified in the request: %s", *credentials)
	}
	if enforcing && credentials == nil {
		return badRequest("Credentials are required for AWS service integrations")
	}
	return nil
}

// sendToQueue serves an AWS integration with SQS: the integration request (a form, as the
// request template makes it, and the integration's query string parameters) is SQS's
// SendMessage request; SQS's JSON answer goes through the integration responses.
func (s *RESTService) sendToQueue(w http.ResponseWriter, c *restCall, integ *restapi.Integration) {
	m := sqsURI.FindStringSubmatch(awsproto.Value(integ.Uri))
	body, ok := s.integrationRequest(w, c, integ)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		form = url.Values{}
	}
	for k, v := range c.mappedParams(integ, "querystring") {
		form.Set(k, v)
	}
	if a := form.Get("Action"); m[4] == "" && a != "SendMessage" || m[4] != "" && a != "" && a != "SendMessage" {
		s.writeSQSAnswer(w, c, integ, http.StatusBadRequest, sqsError("InvalidAction", "The action "+a+" is not supported by this server's API Gateway", c.requestID))
		return
	}
	params := map[string]string{}
	for _, name := range []string{"QueueUrl", "MessageBody", "DelaySeconds", "MessageDeduplicationId", "MessageGroupId"} {
		if v := form.Get(name); v != "" {
			params[name] = v
		}
	}
	region := m[1]
	if m[2] != "" {
		params["QueueUrl"] = "https://sqs." + region + ".amazonaws.com/" + m[2] + "/" + m[3]
	}
	q, found := service.Lookup[sqsSender](s.services, "sqs")
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
	out, err := q.SendForService(ctx, c.sc.account, region, role, params)
	var ae *awsproto.Error
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		writeRESTMessage(w, http.StatusGatewayTimeout, "Endpoint request timed out")
	case errors.As(err, &ae) && ae.Status != 0 && ae.Status < 500:
		s.writeSQSAnswer(w, c, integ, ae.Status, sqsError(ae.Code, ae.Message, c.requestID))
	case err != nil:
		s.log.Warn("REST API SQS integration failed", "api", c.apiID, "error", err)
		internalError(w, http.StatusInternalServerError)
	default:
		s.writeSQSAnswer(w, c, integ, http.StatusOK, map[string]any{"SendMessageResponse": map[string]any{
			"ResponseMetadata": map[string]string{"RequestId": c.requestID}, "SendMessageResult": out}})
	}
}

func sqsError(code, msg, requestID string) map[string]any {
	return map[string]any{"Error": map[string]string{"Code": code, "Message": msg, "Type": "Sender"}, "RequestId": requestID}
}

// integrationRole is the role an AWS integration acts as (its credentials); with IAM enforced
// API Gateway must be allowed to assume it, else the request fails with an internal error.
func (s *RESTService) integrationRole(ctx context.Context, w http.ResponseWriter, c *restCall, integ *restapi.Integration) (string, bool) {
	role := awsproto.Value(integ.Credentials)
	if s.enforcing() {
		sts, ok := service.Lookup[roleChecker](s.services, "sts")
		if !ok || sts.CheckServiceRole(ctx, principal, c.sc.account, role) != nil {
			internalError(w, http.StatusInternalServerError)
			return "", false
		}
	}
	return role, true
}

// writeSQSAnswer answers through the integration response SQS's status selects.
func (s *RESTService) writeSQSAnswer(w http.ResponseWriter, c *restCall, integ *restapi.Integration, status int, v any) {
	b, _ := json.Marshal(v)
	s.writeServiceAnswer(w, c, integ, status, b)
}

// writeServiceAnswer answers with an AWS service's JSON answer through the integration
// response its status selects (the default response when no selection pattern matches).
func (s *RESTService) writeServiceAnswer(w http.ResponseWriter, c *restCall, integ *restapi.Integration, status int, body []byte) {
	ir := selectResponse(integ, strconv.Itoa(status))
	if ir == nil {
		internalError(w, http.StatusInternalServerError)
		return
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	s.writeIntegrationResponse(w, c, ir, h, body)
}
