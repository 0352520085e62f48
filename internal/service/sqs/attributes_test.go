package sqs

import (
	"errors"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func TestApplyAttributes(t *testing.T) {
	t.Parallel()
	const dlq = "arn:aws:sqs:us-east-1:000000000000:dlq"
	for _, tc := range []struct {
		name      string
		fifo      bool
		creating  bool
		in        map[string]string
		wantCode  string
		wantMsg   string
		wantAttrs map[string]string
	}{
		{name: "every standard attribute in range", in: map[string]string{
			"DelaySeconds": "900", "MaximumMessageSize": "1024", "MessageRetentionPeriod": "60", "ReceiveMessageWaitTimeSeconds": "20",
			"VisibilityTimeout": "43200", "Policy": `{"Version":"2012-10-17"}`, "KmsDataKeyReusePeriodSeconds": "86400", "SqsManagedSseEnabled": "FALSE",
		}, wantAttrs: map[string]string{"DelaySeconds": "900", "SqsManagedSseEnabled": "false", "MaximumMessageSize": "1024"}},
		{name: "a delay too long", in: map[string]string{"DelaySeconds": "901"},
			wantCode: "InvalidAttributeValue", wantMsg: "Invalid value for the parameter DelaySeconds."},
		{name: "a message size above 1 MiB", in: map[string]string{"MaximumMessageSize": "1048577"},
			wantCode: "InvalidAttributeValue", wantMsg: "Invalid value for the parameter MaximumMessageSize."},
		{name: "a retention below a minute", in: map[string]string{"MessageRetentionPeriod": "59"},
			wantCode: "InvalidAttributeValue", wantMsg: "Invalid value for the parameter MessageRetentionPeriod."},
		{name: "a visibility that is not a number", in: map[string]string{"VisibilityTimeout": "ten"},
			wantCode: "InvalidAttributeValue", wantMsg: "Invalid value for the parameter VisibilityTimeout."},
		{name: "a policy that is not JSON", in: map[string]string{"Policy": "{"},
			wantCode: "InvalidAttributeValue", wantMsg: "Invalid value for the parameter Policy."},
		{name: "an unknown attribute", in: map[string]string{"Colour": "blue"},
			wantCode: "InvalidAttributeName", wantMsg: "Unknown Attribute Colour."},
		{name: "a computed attribute", in: map[string]string{"QueueArn": "x"},
			wantCode: "InvalidAttributeName", wantMsg: "Unknown Attribute QueueArn."},
		{name: "FifoQueue on a standard queue", creating: true, in: map[string]string{"FifoQueue": "false"},
			wantCode: "InvalidAttributeName", wantMsg: "Unknown Attribute FifoQueue."},
		{name: "ContentBasedDeduplication on a standard queue", in: map[string]string{"ContentBasedDeduplication": "false"},
			wantCode: "InvalidAttributeName", wantMsg: "Unknown Attribute ContentBasedDeduplication."},
		{name: "DeduplicationScope on a standard queue", in: map[string]string{"DeduplicationScope": "queue"},
			wantCode: "InvalidAttributeName", wantMsg: "You can specify the DeduplicationScope only when FifoQueue is set to true."},
		{name: "a FIFO queue turned standard", fifo: true, in: map[string]string{"FifoQueue": "false"},
			wantCode: "InvalidAttributeValue", wantMsg: "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported."},
		{name: "high throughput FIFO", fifo: true, in: map[string]string{"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"},
			wantAttrs: map[string]string{"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId", "FifoQueue": "true"}},
		{name: "per group throughput with queue deduplication", fifo: true, in: map[string]string{"FifoThroughputLimit": "perMessageGroupId"},
			wantCode: "InvalidAttributeValue"},
		{name: "an unknown deduplication scope", fifo: true, in: map[string]string{"DeduplicationScope": "group"},
			wantCode: "InvalidAttributeValue", wantMsg: "Invalid value for the parameter DeduplicationScope."},
		{name: "a KMS key turns SSE-SQS off", in: map[string]string{"KmsMasterKeyId": "alias/aws/sqs"},
			wantAttrs: map[string]string{"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": "false"}},
		{name: "both encryptions", in: map[string]string{"KmsMasterKeyId": "k", "SqsManagedSseEnabled": "true"},
			wantCode: "InvalidAttributeName", wantMsg: "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE."},
		{name: "a redrive policy is written canonically", in: map[string]string{"RedrivePolicy": `{"maxReceiveCount":"5", "deadLetterTargetArn":"` + dlq + `"}`},
			wantAttrs: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlq + `","maxReceiveCount":5}`}},
		{name: "a redrive policy without a target", in: map[string]string{"RedrivePolicy": `{"maxReceiveCount":5}`},
			wantCode: "InvalidParameterValue", wantMsg: "Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn."},
		{name: "a redrive count out of range", in: map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + dlq + `","maxReceiveCount":1001}`},
			wantCode: "InvalidParameterValue", wantMsg: "Reason: Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive."},
		{name: "a redrive policy that is not JSON", in: map[string]string{"RedrivePolicy": `nope`},
			wantCode: "InvalidParameterValue", wantMsg: "Value nope for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map."},
		{name: "an empty redrive policy removes it", in: map[string]string{"RedrivePolicy": ""}, wantAttrs: map[string]string{"RedrivePolicy": ""}},
		{name: "a redrive allow policy by queue", in: map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":["` + dlq + `"]}`},
			wantAttrs: map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":["` + dlq + `"]}`}},
		{name: "sources with allowAll", in: map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"allowAll","sourceQueueArns":["` + dlq + `"]}`},
			wantCode: "InvalidParameterValue", wantMsg: "Reason: You can specify sourceQueueArns only when redrivePermission is set to byQueue."},
		{name: "an unknown permission", in: map[string]string{"RedriveAllowPolicy": `{"redrivePermission":"some"}`},
			wantCode: "InvalidParameterValue", wantMsg: "Invalid value for redrivePermission: some"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := applyAttributes(defaultAttributes(tc.fifo), tc.in, tc.fifo, tc.creating)
			if tc.wantCode != "" {
				var ae *awsproto.Error
				if !errors.As(err, &ae) || ae.Code != tc.wantCode || !strings.Contains(ae.Message, tc.wantMsg) {
					t.Fatalf("error %v, want %s %q", err, tc.wantCode, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.wantAttrs {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestDefaultAttributesParse(t *testing.T) {
	t.Parallel()
	s := parseSettings(defaultAttributes(true))
	if !s.Fifo || s.ContentBasedDeduplication || s.MaxMessageSize != maxMessageSize || s.Visibility.Seconds() != 30 ||
		s.Retention.Hours() != 96 || s.Redrive != nil || !s.Allow.allows("arn:aws:sqs:us-east-1:000000000000:x") {
		t.Fatalf("default FIFO settings: %+v", s)
	}
	if _, fifo := defaultAttributes(false)[attrFifoQueue]; fifo {
		t.Error("a standard queue has FIFO attributes")
	}
}

func TestRedriveAllowPolicy(t *testing.T) {
	t.Parallel()
	const a, b = "arn:aws:sqs:us-east-1:000000000000:a", "arn:aws:sqs:us-east-1:000000000000:b"
	for v, want := range map[string][2]bool{
		"":                                 {true, true},
		`{"redrivePermission":"allowAll"}`: {true, true},
		`{"redrivePermission":"denyAll"}`:  {false, false},
		`{"redrivePermission":"byQueue","sourceQueueArns":["` + a + `"]}`: {true, false},
	} {
		p, ok := parseRedriveAllowPolicy(v)
		if !ok || p.allows(a) != want[0] || p.allows(b) != want[1] {
			t.Errorf("%s: allows a %v b %v, want %v", v, p.allows(a), p.allows(b), want)
		}
	}
}

// FuzzQueueAttributeValues feeds arbitrary values to every settable attribute: applyAttributes
// either refuses them or writes values that parse and stay as they are when applied again.
func FuzzQueueAttributeValues(f *testing.F) {
	f.Add("RedrivePolicy", `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:d","maxReceiveCount":3}`, false)
	f.Add("RedriveAllowPolicy", `{"redrivePermission":"byQueue","sourceQueueArns":["arn:aws:sqs:us-east-1:000000000000:s"]}`, false)
	f.Add("DelaySeconds", "12", false)
	f.Add("Policy", `{"Statement":[]}`, false)
	f.Add("DeduplicationScope", "messageGroup", true)
	f.Fuzz(func(t *testing.T, name, value string, fifo bool) {
		got, err := applyAttributes(defaultAttributes(fifo), map[string]string{name: value}, fifo, false)
		if err != nil {
			var ae *awsproto.Error
			if !errors.As(err, &ae) {
				t.Fatalf("a refusal that is not an AWS error: %v", err)
			}
			return
		}
		_ = parseSettings(got)
		again, err := applyAttributes(defaultAttributes(fifo), map[string]string{name: got[name]}, fifo, false)
		if err != nil || again[name] != got[name] {
			t.Fatalf("%s=%q: canonical %q is not stable: %q %v", name, value, got[name], again[name], err)
		}
	})
}
