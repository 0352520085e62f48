package awsproto

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
)

// HasOperation reports whether the service's model has the operation op.
func (s *Service) HasOperation(op string) bool { return s.op(op) != nil }

// ExceptionName is the name of the model's exception shape for the error code (S3's
// "NoSuchKey", SNS's "NotFoundException" for the code "NotFound"), or code itself when the
// model declares none.
func (s *Service) ExceptionName(code string) string {
	if s.Load() == nil {
		if sh := s.exceptions[code]; sh != nil {
			return sh.name
		}
	}
	return code
}

// RunJSON runs op for another service: input is a JSON object whose members are named as the
// model names them in PascalCase, wherever the protocol carries them on the wire (URI, headers, query string,
// body), as the AWS SDKs name them. The input goes through the operation's validation, the
// service's authorization (as call's principal) and its handler, whatever the protocol; the
// output comes back as a JSON object named likewise: headers and status-code members
// included, a payload blob or stream as its text, other blobs in base64. A failure is the
// *Error the service answers a client (an internal error for any other failure, its cause
// kept in call.Cause).
func (s *Service) RunJSON(ctx context.Context, call *Call, op string, input []byte) ([]byte, *Error) {
	if call.Service == "" {
		call.Service = s.name
	}
	call.Operation = op
	if err := s.Load(); err != nil {
		return nil, s.asError(call, err)
	}
	e := s.op(op)
	if e == nil {
		return nil, unknownOperation(s, op)
	}
	b := e.binding.Load()
	if b == nil {
		return nil, Errorf("NotImplemented", http.StatusNotImplemented, "Kiri does not implement %s.%s yet", s.serviceID(), op)
	}
	in := reflect.New(b.inType)
	d := &jsonDecoder{data: input, members: true}
	if d.peek() != 0 {
		if err := d.value(b.in, in.Elem()); err != nil {
			return nil, s.serializationError(err)
		}
	}
	if b.in.validate {
		vd := validator{skipEnum: s.opts.SkipEnumValidation}
		vd.structure(b.in, in.Elem())
		if len(vd.problems) > 0 {
			return nil, s.validationError(op, vd.problems)
		}
	}
	if call.Request == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/", http.NoBody)
		call.Request = req
	}
	ctx = WithCall(ctx, call)
	if s.opts.Authorize != nil {
		if err := s.opts.Authorize(ctx, op, in.Interface()); err != nil {
			return nil, s.asError(call, err)
		}
	}
	out, err := s.run(ctx, op, b, in)
	if err != nil {
		return nil, s.asError(call, err)
	}
	var ov reflect.Value
	if out.IsValid() && !out.IsNil() {
		ov = out.Elem()
	} else {
		ov = reflect.New(b.out.base).Elem()
	}
	return appendMemberJSON(nil, b.out, ov, false), nil
}

// asError is err as a client sees it: an *Error, or the protocol's internal error.
func (s *Service) asError(call *Call, err error) *Error {
	var ae *Error
	if errors.As(err, &ae) && ae != nil {
		return ae
	}
	call.Cause = err
	return s.internalError()
}

// memberField is the member of structure c named name, or nil: the SDKs name a camelCase
// member (CloudWatch Logs' logGroupName) in PascalCase (LogGroupName).
func memberField(c *codec, name string) *field {
	i := sort.Search(len(c.fields), func(i int) bool { return c.fields[i].name >= name })
	if i < len(c.fields) && c.fields[i].name == name {
		return c.fields[i]
	}
	for _, f := range c.fields {
		if pascal(f.name) == name {
			return f
		}
	}
	return nil
}

// pascal is name with its first letter in upper case.
func pascal(name string) string {
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return name
	}
	return string(name[0]-'a'+'A') + name[1:]
}

// payloadText decodes a payload blob or stream given as text: a JSON string is its text, any
// other JSON value its JSON text.
func (d *jsonDecoder) payloadText(c *codec, v reflect.Value) error {
	var b []byte
	if d.peek() == '"' {
		s, err := d.str()
		if err != nil {
			return err
		}
		b = []byte(s)
	} else {
		start := d.pos
		if err := d.skip(); err != nil {
			return err
		}
		b = bytes.TrimSpace(d.data[start:d.pos])
		if string(b) == "null" {
			return nil
		}
	}
	if c.base == readerType {
		v.Set(reflect.ValueOf(bytesReader(b)))
	} else {
		v.SetBytes(b)
	}
	return nil
}

// appendMemberJSON encodes v (of type c.typ) as RunJSON answers it: members by their model
// names wherever the protocol places them; text says a blob is a payload, given as its text.
func appendMemberJSON(buf []byte, c *codec, v reflect.Value, text bool) []byte {
	if c.ptr && c.kind != kindDocument {
		if v.IsNil() {
			return append(buf, "null"...)
		}
		if c.kind == kindStruct {
			v = v.Elem()
		}
	}
	switch c.kind {
	case kindStruct:
		buf = append(buf, '{')
		first := true
		for _, f := range c.fields {
			fv := v.Field(f.index)
			if isAbsent(fv) || f.c.kind == kindEventStream {
				continue
			}
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = appendJSONString(buf, pascal(f.name))
			buf = append(buf, ':')
			buf = appendMemberJSON(buf, f.c, fv, f == c.payload)
		}
		return append(buf, '}')
	case kindList:
		buf = append(buf, '[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendMemberJSON(buf, c.elem, v.Index(i), false)
		}
		return append(buf, ']')
	case kindMap:
		return appendJSONMap(buf, c, v, func(buf []byte, c *codec, v reflect.Value) []byte { return appendMemberJSON(buf, c, v, false) })
	case kindBlob, kindStream:
		var b []byte
		switch x := v.Interface().(type) {
		case []byte:
			b = x
		case io.Reader:
			b, _ = io.ReadAll(x)
			if cl, ok := x.(io.Closer); ok {
				cl.Close()
			}
		}
		if text || c.kind == kindStream {
			return appendJSONString(buf, strings.ToValidUTF8(string(b), "\uFFFD"))
		}
		return appendBase64JSON(buf, b)
	}
	return appendJSONValue(buf, c, v)
}
