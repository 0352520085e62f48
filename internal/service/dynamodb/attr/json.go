package attr

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
)

func encodeBase64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// MarshalJSON encodes v in DynamoDB's JSON wire form: {"S":"x"}, {"N":"1.5"}, {"B":"<base64>"},
// {"BOOL":true}, {"NULL":true}, {"SS":[…]}, {"L":[…]}, {"M":{…}}. Map keys are sorted.
func (v Value) MarshalJSON() ([]byte, error) { return AppendJSON(nil, v), nil }

// AppendJSON appends v's JSON wire form to dst.
func AppendJSON(dst []byte, v Value) []byte {
	if v.t == None {
		return append(dst, "{}"...)
	}
	dst = append(dst, '{')
	dst = strconv.AppendQuote(dst, v.t.String())
	dst = append(dst, ':')
	switch v.t {
	case S, N:
		dst = appendJSONString(dst, v.s)
	case B:
		dst = appendJSONString(dst, encodeBase64(v.s))
	case BOOL, NULL:
		dst = strconv.AppendBool(dst, v.b)
	case SS, NS, BS:
		dst = append(dst, '[')
		for i, m := range v.set {
			if i > 0 {
				dst = append(dst, ',')
			}
			if v.t == BS {
				m = encodeBase64(m)
			}
			dst = appendJSONString(dst, m)
		}
		dst = append(dst, ']')
	case L:
		dst = append(dst, '[')
		for i, e := range v.list {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, e)
		}
		dst = append(dst, ']')
	case M:
		dst = appendJSONMap(dst, v.m)
	}
	return append(dst, '}')
}

func appendJSONMap(dst []byte, m map[string]Value) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = AppendJSON(dst, m[k])
	}
	return append(dst, '}')
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // strings always marshal
	return append(dst, b...)
}

// MarshalJSON encodes the item as a JSON object of attribute values, names sorted.
func (it Item) MarshalJSON() ([]byte, error) { return appendJSONMap(nil, it), nil }

// UnmarshalJSON decodes DynamoDB's JSON wire form, validated as FromWire validates.
func (v *Value) UnmarshalJSON(b []byte) error {
	var w jsonValue
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	nv, err := FromWire(w, jsonFields)
	if err != nil {
		return err
	}
	*v = nv
	return nil
}

// UnmarshalJSON decodes a JSON object of attribute values.
func (it *Item) UnmarshalJSON(b []byte) error {
	var m map[string]jsonValue
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	item, err := FromWireItem(m, jsonFields)
	if err != nil {
		return err
	}
	*it = item
	return nil
}

// jsonValue is one AttributeValue as JSON carries it. Member names match exactly, unlike
// encoding/json's struct fields; unknown members and null ones are ignored, as DynamoDB does.
type jsonValue struct{ f WireFields[jsonValue] }

func jsonFields(j jsonValue) WireFields[jsonValue] { return j.f }

var errJSONValue = errors.New("attribute value must be a JSON object")

func (j *jsonValue) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		return errJSONValue
	}
	for k, r := range raw {
		if string(r) == "null" {
			continue
		}
		var err error
		switch k {
		case "S":
			err = json.Unmarshal(r, &j.f.S)
		case "N":
			err = json.Unmarshal(r, &j.f.N)
		case "B":
			err = json.Unmarshal(r, &j.f.B)
			if err == nil && j.f.B == nil {
				j.f.B = []byte{}
			}
		case "BOOL":
			err = json.Unmarshal(r, &j.f.BOOL)
		case "NULL":
			err = json.Unmarshal(r, &j.f.NULL)
		case "SS":
			err = json.Unmarshal(r, &j.f.SS)
			if err == nil && j.f.SS == nil {
				j.f.SS = []string{}
			}
		case "NS":
			err = json.Unmarshal(r, &j.f.NS)
			if err == nil && j.f.NS == nil {
				j.f.NS = []string{}
			}
		case "BS":
			err = json.Unmarshal(r, &j.f.BS)
			if err == nil && j.f.BS == nil {
				j.f.BS = [][]byte{}
			}
		case "L":
			err = json.Unmarshal(r, &j.f.L)
			if err == nil && j.f.L == nil {
				j.f.L = []jsonValue{}
			}
		case "M":
			err = json.Unmarshal(r, &j.f.M)
			if err == nil && j.f.M == nil {
				j.f.M = map[string]jsonValue{}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
