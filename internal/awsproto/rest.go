package awsproto

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"
)

// errURI marks a request URI whose path or query does not decode to UTF-8 text: no string
// member can hold it, and no response could carry it back.
var errURI = errors.New("the URI does not decode to UTF-8")

// decodeREST decodes the HTTP bindings and the body of a rest-json or rest-xml request.
func (s *Service) decodeREST(req *http.Request, rt *Route, c *codec, v reflect.Value) error {
	q := rt.query
	if q == nil {
		q = req.URL.Query()
	}
	if !validURIText(req.URL.Path, q) {
		return errURI
	}
	for _, f := range c.fields {
		fv := v.Field(f.index)
		var err error
		switch f.location {
		case "uri":
			if val, ok := rt.label(f.wire); ok {
				err = setScalarText(f.c, fv, val)
			}
		case "querystring":
			err = decodeQueryBinding(c, f, fv, q)
		case "header":
			err = decodeHeader(f, fv, req.Header)
		case "headers":
			decodePrefixHeaders(f, fv, req.Header)
		}
		if err != nil {
			return fmt.Errorf("%s %q: %w", f.location, f.wire, err)
		}
	}
	if p := c.payload; p != nil {
		return s.decodePayload(req, p, v.Field(p.index))
	}
	if !c.hasBody {
		return nil
	}
	body, err := readBody(req)
	if err != nil || len(body) == 0 {
		return err
	}
	if s.protocol == "rest-json" {
		return decodeJSONBody(body, c, v, "")
	}
	root, err := parseXML(body)
	if err != nil {
		return err
	}
	return decodeXMLStruct(c, v, root)
}

func (s *Service) decodePayload(req *http.Request, p *field, fv reflect.Value) error {
	if p.c.kind == kindStream && p.c.base == readerType {
		if req.Body != nil && req.Body != http.NoBody {
			fv.Set(reflect.ValueOf(io.Reader(req.Body)))
		}
		return nil
	}
	body, err := readBody(req)
	if err != nil || len(body) == 0 {
		return err
	}
	switch p.c.kind {
	case kindStream, kindBlob:
		fv.SetBytes(body)
	case kindString:
		return setScalarText(p.c, fv, string(body))
	case kindStruct:
		if s.protocol == "rest-json" {
			return decodeJSONBody(body, p.c, fv, "")
		}
		root, err := parseXML(body)
		if err != nil {
			return err
		}
		return decodeXMLValue(p.c, fv, root)
	case kindDocument:
		return decodeJSONBody(body, p.c, fv, "")
	}
	return nil
}

func decodeQueryBinding(c *codec, f *field, fv reflect.Value, q url.Values) error {
	switch f.c.kind {
	case kindMap:
		// A querystring map takes every parameter no other member claims.
		m := reflect.MakeMap(f.c.base)
		for k, vs := range q {
			if claimedQuery(c, k) || len(vs) == 0 {
				continue
			}
			ev := reflect.New(f.c.base.Elem()).Elem()
			if f.c.elem.kind == kindList {
				for _, x := range vs {
					ev = reflect.Append(ev, reflect.ValueOf(x).Convert(f.c.base.Elem().Elem()))
				}
			} else if err := setScalarText(f.c.elem, ev, vs[0]); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(f.c.base.Key()), ev)
		}
		if m.Len() > 0 {
			fv.Set(m)
		}
	case kindList:
		vs, ok := q[f.wire]
		if !ok {
			return nil
		}
		s := reflect.MakeSlice(f.c.base, len(vs), len(vs))
		for i, x := range vs {
			if err := setScalarText(f.c.elem, s.Index(i), x); err != nil {
				return err
			}
		}
		fv.Set(s)
	default:
		vs, ok := q[f.wire]
		if !ok || len(vs) == 0 {
			return nil
		}
		return setScalarText(f.c, fv, vs[0])
	}
	return nil
}

// validURIText reports whether a decoded path and query are UTF-8 throughout.
func validURIText(path string, q url.Values) bool {
	if !utf8.ValidString(path) {
		return false
	}
	for k, vs := range q {
		if !utf8.ValidString(k) {
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}

func claimedQuery(c *codec, k string) bool {
	for _, f := range c.fields {
		if f.location == "querystring" && f.wire == k && f.c.kind != kindMap {
			return true
		}
	}
	return false
}

func decodeHeader(f *field, fv reflect.Value, h http.Header) error {
	vals := h[f.header]
	if len(vals) == 0 {
		return nil
	}
	if f.c.kind == kindList {
		var parts []string
		for _, v := range vals {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					parts = append(parts, p)
				}
			}
		}
		s := reflect.MakeSlice(f.c.base, len(parts), len(parts))
		for i, p := range parts {
			if err := setScalarText(f.c.elem, s.Index(i), p); err != nil {
				return err
			}
		}
		fv.Set(s)
		return nil
	}
	text := vals[0]
	if f.ref.JSONValue {
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return errScalar
		}
		text = string(b)
	}
	return setScalarText(f.c, fv, text)
}

func decodePrefixHeaders(f *field, fv reflect.Value, h http.Header) {
	prefix := strings.ToLower(f.wire)
	m := reflect.Value{}
	for k, vs := range h {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, prefix) || len(vs) == 0 || f.c.elem.kind != kindString {
			continue
		}
		if !m.IsValid() {
			m = reflect.MakeMap(f.c.base)
		}
		ev := reflect.New(f.c.base.Elem()).Elem()
		setScalarText(f.c.elem, ev, strings.Join(vs, ",")) //nolint:errcheck // strings always parse
		m.SetMapIndex(reflect.ValueOf(lk[len(prefix):]).Convert(f.c.base.Key()), ev)
	}
	if m.IsValid() {
		fv.Set(m)
	}
}

// encodeREST writes a rest-json or rest-xml response.
func (s *Service) encodeREST(w http.ResponseWriter, req *http.Request, call *Call, e *opEntry, c *codec, v reflect.Value) {
	h := w.Header()
	status := e.op.HTTP.ResponseCode
	if status == 0 {
		status = http.StatusOK
	}
	for _, f := range c.fields {
		fv := v.Field(f.index)
		if isAbsent(fv) {
			continue
		}
		switch f.location {
		case "header":
			h[f.header] = []string{headerText(f, fv)}
		case "headers":
			iter := fv.MapRange()
			for iter.Next() {
				ev := iter.Value()
				if f.c.elem.ptr {
					if ev.IsNil() {
						continue
					}
					ev = ev.Elem()
				}
				h.Set(f.wire+iter.Key().String(), ev.String())
			}
		case "statusCode":
			if f.c.kind == kindInt {
				if n := reflect.Indirect(fv).Int(); n >= 100 && n <= 999 {
					status = int(n)
				}
			}
		}
	}
	if call.Status != 0 {
		status = call.Status
	}
	if p := c.payload; p != nil {
		s.writePayload(w, req, status, p, v.Field(p.index))
		return
	}
	if !c.hasBody {
		// A HEAD response describes the body a GET would send: keep a Content-Length the
		// output set (S3's HeadObject).
		if h.Get("Content-Length") == "" || req.Method != http.MethodHead {
			h.Set("Content-Length", "0")
		}
		w.WriteHeader(status)
		return
	}
	bp := s.getBuf()
	defer s.putBuf(bp)
	if s.protocol == "rest-json" {
		*bp = appendJSONStruct(*bp, c, v)
		s.writeBody(w, req, status, "application/json", *bp)
		return
	}
	if s.writeUnwrappedXML(w, req, status, e, c, v) {
		return
	}
	root := s.opts.XMLRootNames[e.name]
	if root == "" {
		root = c.shape.LocationName
	}
	if root == "" {
		root = e.name + "Result"
	}
	xw := xmlWriter{buf: append(*bp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"...)}
	xw.structElem(c, nil, root, v, s.xmlNS)
	*bp = xw.buf
	s.writeBody(w, req, status, "application/xml", *bp)
}

func headerText(f *field, fv reflect.Value) string {
	switch f.c.kind {
	case kindList:
		parts := make([]string, fv.Len())
		for i := range parts {
			parts[i] = string(appendScalarText(nil, f.c.elem, f.c.elemRef, fv.Index(i), "rfc822"))
		}
		return strings.Join(parts, ", ")
	case kindString:
		s := reflect.Indirect(fv).String()
		if f.ref.JSONValue {
			return base64.StdEncoding.EncodeToString([]byte(s))
		}
		return s
	}
	return string(appendScalarText(nil, f.c, f.ref, fv, "rfc822"))
}

func (s *Service) writePayload(w http.ResponseWriter, req *http.Request, status int, p *field, fv reflect.Value) {
	h := w.Header()
	switch p.c.kind {
	case kindEventStream:
		stream, _ := fv.Interface().(EventStream)
		s.writeEventStream(w, status, p.c, stream)
	case kindStream:
		if r, ok := fv.Interface().(io.Reader); ok && r != nil {
			if c, ok := r.(io.Closer); ok {
				defer c.Close()
			}
			if h.Get("Content-Type") == "" {
				h.Set("Content-Type", "application/octet-stream")
			}
			w.WriteHeader(status)
			if req.Method != http.MethodHead {
				io.Copy(w, r) //nolint:errcheck // the client went away; nothing to do
			}
			return
		}
		if b, ok := fv.Interface().([]byte); ok {
			s.writeBody(w, req, status, defaultType(h), b)
			return
		}
		s.writeBody(w, req, status, "", nil)
	case kindBlob:
		s.writeBody(w, req, status, defaultType(h), fv.Bytes())
	case kindString:
		if isAbsent(fv) {
			s.writeBody(w, req, status, "", nil)
			return
		}
		s.writeBody(w, req, status, defaultType(h), []byte(reflect.Indirect(fv).String()))
	case kindDocument:
		s.writeBody(w, req, status, "application/json", appendJSONValue(nil, p.c, fv))
	case kindStruct:
		if isAbsent(fv) {
			s.writeBody(w, req, status, "", nil)
			return
		}
		bp := s.getBuf()
		defer s.putBuf(bp)
		if s.protocol == "rest-json" {
			*bp = appendJSONValue(*bp, p.c, fv)
			s.writeBody(w, req, status, "application/json", *bp)
			return
		}
		name := p.ref.LocationName
		if name == "" {
			name = p.c.shape.LocationName
		}
		if name == "" {
			name = p.name
		}
		xw := xmlWriter{buf: append(*bp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"...)}
		xw.structElem(p.c, p.ref, name, reflect.Indirect(fv), s.xmlNS)
		*bp = xw.buf
		s.writeBody(w, req, status, "application/xml", *bp)
	}
}

func defaultType(h http.Header) string {
	if h.Get("Content-Type") != "" {
		return ""
	}
	return "application/octet-stream"
}
