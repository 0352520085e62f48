package s3

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/wildcard"
)

// bucketPolicy is a parsed bucket policy document, ready to evaluate.
type bucketPolicy struct {
	Statements []policyStatement
}

// policyStatement is one statement of a bucket policy.
type policyStatement struct {
	Effect       string
	Principal    *policyPrincipal // nil when the statement uses NotPrincipal
	NotPrincipal *policyPrincipal
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    map[string]map[string][]string // operator → key → values
}

// policyPrincipal is a Principal element: "*" or {"AWS": [...], "CanonicalUser": [...]}.
type policyPrincipal struct {
	Any            bool
	AWS, Canonical []string
}

// policyDecision is the outcome of evaluating a policy for one request.
type policyDecision int

const (
	policyNone policyDecision = iota // no statement applies
	policyAllow
	policyDeny
)

// stringList decodes an IAM value that is a string or a list of strings (numbers and booleans
// are kept in their JSON text form).
func stringList(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, nil
	}
	var list []any
	if err := json.Unmarshal(raw, &list); err != nil {
		var one any
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, err
		}
		list = []any{one}
	}
	out := make([]string, 0, len(list))
	for _, v := range list {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case float64:
			out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
		case bool:
			out = append(out, strconv.FormatBool(v))
		default:
			return nil, fmt.Errorf("unexpected value %v", v)
		}
	}
	return out, nil
}

func parsePrincipal(raw json.RawMessage) (*policyPrincipal, error) {
	if raw == nil {
		return nil, nil
	}
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, fmt.Errorf("invalid principal %q", star)
		}
		return &policyPrincipal{Any: true}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("invalid principal")
	}
	p := &policyPrincipal{}
	for k, v := range m {
		list, err := stringList(v)
		if err != nil {
			return nil, fmt.Errorf("invalid principal: %w", err)
		}
		switch k {
		case "AWS":
			p.AWS = list
		case "CanonicalUser":
			p.Canonical = list
		case "Service", "Federated":
		default:
			return nil, fmt.Errorf("invalid principal type %q", k)
		}
	}
	return p, nil
}

// parsePolicy parses a bucket policy document (already accepted by validPolicy).
func parsePolicy(doc string) (*bucketPolicy, error) {
	var top struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return nil, fmt.Errorf("parse policy: %w", err)
	}
	var raws []map[string]json.RawMessage
	if json.Unmarshal(top.Statement, &raws) != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(top.Statement, &one); err != nil {
			return nil, fmt.Errorf("parse policy statement: %w", err)
		}
		raws = []map[string]json.RawMessage{one}
	}
	p := &bucketPolicy{}
	for _, r := range raws {
		var st policyStatement
		if err := json.Unmarshal(r["Effect"], &st.Effect); err != nil {
			return nil, fmt.Errorf("parse policy effect: %w", err)
		}
		var err error
		if st.Principal, err = parsePrincipal(r["Principal"]); err != nil {
			return nil, err
		}
		if st.NotPrincipal, err = parsePrincipal(r["NotPrincipal"]); err != nil {
			return nil, err
		}
		for _, f := range []struct {
			dst *[]string
			key string
		}{{&st.Action, "Action"}, {&st.NotAction, "NotAction"}, {&st.Resource, "Resource"}, {&st.NotResource, "NotResource"}} {
			if *f.dst, err = stringList(r[f.key]); err != nil {
				return nil, fmt.Errorf("parse policy %s: %w", f.key, err)
			}
		}
		if r["Condition"] != nil {
			var cond map[string]map[string]json.RawMessage
			if err := json.Unmarshal(r["Condition"], &cond); err != nil {
				return nil, fmt.Errorf("parse policy condition: %w", err)
			}
			st.Condition = make(map[string]map[string][]string, len(cond))
			for op, keys := range cond {
				st.Condition[op] = make(map[string][]string, len(keys))
				for k, v := range keys {
					if st.Condition[op][k], err = stringList(v); err != nil {
						return nil, fmt.Errorf("parse policy condition %s: %w", op, err)
					}
				}
			}
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// checkPolicy rejects what S3 refuses beyond validPolicy's structure checks: principals and
// actions it cannot read, Allow with NotPrincipal, and resources outside the bucket.
func checkPolicy(doc, bucketName string) (*bucketPolicy, error) {
	p, err := parsePolicy(doc)
	if err != nil {
		return nil, errMalformedPolicy("Invalid principal in policy")
	}
	for _, st := range p.Statements {
		if st.NotPrincipal != nil && st.Effect == "Allow" {
			return nil, errMalformedPolicy("Allow with NotPrincipal is not supported")
		}
		for _, a := range append(append([]string{}, st.Action...), st.NotAction...) {
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") {
				return nil, errMalformedPolicy("Policy has invalid action")
			}
		}
		for _, r := range append(append([]string{}, st.Resource...), st.NotResource...) {
			if r == "*" {
				continue
			}
			rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
			name, _, _ := strings.Cut(rest, "/")
			if !ok || !wildcard.Match(name, bucketName) {
				return nil, errMalformedPolicy("Policy has invalid resource")
			}
		}
	}
	return p, nil
}

// requestContext is what a policy's principal, action, resource and conditions are matched
// against for one request.
type requestContext struct {
	Caller   principal
	Action   string // e.g. "s3:GetObject"
	Resource string // arn:aws:s3:::bucket or arn:aws:s3:::bucket/key
	// Value returns a condition key's values, or ok false when the request has none.
	Value func(key string) (vals []string, ok bool)
}

// evaluate decides p for rc: an explicit Deny wins over any Allow.
func (p *bucketPolicy) evaluate(rc *requestContext) policyDecision {
	d := policyNone
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.applies(rc) {
			continue
		}
		if st.Effect == "Deny" {
			return policyDeny
		}
		d = policyAllow
	}
	return d
}

func (st *policyStatement) applies(rc *requestContext) bool {
	switch {
	case st.Principal != nil && !st.Principal.matches(rc.Caller):
		return false
	case st.NotPrincipal != nil && st.NotPrincipal.matches(rc.Caller):
		return false
	case st.Action != nil && !anyWildMatch(st.Action, rc.Action, true):
		return false
	case st.NotAction != nil && anyWildMatch(st.NotAction, rc.Action, true):
		return false
	case st.Resource != nil && !anyWildMatch(st.Resource, rc.Resource, false):
		return false
	case st.NotResource != nil && anyWildMatch(st.NotResource, rc.Resource, false):
		return false
	}
	for op, keys := range st.Condition {
		for k, want := range keys {
			if !conditionHolds(op, want, rc.Value, k) {
				return false
			}
		}
	}
	return true
}

// matches reports whether the principal element names caller: "*" is everyone (anonymous
// included); an account id or an ARN of that account (root, user, role) names the account.
func (pp *policyPrincipal) matches(c principal) bool {
	if pp.Any {
		return true
	}
	for _, a := range pp.AWS {
		switch {
		case a == "*":
			return true
		case c.Anonymous:
		case a == c.Account || a == c.ARN && c.ARN != "":
			return true
		case strings.HasPrefix(a, "arn:aws:iam::"+c.Account+":root"):
			return true
		}
	}
	for _, id := range pp.Canonical {
		if !c.Anonymous && id == canonicalID(c.Account) {
			return true
		}
	}
	return false
}

func anyWildMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold && wildcard.MatchFold(p, s) || !fold && wildcard.Match(p, s) {
			return true
		}
	}
	return false
}

// conditionHolds evaluates one condition operator on one key. Missing keys: an ...IfExists
// operator holds, a negated operator holds, Null compares presence, anything else fails.
func conditionHolds(op string, want []string, value func(string) ([]string, bool), key string) bool {
	setOp := ""
	if q, rest, ok := strings.Cut(op, ":"); ok {
		setOp, op = q, rest
	}
	ifExists := false
	if base, ok := strings.CutSuffix(op, "IfExists"); ok {
		op, ifExists = base, true
	}
	got, present := value(key)
	if op == "Null" {
		return len(want) > 0 && (want[0] == "true") == !present
	}
	negated := strings.Contains(op, "Not")
	if !present {
		if setOp == "ForAllValues" {
			return true
		}
		return ifExists || negated
	}
	match := func(g string) bool {
		for _, w := range want {
			if compareCondition(op, g, w) {
				return true
			}
		}
		return false
	}
	switch setOp {
	case "ForAllValues":
		for _, g := range got {
			if !match(g) {
				return false
			}
		}
		return true
	case "ForAnyValue":
		for _, g := range got {
			if match(g) {
				return true
			}
		}
		return false
	}
	if negated {
		// StringNotEquals and friends hold when no value matches the positive form.
		pos := strings.Replace(op, "Not", "", 1)
		for _, g := range got {
			for _, w := range want {
				if compareCondition(pos, g, w) {
					return false
				}
			}
		}
		return true
	}
	for _, g := range got {
		if match(g) {
			return true
		}
	}
	return false
}

// compareCondition applies a positive condition operator to one request value and one policy value.
func compareCondition(op, got, want string) bool {
	switch op {
	case "StringEquals", "ArnEquals":
		return got == want
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(got, want)
	case "StringLike":
		return wildcard.Match(want, got)
	case "ArnLike":
		return wildcard.ARNLike(want, got)
	case "Bool":
		return strings.EqualFold(got, want)
	case "NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals":
		g, err1 := strconv.ParseFloat(got, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return compareOrdered(op[len("Numeric"):], g, w)
	case "DateEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals":
		g, err1 := time.Parse(time.RFC3339, got)
		w, err2 := time.Parse(time.RFC3339, want)
		if err1 != nil || err2 != nil {
			return false
		}
		return compareOrdered(op[len("Date"):], float64(g.Unix()), float64(w.Unix()))
	case "IpAddress":
		ip := net.ParseIP(got)
		if _, n, err := net.ParseCIDR(want); err == nil {
			return ip != nil && n.Contains(ip)
		}
		return ip != nil && ip.Equal(net.ParseIP(want))
	}
	return false
}

func compareOrdered(cmp string, g, w float64) bool {
	switch cmp {
	case "Equals":
		return g == w
	case "LessThan":
		return g < w
	case "LessThanEquals":
		return g <= w
	case "GreaterThan":
		return g > w
	case "GreaterThanEquals":
		return g >= w
	}
	return false
}

// publicConditionKeys are condition keys that tie a wildcard principal to fixed callers, which
// makes a statement non-public in S3's sense.
var publicConditionKeys = map[string]bool{
	"aws:sourceip": true, "aws:sourcearn": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:sourceaccount": true, "aws:sourceowner": true, "aws:principalaccount": true, "aws:principalarn": true,
	"aws:principalorgid": true, "aws:userid": true, "s3:dataaccesspointarn": true, "s3:dataaccesspointaccount": true,
}

// isPublic reports whether p grants access to everyone: an Allow statement whose principal is
// a wildcard and whose conditions fix no caller.
func (p *bucketPolicy) isPublic() bool {
	for _, st := range p.Statements {
		if st.Effect != "Allow" || st.Principal == nil || !st.Principal.wildcard() {
			continue
		}
		fixed := false
		for _, keys := range st.Condition {
			for k := range keys {
				fixed = fixed || publicConditionKeys[strings.ToLower(k)]
			}
		}
		if !fixed {
			return true
		}
	}
	return false
}

func (pp *policyPrincipal) wildcard() bool {
	if pp.Any {
		return true
	}
	for _, a := range pp.AWS {
		if a == "*" {
			return true
		}
	}
	return false
}

// resourceARN is the policy resource of a bucket (key "") or of one of its objects.
func resourceARN(bucketName, key string) string {
	if key == "" {
		return "arn:aws:s3:::" + bucketName
	}
	return "arn:aws:s3:::" + bucketName + "/" + key
}
