package dispatch

import (
	"context"
	"fmt"

	"github.com/kiri-run/kiri/internal/iam/authz"
)

// Authorize decides, for a Kind, whether src may do r on its target (r names the target, its
// account and its resource policy): acting as src.Role when the delivery has one (the role's
// identity-based policies, and the target's policy across accounts), else as the service
// principal src.Principal for src.ARN and src.Account, which only the target's policy can
// allow. A refusal wraps ErrTargetDenied. With a nil Authorizer or the mode off it allows:
// Kinds then keep their own rules.
func Authorize(ctx context.Context, a *authz.Authorizer, src Source, r authz.Request) error {
	var err error
	if src.Role != "" {
		err = a.AuthorizeRole(ctx, src.Role, "", r)
	} else {
		err = a.AuthorizeService(ctx, src.Principal, src.ARN, src.Account, r)
	}
	if d, ok := authz.IsDenied(err); ok {
		return fmt.Errorf("%s: %w", d.Message, ErrTargetDenied)
	}
	return err
}
