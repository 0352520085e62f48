package lambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/awsproto/events"
	"github.com/kiri-run/kiri/internal/meter"
	"github.com/kiri-run/kiri/internal/runtime"
)

// Invoker runs function instances (implemented by runtime.Pool).
type Invoker interface {
	Invoke(ctx context.Context, fn *runtime.Function, req *runtime.Request) (*runtime.Result, error)
}

// Payload limits of Invoke, as AWS documents them.
const (
	maxSyncPayload  = 6 * 1024 * 1024
	maxAsyncPayload = 256 * 1024
	// maxClientContext is the largest decoded ClientContext AWS accepts.
	maxClientContext = 3583
)

func (s *Service) registerInvokeOps() {
	awsproto.Handle(s.api, "Invoke", s.invokeOp)
	awsproto.Handle(s.api, "InvokeAsync", s.invokeAsyncOp)
	awsproto.Handle(s.api, "InvokeWithResponseStream", s.invokeStreamOp)
}

// invocation is one validated request to run a function.
type invocation struct {
	t             *target
	payload       []byte
	clientContext string // decoded JSON
	tail          bool
	requestID     string
	traceID       string
}

// prepareInvoke resolves the function and checks what Invoke, InvokeAsync and
// InvokeWithResponseStream all check.
func (s *Service) prepareInvoke(ctx context.Context, name, qualifier string, payload []byte, clientContext, logType string, limit int) (*invocation, error) {
	c := awsproto.CallFrom(ctx)
	account := c.AccountID
	if r, ok := parseFunctionName(name); ok && r.account != "" && s.crossAccount(ctx) {
		account = r.account // another account's function, whose policy let the caller invoke it
	}
	t, err := s.resolve(ctx, account, c.Region, name, qualifier)
	if err != nil {
		return nil, err
	}
	if t.state == statePending {
		return nil, lambdaError("ResourceConflictException", http.StatusConflict,
			"The operation cannot be performed at this time. The function is currently in the following state: Pending")
	}
	if len(payload) > limit {
		return nil, awsproto.Errorf("RequestEntityTooLargeException", http.StatusRequestEntityTooLarge,
			"Request must be smaller than %d bytes for the InvokeFunction operation", limit)
	}
	if len(payload) > 0 && !json.Valid(payload) {
		return nil, awsproto.Errorf("InvalidRequestContentException", http.StatusBadRequest,
			"Could not parse request body into json: Could not parse payload into json: Unexpected character: was expecting a JSON value")
	}
	if len(payload) == 0 {
		payload = []byte("{}") // an invocation without a payload gets an empty event, as in Lambda
	}
	inv := &invocation{t: t, payload: payload, tail: logType == "Tail", requestID: newRequestID(), traceID: traceHeader(ctx)}
	if clientContext != "" {
		raw, err := base64.StdEncoding.DecodeString(clientContext)
		if err != nil || !json.Valid(raw) {
			return nil, awsproto.Errorf("InvalidRequestContentException", http.StatusBadRequest, "Client context must be a valid Base64-encoded JSON object.")
		}
		if len(raw) > maxClientContext {
			return nil, awsproto.Errorf("InvalidRequestContentException", http.StatusBadRequest, "Client context must be smaller than 3583 bytes.")
		}
		inv.clientContext = string(raw)
	}
	if logType != "" && logType != "Tail" && logType != "None" {
		return nil, awsproto.Errorf("InvalidParameterValueException", http.StatusBadRequest, "Unsupported log type: %s", logType)
	}
	return inv, nil
}

func (s *Service) invokeOp(ctx context.Context, in *InvocationRequest) (*InvocationResponse, error) {
	kind := awsproto.Value(in.InvocationType)
	if kind == "" {
		kind = "RequestResponse"
	}
	limit := maxSyncPayload
	if kind == "Event" {
		limit = maxAsyncPayload
	}
	inv, err := s.prepareInvoke(ctx, awsproto.Value(in.FunctionName), awsproto.Value(in.Qualifier), in.Payload,
		awsproto.Value(in.ClientContext), awsproto.Value(in.LogType), limit)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "DryRun":
		return &InvocationResponse{StatusCode: awsproto.Ptr(int32(http.StatusNoContent))}, nil
	case "Event":
		if err := s.enqueueAsync(ctx, inv); err != nil {
			return nil, err
		}
		setResponseHeader(ctx, "X-Amzn-Requestid", inv.requestID)
		return &InvocationResponse{StatusCode: awsproto.Ptr(int32(http.StatusAccepted))}, nil
	}
	res, err := s.run(ctx, inv, nil)
	if err != nil {
		return nil, err
	}
	out := &InvocationResponse{
		StatusCode: awsproto.Ptr(int32(http.StatusOK)), Payload: res.Payload,
		ExecutedVersion: awsproto.Ptr(inv.t.version),
	}
	if res.FunctionError != "" {
		out.FunctionError = awsproto.Ptr(res.FunctionError)
	}
	if inv.tail {
		out.LogResult = awsproto.Ptr(base64.StdEncoding.EncodeToString(res.LogTail))
	}
	return out, nil
}

// invokeAsyncOp is the deprecated InvokeAsync: an Event invoke answered 202.
func (s *Service) invokeAsyncOp(ctx context.Context, in *InvokeAsyncRequest) (*InvokeAsyncResponse, error) {
	var payload []byte
	if in.InvokeArgs != nil {
		b, err := readLimited(in.InvokeArgs, maxAsyncPayload)
		if err != nil {
			return nil, err
		}
		payload = b
	}
	inv, err := s.prepareInvoke(ctx, awsproto.Value(in.FunctionName), "", payload, "", "", maxAsyncPayload)
	if err != nil {
		return nil, err
	}
	if err := s.enqueueAsync(ctx, inv); err != nil {
		return nil, err
	}
	return &InvokeAsyncResponse{Status: awsproto.Ptr(int32(http.StatusAccepted))}, nil
}

// invokeStreamOp streams the function's response as it writes it.
func (s *Service) invokeStreamOp(ctx context.Context, in *InvokeWithResponseStreamRequest) (*InvokeWithResponseStreamResponse, error) {
	kind := awsproto.Value(in.InvocationType)
	inv, err := s.prepareInvoke(ctx, awsproto.Value(in.FunctionName), awsproto.Value(in.Qualifier), in.Payload,
		awsproto.Value(in.ClientContext), awsproto.Value(in.LogType), maxSyncPayload)
	if err != nil {
		return nil, err
	}
	out := &InvokeWithResponseStreamResponse{StatusCode: awsproto.Ptr(int32(http.StatusOK)), ExecutedVersion: awsproto.Ptr(inv.t.version)}
	if kind == "DryRun" {
		out.StatusCode = awsproto.Ptr(int32(http.StatusNoContent))
		return out, nil
	}
	out.ResponseStreamContentType = awsproto.Ptr("application/vnd.amazon.eventstream")
	out.EventStream = func(send events.Sender) error {
		w := &chunkSender{send: send}
		res, err := s.run(ctx, inv, w)
		done := &InvokeWithResponseStreamCompleteEvent{}
		switch {
		case err != nil:
			done.ErrorCode, done.ErrorDetails = awsproto.Ptr("ServiceException"), awsproto.Ptr(err.Error())
		case res.FunctionError != "":
			if !w.sent && len(res.Payload) > 0 {
				_ = send(&InvokeResponseStreamUpdate{Payload: res.Payload})
			}
			var fe struct {
				ErrorType, ErrorMessage string
			}
			_ = json.Unmarshal(res.Payload, &fe)
			done.ErrorCode, done.ErrorDetails = awsproto.Ptr(orDefault(fe.ErrorType, "Unhandled")), awsproto.Ptr(fe.ErrorMessage)
		case !w.sent && len(res.Payload) > 0:
			// A function that answered without streaming still streams its whole answer.
			if err := send(&InvokeResponseStreamUpdate{Payload: res.Payload}); err != nil {
				return err
			}
		}
		if err == nil && inv.tail {
			done.LogResult = awsproto.Ptr(base64.StdEncoding.EncodeToString(res.LogTail))
		}
		return send(done)
	}
	return out, nil
}

// chunkSender turns the runtime's streamed writes into PayloadChunk events.
type chunkSender struct {
	send events.Sender
	sent bool
}

func (c *chunkSender) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.sent = true
	if err := c.send(&InvokeResponseStreamUpdate{Payload: append([]byte(nil), p...)}); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *chunkSender) Flush() error { return nil }

// run executes one invocation on the runtime, meters it, and maps throttling to AWS's error.
// stream, when set, receives a streamed response.
func (s *Service) run(ctx context.Context, inv *invocation, stream runtime.ResponseStream) (*runtime.Result, error) {
	fn, err := s.function(ctx, inv.t)
	if err != nil {
		return nil, err
	}
	req := &runtime.Request{
		RequestID: inv.requestID, Payload: inv.payload, ClientContext: inv.clientContext,
		TraceID: inv.traceID, Tail: inv.tail, Stream: stream,
	}
	if s.deps.Runtime == nil {
		return nil, awsproto.Errorf("ServiceException", http.StatusInternalServerError, "functions cannot run: no runtime")
	}
	res, err := s.deps.Runtime.Invoke(ctx, fn, req)
	if errors.Is(err, runtime.ErrThrottled) {
		reason := "ConcurrentInvocationLimitExceeded"
		if inv.t.reservedConcurrency != nil {
			reason = "ReservedFunctionConcurrentInvocationLimitExceeded"
		}
		e := awsproto.Errorf("TooManyRequestsException", http.StatusTooManyRequests, "Rate Exceeded.")
		e.Fields = map[string]string{"Reason": reason}
		return nil, e
	}
	if err != nil {
		return nil, awsproto.Errorf("ServiceException", http.StatusInternalServerError, "%v", err)
	}
	if call := awsproto.CallFrom(ctx); call != nil {
		// The edge records the rest of the request as platform overhead. A cold start's
		// Init Duration counts as the function's: cold starts are measured on their own.
		call.FunctionTime = res.Duration + res.InitDuration
	}
	s.deps.Meter.Add(meter.Usage{Account: inv.t.account, Region: inv.t.region, Resource: inv.t.functionARN, Kind: meter.LambdaRequests, Quantity: 1})
	s.deps.Meter.Add(meter.Usage{Account: inv.t.account, Region: inv.t.region, Resource: inv.t.functionARN, Kind: meter.LambdaMBMilliseconds,
		Quantity: res.BilledDuration.Milliseconds() * int64(inv.t.memoryMB)})
	return res, nil
}

// function builds the runtime's recipe for a resolved version, unpacking its code if needed.
func (s *Service) function(ctx context.Context, t *target) (*runtime.Function, error) {
	dir, err := s.codeDir(ctx, t.codeSha)
	if err != nil {
		return nil, err
	}
	env := make(map[string]string, len(t.env)+3)
	for k, v := range t.env {
		env[k] = v
	}
	creds, issued, err := s.credentials(ctx, t)
	if err != nil {
		return nil, err
	}
	for k, v := range creds {
		env[k] = v
	}
	key := t.poolKey()
	if !issued.IsZero() {
		// Instances keep the credentials they start with: renewed credentials start new
		// instances, and the old ones are reaped once idle.
		key += "#" + strconv.FormatInt(issued.UnixNano(), 36)
	}
	return &runtime.Function{
		Key: key, Account: t.account, Region: t.region,
		Name: t.name, Version: t.version, ARN: t.invokedARN,
		Runtime: t.runtime, Handler: t.handler, CodeDir: dir, Environment: env,
		MemoryMB: int(t.memoryMB), Timeout: time.Duration(t.timeout) * time.Second, EphemeralMB: int(t.ephemeralMB),
		NoNetwork: t.noNetwork, ReservedConcurrency: t.reservedConcurrency,
		LogGroup: t.logGroup,
	}, nil
}

func traceHeader(ctx context.Context) string {
	if c := awsproto.CallFrom(ctx); c != nil && c.Request != nil {
		return c.Request.Header.Get("X-Amzn-Trace-Id")
	}
	return ""
}

func setResponseHeader(ctx context.Context, k, v string) {
	if c := awsproto.CallFrom(ctx); c != nil && c.ResponseHeader != nil {
		c.ResponseHeader.Set(k, v)
	}
}

// newRequestID returns an invocation id in the UUID form Lambda uses.
func newRequestID() string { return newUUID() }

// readLimited reads r, refusing more than limit bytes as Invoke does.
func readLimited(r io.Reader, limit int) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, awsproto.Errorf("RequestEntityTooLargeException", http.StatusRequestEntityTooLarge,
			"Request must be smaller than %d bytes for the InvokeFunction operation", limit)
	}
	return b, nil
}
