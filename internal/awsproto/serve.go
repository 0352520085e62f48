package awsproto

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
)

// Serve decodes and validates the input, calls the handler (recovering panics → 500 internal
// error), and encodes the output or error. An operation in the model without a handler answers
// 501 NotImplemented.
func (rt *Route) Serve(w http.ResponseWriter, req *http.Request, call *Call) {
	s := rt.Service
	if call == nil {
		call = &Call{}
	}
	if call.Service == "" {
		call.Service = s.name
	}
	if call.Operation == "" {
		call.Operation = rt.Operation
	}
	if call.Request == nil {
		call.Request = req
	}
	if rt.Err != nil {
		s.WriteError(w, req, call, rt.Err)
		return
	}
	if err := s.Load(); err != nil {
		s.WriteError(w, req, call, fmt.Errorf("load %s model: %w", s.name, err))
		return
	}
	e := s.op(rt.Operation)
	if e == nil {
		s.WriteError(w, req, call, unknownOperation(s, rt.Operation))
		return
	}
	b := e.binding.Load()
	if b == nil {
		s.WriteError(w, req, call, Errorf("NotImplemented", http.StatusNotImplemented, "Kiri does not implement %s.%s yet", s.serviceID(), rt.Operation))
		return
	}
	in := reflect.New(b.inType)
	if aerr := s.decodeInput(req, rt, b.in, in.Elem()); aerr != nil {
		s.WriteError(w, req, call, aerr)
		return
	}
	if b.in.validate {
		vd := validator{skipEnum: s.opts.SkipEnumValidation}
		vd.structure(b.in, in.Elem())
		if len(vd.problems) > 0 {
			s.WriteError(w, req, call, s.validationError(rt.Operation, vd.problems))
			return
		}
	}
	ctx := req.Context()
	if CallFrom(ctx) != call {
		ctx = WithCall(ctx, call)
	}
	if s.opts.Authorize != nil {
		if err := s.opts.Authorize(ctx, rt.Operation, in.Interface()); err != nil {
			s.WriteError(w, req, call, err)
			return
		}
	}
	out, err := s.run(ctx, rt.Operation, b, in)
	if err != nil {
		s.WriteError(w, req, call, err)
		return
	}
	var ov reflect.Value
	if out.IsValid() && !out.IsNil() {
		ov = out.Elem()
	} else {
		ov = reflect.New(b.out.base).Elem()
	}
	s.encodeOutput(w, req, call, e, b.out, ov)
}

// run calls an operation's handler, through the service's Intercept when it has one.
func (s *Service) run(ctx context.Context, op string, b *binding, in reflect.Value) (out reflect.Value, err error) {
	if s.opts.Intercept == nil {
		return safeCall(b, ctx, in)
	}
	err = s.opts.Intercept(ctx, op, func(ctx context.Context) error {
		var herr error
		out, herr = safeCall(b, ctx, in)
		return herr
	})
	return out, err
}

func safeCall(b *binding, ctx context.Context, in reflect.Value) (out reflect.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panic: %v\n%s", p, debug.Stack())
		}
	}()
	return b.call(ctx, in)
}

func (s *Service) serviceID() string {
	if s.meta.ServiceID != "" {
		return s.meta.ServiceID
	}
	return s.name
}

func (s *Service) validationError(op string, problems []string) *Error {
	if s.opts.ValidationError != nil {
		if e := s.opts.ValidationError(op, problems); e != nil {
			return e
		}
	}
	msg := validationMessage(problems)
	switch s.protocol {
	case "query":
		return Errorf("ValidationError", 400, "%s", msg)
	case "rest-xml":
		return Errorf("InvalidArgument", 400, "%s", msg)
	}
	return Errorf("ValidationException", 400, "%s", msg)
}

// serializationError is the protocol's answer to a body or value it cannot parse. A body that
// failed with an *Error of its own (the edge's IncompleteBody, RequestTimeout) keeps it.
func (s *Service) serializationError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	var ce *coralError
	if errors.As(err, &ce) {
		return &Error{Code: "SerializationException", Status: 400, Message: ce.msg, messageKey: "Message"}
	}
	switch s.protocol {
	case "rest-xml":
		if errors.Is(err, errXML) {
			return Errorf("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema")
		}
		if errors.Is(err, errURI) {
			return Errorf("InvalidURI", 400, "Couldn't parse the specified URI.")
		}
		return Errorf("InvalidArgument", 400, "%s", err.Error())
	case "query":
		return Errorf("MalformedQueryString", 400, "%s", err.Error())
	}
	return Errorf("SerializationException", 400, "%s", err.Error())
}

func (s *Service) decodeInput(req *http.Request, rt *Route, c *codec, v reflect.Value) *Error {
	switch s.protocol {
	case "json":
		body, err := readBody(req)
		if err != nil {
			return s.serializationError(err)
		}
		if err := decodeJSONBody(body, c, v, s.opts.ErrorTypeNamespace); err != nil {
			return s.serializationError(err)
		}
	case "query":
		form := rt.form
		if form == nil {
			vals, err := readForm(req)
			if err != nil {
				return s.serializationError(err)
			}
			form = newQueryForm(vals)
		}
		if err := decodeQueryStruct(c, v, form, ""); err != nil {
			return s.serializationError(err)
		}
	default:
		if err := s.decodeREST(req, rt, c, v); err != nil {
			return s.serializationError(err)
		}
	}
	return nil
}

func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// setCommonHeaders writes the request-id headers and the call's extra headers.
func (s *Service) setCommonHeaders(h http.Header, call *Call) {
	for k, vs := range call.ResponseHeader {
		h[k] = append(h[k][:0:0], vs...)
	}
	if call.RequestID == "" {
		return
	}
	if s.protocol == "rest-xml" {
		h.Set("x-amz-request-id", call.RequestID)
		h.Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(call.RequestID)))
		return
	}
	h["X-Amzn-Requestid"] = []string{call.RequestID}
}

// writeBody writes a buffered body with its length (and DynamoDB's CRC32).
func (s *Service) writeBody(w http.ResponseWriter, req *http.Request, status int, contentType string, body []byte) {
	h := w.Header()
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if s.crc32 {
		h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	}
	w.WriteHeader(status)
	if req.Method != http.MethodHead {
		w.Write(body) //nolint:errcheck // the client went away; nothing to do
	}
}

func (s *Service) encodeOutput(w http.ResponseWriter, req *http.Request, call *Call, e *opEntry, c *codec, v reflect.Value) {
	s.setCommonHeaders(w.Header(), call)
	status := http.StatusOK
	if call.Status != 0 {
		status = call.Status
	}
	switch s.protocol {
	case "json":
		bp := s.getBuf()
		*bp = appendJSONStruct(*bp, c, v)
		s.writeBody(w, req, status, s.jsonType, *bp)
		s.putBuf(bp)
	case "query":
		bp := s.getBuf()
		*bp = s.appendQueryResponse(*bp, e, c, v, call.RequestID)
		s.writeBody(w, req, status, "text/xml", *bp)
		s.putBuf(bp)
	default:
		s.encodeREST(w, req, call, e, c, v)
	}
}

func (s *Service) appendQueryResponse(buf []byte, e *opEntry, c *codec, v reflect.Value, requestID string) []byte {
	xw := xmlWriter{buf: buf}
	xw.startTag(e.name+"Response", s.xmlNS, nil)
	if e.op.Output != nil {
		wrapper := e.op.Output.ResultWrapper
		if wrapper == "" {
			wrapper = e.name + "Result"
		}
		xw.open(wrapper)
		xw.members(c, v)
		xw.close(wrapper)
	}
	xw.open("ResponseMetadata")
	xw.element("RequestId", requestID)
	xw.close("ResponseMetadata")
	xw.close(e.name + "Response")
	return xw.buf
}
