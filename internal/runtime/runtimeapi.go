package runtime

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Runtime API (2018-06-01) paths and headers.
const (
	apiPrefix         = "/2018-06-01/runtime/"
	hdrRequestID      = "Lambda-Runtime-Aws-Request-Id"
	hdrDeadline       = "Lambda-Runtime-Deadline-Ms"
	hdrFunctionARN    = "Lambda-Runtime-Invoked-Function-Arn"
	hdrTraceID        = "Lambda-Runtime-Trace-Id"
	hdrClientContext  = "Lambda-Runtime-Client-Context"
	hdrCognito        = "Lambda-Runtime-Cognito-Identity"
	hdrErrorType      = "Lambda-Runtime-Function-Error-Type"
	hdrErrorBody      = "Lambda-Runtime-Function-Error-Body"
	maxErrorBodyBytes = 1 << 20
)

var (
	statusOK     = []byte(`{"status":"OK"}`)
	jsonType     = []string{"application/json"}
	errInvalidID = apiError("InvalidRequestID", "Invalid request ID")
	errBadState  = apiError("InvalidStateTransition", "State transition from Ready to InitError failed for runtime. Error: State transition is not allowed")
	errTooLarge  = apiError("RequestEntityTooLarge", responseTooLargeRuntimeMessage())
	errNotFound  = apiError("NotFound", "Unknown Runtime API path")
	errBadMethod = apiError("MethodNotAllowed", "Method not allowed")
)

func apiError(errType, msg string) []byte { return errorPayload(errType, msg) }

func responseTooLargeRuntimeMessage() string {
	return "Exceeded maximum allowed payload size (" + strconv.Itoa(maxSyncResponse) + " bytes)."
}

// ServeHTTP serves the instance's Runtime API.
func (inst *instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	if !ok {
		writeAPI(w, http.StatusNotFound, errNotFound)
		return
	}
	switch {
	case rest == "invocation/next":
		if r.Method != http.MethodGet {
			writeAPI(w, http.StatusMethodNotAllowed, errBadMethod)
			return
		}
		inst.handleNext(w, r)
	case rest == "init/error":
		if r.Method != http.MethodPost {
			writeAPI(w, http.StatusMethodNotAllowed, errBadMethod)
			return
		}
		inst.handleInitError(w, r)
	case strings.HasPrefix(rest, "invocation/"):
		id, action, ok := strings.Cut(rest[len("invocation/"):], "/")
		if !ok || (action != "response" && action != "error") {
			writeAPI(w, http.StatusNotFound, errNotFound)
			return
		}
		if r.Method != http.MethodPost {
			writeAPI(w, http.StatusMethodNotAllowed, errBadMethod)
			return
		}
		inv := inst.cur.Load()
		if inv == nil || inv.req.RequestID != id {
			writeAPI(w, http.StatusBadRequest, errInvalidID)
			return
		}
		if action == "response" {
			inst.handleResponse(w, r, inv)
		} else {
			inst.handleError(w, r, inv)
		}
	default:
		writeAPI(w, http.StatusNotFound, errNotFound)
	}
}

func writeAPI(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	w.Write(body)
}

// handleNext long-polls for the next invocation; the first call ends the init phase.
func (inst *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	inst.readyOnce.Do(func() {
		inst.readyAt = time.Now()
		if inst.cg != nil {
			// Off the first event's path: four cgroup writes cost more than the event.
			go inst.cg.limitCPU()
		}
		close(inst.ready)
		inst.endInit()
	})
	var inv *invocation
	select {
	case inv = <-inst.next:
	case <-r.Context().Done():
		return
	case <-inst.dead:
		return
	}
	deadline := inst.begin(inv)
	req := inv.req
	h := w.Header()
	h["Content-Type"] = jsonType
	h[hdrRequestID] = []string{req.RequestID}
	h[hdrDeadline] = []string{strconv.FormatInt(deadline.UnixMilli(), 10)}
	h[hdrFunctionARN] = []string{inst.fp.fn.ARN}
	if req.TraceID != "" {
		h[hdrTraceID] = []string{req.TraceID}
	}
	if req.ClientContext != "" {
		h[hdrClientContext] = []string{req.ClientContext}
	}
	if req.CognitoIdentity != "" {
		h[hdrCognito] = []string{req.CognitoIdentity}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(req.Payload))}
	w.WriteHeader(http.StatusOK)
	w.Write(req.Payload)
}

// handleResponse takes the function's answer, buffered or streamed.
func (inst *instance) handleResponse(w http.ResponseWriter, r *http.Request, inv *invocation) {
	// A streaming caller gets the body as it arrives, whatever the runtime's response mode:
	// aws-lambda-go streams io.Reader results as chunked bodies without announcing it.
	if inv.req.Stream != nil {
		inst.streamResponse(w, r, inv)
		return
	}
	body, err := readLimited(r, maxSyncResponse)
	if errors.Is(err, errBodyTooLarge) {
		if inv.claim() {
			inst.finish(inv, Result{
				Payload:       errorPayload(errResponseTooLarge, responseTooLargeMessage(maxSyncResponse)),
				FunctionError: unhandled, ErrorType: errResponseTooLarge,
			}, "error", true)
		}
		writeAPI(w, http.StatusRequestEntityTooLarge, errTooLarge)
		return
	}
	if err != nil {
		return // connection broke; the process exit or the timeout ends the invocation
	}
	// A chunked body may end with error trailers (a stream that failed part way).
	if errType := r.Trailer.Get(hdrErrorType); errType != "" {
		inst.finishError(w, inv, errType, decodeTrailerBody(r.Trailer.Get(hdrErrorBody)))
		return
	}
	if !inv.claim() {
		writeAPI(w, http.StatusForbidden, errInvalidID)
		return
	}
	inst.finish(inv, Result{Payload: body}, "", true)
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(http.StatusAccepted)
	w.Write(statusOK)
}

// streamResponse passes a streamed response to the caller as it arrives.
func (inst *instance) streamResponse(w http.ResponseWriter, r *http.Request, inv *invocation) {
	out := inv.req.Stream
	buf := make([]byte, 32*1024)
	total := 0
	var werr error
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			total += n
			if werr == nil && total <= maxStreamResponse {
				if _, werr = out.Write(buf[:n]); werr == nil {
					werr = out.Flush()
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return // connection broke; the process exit or the timeout ends the invocation
		}
	}
	if errType := r.Trailer.Get(hdrErrorType); errType != "" {
		inst.finishError(w, inv, errType, decodeTrailerBody(r.Trailer.Get(hdrErrorBody)))
		return
	}
	if total > maxStreamResponse {
		if inv.claim() {
			inst.finish(inv, Result{
				Payload:       errorPayload(errResponseTooLarge, responseTooLargeMessage(maxStreamResponse)),
				FunctionError: unhandled, ErrorType: errResponseTooLarge,
			}, "error", true)
		}
		writeAPI(w, http.StatusRequestEntityTooLarge, errTooLarge)
		return
	}
	if !inv.claim() {
		writeAPI(w, http.StatusForbidden, errInvalidID)
		return
	}
	inst.finish(inv, Result{}, "", true)
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(http.StatusAccepted)
	w.Write(statusOK)
}

// handleError takes a function error: the body is the error JSON the caller receives.
func (inst *instance) handleError(w http.ResponseWriter, r *http.Request, inv *invocation) {
	body, err := readLimited(r, maxErrorBodyBytes)
	if err != nil && !errors.Is(err, errBodyTooLarge) {
		return
	}
	inst.finishError(w, inv, r.Header.Get(hdrErrorType), body)
}

func (inst *instance) finishError(w http.ResponseWriter, inv *invocation, errType string, body []byte) {
	if !inv.claim() {
		writeAPI(w, http.StatusForbidden, errInvalidID)
		return
	}
	errType = errorTypeOf(errType, body)
	if len(body) == 0 {
		body = errorPayload(errType, "")
	}
	inst.finish(inv, Result{Payload: body, FunctionError: unhandled, ErrorType: errType}, "", true)
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(http.StatusAccepted)
	w.Write(statusOK)
}

// handleInitError records an init failure; the instance is then stopped.
func (inst *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	select {
	case <-inst.ready:
		writeAPI(w, http.StatusForbidden, errBadState)
		return
	default:
	}
	body, _ := readLimited(r, maxErrorBodyBytes)
	errType := errorTypeOf(r.Header.Get(hdrErrorType), body)
	if len(body) == 0 {
		body = errorPayload(errType, "")
	}
	inst.initErr.Store(&initFailure{errType: errType, payload: body})
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(http.StatusAccepted)
	w.Write(statusOK)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	inst.kill()
}

var errBodyTooLarge = errors.New("body too large")

// readLimited reads a request body of at most limit bytes, sized by Content-Length when given.
func readLimited(r *http.Request, limit int) ([]byte, error) {
	if n := r.ContentLength; n >= 0 {
		if n > int64(limit) {
			io.Copy(io.Discard, r.Body)
			return nil, errBodyTooLarge
		}
		buf := make([]byte, n)
		_, err := io.ReadFull(r.Body, buf)
		return buf, err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(body) > limit {
		io.Copy(io.Discard, r.Body)
		return nil, errBodyTooLarge
	}
	return body, nil
}

// decodeTrailerBody decodes the base64 error body trailer of a streamed response.
func decodeTrailerBody(s string) []byte {
	if s == "" {
		return nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b
	}
	return []byte(s)
}

// errorTypeOf is a runtime error's type: the header when given, else the body's errorType
// (aws-lambda-go sends only the body), else Runtime.Unknown.
func errorTypeOf(header string, body []byte) string {
	if header != "" {
		return header
	}
	var e struct {
		ErrorType string `json:"errorType"`
	}
	if json.Unmarshal(body, &e) == nil && e.ErrorType != "" {
		return e.ErrorType
	}
	return errUnknown
}
