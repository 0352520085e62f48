package sdkretry

import (
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/aws/smithy-go"
)

func TestRetriesOnlyConnectionsTheClientClosed(t *testing.T) {
	r := New()
	if got := r.MaxAttempts(); got != 3 {
		t.Errorf("MaxAttempts = %d, want 3", got)
	}
	closed := &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("deserialization failed: %w", closed), true},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, false},
		{&smithy.GenericAPIError{Code: "InternalError"}, false},
		{errors.New("connection reset by peer"), false},
	} {
		if got := r.IsErrorRetryable(tc.err); got != tc.want {
			t.Errorf("IsErrorRetryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
