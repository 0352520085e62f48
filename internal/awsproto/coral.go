package awsproto

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// coralError is a request body value of the wrong JSON type, worded as the Java JSON reader
// behind services such as DynamoDB words it (ServiceOptions.ErrorTypeNamespace). It is
// answered as SerializationException with the message under "Message".
type coralError struct{ msg string }

func (e *coralError) Error() string { return e.msg }

// coralParameterized is what that reader says of a scalar where a list or map nested in a
// collection belongs.
const coralParameterized = "class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class java.lang.Class " +
	"(sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and java.lang.Class are in module java.base of loader 'bootstrap')"

// javaType names the Java type a shape is read into; pkg holds the service's own classes.
func javaType(c *codec, pkg string) string {
	switch c.kind {
	case kindStruct:
		return pkg + "." + c.shape.name
	case kindMap:
		return "java.util.Map<java.lang.String, " + javaType(c.elem, pkg) + ">"
	case kindList:
		return "java.util.List<" + javaType(c.elem, pkg) + ">"
	case kindBlob, kindStream:
		return "java.nio.ByteBuffer"
	}
	return "java.lang." + javaScalar(c)
}

// javaScalar is the simple name of a scalar shape's Java type.
func javaScalar(c *codec) string {
	switch c.kind {
	case kindBool:
		return "Boolean"
	case kindInt:
		if c.shape.Type == "integer" {
			return "Integer"
		}
		return "Long"
	case kindFloat:
		if c.shape.Type == "float" {
			return "Float"
		}
		return "Double"
	}
	return "String"
}

// jsonToken names the JSON value at d.pos as the Java reader does ("NUMBER_VALUE").
func (d *jsonDecoder) jsonToken() string {
	switch d.peek() {
	case '"':
		return "STRING_VALUE"
	case 't':
		return "TRUE_VALUE"
	case 'f':
		return "FALSE_VALUE"
	}
	end := d.pos
	for end < len(d.data) && strings.IndexByte("0123456789+-.eE", d.data[end]) >= 0 {
		end++
	}
	if strings.ContainsAny(string(d.data[d.pos:end]), ".eE") {
		return "DECIMAL_VALUE"
	}
	return "NUMBER_VALUE"
}

// coralMismatch is the coralError of the JSON value at d.pos, which does not fit c; elem tells
// whether the value is a list member or map value rather than a structure member.
func (d *jsonDecoder) coralMismatch(c *codec, elem bool) error {
	ch := d.peek()
	scalar := ch != '{' && ch != '['
	var msg string
	switch {
	case ch == '{' && c.kind != kindStruct && c.kind != kindMap:
		msg = "Start of structure or map found where not expected"
	case c.kind == kindStruct && scalar && elem:
		msg = "Unexpected value type in payload"
	case (c.kind == kindList || c.kind == kindMap) && scalar && elem:
		msg = coralParameterized
	case (c.kind == kindStruct || c.kind == kindList || c.kind == kindMap) && scalar:
		msg = "Unexpected field type"
	case ch == '[' && c.kind == kindMap:
		msg = "Unrecognized collection type " + javaType(c, d.javaPkg)
	case ch == '[':
		msg = "Unrecognized collection type class " + javaType(c, d.javaPkg)
	case c.kind == kindBlob || c.kind == kindStream:
		msg = "only base-64-encoded strings are convertible to bytes"
	case c.kind == kindBool && ch == '"':
		msg = "Unexpected token received from parser"
	default:
		msg = d.jsonToken() + " cannot be converted to " + javaScalar(c)
	}
	return &coralError{msg: msg}
}

// coralBool reads a boolean the Java reader takes from a string ("true", "1", "yes", any case).
func coralBool(s string) (b, ok bool) {
	switch strings.ToUpper(s) {
	case "TRUE", "1", "YES":
		return true, true
	case "FALSE", "0", "NO":
		return false, true
	}
	return false, false
}

// coralBase64 decodes a blob as the Java reader does, with its refusals.
func coralBase64(s string) ([]byte, error) {
	if len(s)%4 != 0 {
		return nil, &coralError{msg: "Base64 encoded length is expected a multiple of 4 bytes but found: " + strconv.Itoa(len(s))}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, &coralError{msg: "Invalid last non-pad Base64 character dectected"}
	}
	return b, nil
}
