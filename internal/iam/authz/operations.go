package authz

import (
	"context"
	"fmt"
	"slices"
)

// Rule says what one call of an operation must be allowed to do: the requests it makes,
// worked out from its decoded input. A Rule that cannot read its input returns the error the
// operation answers for that input (the same resolution the handler does), which refuses the
// call with it. No requests means the handler decides itself (S3's bucket and object
// operations, which load the resource first).
type Rule func(ctx context.Context, in any) ([]Request, error)

// On adapts a function of an operation's input type to a Rule.
func On[I any](f func(ctx context.Context, in *I) ([]Request, error)) Rule {
	return func(ctx context.Context, in any) ([]Request, error) {
		typed, ok := in.(*I)
		if !ok {
			return nil, fmt.Errorf("authorization rule for %T given %T", (*I)(nil), in)
		}
		return f(ctx, typed)
	}
}

// Operations is a service's one table of how each of its operations authorizes.
type Operations map[string]Rule

// Hook returns the awsproto.ServiceOptions.Authorize of a service (service is its action
// prefix, "sqs") whose operations authorize as ops says: in enforce mode every call must be
// allowed every request its rule makes, and a call of an operation the table lacks is refused;
// refuse words a refusal as the service's access-denied error. With the mode off it allows
// every call without running the rules.
func (a *Authorizer) Hook(service string, ops Operations, refuse func(*Denied) error) func(ctx context.Context, op string, in any) error {
	return func(ctx context.Context, op string, in any) error {
		if a.Mode() != Enforce {
			return nil
		}
		rule, ok := ops[op]
		if !ok {
			c, err := a.Caller(ctx)
			if c == nil || err != nil {
				return err
			}
			action := service + ":" + op
			return refuse(&Denied{Principal: c.Principal.ARN, Action: action,
				Message: "User: " + c.Principal.ARN + " is not authorized to perform: " + action + " because Kiri has no authorization rule for it"})
		}
		reqs, err := rule(ctx, in)
		if err != nil || len(reqs) == 0 {
			return err
		}
		c, err := a.Caller(ctx)
		if c == nil || err != nil {
			return err
		}
		for _, r := range reqs {
			if err := c.Decide(r); err != nil {
				if d, ok := IsDenied(err); ok {
					return refuse(d)
				}
				return err
			}
		}
		return nil
	}
}

// Missing returns the operations of implemented that ops has no rule for: each service's test
// asserts there are none.
func (ops Operations) Missing(implemented []string) []string {
	var missing []string
	for _, op := range implemented {
		if _, ok := ops[op]; !ok {
			missing = append(missing, op)
		}
	}
	slices.Sort(missing)
	return missing
}
