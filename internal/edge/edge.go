// Package edge is Kiri's single HTTP front door. It works out which service and operation a
// request addresses, authenticates it, hands it to the service through the protocol codec, and
// serves Kiri's own routes under /_kiri/.
package edge

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/telemetry"
	"github.com/kiri-run/kiri/internal/uuid"
)

// Config holds what the edge needs; every field is required unless it says otherwise.
type Config struct {
	Router  *awsproto.Router
	Auth    *auth.Authenticator
	Metrics *telemetry.Metrics
	Logger  *slog.Logger
	// Version is reported by /_kiri/health.
	Version string
	// Health reports each service's state for /_kiri/health (optional).
	Health func(ctx context.Context) map[string]string
	// Frontends are what services add besides their APIs, by service name (optional).
	Frontends map[string]Frontend
	// BodyIdleTimeout is how long a request body may send nothing before the request fails
	// with RequestTimeout (400), as S3's does after about 20 seconds. 0 means no limit.
	BodyIdleTimeout time.Duration
	// AllowedHosts are host names dev mode serves beside loopback addresses, localhost and the
	// names under .localhost and localhost.localstack.cloud; pages from these sites may call
	// Kiri too. ".example.test" or "*.example.test" is that domain and its subdomains, "*" any
	// name (optional).
	AllowedHosts []string
}

// Edge is the http.Handler in front of every service.
type Edge struct {
	cfg      Config
	guard    guard
	routes   []Route
	rewrites []func(*http.Request, *auth.Signature)
}

// New returns an Edge serving cfg's router and frontends.
func New(cfg Config) *Edge {
	e := &Edge{cfg: cfg, guard: newGuard(cfg.Auth.Mode(), cfg.AllowedHosts)}
	names := make([]string, 0, len(cfg.Frontends))
	for name := range cfg.Frontends {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := cfg.Frontends[name]
		e.routes = append(e.routes, f.Routes...)
		if f.Rewrite != nil {
			e.rewrites = append(e.rewrites, f.Rewrite)
		}
	}
	return e
}

// ServeHTTP implements http.Handler.
func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	continueIfExpected(w, r)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &requestBody{body: r.Body, rc: http.NewResponseController(w), idle: e.cfg.BodyIdleTimeout, length: r.ContentLength}
	}
	sig := auth.Parse(r)
	for _, rw := range e.rewrites {
		rw(r, sig)
	}
	start := time.Now()
	call := &awsproto.Call{RequestID: uuid.New(), Request: r, ResponseHeader: http.Header{}}
	ctx := telemetry.StartRequest(r.Context(), r.Header)
	ctx = awsproto.WithCall(ctx, call)
	r = r.WithContext(ctx)
	call.Request = r
	route, rr := e.match(r)
	if route == nil && strings.HasPrefix(r.URL.Path, "/_kiri/") {
		if msg := e.refusal(r); msg != "" {
			writePlainError(w, r, "", http.StatusForbidden, "AccessDeniedException", msg)
			return
		}
		e.serveKiri(w, r)
		return
	}
	rec := &recorder{ResponseWriter: w}
	if route != nil {
		r, call.Request = rr, rr
		call.Service, call.Operation = route.Service, route.Operation
		if msg := e.routeRefusal(r, route); msg != "" {
			writePlainError(rec, r, call.RequestID, http.StatusForbidden, "AccessDeniedException", msg)
		} else {
			route.Serve(rec, r, e.cfg.Auth)
		}
	} else {
		e.serveAPI(ctx, rec, r, call, sig)
	}

	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	d := time.Since(start)
	service, op := call.Service, call.Operation
	if service == "" {
		service = "unknown"
	}
	if op == "" {
		op = "unknown"
	}
	e.cfg.Metrics.ObserveRequest(service, op, status, d)
	if call.FunctionTime > 0 {
		e.cfg.Metrics.ObserveOverhead(service, op, d-call.FunctionTime)
	}
	attrs := []slog.Attr{
		slog.String("request_id", call.RequestID),
		slog.String("service", service),
		slog.String("operation", op),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.String("account", call.AccountID),
		slog.String("trace_id", telemetry.TraceID(ctx)),
	}
	level := slog.LevelInfo
	if call.Cause != nil {
		// The client saw only an internal error; the log says what it was.
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", causeText(call.Cause)))
	}
	e.cfg.Logger.LogAttrs(ctx, level, "request", attrs...)
}

// causeText describes the failure behind an internal error, with the cause an *awsproto.Error
// keeps from its client.
func causeText(err error) string {
	var ae *awsproto.Error
	if errors.As(err, &ae) && ae.Cause != nil {
		return err.Error() + ": " + ae.Cause.Error()
	}
	return err.Error()
}

func (e *Edge) serveAPI(ctx context.Context, w http.ResponseWriter, r *http.Request, call *awsproto.Call, sig *auth.Signature) {
	if msg := e.guard.hostRefusal(r); msg != "" {
		e.refuse(w, r, call, sig, msg)
		return
	}
	origin, foreign := e.guard.foreignSite(r)
	route, err := e.cfg.Router.Resolve(r, sig.Service)
	if err != nil {
		if foreign {
			writePlainError(w, r, call.RequestID, http.StatusForbidden, "AccessDeniedException", originRefusal(origin))
			return
		}
		writePlainError(w, r, call.RequestID, http.StatusNotFound, "UnknownOperationException", err.Error())
		return
	}
	svc := route.Service
	call.Service = svc.Name()
	call.Operation = route.Operation
	admitted := !foreign
	if f := e.cfg.Frontends[call.Service]; f.CORS != nil {
		admitted = admitCORS(f.CORS, r, call, origin, foreign)
	}
	if !admitted {
		svc.WriteError(w, r, call, refusalError(svc.Protocol(), originRefusal(origin)))
		return
	}
	// S3 decides access for unsigned requests itself (ACLs and bucket policies); STS's web
	// identity federation is unsigned, its token the credential.
	anonymous := svc.Name() == "s3" || svc.Name() == "sts" && call.Operation == "AssumeRoleWithWebIdentity"
	id, err := e.cfg.Auth.Verify(ctx, r, sig, auth.Target{Service: svc.Name(), Protocol: svc.Protocol(), AllowAnonymous: anonymous})
	if err != nil {
		svc.WriteError(w, r, call, err)
		return
	}
	// aws-chunked bodies (STREAMING-* payloads) reach handlers decoded, chunk signatures checked.
	if err := auth.DecodeChunked(r, id.Streaming); err != nil {
		svc.WriteError(w, r, call, err)
		return
	}
	call.Region = id.Region
	call.AccountID = id.AccountID
	call.AccessKeyID = id.AccessKeyID
	call.PrincipalARN = id.PrincipalARN
	call.UserID = id.UserID
	call.ParentARN, call.PrincipalTags = id.Session.ParentARN, id.Session.Tags
	call.SessionPolicies, call.TokenIssued = id.Session.Policies, id.Session.Issued
	route.Serve(w, r, call)
}

// continueIfExpected sends the interim 100 Continue a request with "Expect: 100-continue" asks
// for, before anything else, as S3 does for every such request. net/http would send it only
// on the handler's first body read, and never for an empty body; boto3 asks even for empty
// uploads, and a final answer without the interim one leaves its connection expecting the
// wrong status line, so that the next request on it waits for its read timeout.
func continueIfExpected(w http.ResponseWriter, r *http.Request) {
	if r.ProtoAtLeast(1, 1) && strings.EqualFold(strings.TrimSpace(r.Header.Get("Expect")), "100-continue") {
		w.WriteHeader(http.StatusContinue)
	}
}

// refusal explains why dev mode does not serve r, a request for Kiri's own routes, or
// returns "".
func (e *Edge) refusal(r *http.Request) string {
	if msg := e.guard.hostRefusal(r); msg != "" {
		return msg
	}
	if origin, foreign := e.guard.foreignSite(r); foreign {
		return originRefusal(origin)
	}
	return ""
}

// match finds the route that claims r, and the request it serves.
func (e *Edge) match(r *http.Request) (*Route, *http.Request) {
	for i := range e.routes {
		if rr, ok := e.routes[i].Match(r); ok {
			return &e.routes[i], rr
		}
	}
	return nil, nil
}

// routeRefusal is refusal for a request a route claimed, whose resource's CORS configuration
// may admit a foreign site.
func (e *Edge) routeRefusal(r *http.Request, route *Route) string {
	if msg := e.guard.hostRefusal(r); msg != "" {
		return msg
	}
	if origin, foreign := e.guard.foreignSite(r); foreign && (route.Admits == nil || !route.Admits(r, origin)) {
		return originRefusal(origin)
	}
	return ""
}

// refuse answers a request dev mode does not serve with AccessDenied in the protocol of the
// service it addresses, or in the plain JSON shape when no service claims it.
func (e *Edge) refuse(w http.ResponseWriter, r *http.Request, call *awsproto.Call, sig *auth.Signature, msg string) {
	route, err := e.cfg.Router.Resolve(r, sig.Service)
	if err != nil {
		writePlainError(w, r, call.RequestID, http.StatusForbidden, "AccessDeniedException", msg)
		return
	}
	if call.Service == "" {
		call.Service, call.Operation = route.Service.Name(), route.Operation
	}
	route.Service.WriteError(w, r, call, refusalError(route.Service.Protocol(), msg))
}

// admitCORS adds the CORS headers of the resource r addresses to the response of a request
// from a browser, and reports whether the request may go on: it may unless it comes from a
// foreign site that the resource's CORS rules do not admit.
func admitCORS(cors func(*http.Request) http.Header, r *http.Request, call *awsproto.Call, origin string, foreign bool) bool {
	if r.Header.Get("Origin") != "" {
		h := cors(r)
		for k, v := range h {
			call.ResponseHeader[k] = v
		}
		return !foreign || h != nil
	}
	// The site came from the Referer of a cross-site request without an Origin.
	return !foreign || origin != "" && cors(withOrigin(r, origin)) != nil
}

// writePlainError answers a request no AWS protocol applies to (no service claims it, Kiri's
// own routes) in the plain JSON error shape AWS's own front ends use for unknown routes.
func writePlainError(w http.ResponseWriter, r *http.Request, requestID string, status int, code, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if requestID != "" {
		h.Set("x-amzn-RequestId", requestID)
	}
	h.Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
	}
}

func (e *Edge) serveKiri(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_kiri/health":
		services := map[string]string{}
		if e.cfg.Health != nil {
			services = e.cfg.Health(r.Context())
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(struct {
			Version  string            `json:"version"`
			Services map[string]string `json:"services"`
		}{e.cfg.Version, services})
	case "/_kiri/metrics":
		e.cfg.Metrics.Handler().ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// recorder remembers the status a handler wrote. Unwrap lets http.ResponseController reach
// the underlying writer's Flush and deadlines, which streaming responses need.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
