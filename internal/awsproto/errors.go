package awsproto

import (
	"errors"
	"net/http"
	"reflect"
	"sort"
	"strings"
)

// internalError is what a client sees for any failure that is not an *Error.
func (s *Service) internalError() *Error {
	if s.protocol == "rest-xml" {
		return Errorf("InternalError", 500, "We encountered an internal error. Please try again.")
	}
	return Errorf("InternalFailure", 500, "The request processing has failed because of an unknown error, exception or failure.")
}

// errorType is the "__type" of a json error named code: code itself, or qualified as
// ServiceOptions.ErrorTypeNamespace says (modeled tells whether the model declares it).
func (s *Service) errorType(code string, modeled bool) string {
	switch {
	case s.opts.ErrorTypeNamespace == "":
		return code
	case modeled:
		return s.opts.ErrorTypeNamespace + "#" + code
	case code == "ValidationException":
		return "com.amazon.coral.validate#" + code
	default:
		return "com.amazon.coral.service#" + code
	}
}

// WriteError encodes err in s's protocol (edge uses it for auth failures). Any error that is not
// *Error becomes the protocol's internal error (500): InternalFailure / InternalError (S3). The
// error behind a 5xx answer is kept in call.Cause for the edge's log.
func (s *Service) WriteError(w http.ResponseWriter, req *http.Request, call *Call, err error) {
	if call == nil {
		call = &Call{}
	}
	var ae *Error
	if !errors.As(err, &ae) || ae == nil {
		ae = s.internalError()
	}
	var sh *shape
	if s.Load() == nil {
		sh = s.exceptions[ae.Code]
	}
	status := ae.Status
	if status == 0 {
		status = 400
		if sh != nil && sh.Error != nil && sh.Error.HTTPStatusCode != 0 {
			status = sh.Error.HTTPStatusCode
		}
	}
	if status >= 500 {
		call.Cause = err
	}
	s.setCommonHeaders(w.Header(), call)
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	bp := s.getBuf()
	defer s.putBuf(bp)
	buf := *bp
	switch s.protocol {
	case "json", "rest-json":
		code := ae.Code
		if sh != nil {
			code = sh.name
		}
		w.Header().Set("X-Amzn-Errortype", code)
		if s.queryCompat {
			qc := code
			if sh != nil && sh.Error != nil && sh.Error.Code != "" {
				qc = sh.Error.Code
			} else if c, ok := queryErrorCodes[s.name][code]; ok && sh == nil {
				qc = c
			}
			w.Header().Set("X-Amzn-Query-Error", qc+";"+fault)
		}
		buf = append(buf, '{')
		ct := s.jsonType
		if s.protocol == "json" {
			buf = appendJSONString(buf, "__type")
			buf = append(buf, ':')
			buf = appendJSONString(buf, s.errorType(code, sh != nil))
			buf = append(buf, ',')
		} else {
			ct = "application/json"
			if sh != nil && sh.Members["Type"] != nil && ae.Fields["Type"] == "" {
				typ := "User"
				if status >= 500 {
					typ = "Service"
				}
				buf = append(buf, `"Type":`...)
				buf = appendJSONString(buf, typ)
				buf = append(buf, ',')
			}
		}
		msgKey := "message"
		if m := errorMessageMember(sh); m != nil {
			msgKey = "Message"
			if m.LocationName != "" {
				msgKey = m.LocationName // API Gateway's {"message": ...}
			}
		}
		if ae.messageKey != "" {
			msgKey = ae.messageKey
		}
		buf = appendJSONString(buf, msgKey)
		buf = append(buf, ':')
		buf = appendJSONString(buf, ae.Message)
		for _, k := range sortedKeys(ae.Fields) {
			buf = append(buf, ',')
			buf = appendJSONString(buf, k)
			buf = append(buf, ':')
			buf = appendJSONString(buf, ae.Fields[k])
		}
		buf = s.appendErrorDetail(buf, sh, msgKey, ae.Detail)
		buf = append(buf, '}')
		s.writeBody(w, req, status, ct, buf)
	case "query":
		code := ae.Code
		if sh != nil {
			code = sh.name
			if sh.Error != nil && sh.Error.Code != "" {
				code = sh.Error.Code
			}
		} else if c, ok := queryErrorCodes[s.name][code]; ok {
			code = c
		}
		xw := xmlWriter{buf: buf}
		xw.startTag("ErrorResponse", s.xmlNS, nil)
		xw.open("Error")
		xw.element("Type", fault)
		xw.element("Code", code)
		xw.element("Message", ae.Message)
		for _, k := range sortedKeys(ae.Fields) {
			xw.element(k, ae.Fields[k])
		}
		xw.close("Error")
		xw.element("RequestId", call.RequestID)
		xw.close("ErrorResponse")
		buf = xw.buf
		s.writeBody(w, req, status, "text/xml", buf)
	default: // rest-xml
		if req.Method == http.MethodHead {
			// No body, but the headers are those of the XML error a GET would get.
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			return
		}
		xw := xmlWriter{buf: append(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"...)}
		xw.open("Error")
		xw.element("Code", ae.Code)
		xw.element("Message", ae.Message)
		for _, k := range sortedKeys(ae.Fields) {
			xw.element(k, ae.Fields[k])
		}
		xw.element("RequestId", call.RequestID)
		xw.element("HostId", w.Header().Get("x-amz-id-2"))
		xw.close("Error")
		buf = xw.buf
		s.writeBody(w, req, status, "application/xml", buf)
	}
	*bp = buf
}

func sortedKeys(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "" && !strings.ContainsAny(k, "<>&\"' ") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// appendErrorDetail appends the members of detail, a value of the exception shape's Go type,
// to a JSON error body that already holds the message; nothing when either is missing or the
// type does not fit the shape.
func (s *Service) appendErrorDetail(buf []byte, sh *shape, msgKey string, detail any) []byte {
	if sh == nil || detail == nil {
		return buf
	}
	v := reflect.ValueOf(detail)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return buf
		}
		v = v.Elem()
	}
	s.mu.Lock()
	c, err := s.planner.plan(sh, nil, v.Type())
	s.mu.Unlock()
	if err != nil || c.kind != kindStruct {
		return buf
	}
	for _, f := range c.fields {
		fv := v.Field(f.index)
		if f.location != "" || f.wire == msgKey || isAbsent(fv) {
			continue
		}
		buf = append(buf, ',')
		buf = appendJSONString(buf, f.wire)
		buf = append(buf, ':')
		buf = appendJSONValue(buf, f.c, fv)
	}
	return buf
}

// errorMessageMember is the Message member of error shape sh, nil when it has none.
func errorMessageMember(sh *shape) *shapeRef {
	if sh == nil {
		return nil
	}
	return sh.Members["Message"]
}
