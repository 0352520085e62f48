package sns

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/pattern"
)

// Subscription attribute names.
const (
	attrFilterPolicy        = "FilterPolicy"
	attrFilterPolicyScope   = "FilterPolicyScope"
	attrRawMessageDelivery  = "RawMessageDelivery"
	attrRedrivePolicy       = "RedrivePolicy"
	attrSubscriptionRoleArn = "SubscriptionRoleArn"
	attrReplayPolicy        = "ReplayPolicy"
)

// subAttrError is an invalid subscription attribute. Subscribe words it "Invalid parameter:
// Attributes Reason: <reason>", SetSubscriptionAttributes "Invalid parameter: <reason>".
func subAttrError(subscribe bool, reason string) *awsproto.Error {
	if subscribe {
		return invalidReason("Attributes", reason)
	}
	return invalidParameter(reason)
}

// subTarget is what attribute checks need to know of a subscription.
type subTarget struct {
	Protocol, Endpoint string
	// Account and Region are the subscription's.
	Account, Region string
	// Fifo reports a subscription to a FIFO topic.
	Fifo bool
}

// applySubAttributes validates given subscription attributes and returns cur with them applied
// (an empty value removes an attribute). subscribe selects Subscribe's wording of errors.
func applySubAttributes(cur, given map[string]string, t subTarget, subscribe bool) (map[string]string, error) {
	out := maps.Clone(cur)
	if out == nil {
		out = map[string]string{}
	}
	for _, name := range slices.Sorted(maps.Keys(given)) {
		v, err := checkSubAttribute(name, given[name], t, subscribe)
		if err != nil {
			return nil, err
		}
		if v == "" {
			delete(out, name)
		} else {
			out[name] = v
		}
	}
	if _, err := compileFilter(out); err != nil {
		return nil, patternError(err, subscribe)
	}
	return out, nil
}

// patternError words a filter policy's refusal for Subscribe or SetSubscriptionAttributes.
func patternError(err error, subscribe bool) error {
	var pe *pattern.Error
	if !errors.As(err, &pe) {
		return err
	}
	msg := pe.Message
	if subscribe {
		msg = pe.SubscribeMessage
	}
	return awsproto.Errorf(pe.Code, 400, "%s", msg)
}

// checkSubAttribute validates one subscription attribute and returns the value to keep.
func checkSubAttribute(name, value string, t subTarget, subscribe bool) (string, error) {
	switch name {
	case attrRawMessageDelivery:
		b, ok := parseBool(value)
		if !ok {
			return "", subAttrError(subscribe, "RawMessageDelivery: Invalid value ["+value+"]. Must be true or false.")
		}
		if b == "true" && t.Protocol == "lambda" {
			return "", subAttrError(subscribe, "Delivery protocol [lambda] does not support raw message delivery.")
		}
		return b, nil
	case attrDeliveryPolicy:
		if value == "" {
			return "", nil
		}
		if t.Protocol != "http" && t.Protocol != "https" {
			return "", subAttrError(subscribe, "DeliveryPolicy: Delivery protocol ["+t.Protocol+"] does not support delivery policies.")
		}
		if _, err := parseSubscriptionPolicy(value); err != nil {
			return "", subAttrError(subscribe, "DeliveryPolicy: "+err.Error())
		}
		return value, nil
	case attrFilterPolicy:
		return value, nil // compiled with its scope once all attributes are applied
	case attrFilterPolicyScope:
		scope, err := pattern.ParseFilterPolicyScope(value)
		if err != nil {
			return "", patternError(err, subscribe)
		}
		return string(scope), nil
	case attrRedrivePolicy:
		if value == "" {
			return "", nil
		}
		if _, reason := checkRedrivePolicy(value, t); reason != "" {
			return "", subAttrError(subscribe, "RedrivePolicy: "+reason)
		}
		return value, nil
	case attrSubscriptionRoleArn:
		return "", subAttrError(subscribe, "SubscriptionRoleArn: only firehose subscriptions take a role, and Kiri does not deliver to firehose.")
	case attrReplayPolicy:
		return "", subAttrError(subscribe, "ReplayPolicy: Kiri does not archive messages, so it cannot replay them.")
	}
	return "", subAttrError(subscribe, "AttributeName")
}

// parseRedrivePolicy reads a RedrivePolicy's dead-letter queue ARN, or why it cannot.
func parseRedrivePolicy(s string) (deadLetter, reason string) {
	var p struct {
		DeadLetterTargetArn any `json:"deadLetterTargetArn"`
	}
	d := json.NewDecoder(strings.NewReader(s))
	if err := d.Decode(&p); err != nil || d.More() {
		return "", "failed to parse JSON."
	}
	arn, _ := p.DeadLetterTargetArn.(string)
	if parts := strings.Split(arn, ":"); len(parts) < 6 || parts[0] != "arn" {
		return "", "deadLetterTargetArn is an invalid arn"
	}
	return arn, ""
}

// checkRedrivePolicy validates a RedrivePolicy for subscription t: its dead-letter target must
// be an SQS queue of the subscription's account and region, FIFO exactly when the topic is.
func checkRedrivePolicy(s string, t subTarget) (deadLetter, reason string) {
	dlq, reason := parseRedrivePolicy(s)
	if reason != "" {
		return "", reason
	}
	account, region, fifo, ok := queueARN(dlq)
	switch {
	case !ok:
		return "", "deadLetterTargetArn is an invalid arn"
	case account != t.Account || region != t.Region:
		return "", "the dead-letter queue must be in the same account and region as the subscription."
	case t.Fifo && !fifo:
		return "", "must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic."
	case !t.Fifo && fifo:
		return "", "must use a standard queue as DLQ for a subscription to a standard topic."
	}
	return dlq, ""
}

// compileFilter compiles a subscription's filter policy with its scope; nil when it has none.
func compileFilter(attrs map[string]string) (*pattern.FilterPolicy, error) {
	policy := attrs[attrFilterPolicy]
	if policy == "" {
		return nil, nil
	}
	return pattern.CompileFilterPolicy(policy, pattern.FilterPolicyScope(attrs[attrFilterPolicyScope]))
}

// sameSubAttributes reports whether the attributes names of want, which a Subscribe of an
// existing subscription gives, have the values that subscription has.
func sameSubAttributes(have, want map[string]string, names []string) bool {
	for _, n := range names {
		if subAttribute(have, n) != subAttribute(want, n) {
			return false
		}
	}
	return true
}

// subAttribute is a subscription attribute's value, its default when unset.
func subAttribute(attrs map[string]string, name string) string {
	if v := attrs[name]; v != "" {
		return v
	}
	switch name {
	case attrRawMessageDelivery:
		return "false"
	case attrFilterPolicyScope:
		return string(pattern.ScopeMessageAttributes)
	}
	return ""
}
