package apigateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service"
)

// Step Functions' integration subtypes and the actions they run.
const (
	subtypeSFNStart = "StepFunctions-StartExecution"
	subtypeSFNSync  = "StepFunctions-StartSyncExecution"
)

var sfnActions = map[string]string{subtypeSFNStart: "StartExecution", subtypeSFNSync: "StartSyncExecution"}

// startExecution serves a StepFunctions-StartExecution or -StartSyncExecution integration: it
// maps the request to the action's parameters, runs it on Step Functions as the integration's
// role, and answers 200 with Step Functions' response, or its error with its status.
func (s *Service) startExecution(w http.ResponseWriter, req *proxyRequest, rec *accessRecord, integ *Integration) {
	sfn, ok := service.Lookup[dynamoRunner](s.services, "stepfunctions")
	if !ok {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	action := sfnActions[awsproto.Value(integ.IntegrationSubtype)]
	s.callService(w, req, rec, integ, func(ctx context.Context, account, region, role string, params map[string]string) (any, error) {
		in := map[string]string{}
		for name, v := range params {
			if name != "Region" {
				in[strings.ToLower(name[:1])+name[1:]] = v
			}
		}
		body, _ := json.Marshal(in)
		status, out := sfn.RunForService(ctx, account, region, role, action, body)
		if status >= 300 {
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			_ = json.Unmarshal(out, &e)
			return nil, awsproto.Errorf(e.Type[strings.LastIndexByte(e.Type, '#')+1:], status, "%s", e.Message)
		}
		return json.RawMessage(out), nil
	})
}
