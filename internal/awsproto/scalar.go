package awsproto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

var errScalar = errors.New("invalid value")

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// timestampFormat returns the format named by the member or shape, else def.
func timestampFormat(c *codec, ref *shapeRef, def string) string {
	if ref != nil && ref.TimestampFormat != "" {
		return ref.TimestampFormat
	}
	if c.shape.TimestampFormat != "" {
		return c.shape.TimestampFormat
	}
	return def
}

func formatISO(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

// parseTimestamp accepts any of the wire formats AWS uses.
func parseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errScalar
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-:T ") {
		return parseEpoch(s)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05", http1123, time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errScalar
}

func parseEpoch(s string) (time.Time, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e13 {
		return time.Time{}, errScalar
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC(), nil
}

// setScalarText parses text into v (of type c.typ) for scalar kinds. ref selects the timestamp
// format context; blobs are base64 unless raw is set.
func setScalarText(c *codec, v reflect.Value, text string) error {
	if c.ptr {
		p := reflect.New(c.base)
		if err := setScalarBase(c, p.Elem(), text); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	return setScalarBase(c, v, text)
}

func setScalarBase(c *codec, v reflect.Value, text string) error {
	switch c.kind {
	case kindString:
		v.SetString(text)
	case kindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil {
			return errScalar
		}
		v.SetBool(b)
	case kindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil || v.OverflowInt(n) {
			return errScalar
		}
		v.SetInt(n)
	case kindFloat:
		text = strings.TrimSpace(text)
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			if f, err = specialFloat(text); err != nil {
				return errScalar
			}
		}
		v.SetFloat(f)
	case kindTimestamp:
		t, err := parseTimestamp(text)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(t))
	case kindBlob, kindStream:
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
		if err != nil {
			return errScalar
		}
		if c.base == readerType {
			v.Set(reflect.ValueOf(bytesReader(b)))
		} else {
			v.SetBytes(b)
		}
	default:
		return errScalar
	}
	return nil
}

// scalarText formats a scalar value (not nil) for XML, query strings and headers.
func appendScalarText(buf []byte, c *codec, ref *shapeRef, v reflect.Value, tsDefault string) []byte {
	if c.ptr {
		v = v.Elem()
	}
	switch c.kind {
	case kindString:
		return append(buf, v.String()...)
	case kindBool:
		return strconv.AppendBool(buf, v.Bool())
	case kindInt:
		return strconv.AppendInt(buf, v.Int(), 10)
	case kindFloat:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return append(buf, "NaN"...)
		case math.IsInf(f, 1):
			return append(buf, "Infinity"...)
		case math.IsInf(f, -1):
			return append(buf, "-Infinity"...)
		}
		bits := 64
		if c.base.Kind() == reflect.Float32 {
			bits = 32
		}
		return strconv.AppendFloat(buf, f, 'g', -1, bits)
	case kindTimestamp:
		t := v.Interface().(time.Time)
		switch timestampFormat(c, ref, tsDefault) {
		case "rfc822":
			return t.UTC().AppendFormat(buf, http1123)
		case "unixTimestamp":
			return appendEpoch(buf, t)
		}
		return append(buf, formatISO(t)...)
	case kindBlob:
		return base64.StdEncoding.AppendEncode(buf, v.Bytes())
	}
	return buf
}
