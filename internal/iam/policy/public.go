package policy

import "strings"

// fixingKeys are the condition keys that, compared to fixed values, limit a statement to
// known callers, so that a "*" principal does not make it public (S3's "The meaning of
// public", which IAM Access Analyzer follows).
var fixingKeys = map[string]bool{
	"aws:sourceip": true, "aws:sourcearn": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:sourceowner": true, "aws:sourceaccount": true, "aws:principalaccount": true,
	"aws:principalarn": true, "aws:principalorgid": true, "aws:userid": true,
	"s3:x-amz-server-side-encryption-aws-kms-key-id": true, "s3:dataaccesspointarn": true,
	"s3:dataaccesspointaccount": true,
}

// IsPublic reports whether a resource-based policy grants access to anyone: it has an Allow
// statement for the principal "*" (or with NotPrincipal) that no condition limits to fixed
// callers. A condition limits it when it compares a key such as aws:SourceArn,
// aws:SourceAccount, aws:PrincipalArn or aws:PrincipalOrgID with a positive operator
// (without IfExists) to values without wildcards or variables, or aws:SourceIp to address
// ranges. S3 uses it for PolicyStatus and its block-public-access settings.
func (p *Policy) IsPublic() bool {
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect != Allow || !everyone(st) {
			continue
		}
		if !fixedCallers(st.Condition) {
			return true
		}
	}
	return false
}

func everyone(st *Statement) bool {
	if st.NotPrincipal != nil {
		return true
	}
	if st.Principal == nil {
		return false
	}
	if st.Principal.All {
		return true
	}
	for _, a := range st.Principal.AWS {
		if a == "*" {
			return true
		}
	}
	return false
}

func fixedCallers(conds []Condition) bool {
	for _, c := range conds {
		op, ok := parseOperator(c.Operator)
		key := strings.ToLower(c.Key)
		if !ok || op.negated || op.ifExists || op.set == setForAll || !fixingKeys[key] || len(c.Values) == 0 {
			continue
		}
		switch op.kind {
		case opIPAddress:
			if key == "aws:sourceip" {
				return true
			}
		case opStringEquals, opStringEqualsIgnoreCase, opStringLike, opARNLike:
			if fixedValues(c.Values) {
				return true
			}
		}
	}
	return false
}

func fixedValues(vals []string) bool {
	for _, v := range vals {
		if strings.ContainsAny(v, "*?") || strings.Contains(v, "${") {
			return false
		}
	}
	return true
}
