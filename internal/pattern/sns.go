package pattern

import (
	"strings"
)

// FilterPolicyScope is what an SNS subscription's filter policy applies to.
type FilterPolicyScope string

// The two filter policy scopes. MessageAttributes is the default.
const (
	ScopeMessageAttributes FilterPolicyScope = "MessageAttributes"
	ScopeMessageBody       FilterPolicyScope = "MessageBody"
)

// SNS filter policy limits (Amazon SNS Developer Guide, "Filter policy constraints").
const (
	MaxFilterPolicyBytes        = 256 * 1024 // "The maximum size of a filter policy is 256 KB."
	MaxFilterPolicyKeys         = 5          // "A filter policy can have a maximum of five keys."
	MaxFilterPolicyCombinations = 150        // "The total combination of values ... must not exceed 150."
)

// ParseFilterPolicyScope validates a FilterPolicyScope attribute value; "" means the
// default, MessageAttributes.
func ParseFilterPolicyScope(s string) (FilterPolicyScope, error) {
	switch FilterPolicyScope(s) {
	case "":
		return ScopeMessageAttributes, nil
	case ScopeMessageAttributes, ScopeMessageBody:
		return FilterPolicyScope(s), nil
	}
	msg := "FilterPolicyScope: Invalid value [" + s + "]. Please use either MessageBody or MessageAttributes"
	return "", &Error{
		Code:             "InvalidParameter",
		Message:          "Invalid parameter: " + msg,
		SubscribeMessage: "Invalid parameter: Attributes Reason: " + msg,
		Reason:           msg,
	}
}

// FilterPolicy is a compiled SNS subscription filter policy. It is immutable and safe for
// concurrent use.
type FilterPolicy struct {
	scope   FilterPolicyScope
	pattern *Pattern
}

// CompileFilterPolicy compiles an SNS filter policy for the given scope. An empty object,
// "{}", is a policy that accepts every message, as SNS documents for removing a policy.
//
// An invalid policy yields an *Error with code InvalidParameter. Its Message is the form
// SetSubscriptionAttributes returns ("Invalid parameter: FilterPolicy: ...") and its
// SubscribeMessage the form Subscribe returns ("Invalid parameter: Attributes Reason:
// FilterPolicy: ...").
func CompileFilterPolicy(policy string, scope FilterPolicyScope) (*FilterPolicy, error) {
	if scope == "" {
		scope = ScopeMessageAttributes
	}
	p, labelled, err := compileFilterPolicy(policy, scope)
	if err != nil {
		reason := reasonOf(err)
		msg := reason
		if labelled {
			msg = "FilterPolicy: " + reason
		}
		return nil, &Error{
			Code:             "InvalidParameter",
			Message:          "Invalid parameter: " + msg,
			SubscribeMessage: "Invalid parameter: Attributes Reason: " + msg,
			Reason:           reason,
		}
	}
	return &FilterPolicy{scope: scope, pattern: p}, nil
}

// compileFilterPolicy reports, with an error, whether SNS labels it "FilterPolicy: ".
func compileFilterPolicy(policy string, scope FilterPolicyScope) (*Pattern, bool, error) {
	if len(policy) > MaxFilterPolicyBytes {
		return nil, true, refuse("Filter policy is too long")
	}
	v, err := parseJSON([]byte(policy))
	if err != nil {
		return nil, true, refuse("failed to parse JSON.")
	}
	if v.kind == kindObject && len(v.members) == 0 {
		return &Pattern{matchAll: true}, false, nil
	}
	c := compiler{d: dialect{sns: true}}
	p, err := c.compile(v)
	if err != nil {
		return nil, true, err
	}
	if len(v.members) > MaxFilterPolicyKeys {
		return nil, true, refuse("Filter policy can not have more than 5 keys")
	}
	if scope == ScopeMessageAttributes && nested(v) {
		return nil, false, refuse("Filter policy scope MessageAttributes does not support nested filter policy")
	}
	if combinations(v, 1, 1) > MaxFilterPolicyCombinations {
		return nil, true, refuse("Filter policy is too complex")
	}
	return p, false, nil
}

// nested reports whether a policy nests objects, outside of $or branches.
func nested(v value) bool {
	for _, m := range v.members {
		switch {
		case m.name == "$or" && m.val.kind == kindArray:
			for _, b := range m.val.items {
				if nested(b) {
					return true
				}
			}
		case m.val.kind == kindObject:
			return true
		}
	}
	return false
}

// combinations computes SNS's measure of a policy's complexity: the product of the number
// of values of each key, each weighted by its nesting depth; the branches of $or add up.
func combinations(v value, depth, acc int) int {
	const ceiling = 1 << 40 // far past the limit; keeps the product from overflowing
	for _, m := range v.members {
		switch {
		case m.val.kind == kindObject:
			acc = combinations(m.val, depth+1, acc)
		case m.name == "$or":
			sum := 0
			for _, b := range m.val.items {
				sum += combinations(b, depth, acc)
				if sum > ceiling {
					sum = ceiling
				}
			}
			acc = sum
		default:
			acc *= len(m.val.items) * depth
		}
		if acc > ceiling {
			acc = ceiling
		}
	}
	return acc
}

// Scope returns the scope the policy was compiled for.
func (f *FilterPolicy) Scope() FilterPolicyScope { return f.scope }

// Pattern returns the policy as a Pattern, to add to a Machine. Match it against the Event
// that MessageEvent builds for the policy's scope.
func (f *FilterPolicy) Pattern() *Pattern { return f.pattern }

// Matches reports whether a published message passes the policy: its attributes for the
// MessageAttributes scope, its body for the MessageBody scope.
func (f *FilterPolicy) Matches(attrs map[string]MessageAttribute, body string) bool {
	if f.pattern.matchAll {
		return true
	}
	ev, ok := MessageEvent(f.scope, attrs, body)
	return ok && f.pattern.MatchesEvent(ev)
}

// MessageAttribute is an SNS message attribute as published.
type MessageAttribute struct {
	DataType    string // String, String.Array, Number or Binary, with an optional ".label"
	StringValue string
}

// MessageEvent builds the event a filter policy of the given scope is matched against. For
// MessageAttributes: each String attribute is a string, each Number a number, each
// String.Array the JSON array it holds, matched element by element; Binary attributes are
// left out, as SNS ignores them. For MessageBody: the body parsed as JSON, which must be an
// object; ok is false when it is not, and then no policy with this scope matches.
func MessageEvent(scope FilterPolicyScope, attrs map[string]MessageAttribute, body string) (ev *Event, ok bool) {
	if scope == ScopeMessageBody {
		v, err := parseJSON([]byte(body))
		if err != nil || v.kind != kindObject {
			return nil, false
		}
		return eventOf(v), true
	}
	return attributesEvent(attrs), true
}

func attributesEvent(attrs map[string]MessageAttribute) *Event {
	obj := value{kind: kindObject}
	for name, a := range attrs {
		if v, ok := attributeValue(a); ok {
			obj.members = append(obj.members, member{name: name, val: v})
		}
	}
	return eventOf(obj)
}

func attributeValue(a MessageAttribute) (value, bool) {
	if a.DataType == "String.Array" {
		if v, err := parseJSON([]byte(a.StringValue)); err == nil && v.kind == kindArray {
			return v, true
		}
		return value{kind: kindString, text: a.StringValue}, true
	}
	base, _, _ := strings.Cut(a.DataType, ".")
	switch base {
	case "String":
		return value{kind: kindString, text: a.StringValue}, true
	case "Number":
		s := scanner{data: []byte(a.StringValue)}
		if text, err := s.number(); err == nil && s.pos == len(s.data) {
			return value{kind: kindNumber, text: text}, true
		}
		return value{kind: kindString, text: a.StringValue}, true
	}
	return value{}, false // Binary, or a type SNS would have refused at Publish
}
