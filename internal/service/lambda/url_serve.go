package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/cors"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// ServeFunctionURL serves an HTTP request to a function URL: CORS preflights from the URL's
// configuration, AWS_IAM signatures or the NONE policy check, then an invocation with the
// payload format 2.0 event, buffered or streamed as the URL's InvokeMode says.
func (s *Service) ServeFunctionURL(w http.ResponseWriter, r *http.Request, urlID string, a *auth.Authenticator) {
	ctx := r.Context()
	t, u, err := s.urlTarget(ctx, urlID)
	if err != nil {
		writeURLError(w, http.StatusForbidden, "Forbidden")
		return
	}
	requestID := newRequestID()
	w.Header().Set("X-Amzn-Requestid", requestID)
	origin := r.Header.Get("Origin")
	if u.Cors != nil && cors.IsPreflight(r) {
		corsConfig(u.Cors).Preflight(w.Header(), r)
		w.WriteHeader(http.StatusOK)
		return
	}
	if u.Cors != nil && origin != "" {
		corsConfig(u.Cors).SetHeaders(w.Header(), origin)
	}
	switch u.AuthType {
	case "AWS_IAM":
		if id, err := a.Verify(ctx, r, nil, auth.Target{Service: "lambda", Protocol: "rest-json"}); err != nil || id.Anonymous {
			writeURLError(w, http.StatusForbidden, "Forbidden")
			return
		}
	default:
		if ok, err := s.publicURLAllowed(ctx, t, u); err != nil || !ok {
			writeURLError(w, http.StatusForbidden, "Forbidden")
			return
		}
	}
	body, err := readLimited(r.Body, maxSyncPayload)
	if err != nil {
		writeURLError(w, http.StatusRequestEntityTooLarge, "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}
	ev := newURLRequest(r, body, urlID, t.region, requestID, s.now())
	payload, _ := json.Marshal(ev)
	inv := &invocation{t: t, payload: payload, requestID: requestID, traceID: r.Header.Get("X-Amzn-Trace-Id")}
	if inv.traceID == "" {
		inv.traceID = telemetry.TraceID(ctx)
	}
	if u.InvokeMode == "RESPONSE_STREAM" {
		s.streamURL(ctx, w, inv)
		return
	}
	res, err := s.run(ctx, inv, nil)
	if err != nil {
		writeRunError(w, err)
		return
	}
	if res.FunctionError != "" {
		writeURLError(w, http.StatusBadGateway, "Internal Server Error")
		return
	}
	status, h, out := interpretURLResponse(res.Payload)
	for k, vs := range h {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	w.Write(out)
}

// streamURL runs a RESPONSE_STREAM function URL: the body goes to the client as the function
// writes it. A function that uses awslambda.HttpResponseStream first sends a JSON prelude
// (status, headers, cookies) and eight NUL bytes.
func (s *Service) streamURL(ctx context.Context, w http.ResponseWriter, inv *invocation) {
	sw := &urlStream{w: w, rc: http.NewResponseController(w)}
	res, err := s.run(ctx, inv, sw)
	switch {
	case err != nil && !sw.started:
		writeRunError(w, err)
	case err == nil && res.FunctionError != "" && !sw.started:
		writeURLError(w, http.StatusBadGateway, "Internal Server Error")
	case err == nil && !sw.started:
		if len(sw.pending) > 0 {
			sw.begin(http.StatusOK, nil)
			w.Write(sw.pending)
		} else {
			status, h, out := interpretURLResponse(res.Payload)
			for k, vs := range h {
				w.Header()[k] = vs
			}
			w.WriteHeader(status)
			w.Write(out)
		}
	}
}

// urlStream turns the runtime's streamed response into the HTTP response.
type urlStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
	pending []byte // bytes held while looking for an HttpResponseStream prelude
}

var preludeEnd = make([]byte, 8)

func (u *urlStream) Write(p []byte) (int, error) {
	if !u.started {
		u.pending = append(u.pending, p...)
		if len(u.pending) > 0 && u.pending[0] != '{' {
			u.begin(http.StatusOK, nil)
		} else if i := bytes.Index(u.pending, preludeEnd); i >= 0 {
			var prelude struct {
				StatusCode int               `json:"statusCode"`
				Headers    map[string]string `json:"headers"`
				Cookies    []string          `json:"cookies"`
			}
			if json.Unmarshal(u.pending[:i], &prelude) == nil {
				h := http.Header{}
				for k, v := range prelude.Headers {
					h.Set(k, v)
				}
				for _, c := range prelude.Cookies {
					h.Add("Set-Cookie", c)
				}
				u.pending = u.pending[i+len(preludeEnd):]
				u.begin(prelude.StatusCode, h)
			} else {
				u.begin(http.StatusOK, nil)
			}
		} else if len(u.pending) < 64<<10 {
			return len(p), nil
		} else {
			u.begin(http.StatusOK, nil)
		}
		if len(u.pending) > 0 {
			if _, err := u.w.Write(u.pending); err != nil {
				return 0, err
			}
		}
		u.pending = nil
		return len(p), u.rc.Flush()
	}
	if _, err := u.w.Write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (u *urlStream) Flush() error {
	if !u.started {
		return nil
	}
	return u.rc.Flush()
}

func (u *urlStream) begin(status int, h http.Header) {
	u.started = true
	for k, vs := range h {
		u.w.Header()[k] = vs
	}
	if u.w.Header().Get("Content-Type") == "" {
		u.w.Header().Set("Content-Type", "application/octet-stream")
	}
	if status == 0 {
		status = http.StatusOK
	}
	u.w.WriteHeader(status)
}

// publicURLAllowed reports whether the function's resource policy lets anyone invoke a URL
// whose AuthType is NONE, as Lambda requires.
func (s *Service) publicURLAllowed(ctx context.Context, t *target, u *urlConfig) (bool, error) {
	ref := funcRef{account: t.account, region: t.region, name: t.name, qualifier: u.Qualifier}
	perms, err := loadPermissions(s.reader(ctx), ref)
	if err != nil {
		return false, err
	}
	for _, p := range perms {
		if (p.Action == "lambda:InvokeFunctionUrl" || p.Action == "lambda:*") && p.Principal == "*" &&
			(p.FunctionURLAuthType == "" || p.FunctionURLAuthType == "NONE") {
			return true, nil
		}
	}
	return false, nil
}

// corsConfig is a function URL's CORS configuration as package cors takes it.
func corsConfig(c *Cors) *cors.Config {
	return &cors.Config{
		AllowCredentials: awsproto.Value(c.AllowCredentials), AllowHeaders: c.AllowHeaders, AllowMethods: c.AllowMethods,
		AllowOrigins: c.AllowOrigins, ExposeHeaders: c.ExposeHeaders, MaxAge: c.MaxAge,
	}
}

func writeURLError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", http.StatusText(status))
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"Message": msg})
	w.Write(b)
}

func writeRunError(w http.ResponseWriter, err error) {
	var apiErr *awsproto.Error
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests {
		writeURLError(w, http.StatusTooManyRequests, "Rate Exceeded.")
		return
	}
	writeURLError(w, http.StatusBadGateway, "Internal Server Error")
}
