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
	bus, ok := service.Lookup[eventsPutter](s.services, "events")
	if !ok {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	s.callService(w, req, rec, integ, func(ctx context.Context, account, region, role string, params map[string]string) (any, error) {
		return bus.PutEventForService(ctx, account, region, role, params)
	})
}
