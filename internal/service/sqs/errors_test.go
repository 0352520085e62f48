package sqs

import "testing"

func TestValidationError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op       string
		problems []string
		code     string
		msg      string
	}{
		{"SendMessage", []string{"Value null at 'messageBody' failed to satisfy constraint: Member must not be null"},
			"MissingParameter", "The request must contain the parameter MessageBody."},
		{"SendMessageBatch", []string{"Value null at 'entries' failed to satisfy constraint: Member must not be null"},
			"EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry in the request."},
		{"DeleteMessageBatch", []string{"Value null at 'entries.1.member.receiptHandle' failed to satisfy constraint: Member must not be null"},
			"MissingParameter", "The request must contain the parameter ReceiptHandle."},
		{"ListQueues", []string{"Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
			"InvalidParameterValue", "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
	} {
		e := validationError(tc.op, tc.problems)
		if e.Code != tc.code || e.Message != tc.msg {
			t.Errorf("%s %v: %s %q, want %s %q", tc.op, tc.problems, e.Code, e.Message, tc.code, tc.msg)
		}
	}
}
