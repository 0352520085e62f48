package lambda

import (
	"context"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// latest is the qualifier of a function's unpublished, editable version.
const latest = "$LATEST"

// functionNamePattern is the model's pattern for FunctionName, quoted in validation errors.
const functionNamePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`

// funcRef names a function (and maybe a version or alias) in one account and region.
type funcRef struct {
	account, region, name, qualifier string
}

// arn is the function's ARN, qualified when the reference has a qualifier.
func (r funcRef) arn() string { return qualifiedARN(r.account, r.region, r.name, r.qualifier) }

// unqualifiedARN is the function's ARN without qualifier.
func (r funcRef) unqualifiedARN() string { return qualifiedARN(r.account, r.region, r.name, "") }

// qualifiedARN is arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>].
func qualifiedARN(account, region, name, qualifier string) string {
	arn := "arn:aws:lambda:" + region + ":" + account + ":function:" + name
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}

// parseFunctionName takes apart the forms AWS accepts for FunctionName: a name, a partial ARN
// (<account>:function:<name>) or a full ARN, each with an optional :<qualifier>. Account and
// region are "" when the form does not carry them.
func parseFunctionName(s string) (funcRef, bool) {
	var r funcRef
	parts := strings.Split(s, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" && strings.HasPrefix(parts[1], "aws"):
		if len(parts) > 8 || !validRegion(parts[3]) || !validAccount(parts[4]) {
			return r, false
		}
		r.region, r.account, r.name = parts[3], parts[4], parts[6]
		if len(parts) == 8 {
			r.qualifier = parts[7]
			if r.qualifier == "" {
				return r, false
			}
		}
	case len(parts) >= 3 && parts[1] == "function":
		if len(parts) > 4 || !validAccount(parts[0]) {
			return r, false
		}
		r.account, r.name = parts[0], parts[2]
		if len(parts) == 4 {
			r.qualifier = parts[3]
			if r.qualifier == "" {
				return r, false
			}
		}
	case len(parts) <= 2:
		r.name = parts[0]
		if len(parts) == 2 {
			r.qualifier = parts[1]
			if r.qualifier == "" {
				return r, false
			}
		}
	default:
		return r, false
	}
	if !validName(r.name) || (r.qualifier != "" && !validQualifier(r.qualifier)) {
		return r, false
	}
	return r, true
}

// validName reports whether s is a function name: 1–64 of [a-zA-Z0-9-_].
func validName(s string) bool {
	return len(s) >= 1 && len(s) <= 64 && allOf(s, isNameChar)
}

// validQualifier reports whether s is $LATEST, a version number or an alias name.
func validQualifier(s string) bool {
	return s == latest || (len(s) <= 128 && len(s) > 0 && allOf(s, isNameChar))
}

// validAlias reports whether s can name an alias: [a-zA-Z0-9-_], 1–128, not all digits.
func validAlias(s string) bool {
	return len(s) >= 1 && len(s) <= 128 && allOf(s, isNameChar) && !isVersionNumber(s)
}

// isVersionNumber reports whether s is a published version's number.
func isVersionNumber(s string) bool {
	return s != "" && allOf(s, func(c byte) bool { return c >= '0' && c <= '9' })
}

func validAccount(s string) bool {
	return len(s) == 12 && isVersionNumber(s)
}

func validRegion(s string) bool {
	return len(s) >= 9 && strings.Count(s, "-") >= 2 && allOf(s, func(c byte) bool { return c == '-' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' })
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func allOf(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// ref resolves a FunctionName parameter (and a Qualifier parameter, "" when absent) against the
// caller's account and region, with AWS's errors for malformed names, a qualifier that
// contradicts the name's, and ARNs of another region or account.
func (s *Service) ref(ctx context.Context, functionName *string, qualifier *string) (funcRef, error) {
	r, err := s.parseRef(functionName, qualifier)
	if err != nil {
		return r, err
	}
	return s.scope(ctx, r)
}

// parseRef reads a FunctionName parameter and a Qualifier parameter, with AWS's errors for
// malformed names and a qualifier that contradicts the name's; account and region stay "" when
// the name does not carry them.
func (s *Service) parseRef(functionName *string, qualifier *string) (funcRef, error) {
	raw := awsproto.Value(functionName)
	r, ok := parseFunctionName(raw)
	if !ok {
		return r, validation(fmt.Sprintf("Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", raw, functionNamePattern))
	}
	if q := awsproto.Value(qualifier); q != "" {
		if r.qualifier != "" && r.qualifier != q {
			return r, invalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		if !validQualifier(q) {
			return r, validation(fmt.Sprintf("Value '%s' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)", q))
		}
		r.qualifier = q
	}
	return r, nil
}

// scope fills in the caller's account and region, refusing references to other regions, and
// to other accounts unless the call may act on another account's function (crossAccount).
func (s *Service) scope(ctx context.Context, r funcRef) (funcRef, error) {
	account, region := callScope(ctx)
	if r.region != "" && r.region != region {
		return r, notFound("Functions from '%s' are not reachable in this region ('%s')", r.region, region)
	}
	if r.account != "" && r.account != account && !s.crossAccount(ctx) {
		return r, lambdaError("AccessDeniedException", 403, "User is not authorized to access the function %s of account %s", r.name, r.account)
	}
	if r.account == "" {
		r.account = account
	}
	r.region = region
	return r, nil
}

// unqualified is ref for operations on the whole function: a qualifier is refused.
func (s *Service) unqualified(ctx context.Context, functionName *string) (funcRef, error) {
	r, err := s.ref(ctx, functionName, nil)
	if err == nil && r.qualifier != "" {
		return r, validation(fmt.Sprintf("Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)", awsproto.Value(functionName)))
	}
	return r, err
}

// callScope is the caller's account and region (Kiri's dev defaults without a call).
func callScope(ctx context.Context) (account, region string) {
	account, region = "000000000000", "us-east-1"
	if c := awsproto.CallFrom(ctx); c != nil {
		if c.AccountID != "" {
			account = c.AccountID
		}
		if c.Region != "" {
			region = c.Region
		}
	}
	return account, region
}
