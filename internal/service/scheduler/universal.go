package scheduler

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/kiri-run/kiri/internal/arn"
	"github.com/kiri-run/kiri/internal/dispatch"
)

// universalPrefix starts the ARN of a universal target: arn:aws:scheduler:::aws-sdk:SERVICE:ACTION,
// whose input is the action's request.
const universalPrefix = "arn:aws:scheduler:::aws-sdk:"

// universalActions are the universal targets Kiri calls, by SERVICE:ACTION, each with the
// request parameters it takes. They are delivered through the target registry as the
// templated targets are; other actions are refused.
var universalActions = map[string][]string{
	"sqs:sendMessage": {"QueueUrl", "MessageBody", "MessageGroupId", "MessageDeduplicationId", "MessageAttributes"},
	"sns:publish":     {"TopicArn", "Message", "Subject", "MessageAttributes"},
}

// universalCall reads the request of a universal target's action from its input and returns
// the delivery that makes the call (without its source); region is the schedule's, where a
// queue URL names its queue. Its errors are worded for a ValidationException.
func universalCall(target, input, region string) (dispatch.Delivery, error) {
	action := strings.TrimPrefix(target, universalPrefix)
	params, ok := universalActions[action]
	if !ok {
		return dispatch.Delivery{}, fmt.Errorf("universal target %s is not supported by this server; supported: %s", target, supportedActions())
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal([]byte(input), &req); err != nil {
		return dispatch.Delivery{}, fmt.Errorf("the Input of universal target %s must be a JSON object of the %s request", target, action)
	}
	str := func(k string) (string, error) {
		raw, ok := req[k]
		if !ok {
			return "", nil
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", fmt.Errorf("parameter %s of %s must be a string", k, action)
		}
		return v, nil
	}
	for k := range req {
		if !slices.Contains(params, k) {
			return dispatch.Delivery{}, fmt.Errorf("parameter %s of %s is not supported by this server; supported: %s", k, action, strings.Join(params, ", "))
		}
	}
	var d dispatch.Delivery
	var body string
	var err error
	switch action {
	case "sqs:sendMessage":
		var u string
		if u, err = str("QueueUrl"); err == nil {
			d.Target, err = queueURLARN(u, region)
		}
		if err == nil {
			body, err = str("MessageBody")
		}
		if err == nil {
			d.Group, err = str("MessageGroupId")
		}
		if err == nil {
			d.DedupID, err = str("MessageDeduplicationId")
		}
	case "sns:publish":
		if d.Target, err = str("TopicArn"); err == nil && dispatch.ARNService(d.Target) != "sns" {
			err = fmt.Errorf("TopicArn of sns:publish must be a topic ARN")
		}
		if err == nil {
			body, err = str("Message")
		}
		if err == nil {
			d.Subject, err = str("Subject")
		}
	}
	if err == nil && body == "" {
		err = fmt.Errorf("the %s request needs a non-empty %s", action, params[1])
	}
	if err == nil {
		d.Attributes, err = messageAttributes(req["MessageAttributes"])
	}
	d.Payload = []byte(body)
	return d, err
}

// queueURLARN is the ARN of the queue a queue URL names: its last two path segments are the
// account and the name, as in every queue URL Kiri or AWS hands out.
func queueURLARN(raw, region string) (string, error) {
	u, err := url.Parse(raw)
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if err != nil || u.Host == "" || len(segs) != 2 || !arn.IsAccount(segs[0]) || segs[1] == "" {
		return "", fmt.Errorf("QueueUrl %q is not a queue URL", raw)
	}
	return "arn:" + arn.Partition(region) + ":sqs:" + region + ":" + segs[0] + ":" + segs[1], nil
}

// messageAttributes reads SQS's and SNS's MessageAttributes parameter.
func messageAttributes(raw json.RawMessage) (map[string]dispatch.Attribute, error) {
	if raw == nil {
		return nil, nil
	}
	var in map[string]struct {
		DataType    string
		StringValue *string
		BinaryValue *string
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("MessageAttributes must map names to {DataType, StringValue or BinaryValue}")
	}
	out := make(map[string]dispatch.Attribute, len(in))
	for name, a := range in {
		switch {
		case a.StringValue != nil && (strings.HasPrefix(a.DataType, "String") || strings.HasPrefix(a.DataType, "Number")):
			out[name] = dispatch.Attribute{Type: a.DataType, Value: *a.StringValue}
		case a.BinaryValue != nil && strings.HasPrefix(a.DataType, "Binary"):
			b, err := base64.StdEncoding.DecodeString(*a.BinaryValue)
			if err != nil {
				return nil, fmt.Errorf("BinaryValue of message attribute %s must be base64", name)
			}
			out[name] = dispatch.Attribute{Type: a.DataType, Binary: b}
		default:
			return nil, fmt.Errorf("message attribute %s needs a DataType with a StringValue or BinaryValue", name)
		}
	}
	return out, nil
}

func supportedActions() string {
	names := make([]string, 0, len(universalActions))
	for a := range universalActions {
		names = append(names, a)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
