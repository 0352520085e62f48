package policy

import (
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/arn"
)

// Parse reads and validates a policy document of the given kind and compiles it. A document
// AWS would refuse returns an *Error with AWS's MalformedPolicyDocument message. IAM checks
// in stages and reports the first stage that fails: the grammar, the version,
// its legacy parser (Effect case, dates, short ARNs), statement ids, actions present,
// resource ARN formats, action vendors, then the rules of the kind (principals, resources,
// trust actions).
func Parse(doc string, kind Kind) (*Policy, error) {
	p, drafts, err := readDocument(doc, kind)
	if err != nil {
		return nil, err
	}
	if err := checkDocument(p, drafts, kind); err != nil {
		return nil, err
	}
	p.kind = kind
	p.compile()
	return p, nil
}

// draft is a statement read from the document, before the checks after the grammar's.
type draft struct {
	effect string // as written
}

var (
	topFields       = []string{"Id", "Statement", "Version"}
	statementFields = []string{"Action", "Condition", "Effect", "NotAction", "NotPrincipal", "NotResource", "Principal", "Resource", "Sid"}
)

// readDocument applies the grammar: JSON shapes, known elements and operators.
func readDocument(doc string, kind Kind) (*Policy, []draft, *Error) {
	trimmed := strings.TrimLeft(doc, " \t\r\n")
	if trimmed == "" || trimmed[0] != '{' {
		return nil, nil, worded(kind, ProblemJSON, msgSyntax, "")
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, nil, worded(kind, ProblemJSON, msgSyntax, trimmed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, worded(kind, ProblemJSON, msgSyntax, trimmed)
	}
	if unknownField(top, topFields) {
		return nil, nil, refuse(ProblemField, msgSyntax)
	}
	p := &Policy{}
	if v, ok := top["Version"]; ok {
		s, isString := v.(string)
		if !isString || s != VersionCurrent && s != VersionLegacy {
			return nil, nil, worded(kind, ProblemVersion, msgSyntax, "")
		}
		p.Version = s
	}
	if v, ok := top["Id"]; ok {
		s, isString := v.(string)
		if !isString {
			return nil, nil, refuse(ProblemID, msgSyntax)
		}
		p.ID = s
	}
	raws, err := statementList(top, kind)
	if err != nil {
		return nil, nil, err
	}
	drafts := make([]draft, len(raws))
	p.Statements = make([]Statement, len(raws))
	for i, raw := range raws {
		if err := readStatement(raw, &p.Statements[i], &drafts[i], kind); err != nil {
			return nil, nil, err
		}
	}
	return p, drafts, nil
}

func statementList(top map[string]any, kind Kind) ([]map[string]any, *Error) {
	v, ok := top["Statement"]
	if !ok {
		return nil, worded(kind, ProblemNoStatement, msgSyntax, "")
	}
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, worded(kind, ProblemEmptyStatement, msgSyntax, "")
		}
		out := make([]map[string]any, len(v))
		for i, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, refuse(ProblemStatementShape, msgSyntax)
			}
			out[i] = m
		}
		return out, nil
	}
	return nil, refuse(ProblemStatementShape, msgSyntax)
}

// unknownField reports whether m has an element outside known (which is sorted).
func unknownField(m map[string]any, known []string) bool {
	for k := range m {
		if _, ok := slices.BinarySearch(known, k); !ok {
			return true
		}
	}
	return false
}

func readStatement(m map[string]any, st *Statement, d *draft, kind Kind) *Error {
	if unknownField(m, statementFields) {
		return refuse(ProblemField, msgSyntax)
	}
	if v, ok := m["Sid"]; ok {
		s, isString := v.(string)
		if !isString {
			return refuse(ProblemSid, msgSyntax)
		}
		st.Sid = s
	}
	effect, _ := m["Effect"].(string)
	switch {
	case strings.EqualFold(effect, "Allow"):
		st.Effect = Allow
	case strings.EqualFold(effect, "Deny"):
		st.Effect = Deny
	default:
		return worded(kind, ProblemEffect, msgSyntax, effect)
	}
	d.effect = effect
	for _, e := range []struct {
		name, not   string
		dst, notDst *[]string
		problem     Problem
	}{
		{"Action", "NotAction", &st.Action, &st.NotAction, ProblemAction},
		{"Resource", "NotResource", &st.Resource, &st.NotResource, ProblemResource},
	} {
		if err := readPair(m, e.name, e.not, e.dst, e.notDst, e.problem); err != nil {
			return err
		}
	}
	if err := readPrincipalPair(m, st, kind); err != nil {
		return err
	}
	if v, ok := m["Condition"]; ok {
		conds, ok := readConditions(v)
		if !ok {
			return refuse(ProblemCondition, msgSyntax)
		}
		st.Condition = conds
	}
	return nil
}

// readPair reads an element and its Not form, of which a statement may have one.
func readPair(m map[string]any, name, not string, dst, notDst *[]string, problem Problem) *Error {
	v, has := m[name]
	nv, hasNot := m[not]
	if has && hasNot {
		return refuse(problem, msgSyntax)
	}
	var ok bool
	switch {
	case has:
		*dst, ok = readStrings(v)
	case hasNot:
		*notDst, ok = readStrings(nv)
	default:
		return nil
	}
	if !ok {
		return refuse(problem, msgSyntax)
	}
	return nil
}

func readPrincipalPair(m map[string]any, st *Statement, kind Kind) *Error {
	v, has := m["Principal"]
	nv, hasNot := m["NotPrincipal"]
	var err *Error
	switch {
	case has && hasNot:
		return refuse(ProblemPrincipal, msgSyntax)
	case has:
		st.Principal, err = readPrincipals(v, kind)
	case hasNot:
		st.NotPrincipal, err = readPrincipals(nv, kind)
	}
	return err
}

// readStrings reads a string or a list of strings.
func readStrings(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, true
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// principalTypes are the keys of a Principal object, sorted.
var principalTypes = []string{"AWS", "CanonicalUser", "Federated", "Service"}

func readPrincipals(v any, kind Kind) (*Principals, *Error) {
	switch v := v.(type) {
	case string:
		switch {
		case kind == Trust:
			return nil, refuse(ProblemPrincipal, msgPrincipalObject)
		case v != "*":
			return nil, refusef(ProblemPrincipal, "Invalid principal in policy: %q", v)
		}
		return &Principals{All: true}, nil
	case map[string]any:
		if len(v) == 0 && kind != Identity {
			return nil, refuse(ProblemNoPrincipal, msgEmptyPrincipal)
		}
		if len(v) == 0 || unknownField(v, principalTypes) {
			return nil, refuse(ProblemPrincipal, msgSyntax)
		}
		p := &Principals{}
		for k, dst := range map[string]*[]string{"AWS": &p.AWS, "Service": &p.Service, "Federated": &p.Federated, "CanonicalUser": &p.CanonicalUser} {
			raw, ok := v[k]
			if !ok {
				continue
			}
			list, ok := readStrings(raw)
			if !ok || len(list) == 0 {
				return nil, refuse(ProblemPrincipal, msgSyntax)
			}
			*dst = list
		}
		return p, nil
	}
	return nil, refuse(ProblemPrincipal, msgSyntax)
}

// readConditions reads a Condition element: operators, each with keys and their values. An
// operator IAM does not know is refused unless it lists no keys.
func readConditions(v any) ([]Condition, bool) {
	ops, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	var out []Condition
	for op, keys := range ops {
		km, ok := keys.(map[string]any)
		if !ok {
			return nil, false
		}
		if _, known := parseOperator(op); !known {
			if len(km) > 0 {
				return nil, false
			}
			continue
		}
		for k, vals := range km {
			list, ok := readValues(vals)
			if !ok {
				return nil, false
			}
			out = append(out, Condition{Operator: op, Key: k, Values: list})
		}
	}
	slices.SortFunc(out, func(a, b Condition) int {
		if c := strings.Compare(a.Operator, b.Operator); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, true
}

// readValues reads condition values: strings, numbers and booleans, alone or in a list.
func readValues(v any) ([]string, bool) {
	if list, ok := v.([]any); ok {
		out := make([]string, len(list))
		for i, e := range list {
			s, ok := scalar(e)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	s, ok := scalar(v)
	if !ok {
		return nil, false
	}
	return []string{s}, true
}

func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// checkDocument applies IAM's checks after the grammar, in IAM's order.
func checkDocument(p *Policy, drafts []draft, kind Kind) *Error {
	if kind == Identity && p.Version != VersionCurrent {
		return refuse(ProblemVersionRequired, msgVersion)
	}
	resErr, err := checkLegacy(p, drafts, kind)
	if err != nil {
		return err
	}
	if err := checkSids(p, kind); err != nil {
		return err
	}
	for i := range p.Statements {
		if st := &p.Statements[i]; len(st.Action) == 0 && len(st.NotAction) == 0 {
			if kind == Identity {
				return refuse(ProblemNoAction, msgNoActions)
			}
			return refuse(ProblemNoAction, msgNoAction)
		}
	}
	if resErr != nil {
		return resErr
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		for _, a := range append(slices.Clip(st.Action), st.NotAction...) {
			if err := checkAction(a); err != nil {
				return err
			}
		}
	}
	switch kind {
	case Identity:
		return checkIdentity(p)
	case Trust:
		return checkTrust(p)
	}
	return checkResourcePolicy(p)
}

// checkLegacy applies IAM's legacy parser: Effect must be spelled Allow or Deny, date values
// must parse, and resources may not look like truncated ARNs. The first malformed resource
// ARN is returned for reporting later, as IAM does.
func checkLegacy(p *Policy, drafts []draft, kind Kind) (*Error, *Error) {
	for i, d := range drafts {
		if d.effect != "Allow" && d.effect != "Deny" {
			return nil, worded(kind, ProblemEffect, msgLegacy, d.effect)
		}
		for _, c := range p.Statements[i].Condition {
			if op, _ := parseOperator(c.Operator); op.kind >= opDateEquals && op.kind <= opDateGreaterThanEquals {
				for _, v := range c.Values {
					if _, ok := parseDate(v); !ok {
						return nil, refuse(ProblemCondition, msgLegacy)
					}
				}
			}
		}
	}
	var resErr *Error
	for i := range p.Statements {
		st := &p.Statements[i]
		for _, list := range [][]string{st.Resource, st.NotResource} {
			sorted := slices.Sorted(slices.Values(list))
			for _, r := range sorted {
				if err := checkResourceFormat(r); err != nil && resErr == nil {
					resErr = err
				}
			}
			if resErr != nil {
				continue
			}
			for _, r := range list {
				if r != "*" && (strings.Count(r, ":") < 5 && strings.Contains(r, "::") || arnService(r) == "") {
					return nil, refuse(ProblemResource, msgLegacy)
				}
			}
		}
	}
	return resErr, nil
}

// arnService is the third part of an ARN ("" when it has none).
func arnService(r string) string {
	parts := strings.SplitN(r, ":", 4)
	if len(parts) < 3 {
		return "x" // no third part: checkResourceFormat has refused it already
	}
	return parts[2]
}

// partitions are the ARN partitions IAM accepts in a resource.
var partitions = map[string]bool{
	"aws": true, "aws-cn": true, "aws-us-gov": true, "aws-iso": true, "aws-iso-b": true,
	"aws-iso-e": true, "aws-iso-f": true, "aws-eusc": true, "*": true,
}

// iamResourceTypes are the resource types an IAM resource ARN may name.
var iamResourceTypes = []string{"user/", "federated-user/", "role/", "group/", "instance-profile/", "mfa/",
	"server-certificate/", "policy/", "sms-mfa/", "saml-provider/", "oidc-provider/", "report/", "access-report/"}

// checkResourceFormat checks a Resource or NotResource value as IAM does.
func checkResourceFormat(r string) *Error {
	if r == "*" {
		return nil
	}
	_, rest, ok := strings.Cut(r, ":")
	if !ok {
		return refusef(ProblemResource, "Resource %s must be in ARN format or \"*\".", r)
	}
	partition, rest, ok := strings.Cut(rest, ":")
	if !partitions[partition] {
		// IAM quotes the resource as an ARN, its missing parts as "*".
		rem := strings.Split(rest, ":")
		part := func(i int) string {
			if i < len(rem) && (rem[i] != "" || len(rem) > 1) {
				return rem[i]
			}
			return "*"
		}
		last := "*"
		if len(rem) > 3 {
			last = strings.Join(rem[3:], ":")
		}
		return refusef(ProblemResource, "Partition %q is not valid for resource \"arn:%s:%s:%s:%s:%s\".",
			partition, partition, part(0), part(1), part(2), last)
	}
	if !ok {
		return refuse(ProblemResource, msgVendorRegex)
	}
	service, rest, _ := strings.Cut(rest, ":")
	region, rest, _ := strings.Cut(rest, ":")
	_, resource, _ := strings.Cut(rest, ":")
	switch service {
	case "iam":
		if region != "" {
			return refusef(ProblemResource, "IAM resource %s cannot contain region information.", r)
		}
		if !hasAnyPrefix(resource, iamResourceTypes) {
			return refusef(ProblemResource, "IAM resource path must either be \"*\" or start with %s.", strings.Join(iamResourceTypes, ", "))
		}
	case "s3":
		if region != "" && !strings.HasPrefix(resource, "accesspoint/") {
			return refusef(ProblemResource, "Resource %s can not contain region information.", r)
		}
	}
	return nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// checkSids applies IAM's rules for statement ids: in its policies each is used once, and in
// identity-based ones it has only letters and digits. A resource-based policy may repeat
// them.
func checkSids(p *Policy, kind Kind) *Error {
	if kind == Resource {
		return nil
	}
	for _, st := range p.Statements {
		for _, c := range st.Sid {
			if kind == Identity && !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return refuse(ProblemSid, msgSidChars)
			}
		}
	}
	seen := make(map[string]bool, len(p.Statements))
	for _, st := range p.Statements {
		if st.Sid != "" && seen[st.Sid] {
			return worded(kind, ProblemSidUnique, msgSidUnique, "")
		}
		seen[st.Sid] = true
	}
	return nil
}

// checkAction checks an Action or NotAction value: "*", or a vendor, one colon and a name.
func checkAction(a string) *Error {
	vendor, name, ok := strings.Cut(a, ":")
	switch {
	case !ok && a != "*":
		return refuse(ProblemAction, msgVendor)
	case strings.Contains(name, ":"):
		return refuse(ProblemAction, msgOneColon)
	case vendor != "*" && !validVendor(vendor):
		return refusef(ProblemAction, "Vendor %s is not valid", vendor)
	}
	return nil
}

func validVendor(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// checkIdentity applies the rules of identity-based policies: no principal, resources named.
func checkIdentity(p *Policy) *Error {
	for _, st := range p.Statements {
		if st.Principal != nil || st.NotPrincipal != nil {
			return refuse(ProblemProhibitedPrincipal, msgPrincipalInID)
		}
	}
	for _, st := range p.Statements {
		if len(st.Resource) == 0 && len(st.NotResource) == 0 {
			return refuse(ProblemNoResource, msgNoResources)
		}
	}
	return nil
}

// trustActions are the actions a role trust policy may name.
var trustActions = []string{"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity",
	"sts:SetContext", "sts:SetSourceIdentity", "sts:TagSession"}

// checkTrust applies the rules of role trust policies: a principal named (not by NotPrincipal,
// not as a string), STS actions, no resource, and a condition for Cognito identities.
func checkTrust(p *Policy) *Error {
	for _, st := range p.Statements {
		switch {
		case st.NotPrincipal != nil && st.Effect == Allow:
			return refuse(ProblemPrincipal, msgAllowNotPrinc)
		case st.NotPrincipal != nil:
			return refuse(ProblemPrincipal, msgTrustNotPrinc)
		case st.Principal == nil:
			return refuse(ProblemNoPrincipal, msgNoPrincipal)
		case st.Principal.CanonicalUser != nil:
			return refusef(ProblemPrincipal, "Invalid principal in policy: %q", "CanonicalUser")
		case slices.Contains(st.Principal.Federated, "cognito-identity.amazonaws.com") && len(st.Condition) == 0:
			return refuse(ProblemPrincipal, msgCognito)
		}
		if err := checkPrincipals(st.Principal); err != nil {
			return err
		}
		for _, a := range append(slices.Clip(st.Action), st.NotAction...) {
			if !slices.ContainsFunc(trustActions, func(t string) bool { return strings.EqualFold(t, a) }) {
				return refuse(ProblemTrustAction, msgTrustActions)
			}
		}
		switch {
		case st.Resource != nil:
			return refuse(ProblemProhibitedResource, msgResourceInTrust)
		case st.NotResource != nil:
			return refuse(ProblemProhibitedResource, msgNotResourceTrust)
		}
	}
	return nil
}

// checkResourcePolicy applies the rules of resource-based policies: every statement names a
// principal and a resource.
func checkResourcePolicy(p *Policy) *Error {
	for _, st := range p.Statements {
		if st.Principal == nil && st.NotPrincipal == nil {
			return refuse(ProblemNoPrincipal, msgNoPrincipal)
		}
		if len(st.Resource) == 0 && len(st.NotResource) == 0 {
			return refuse(ProblemNoResource, msgNoResource)
		}
	}
	for _, st := range p.Statements {
		for _, pp := range []*Principals{st.Principal, st.NotPrincipal} {
			if err := checkPrincipals(pp); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkPrincipals checks the values of a Principal element. A principal names an account,
// user, role, session, service, identity provider or canonical user exactly: wildcards are
// refused except for "*" itself.
func checkPrincipals(pp *Principals) *Error {
	if pp == nil {
		return nil
	}
	for _, v := range pp.AWS {
		if !validAWSPrincipal(v) {
			return refusef(ProblemPrincipal, "Invalid principal in policy: \"AWS\":%q", v)
		}
	}
	for _, group := range []struct {
		name string
		list []string
	}{{"SERVICE", pp.Service}, {"FEDERATED", pp.Federated}, {"CANONICAL_USER", pp.CanonicalUser}} {
		for _, v := range group.list {
			if v == "" || strings.ContainsAny(v, "*? \t\n") {
				return refusef(ProblemPrincipal, "Invalid principal in policy: %q:%q", group.name, v)
			}
		}
	}
	return nil
}

// validAWSPrincipal accepts "*", an account id, the ARN of an account, user, role, role
// session or federated user, and a user's or role's unique id.
func validAWSPrincipal(v string) bool {
	if v == "*" || arn.IsAccount(v) || uniqueID(v) {
		return true
	}
	parts, ok := splitARN(v)
	if !ok || parts[0] != "arn" || parts[1] == "*" || !partitions[parts[1]] || parts[3] != "" ||
		!arn.IsAccount(parts[4]) || strings.ContainsAny(v, "*?") {
		return false
	}
	res := parts[5]
	switch parts[2] {
	case "iam":
		return res == "root" || strings.HasPrefix(res, "user/") && len(res) > 5 || strings.HasPrefix(res, "role/") && len(res) > 5
	case "sts":
		if name, ok := strings.CutPrefix(res, "assumed-role/"); ok {
			role, session, ok := strings.Cut(name, "/")
			return ok && role != "" && session != ""
		}
		name, ok := strings.CutPrefix(res, "federated-user/")
		return ok && name != ""
	}
	return false
}

// uniqueID reports whether s looks like an IAM unique id (AIDA... for users, AROA... for
// roles), the form IAM stores a principal in when its entity was deleted.
func uniqueID(s string) bool {
	if len(s) < 16 || !strings.HasPrefix(s, "AIDA") && !strings.HasPrefix(s, "AROA") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
