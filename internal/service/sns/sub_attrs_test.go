package sns

import (
	"strings"
	"testing"
)

func TestCheckRedrivePolicy(t *testing.T) {
	t.Parallel()
	std := subTarget{Protocol: "sqs", Account: "000000000000", Region: "us-east-1"}
	fifo := std
	fifo.Fifo = true
	for name, c := range map[string]struct {
		policy string
		target subTarget
		reason string
	}{
		"a queue of the subscription's account": {`{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"}`, std, ""},
		"a FIFO queue for a FIFO topic":         {`{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq.fifo"}`, fifo, ""},
		"not JSON":                              {`{deadLetterTargetArn`, std, "failed to parse JSON."},
		"no ARN":                                {`{}`, std, "deadLetterTargetArn is an invalid arn"},
		"not an ARN":                            {`{"deadLetterTargetArn": "dlq"}`, std, "deadLetterTargetArn is an invalid arn"},
		"a topic":                               {`{"deadLetterTargetArn": "arn:aws:sns:us-east-1:000000000000:t"}`, std, "deadLetterTargetArn is an invalid arn"},
		"another account":                       {`{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:111122223333:dlq"}`, std, "same account and region"},
		"a standard queue for a FIFO topic":     {`{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"}`, fifo, "must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic."},
		"a FIFO queue for a standard topic":     {`{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq.fifo"}`, std, "must use a standard queue"},
	} {
		dlq, reason := checkRedrivePolicy(c.policy, c.target)
		if c.reason == "" && (reason != "" || dlq == "") || c.reason != "" && !strings.Contains(reason, c.reason) {
			t.Errorf("%s: %q, %q; want reason %q", name, dlq, reason, c.reason)
		}
	}
}

// FuzzRedrivePolicy feeds RedrivePolicy values to the parser: it never panics, and what it
// accepts names an ARN.
func FuzzRedrivePolicy(f *testing.F) {
	for _, s := range []string{`{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"}`, `{"deadLetterTargetArn": 1}`, `{}`, `[]`, `null`, `"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dlq, reason := parseRedrivePolicy(s)
		if reason == "" && !strings.HasPrefix(dlq, "arn:") {
			t.Fatalf("%q accepted with dead-letter target %q", s, dlq)
		}
		checkRedrivePolicy(s, subTarget{Protocol: "sqs", Account: "000000000000", Region: "us-east-1"})
	})
}

func TestValidationErrorWording(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		op, problem, code, msg string
	}{
		"a missing parameter": {"Unsubscribe", "Value null at 'subscriptionArn' failed to satisfy constraint: Member must not be null",
			"InvalidParameter", "Invalid parameter: SubscriptionArn Reason: no value for required parameter"},
		"a batch without entries": {"PublishBatch", "Value null at 'publishBatchRequestEntries' failed to satisfy constraint: Member must not be null",
			"EmptyBatchRequest", "The batch request doesn't contain any entries."},
	} {
		e := validationError(c.op, []string{c.problem})
		if e == nil || e.Code != c.code || e.Message != c.msg {
			t.Errorf("%s: %v, want %s: %s", name, e, c.code, c.msg)
		}
	}
	if e := validationError("Publish", []string{"Value null at 'messageAttributes.a.member.dataType' failed to satisfy constraint: Member must not be null"}); e != nil {
		t.Errorf("a nested member: %v, want the codec's ValidationError", e)
	}
}
