package s3

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// postPolicy is the decoded policy document of a browser-based upload.
type postPolicy struct {
	Expiration time.Time
	Conditions []postCondition
	// MinSize and MaxSize bound the file's size (content-length-range); MaxSize < 0 is unbounded.
	MinSize, MaxSize int64
}

// postCondition is one policy condition on a form field: an exact match or a prefix.
type postCondition struct {
	Field  string // lower-case form field name, without the '$'
	Prefix bool   // starts-with rather than eq
	Value  string
	raw    string // the condition as sent, for error messages
}

func errPolicyDocument(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("InvalidPolicyDocument", http.StatusBadRequest, "Invalid Policy: "+format, args...)
}

func errPolicyDenied(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("AccessDenied", http.StatusForbidden, "Invalid according to Policy: "+format, args...)
}

// policyTimeLayouts are the ISO 8601 forms S3 accepts for a policy's expiration.
var policyTimeLayouts = []string{"2006-01-02T15:04:05.000Z", "2006-01-02T15:04:05Z", time.RFC3339Nano}

// parsePostPolicy decodes a form's base64 policy document. Keys are case-sensitive
// ("expiration", "conditions"); condition operators and field names are not.
func parsePostPolicy(b64 string) (*postPolicy, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errPolicyDocument("Policy could not be base64 decoded.")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, errPolicyDocument("Policy is not valid JSON.")
	}
	p := &postPolicy{MaxSize: -1}
	var exp string
	if v, ok := doc["expiration"]; !ok || json.Unmarshal(v, &exp) != nil {
		return nil, errPolicyDocument("Policy missing expiration.")
	}
	parsed := false
	for _, layout := range policyTimeLayouts {
		if t, err := time.Parse(layout, exp); err == nil && strings.Contains(exp, "T") {
			p.Expiration, parsed = t, true
			break
		}
	}
	if !parsed {
		return nil, errPolicyDocument("Invalid 'expiration' value: '%s'", exp)
	}
	var conds []json.RawMessage
	if v, ok := doc["conditions"]; !ok || json.Unmarshal(v, &conds) != nil {
		return nil, errPolicyDocument("Policy missing conditions.")
	}
	for _, c := range conds {
		if err := p.addCondition(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// addCondition parses one condition: {"field": "value"}, ["eq"|"starts-with", "$field",
// "value"] or ["content-length-range", min, max].
func (p *postPolicy) addCondition(c json.RawMessage) error {
	c = bytes.TrimSpace(c)
	raw := string(c)
	if len(c) > 0 && c[0] == '{' {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(c, &m); err != nil || len(m) != 1 {
			return errPolicyDocument("Invalid Policy condition: %s", raw)
		}
		for k, v := range m {
			s, ok := jsonScalar(v)
			if !ok {
				return errPolicyDocument("Invalid Policy condition: %s", raw)
			}
			p.Conditions = append(p.Conditions, postCondition{Field: strings.ToLower(strings.TrimPrefix(k, "$")), Value: s, raw: raw})
		}
		return nil
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(c, &arr); err != nil || len(arr) == 0 {
		return errPolicyDocument("Invalid Policy condition: %s", raw)
	}
	op, _ := jsonScalar(arr[0])
	switch strings.ToLower(op) {
	case "eq", "starts-with":
		if len(arr) != 3 {
			return errPolicyDocument("Invalid Policy condition: %s", raw)
		}
		field, ok1 := jsonScalar(arr[1])
		value, ok2 := jsonScalar(arr[2])
		if !ok1 || !ok2 || !strings.HasPrefix(field, "$") || len(field) < 2 {
			return errPolicyDocument("Invalid Policy condition: %s", raw)
		}
		p.Conditions = append(p.Conditions, postCondition{Field: strings.ToLower(field[1:]),
			Prefix: strings.EqualFold(op, "starts-with"), Value: value, raw: raw})
	case "content-length-range":
		if len(arr) != 3 {
			return errPolicyDocument("Invalid content-length-range condition: %s", raw)
		}
		lo, err1 := strconv.ParseInt(string(bytes.TrimSpace(arr[1])), 10, 64)
		hi, err2 := strconv.ParseInt(string(bytes.TrimSpace(arr[2])), 10, 64)
		if err1 != nil || err2 != nil || lo < 0 || hi < lo {
			return errPolicyDocument("Invalid content-length-range condition: %s", raw)
		}
		p.MinSize, p.MaxSize = lo, hi
	default:
		return errPolicyDocument("Invalid Policy condition: %s", raw)
	}
	return nil
}

// jsonScalar returns a JSON string's or number's text.
func jsonScalar(v json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// postExemptField reports whether a form field need not be named by a policy condition: the
// signature fields, the policy and file themselves, x-ignore-* fields and the integrity
// checksums (which the upload verifies against the file).
func postExemptField(name string) bool {
	switch name {
	case "awsaccesskeyid", "signature", "x-amz-signature", "file", "policy":
		return true
	}
	return strings.HasPrefix(name, "x-ignore-") || strings.HasPrefix(name, "x-amz-checksum-")
}

// check applies p to a form's fields (lower-case names; "bucket" and the expanded "key"
// included) at time now: the policy must not have expired, every condition must hold, and
// every field must be named by a condition.
func (p *postPolicy) check(fields map[string]string, now time.Time) error {
	if !now.Before(p.Expiration) {
		return errPolicyDenied("Policy expired.")
	}
	covered := make(map[string]bool, len(p.Conditions))
	for _, c := range p.Conditions {
		covered[c.Field] = true
		v := fields[c.Field]
		if c.Prefix && strings.HasPrefix(v, c.Value) || !c.Prefix && v == c.Value {
			continue
		}
		return errPolicyDenied("Policy Condition failed: %s", c.raw)
	}
	for name := range fields {
		if !covered[name] && !postExemptField(name) {
			return errPolicyDenied("Extra input fields: %s", name)
		}
	}
	return nil
}

// checkSize applies the policy's content-length-range to the stored file's size.
func (p *postPolicy) checkSize(size int64) error {
	if p.MaxSize >= 0 && size > p.MaxSize {
		return awsproto.Errorf("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size")
	}
	if size < p.MinSize {
		return awsproto.Errorf("EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed size")
	}
	return nil
}
