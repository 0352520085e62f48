package events

import (
	"net/http"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// The errors below carry EventBridge's codes and messages.

func validation(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("ValidationException", 400, format, args...)
}

func busNotFound(name string) *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", 400, "Event bus %s does not exist.", name)
}

func ruleNotFound(rule, bus string) *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", 400, "Rule %s does not exist on EventBus %s.", rule, bus)
}

func busExists(name string) *awsproto.Error {
	return awsproto.Errorf("ResourceAlreadyExistsException", 400, "Event bus %s already exists.", name)
}

func limitExceeded(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("LimitExceededException", 400, format, args...)
}

func invalidToken() *awsproto.Error {
	return validation("The provided nextToken is not valid.")
}

// accessDenied is EventBridge's refusal of a call: AccessDeniedException (400), with IAM's
// message.
func accessDenied(d *authz.Denied) error {
	return awsproto.Errorf("AccessDeniedException", http.StatusBadRequest, "%s", d.Message)
}
