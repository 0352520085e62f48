package apigateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/proxyevent"
	"github.com/kiri-run/kiri/internal/service"
)

// socketEvent is the Lambda proxy event of WebSocket APIs, for $connect (with the handshake's
// headers and query string), messages (with their body) and $disconnect.
type socketEvent struct {
	Headers                         map[string]string   `json:"headers,omitempty"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders,omitempty"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters,omitempty"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters,omitempty"`
	RequestContext                  socketContext       `json:"requestContext"`
	Body                            *string             `json:"body,omitempty"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
	StageVariables                  map[string]string   `json:"stageVariables,omitempty"`
}

type socketContext struct {
	RouteKey             string     `json:"routeKey"`
	MessageID            *string    `json:"messageId,omitempty"`
	DisconnectStatusCode *int       `json:"disconnectStatusCode,omitempty"`
	DisconnectReason     *string    `json:"disconnectReason,omitempty"`
	EventType            string     `json:"eventType"`
	ExtendedRequestID    string     `json:"extendedRequestId"`
	RequestTime          string     `json:"requestTime"`
	MessageDirection     string     `json:"messageDirection"`
	Stage                string     `json:"stage"`
	ConnectedAt          int64      `json:"connectedAt"`
	RequestTimeEpoch     int64      `json:"requestTimeEpoch"`
	Identity             identityV1 `json:"identity"`
	RequestID            string     `json:"requestId"`
	DomainName           string     `json:"domainName"`
	ConnectionID         string     `json:"connectionId"`
	APIID                string     `json:"apiId"`
	// Authorizer is what the $connect route's Lambda authorizer gave.
	Authorizer map[string]any `json:"authorizer,omitempty"`
}

// socketAnswer is what WebSocket APIs read of a Lambda proxy function's answer.
type socketAnswer struct {
	StatusCode      *int           `json:"statusCode"`
	Headers         map[string]any `json:"headers"`
	Body            *string        `json:"body"`
	IsBase64Encoded bool           `json:"isBase64Encoded"`
}

// event builds the event of one of c's routes.
func (c *socket) event(eventType, routeKey, requestID string, now time.Time) *socketEvent {
	ev := &socketEvent{RequestContext: socketContext{
		RouteKey: routeKey, EventType: eventType, ExtendedRequestID: requestID, RequestTime: now.UTC().Format(requestTimeLayout),
		MessageDirection: "IN", Stage: c.stage, ConnectedAt: c.connectedAt.UnixMilli(), RequestTimeEpoch: now.UnixMilli(),
		Identity: identityV1{SourceIP: c.sourceIP, UserAgent: c.userAgent}, RequestID: requestID,
		DomainName: c.domain, ConnectionID: c.id, APIID: c.apiID, Authorizer: c.authorizer,
	}}
	if c.iam != nil {
		c.iam.fill(&ev.RequestContext.Identity)
	}
	return ev
}

// connectEvent is the $connect route's event: the handshake's headers and query string.
func (c *socket) connectEvent(r *http.Request, d *deployedAPI, now time.Time) *socketEvent {
	ev := c.event("CONNECT", routeConnect, newID(16), now)
	ev.Headers, ev.MultiValueHeaders = map[string]string{}, map[string][]string{}
	for k, vs := range r.Header {
		ev.Headers[k], ev.MultiValueHeaders[k] = vs[len(vs)-1], vs
	}
	ev.Headers["Host"], ev.MultiValueHeaders["Host"] = r.Host, []string{r.Host}
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters, ev.MultiValueQueryStringParameters = map[string]string{}, map[string][]string(q)
		for k, vs := range q {
			ev.QueryStringParameters[k] = vs[len(vs)-1]
		}
	}
	ev.StageVariables = d.stageVariables()
	return ev
}

// serveWebSocket serves the handshake to a WebSocket API's stage: it runs the $connect route's
// integration, which may refuse the connection with its status, then upgrades the connection
// and reads its messages in a goroutine of their own.
func (s *Service) serveWebSocket(w http.ResponseWriter, r *http.Request, apiID string, sc scope) {
	ctx := r.Context()
	d, ok, err := s.loadDeployed(ctx, sc, apiID, r.URL.Path)
	if err != nil {
		s.log.Error("load deployed API", "api", apiID, "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if !ok || (d.path != "/" && d.path != "") {
		writeMessage(w, http.StatusForbidden, "Forbidden")
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		writeMessage(w, http.StatusUpgradeRequired, "Upgrade Required")
		return
	}
	now := s.now()
	c := &socket{
		id: newConnectionID(), apiID: apiID, stage: awsproto.Value(d.stage.StageName), account: sc.account, region: sc.region,
		sourceIP: proxyevent.SourceIP(r), userAgent: r.UserAgent(), domain: r.Host, connectedAt: now,
	}
	c.lastActive.Store(now.UnixNano())
	var header http.Header
	route, integ := d.socketRoute(routeConnect)
	ev := c.connectEvent(r, d, now)
	if route != nil && !s.authorizeConnect(w, r, d, route, c, ev, now) {
		return
	}
	if integ != nil {
		// The integration learns what the authorization learned of the caller.
		ev.RequestContext = c.event("CONNECT", routeConnect, ev.RequestContext.RequestID, now).RequestContext
		ans, err := s.invokeSocketRoute(ctx, d, route, integ, ev)
		if err != nil {
			writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		if status := awsproto.Value(ans.StatusCode); ans.StatusCode != nil && (status < 200 || status > 299) {
			w.Header().Set("Content-Length", strconv.Itoa(len(awsproto.Value(ans.Body))))
			w.WriteHeader(status)
			io.WriteString(w, awsproto.Value(ans.Body))
			return
		}
		if p, ok := ans.Headers["Sec-WebSocket-Protocol"].(string); ok {
			header = http.Header{"Sec-Websocket-Protocol": {p}}
		}
	}
	ws, err := upgrader.Upgrade(hijacker{w}, r, header)
	if err != nil {
		return // gorilla answered the client
	}
	c.ws = ws
	s.sockets.add(c)
	s.sockets.wg.Add(1)
	go s.readSocket(c)
}

// readSocket reads c's messages until it closes, routing each to its integration, then runs
// the $disconnect route.
func (s *Service) readSocket(c *socket) {
	defer s.sockets.wg.Done()
	code, reason := websocket.CloseNoStatusReceived, ""
	for {
		typ, rd, err := c.ws.NextReader()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				code, reason = ce.Code, ce.Text
			}
			break
		}
		if c.closing.Load() {
			continue // the server is closing: the client's messages are dropped
		}
		c.idleTimer.Reset(s.sockets.idle)
		data, err := io.ReadAll(io.LimitReader(rd, maxSocketMessage+1))
		if err != nil {
			break
		}
		if len(data) > maxSocketMessage {
			c.closeWith(websocket.CloseMessageTooBig, "Message too big")
			continue
		}
		c.lastActive.Store(s.now().UnixNano())
		s.sockets.wg.Add(1)
		go func() {
			defer s.sockets.wg.Done()
			s.onMessage(c, data, typ == websocket.BinaryMessage)
		}()
	}
	s.sockets.remove(c)
	c.ws.Close()
	if closed, c2, r2 := c.closedBy(); closed {
		code, reason = c2, r2
	}
	s.onDisconnect(c, code, reason)
}

// onMessage routes a message by the API's route selection expression ($default when it
// selects no route) and calls the route's integration; a two-way route's answer goes back to
// the client.
func (s *Service) onMessage(c *socket, data []byte, binary bool) {
	ctx := s.socketCtx
	requestID := newID(16)
	a, sc, err := s.loadAPI(ctx, c.apiID)
	if err != nil || a == nil {
		s.socketError(c, "Internal server error", requestID)
		return
	}
	d, ok, err := s.loadDeployed(ctx, sc, c.apiID, "/"+c.stage)
	if err != nil || !ok {
		s.socketError(c, "Internal server error", requestID)
		return
	}
	key := defaultRoute
	if sel, err := parseSelection(awsproto.Value(a.RouteSelectionExpression)); err == nil {
		if k, ok := sel.evaluate(data); ok && k != routeConnect && k != routeDisconnect {
			if r, _ := d.socketRoute(k); r != nil {
				key = k
			}
		}
	}
	route, integ := d.socketRoute(key)
	if route == nil || integ == nil {
		s.socketError(c, "Forbidden", requestID)
		return
	}
	ev := c.event("MESSAGE", key, requestID, s.now())
	ev.RequestContext.MessageID = awsproto.Ptr(newConnectionID())
	body, b64 := string(data), false
	if binary {
		body, b64 = proxyevent.Body(data, "application/octet-stream")
	}
	ev.Body, ev.IsBase64Encoded = &body, b64
	ev.StageVariables = d.stageVariables()
	ans, err := s.invokeSocketRoute(ctx, d, route, integ, ev)
	if err != nil {
		s.socketError(c, "Internal server error", requestID)
		return
	}
	if !d.twoWay(route) || ans.Body == nil {
		return
	}
	c.send([]byte(*ans.Body))
}

// onDisconnect runs the $disconnect route's integration, if the API has one, for a connection
// that closed with code and reason.
func (s *Service) onDisconnect(c *socket, code int, reason string) {
	ctx := s.socketCtx
	a, sc, err := s.loadAPI(ctx, c.apiID)
	if err != nil || a == nil {
		return
	}
	d, ok, err := s.loadDeployed(ctx, sc, c.apiID, "/"+c.stage)
	if err != nil || !ok {
		return
	}
	route, integ := d.socketRoute(routeDisconnect)
	if integ == nil {
		return
	}
	requestID := newID(16)
	ev := c.event("DISCONNECT", routeDisconnect, requestID, s.now())
	ev.RequestContext.DisconnectStatusCode, ev.RequestContext.DisconnectReason = &code, &reason
	ev.Headers = map[string]string{"Host": c.domain, "User-Agent": c.userAgent, "X-Forwarded-For": c.sourceIP}
	ev.MultiValueHeaders = map[string][]string{"Host": {c.domain}, "User-Agent": {c.userAgent}, "X-Forwarded-For": {c.sourceIP}}
	ev.StageVariables = d.stageVariables()
	s.invokeSocketRoute(ctx, d, route, integ, ev)
}

// socketError sends API Gateway's error message for a message it could not serve.
func (s *Service) socketError(c *socket, msg, requestID string) {
	b, _ := json.Marshal(map[string]string{"message": msg, "connectionId": c.id, "requestId": requestID})
	c.send(b)
}

// invokeSocketRoute calls a route's Lambda proxy integration with ev and reads its answer.
func (s *Service) invokeSocketRoute(ctx context.Context, d *deployedAPI, route *Route, integ *Integration, ev *socketEvent) (*socketAnswer, error) {
	lambda, ok := service.Lookup[functionInvoker](s.services, "lambda")
	if !ok {
		return nil, errors.New("no Lambda service")
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	ictx, cancel := context.WithTimeout(ctx, integ.timeout())
	defer cancel()
	sourceARN := fmt.Sprintf("arn:aws:execute-api:%s:%s:%s/%s/%s", d.sc.region, d.sc.account, d.apiID, awsproto.Value(d.stage.StageName), awsproto.Value(route.RouteKey))
	out, fnErr, err := lambda.InvokeForService(ictx, integrationFunction(awsproto.Value(integ.IntegrationUri)), principal, sourceARN, d.sc.account, payload)
	if err != nil {
		s.log.Warn("WebSocket integration failed", "api", d.apiID, "route", awsproto.Value(route.RouteKey), "error", err)
		return nil, err
	}
	if fnErr != "" {
		s.log.Warn("WebSocket integration's function failed", "api", d.apiID, "route", awsproto.Value(route.RouteKey), "error", fnErr, "answer", string(out))
		return nil, fmt.Errorf("the Lambda function returned an error: %s", fnErr)
	}
	var ans socketAnswer
	if json.Unmarshal(out, &ans) != nil {
		// A function answering something other than an object answers nothing to send.
		return &socketAnswer{}, nil
	}
	return &ans, nil
}

// socketRoute is the deployed route with a key and its integration; either is nil when missing.
func (d *deployedAPI) socketRoute(key string) (*Route, *Integration) {
	for i := range d.deployed.Routes {
		if r := &d.deployed.Routes[i]; awsproto.Value(r.RouteKey) == key {
			return r, d.integration(awsproto.Value(r.Target))
		}
	}
	return nil, nil
}

// twoWay reports whether a route answers its messages: it has a route response selection
// expression and a route response.
func (d *deployedAPI) twoWay(r *Route) bool {
	if r.RouteResponseSelectionExpression == nil {
		return false
	}
	for _, rr := range d.deployed.RouteResponses {
		if rr.RouteID == awsproto.Value(r.RouteId) {
			return true
		}
	}
	return false
}

func (d *deployedAPI) stageVariables() map[string]string {
	if len(d.stage.StageVariables) == 0 {
		return nil
	}
	return d.stage.StageVariables
}

// Connection describes a live connection of account's; ok is false when there is none.
func (s *Service) Connection(account, id string) (Connection, bool) {
	c, ok := s.sockets.get(id)
	if !ok || c.account != account || c.closing.Load() {
		return Connection{}, false
	}
	return c.describe(), true
}

// PostToConnection sends data to a live connection of account's, or answers ErrGone.
func (s *Service) PostToConnection(account, id string, data []byte) error {
	c, ok := s.sockets.get(id)
	if !ok || c.account != account {
		return ErrGone
	}
	return c.send(data)
}

// DeleteConnection closes a live connection of account's, or answers ErrGone.
func (s *Service) DeleteConnection(account, id string) error {
	c, ok := s.sockets.get(id)
	if !ok || c.account != account || c.closing.Load() {
		return ErrGone
	}
	c.closeWith(websocket.CloseNormalClosure, "")
	return nil
}

// Close closes every WebSocket connection and waits for their routes' integrations.
func (s *Service) Close() {
	s.socketCancel()
	s.sockets.closeAll()
}
