package apigateway

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service"
)

// subtypeParams are the request parameters of each AWS service integration subtype Kiri
// serves, and whether each is required.
var subtypeParams = map[string]map[string]bool{
	subtypeSQSSend: {"QueueUrl": true, "MessageBody": true, "DelaySeconds": false, "MessageAttributes": false,
		"MessageDeduplicationId": false, "MessageGroupId": false, "Region": false},
	subtypeEventsPut: {"Detail": true, "DetailType": true, "Source": true, "Time": false, "EventBusName": false,
		"Region": false, "Resources": false, "TraceHeader": false},
	subtypeSFNStart: {"StateMachineArn": true, "Name": false, "Input": false, "Region": false},
	subtypeSFNSync:  {"StateMachineArn": true, "Name": false, "Input": false, "Region": false, "TraceHeader": false},
}

// checkServiceIntegration checks an AWS service integration (a subtype): no URI, payload format
// 1.0, the parameters the subtype's action takes with the required ones among them, each static
// or a mapping Kiri evaluates, and a role when IAM is enforced.
func checkServiceIntegration(i *Integration, enforcing bool) error {
	subtype := awsproto.Value(i.IntegrationSubtype)
	params := subtypeParams[subtype]
	if i.IntegrationUri != nil {
		return badRequest("IntegrationUri is not supported for integration subtype %s", subtype)
	}
	if v := awsproto.Value(i.PayloadFormatVersion); v != "1.0" {
		return badRequest("Unsupported payload format version %s for integration subtype %s; it supports 1.0 only", v, subtype)
	}
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := i.RequestParameters[name]; params[name] && !ok {
			return badRequest("Request parameter %s is required for integration subtype %s", name, subtype)
		}
	}
	for name, v := range i.RequestParameters {
		if _, ok := params[name]; !ok {
			return badRequest("Invalid request parameter %s for integration subtype %s", name, subtype)
		}
		if _, err := parseMappingValue(v, false); err != nil {
			return badRequest("Invalid mapping expression specified: %s for request parameter %s", v, name)
		}
	}
	if enforcing && i.CredentialsArn == nil {
		return badRequest("CredentialsArn is required for integration subtype %s", subtype)
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

// serviceCall checks, when IAM is enforced, that API Gateway may assume the integration's role,
// and evaluates the integration's request parameters; ok is false when it has answered.
func (s *Service) serviceCall(ctx context.Context, w http.ResponseWriter, req *proxyRequest, rec *accessRecord, integ *Integration) (role string, params map[string]string, ok bool) {
	role = awsproto.Value(integ.CredentialsArn)
	if s.enforcing() {
		sts, found := service.Lookup[roleChecker](s.services, "sts")
		if !found {
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
			return "", nil, false
		}
		if err := sts.CheckServiceRole(ctx, principal, req.d.sc.account, role); err != nil {
			rec.integrationError = err.Error()
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
			return "", nil, false
		}
	}
	params = map[string]string{}
	in := &mappingInput{req: req, rec: rec}
	for name, v := range integ.RequestParameters {
		params[name] = in.eval(v, false)
	}
	return role, params, true
}

// serviceAnswer answers an AWS service integration's call: 504 when it timed out, the service's
// client error with its status, 500 for anything else; ok is true when the call succeeded.
func (s *Service) serviceAnswer(ctx context.Context, w http.ResponseWriter, req *proxyRequest, rec *accessRecord, err error) bool {
	var ae *awsproto.Error
	switch {
	case err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		writeMessage(w, http.StatusGatewayTimeout, "Gateway Timeout")
		return false
	case errors.As(err, &ae) && ae.Status != 0 && ae.Status < 500:
		rec.integrationStatus, rec.integrationError = ae.Status, ae.Error()
		writeJSON(w, ae.Status, map[string]any{"Error": map[string]string{"Code": ae.Code, "Message": ae.Message, "Type": "Sender"},
			"RequestId": req.requestID})
		return false
	case err != nil:
		rec.integrationError = err.Error()
		s.log.Warn("AWS service integration failed", "api", req.d.apiID, "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return false
	}
	rec.integrationStatus = http.StatusOK
	return true
}

// sendToSQS serves an SQS-SendMessage integration: it maps the request to SendMessage's
// parameters and answers 200 with SQS's response, or SQS's error with its status.
func (s *Service) sendToSQS(w http.ResponseWriter, req *proxyRequest, rec *accessRecord, integ *Integration) {
	q, ok := service.Lookup[sqsSender](s.services, "sqs")
	if !ok {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	s.callService(w, req, rec, integ, func(ctx context.Context, account, region, role string, params map[string]string) (any, error) {
		out, err := q.SendForService(ctx, account, region, role, params)
		if err != nil {
			return nil, err
		}
		return map[string]any{"SendMessageResponse": map[string]any{
			"ResponseMetadata":  map[string]string{"RequestId": req.requestID},
			"SendMessageResult": out,
		}}, nil
	})
}

// callService serves an AWS service integration with call: within the integration's timeout,
// acting as its role (checked when IAM is enforced), with its request parameters evaluated and
// the Region parameter (else the API's region) as the region; call's answer is written as JSON
// with 200, its error as serviceAnswer writes it.
func (s *Service) callService(w http.ResponseWriter, req *proxyRequest, rec *accessRecord, integ *Integration,
	call func(ctx context.Context, account, region, role string, params map[string]string) (any, error)) {
	ctx, cancel := context.WithTimeout(req.r.Context(), integ.timeout())
	defer cancel()
	role, params, ok := s.serviceCall(ctx, w, req, rec, integ)
	if !ok {
		return
	}
	region := req.d.sc.region
	if r := params["Region"]; r != "" {
		region = r
	}
	start := s.now()
	out, err := call(ctx, req.d.sc.account, region, role, params)
	rec.integrationLatency = s.now().Sub(start)
	if !s.serviceAnswer(ctx, w, req, rec, err) {
		return
	}
	writeJSON(w, http.StatusOK, out)
}
