package sfn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// MachineType is the type (STANDARD or EXPRESS) of the state machine (or version, or alias)
// arn names; "" when there is none.
func (s *Service) MachineType(ctx context.Context, arn string) (string, error) {
	t, err := resolveTarget(s.reader(ctx), arn)
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return t.machine.Type, nil
}

// StartSyncAsRole runs an Express execution of what arn names with input, as StartSyncExecution
// does, for an AWS service acting as the IAM role roleARN (EventBridge Pipes' enrichments and
// REQUEST_RESPONSE targets). It returns the execution's output and, when it did not succeed,
// its failure ("FAILED: error: cause", "TIMED_OUT: ..."; "" when it succeeded). With IAM
// enforced the role must be allowed states:StartSyncExecution on arn; otherwise the state
// machine must be of the role's account.
func (s *Service) StartSyncAsRole(ctx context.Context, arn, roleARN string, input []byte) ([]byte, string, error) {
	if s.enforcing() {
		if err := s.authz.AuthorizeRole(ctx, roleARN, "", authz.Request{Action: "states:StartSyncExecution", Resource: arn}); err != nil {
			return nil, "", err
		}
	} else if ref, err := parseMachineARN(arn, true); err != nil || ref.sc.account != arnAccount(roleARN) {
		return nil, "", fmt.Errorf("%s is not a state machine of the account of %s", arn, roleARN)
	}
	out, err := s.startSyncExecution(ctx, &StartSyncExecutionInput{StateMachineArn: &arn, Input: awsproto.Ptr(string(input))})
	if err != nil {
		return nil, "", fmt.Errorf("start sync execution of %s: %w", arn, err)
	}
	if status := awsproto.Value(out.Status); status != statusSucceeded {
		return nil, fmt.Sprintf("%s: %s: %s", status, awsproto.Value(out.Error), awsproto.Value(out.Cause)), nil
	}
	return []byte(awsproto.Value(out.Output)), "", nil
}

// arnAccount is the account field of an ARN.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[4]
}
