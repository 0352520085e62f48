package events

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/service"
)

// PutEventForService puts one event for another AWS service acting as the IAM role role (API
// Gateway's EventBridge-PutEvents integrations), as PutEvents would for that role: params are
// the entry's members (Detail, DetailType, Source, and optionally EventBusName, Time as RFC
// 3339 or epoch seconds, Resources as a JSON array or a comma-separated list, TraceHeader).
// With IAM enforced the role must be allowed events:PutEvents on the bus. It answers
// PutEvents' response.
func (s *Service) PutEventForService(ctx context.Context, account, region, role string, params map[string]string) (any, error) {
	e := PutEventsRequestEntry{Detail: ptrIf(params["Detail"]), DetailType: ptrIf(params["DetailType"]), Source: ptrIf(params["Source"]),
		EventBusName: ptrIf(params["EventBusName"]), TraceHeader: ptrIf(params["TraceHeader"])}
	if t := params["Time"]; t != "" {
		at, err := time.Parse(time.RFC3339, t)
		if err != nil {
			var secs float64
			if json.Unmarshal([]byte(t), &secs) != nil {
				return nil, validation("Parameter Time is not valid: %s", t)
			}
			at = time.Unix(0, int64(secs*float64(time.Second)))
		}
		e.Time = &at
	}
	if r := strings.TrimSpace(params["Resources"]); r != "" {
		if json.Unmarshal([]byte(r), &e.Resources) != nil {
			for _, arn := range strings.Split(r, ",") {
				e.Resources = append(e.Resources, strings.TrimSpace(arn))
			}
		}
	}
	ctx = awsproto.WithCall(ctx, &awsproto.Call{AccountID: account, Region: region, PrincipalARN: role})
	if s.enforcing() {
		k, err := busParam(ctx, e.EventBusName, true)
		if err != nil {
			return nil, err
		}
		b, err := mustBus(s.reader(ctx), k)
		if err != nil {
			return nil, err
		}
		err = s.authz.AuthorizeRole(ctx, role, "", authz.Request{Action: "events:PutEvents", Resource: k.arn(), ResourceAccount: k.Account,
			ResourcePolicy: s.busPolicy(b)})
		if d, ok := authz.IsDenied(err); ok {
			return nil, accessDenied(d)
		}
		if err != nil {
			return nil, err
		}
	}
	out, err := s.putEvents(ctx, &PutEventsRequest{Entries: []PutEventsRequestEntry{e}})
	if err != nil {
		return nil, err
	}
	entry := map[string]string{}
	r := out.Entries[0]
	for k, v := range map[string]*string{"EventId": r.EventId, "ErrorCode": r.ErrorCode, "ErrorMessage": r.ErrorMessage} {
		if v != nil {
			entry[k] = *v
		}
	}
	return map[string]any{"Entries": []map[string]string{entry}, "FailedEntryCount": awsproto.Value(out.FailedEntryCount)}, nil
}

// ptrIf is v's address, or nil for "".
func ptrIf(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// RunForService runs an EventBridge action (PutEvents, ...) with its JSON input for another
// service acting in account and region with role (REST APIs' AWS integrations); see
// service.RunJSONAction.
func (s *Service) RunForService(ctx context.Context, account, region, role, action string, input []byte) (int, []byte) {
	return service.RunJSONAction(ctx, s.api, account, region, role, action, input)
}
