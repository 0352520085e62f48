package apigateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// socketAuthorizerEvent is what a WebSocket API's Lambda REQUEST authorizer receives: the
// $connect event, with type REQUEST and the $connect route's ARN.
type socketAuthorizerEvent struct {
	Type      string `json:"type"`
	MethodArn string `json:"methodArn"`
	*socketEvent
}

// connectARN is the ARN of a WebSocket API stage's $connect route, which AWS_IAM callers'
// and authorizers' policies are evaluated against.
func (d *deployedAPI) connectARN() string {
	return fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s", d.sc.region, d.sc.account, d.apiID, awsproto.Value(d.stage.StageName), routeConnect)
}

// authorizeConnect runs the $connect route's authorization before the handshake completes: an
// AWS_IAM route needs an upgrade request signed (or presigned) for execute-api by a caller
// allowed execute-api:Invoke on the route's ARN; a CUSTOM route asks its Lambda authorizer
// (or its cached answer). It refuses the handshake itself (401, 403, 500) and reports false,
// or records on c what the connection's events tell of the caller.
func (s *Service) authorizeConnect(w http.ResponseWriter, r *http.Request, d *deployedAPI, route *Route, c *socket, ev *socketEvent, now time.Time) bool {
	switch awsproto.Value(route.AuthorizationType) {
	case "", authNone:
		return true
	case authIAM:
		id, ref := verifyIAM(r, s.authz, s.log, ev.RequestContext.RequestID, d.connectARN(), d.sc.account)
		if ref != nil {
			if ref.errType != "" {
				w.Header().Set("X-Amzn-Errortype", ref.errType)
			}
			writeMessage(w, ref.status, ref.message)
			return false
		}
		c.iam = id
		return true
	}
	a := d.authorizer(awsproto.Value(route.AuthorizerId))
	if a == nil {
		s.log.Error("$connect route's authorizer is missing from its deployment", "api", d.apiID)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return false
	}
	values := make([]string, len(a.IdentitySource))
	for i, src := range a.IdentitySource {
		if header, ok := strings.CutPrefix(src, "route.request.header."); ok {
			values[i] = strings.Join(r.Header.Values(header), ",")
		} else {
			values[i] = strings.Join(r.URL.Query()[strings.TrimPrefix(src, "route.request.querystring.")], ",")
		}
		if values[i] == "" {
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return false
		}
	}
	answer, err := s.lambdaAnswer(r.Context(), d, a, values, now, func() ([]byte, error) {
		return json.Marshal(&socketAuthorizerEvent{Type: "REQUEST", MethodArn: d.connectARN(), socketEvent: ev})
	})
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return false
	}
	if !answer.allows(d.connectARN(), now) {
		writeMessage(w, http.StatusForbidden, "Forbidden")
		return false
	}
	c.authorizer = map[string]any{"principalId": answer.principalID}
	for k, v := range answer.context {
		c.authorizer[k] = v
	}
	return true
}
