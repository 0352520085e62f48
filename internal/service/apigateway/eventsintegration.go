package apigateway

import (
	"context"
	"net/http"

	"github.com/kiri-run/kiri/internal/service"
)

// eventsPutter puts events for other services (implemented by the EventBridge service).
type eventsPutter interface {
	PutEventForService(ctx context.Context, account, region, role string, params map[string]string) (any, error)
}

// putToEventBridge serves an EventBridge-PutEvents integration: it maps the request to one
// PutEvents entry and answers 200 with EventBridge's response, or its error with its status.
func (s *Service) putToEventBridge(w http.ResponseWriter, req *proxyRequest, rec *accessRecord, integ *Integration) {
	d := req.d
	bus, ok := service.Lookup[eventsPutter](s.services, "events")
	if !ok {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	ctx, cancel := context.WithTimeout(req.r.Context(), integ.timeout())
	defer cancel()
	role, params, ok := s.serviceCall(ctx, w, req, rec, integ)
	if !ok {
		return
	}
	region := d.sc.region
	if r := params["Region"]; r != "" {
		region = r
	}
	start := s.now()
	out, err := bus.PutEventForService(ctx, d.sc.account, region, role, params)
	rec.integrationLatency = s.now().Sub(start)
	if !s.serviceAnswer(ctx, w, req, rec, err) {
		return
	}
	writeJSON(w, http.StatusOK, out)
}
