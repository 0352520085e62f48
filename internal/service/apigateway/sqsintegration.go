package apigateway

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service"
)

// sqsParams are SQS-SendMessage's request parameters, and whether each is required.
var sqsParams = map[string]bool{"QueueUrl": true, "MessageBody": true, "DelaySeconds": false, "MessageAttributes": false,
	"MessageDeduplicationId": false, "MessageGroupId": false, "Region": false}

// checkSQSIntegration checks an SQS-SendMessage integration: no URI, payload format 1.0, the
// parameters SendMessage takes with QueueUrl and MessageBody among them, each static or a
// mapping Kiri evaluates, and a role when IAM is enforced.
func checkSQSIntegration(i *Integration, enforcing bool) error {
	if i.IntegrationUri != nil {
		return badRequest("IntegrationUri is not supported for integration subtype %s", subtypeSQSSend)
	}
	if v := awsproto.Value(i.PayloadFormatVersion); v != "1.0" {
		return badRequest("Unsupported payload format version %s for integration subtype %s; it supports 1.0 only", v, subtypeSQSSend)
	}
	names := make([]string, 0, len(sqsParams))
	for name := range sqsParams {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := i.RequestParameters[name]; sqsParams[name] && !ok {
			return badRequest("Request parameter %s is required for integration subtype %s", name, subtypeSQSSend)
		}
	}
	for name, v := range i.RequestParameters {
		if _, ok := sqsParams[name]; !ok {
			return badRequest("Invalid request parameter %s for integration subtype %s", name, subtypeSQSSend)
		}
		if _, err := parseMappingValue(v, false); err != nil {
			return badRequest("Invalid mapping expression specified: %s for request parameter %s", v, name)
		}
	}
	if enforcing && i.CredentialsArn == nil {
		return badRequest("CredentialsArn is required for integration subtype %s", subtypeSQSSend)
	}
	return nil
}

// sqsSender sends messages for other services (implemented by the SQS service).
type sqsSender interface {
	SendForService(ctx context.Context, account, region, role string, params map[string]string) (map[string]*string, error)
}

// roleChecker decides whether a service may assume a role (implemented by STS).
type roleChecker interface {
	CheckServiceRole(ctx context.Context, service, account, roleARN string) error
}

// sendToSQS serves an SQS-SendMessage integration: it maps the request to SendMessage's
// parameters and answers 200 with SQS's response, or SQS's error with its status.
func (s *Service) sendToSQS(w http.ResponseWriter, req *proxyRequest, rec *accessRecord, integ *Integration) {
	d := req.d
	q, ok := service.Lookup[sqsSender](s.services, "sqs")
	if !ok {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	role := awsproto.Value(integ.CredentialsArn)
	ctx, cancel := context.WithTimeout(req.r.Context(), integ.timeout())
	defer cancel()
	if s.enforcing() {
		sts, ok := service.Lookup[roleChecker](s.services, "sts")
		if !ok {
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		if err := sts.CheckServiceRole(ctx, principal, d.sc.account, role); err != nil {
			rec.integrationError = err.Error()
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
	}
	params := map[string]string{}
	in := &mappingInput{req: req, rec: rec}
	for name, v := range integ.RequestParameters {
		params[name] = in.eval(v, false)
	}
	region := d.sc.region
	if r := params["Region"]; r != "" {
		region = r
	}
	start := s.now()
	out, err := q.SendForService(ctx, d.sc.account, region, role, params)
	rec.integrationLatency = s.now().Sub(start)
	var ae *awsproto.Error
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		writeMessage(w, http.StatusGatewayTimeout, "Gateway Timeout")
		return
	case errors.As(err, &ae) && ae.Status != 0 && ae.Status < 500:
		rec.integrationStatus, rec.integrationError = ae.Status, ae.Error()
		writeJSON(w, ae.Status, map[string]any{"Error": map[string]string{"Code": ae.Code, "Message": ae.Message, "Type": "Sender"},
			"RequestId": req.requestID})
		return
	case err != nil:
		rec.integrationError = err.Error()
		s.log.Warn("SQS integration failed", "api", d.apiID, "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	rec.integrationStatus = http.StatusOK
	writeJSON(w, http.StatusOK, map[string]any{"SendMessageResponse": map[string]any{
		"ResponseMetadata":  map[string]string{"RequestId": req.requestID},
		"SendMessageResult": out,
	}})
}
