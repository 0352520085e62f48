package sts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/identity"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/service"
)

// Session limits.
const (
	// chainedMax is the longest session a role session may assume another role for.
	chainedMax = time.Hour
	// packedLimit is the packed size session policies and tags may take (AWS reports
	// PackedPolicySize as a percentage of it).
	packedLimit   = 2048
	maxPolicyArns = 10
)

// roleDirectory is what STS needs of IAM (implemented by the IAM service).
type roleDirectory interface {
	// Role finds the role an ARN (with its path) names.
	Role(ctx context.Context, arn string) (identity.Role, bool, error)
	// ManagedPolicyDocument returns the default version's document of a managed policy the
	// account sees.
	ManagedPolicyDocument(ctx context.Context, account, arn string) (string, bool, error)
	// OIDCProvider finds the account's OpenID Connect provider for an issuer URL.
	OIDCProvider(ctx context.Context, account, issuer string) (identity.OIDCProvider, bool, error)
	// RoleUsed records that a session of the role (by unique id) was issued.
	RoleUsed(roleID, region string, at time.Time)
}

func (s *Service) iam() (roleDirectory, bool) {
	return service.Lookup[roleDirectory](s.services, "iam")
}

// enforcing reports whether IAM decides who assumes which role (--iam=enforce).
func (s *Service) enforcing() bool { return s.authz.Mode() == authz.Enforce }

// findRole resolves a role ARN. With IAM enforced, the role must exist in IAM. Otherwise a
// role IAM knows is used as it is, and one it does not know is taken as it is named, with an
// id derived from its ARN and the default maximum session.
func (s *Service) findRole(ctx context.Context, r roleARN) (identity.Role, bool, error) {
	if ids, ok := s.iam(); ok {
		role, found, err := ids.Role(ctx, r.raw)
		if err != nil || found {
			return role, found, err
		}
	}
	if s.enforcing() {
		return identity.Role{}, false, nil
	}
	return identity.Role{ARN: r.raw, Account: r.account, Name: r.name, ID: r.id(), MaxSession: 12 * time.Hour}, true, nil
}

// notAuthorized is STS's refusal to assume a role: the role does not exist, or neither its
// trust policy nor the caller's policies allow.
func notAuthorized(principal, action, role string) error {
	return awsproto.Errorf("AccessDenied", 403, "User: %s is not authorized to perform: %s on resource: %s", principal, action, role)
}

func (s *Service) assumeRole(ctx context.Context, in *AssumeRoleRequest) (*AssumeRoleResponse, error) {
	c := awsproto.CallFrom(ctx)
	r, err := parseRoleARN(awsproto.Value(in.RoleArn))
	if err != nil {
		return nil, err
	}
	session := awsproto.Value(in.RoleSessionName)
	if !validSessionName(session) {
		return nil, awsproto.Errorf("ValidationError", 400,
			"1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", session)
	}
	if err := checkSessionTags(in.Tags, in.TransitiveTagKeys); err != nil {
		return nil, err
	}
	_, caller, _, err := s.lookupSession(ctx, c.AccessKeyID)
	if err != nil {
		return nil, err
	}
	chained := strings.Contains(c.PrincipalARN, ":assumed-role/")
	role, ok, err := s.findRole(ctx, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notAuthorized(c.PrincipalARN, "sts:AssumeRole", r.raw)
	}
	if !s.enforcing() && s.strict && r.account != c.AccountID {
		// Without IAM policies no role can trust another account.
		return nil, notAuthorized(c.PrincipalARN, "sts:AssumeRole", r.raw)
	}
	if s.enforcing() {
		if err := s.checkAssume(ctx, c, role, in, caller); err != nil {
			return nil, err
		}
	}
	duration, err := sessionDuration(in.DurationSeconds, role, chained)
	if err != nil {
		return nil, err
	}
	policies, size, err := s.sessionPolicies(ctx, role.Account, in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	tags, transitive := sessionTags(role.Tags, caller.transitive, in.Tags, in.TransitiveTagKeys)
	if size += packedTagSize(in.Tags); size > packedLimit {
		return nil, awsproto.Errorf("PackedPolicyTooLarge", 400,
			"Packed size of session policies and session tags is %d%% larger than the allowed maximum.", (size-packedLimit)*100/packedLimit)
	}
	source := awsproto.Value(in.SourceIdentity)
	if caller.sourceIdentity != "" {
		if source != "" && source != caller.sourceIdentity {
			return nil, awsproto.Errorf("AccessDenied", 403, "Source identity cannot be changed once set: %s", caller.sourceIdentity)
		}
		source = caller.sourceIdentity
	}
	principal := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", r.partition, role.Account, role.Name, session)
	key, err := s.issue(ctx, c, grant{
		account: role.Account, principal: principal, userID: role.ID + ":" + session, duration: duration, event: "AssumeRole",
		session:    auth.Session{ParentARN: role.ARN, Tags: tags, Policies: policies},
		transitive: transitive, sourceIdentity: source,
	})
	if err != nil {
		return nil, err
	}
	s.roleUsed(role, c.Region)
	out := &AssumeRoleResponse{
		Credentials:     credentials(key),
		AssumedRoleUser: &AssumedRoleUser{AssumedRoleId: awsproto.Ptr(role.ID + ":" + session), Arn: awsproto.Ptr(principal)},
	}
	if source != "" {
		out.SourceIdentity = awsproto.Ptr(source)
	}
	if len(policies) > 0 || len(in.Tags) > 0 {
		out.PackedPolicySize = awsproto.Ptr(int32(size * 100 / packedLimit))
	}
	return out, nil
}

func (s *Service) roleUsed(role identity.Role, region string) {
	if ids, ok := s.iam(); ok && strings.HasPrefix(role.ID, "AROA") {
		ids.RoleUsed(role.ID, region, s.now())
	}
}

// checkAssume asks the authorizer whether the caller may assume the role: the role's trust
// policy must allow the caller, and across accounts the caller's own policies must allow
// sts:AssumeRole too; session tags need sts:TagSession, a source identity
// sts:SetSourceIdentity.
func (s *Service) checkAssume(ctx context.Context, c *awsproto.Call, role identity.Role, in *AssumeRoleRequest, caller chain) error {
	if role.Trust == nil {
		return notAuthorized(c.PrincipalARN, "sts:AssumeRole", role.ARN)
	}
	values := policy.ValueMap{"sts:rolesessionname": {awsproto.Value(in.RoleSessionName)}}
	if in.ExternalId != nil {
		values["sts:externalid"] = []string{*in.ExternalId}
	}
	source := awsproto.Value(in.SourceIdentity)
	if source == "" {
		source = caller.sourceIdentity
	}
	if source != "" {
		values["sts:sourceidentity"] = []string{source}
		values["aws:sourceidentity"] = []string{source}
	}
	if len(in.Tags) > 0 {
		var keys []string
		for _, t := range in.Tags {
			k := awsproto.Value(t.Key)
			keys = append(keys, k)
			values["aws:requesttag/"+strings.ToLower(k)] = []string{awsproto.Value(t.Value)}
		}
		values["aws:tagkeys"] = keys
	}
	if len(in.TransitiveTagKeys) > 0 {
		values["sts:transitivetagkeys"] = in.TransitiveTagKeys
	}
	actions := []string{"sts:AssumeRole"}
	if len(in.Tags) > 0 || len(caller.transitive) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	if awsproto.Value(in.SourceIdentity) != "" {
		actions = append(actions, "sts:SetSourceIdentity")
	}
	for _, action := range actions {
		err := s.authz.Authorize(ctx, authz.Request{Action: action, Resource: role.ARN, ResourceAccount: role.Account,
			ResourcePolicy: role.Trust, Values: values})
		if _, denied := authz.IsDenied(err); denied {
			return notAuthorized(c.PrincipalARN, action, role.ARN)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sessionDuration checks DurationSeconds against the role's maximum session (and the one hour
// of a chained session) and returns the session's length, one hour when not given.
func sessionDuration(seconds *int32, role identity.Role, chained bool) (time.Duration, error) {
	if seconds == nil {
		return time.Hour, nil
	}
	d := time.Duration(*seconds) * time.Second
	if chained && d > chainedMax {
		return 0, awsproto.Errorf("ValidationError", 400,
			"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if role.MaxSession > 0 && d > role.MaxSession {
		return 0, awsproto.Errorf("ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	return d, nil
}

// sessionPolicies validates the inline session policy and resolves the managed ones (PolicyArns)
// to their documents; size is their packed size.
func (s *Service) sessionPolicies(ctx context.Context, account string, inline *string, arns []PolicyDescriptorType) ([]string, int, error) {
	var docs []string
	size := 0
	if inline != nil {
		if _, err := policy.Parse(*inline, policy.Identity); err != nil {
			var perr *policy.Error
			if errors.As(err, &perr) {
				return nil, 0, awsproto.Errorf("MalformedPolicyDocument", 400, "%s", perr.Message)
			}
			return nil, 0, err
		}
		docs = append(docs, *inline)
		size += policy.Size(*inline)
	}
	if len(arns) > maxPolicyArns {
		return nil, 0, awsproto.Errorf("ValidationError", 400,
			"1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to %d", maxPolicyArns)
	}
	ids, hasIAM := s.iam()
	for _, a := range arns {
		arn := awsproto.Value(a.Arn)
		doc, ok := "", false
		if hasIAM {
			var err error
			if doc, ok, err = ids.ManagedPolicyDocument(ctx, account, arn); err != nil {
				return nil, 0, err
			}
		}
		if !ok {
			return nil, 0, awsproto.Errorf("MalformedPolicyDocument", 400, "Policy %s does not exist or is not attachable.", arn)
		}
		docs = append(docs, doc)
		size += len(arn)
	}
	return docs, size, nil
}

// checkSessionTags validates session tags: keys unique ignoring case, transitive keys among
// them.
func checkSessionTags(tags []Tag, transitive []string) error {
	for i, t := range tags {
		for _, u := range tags[:i] {
			if strings.EqualFold(awsproto.Value(t.Key), awsproto.Value(u.Key)) {
				return awsproto.Errorf("InvalidParameterValue", 400, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
			}
		}
	}
	for _, k := range transitive {
		found := false
		for _, t := range tags {
			found = found || strings.EqualFold(awsproto.Value(t.Key), k)
		}
		if !found {
			return awsproto.Errorf("InvalidParameterValue", 400, "The specified transitive tag key must be included in the requested tags.")
		}
	}
	return nil
}

// sessionTags are a session's principal tags: the role's, overridden by the transitive tags it
// inherits, overridden by its own session tags; and the keys it passes on.
func sessionTags(role, inherited map[string]string, tags []Tag, transitive []string) (map[string]string, []string) {
	out := map[string]string{}
	for _, m := range []map[string]string{role, inherited} {
		for k, v := range m {
			out[k] = v
		}
	}
	for _, t := range tags {
		out[awsproto.Value(t.Key)] = awsproto.Value(t.Value)
	}
	keys := append([]string(nil), transitive...)
	for k := range inherited {
		keys = append(keys, k)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, keys
}

func packedTagSize(tags []Tag) int {
	n := 0
	for _, t := range tags {
		n += len(awsproto.Value(t.Key)) + len(awsproto.Value(t.Value))
	}
	return n
}

// RoleCredentials issues temporary credentials of a role for a Kiri service acting on its own
// behalf in account, as Lambda assumes a function's execution role: AssumeRole without a
// caller, audited as the service. The role must be one the service may assume there (see
// CheckServiceRole).
func (s *Service) RoleCredentials(ctx context.Context, svc, account, roleARN, session string, d time.Duration) (auth.Key, error) {
	role, err := s.serviceRole(ctx, svc, account, roleARN)
	if err != nil {
		return auth.Key{}, err
	}
	principal := fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", role.Account, role.Name, session)
	c := &awsproto.Call{RequestID: randomBase32(16), AccountID: role.Account, PrincipalARN: svc}
	key, err := s.issue(ctx, c, grant{account: role.Account, principal: principal, userID: role.ID + ":" + session, duration: d,
		event: "AssumeRole", session: auth.Session{ParentARN: role.ARN, Tags: role.Tags}})
	if err == nil {
		s.roleUsed(role, "")
	}
	return key, err
}

// CheckServiceRole reports whether the service principal svc (lambda.amazonaws.com) may
// assume the role for a resource of account: with IAM enforced, the role must exist in that
// account and its trust policy allow the service; otherwise it must be of that account.
func (s *Service) CheckServiceRole(ctx context.Context, svc, account, roleARN string) error {
	_, err := s.serviceRole(ctx, svc, account, roleARN)
	return err
}

// errCannotAssume is the refusal of a service role.
var errCannotAssume = errors.New("the role cannot be assumed by the service")

func (s *Service) serviceRole(ctx context.Context, svc, account, roleARN string) (identity.Role, error) {
	r, err := parseRoleARN(roleARN)
	if err != nil {
		return identity.Role{}, err
	}
	if r.account != account {
		return identity.Role{}, fmt.Errorf("role %s is not in account %s: %w", roleARN, account, errCannotAssume)
	}
	role, ok, err := s.findRole(ctx, r)
	if err != nil {
		return identity.Role{}, err
	}
	if !ok {
		return identity.Role{}, fmt.Errorf("role %s does not exist: %w", roleARN, errCannotAssume)
	}
	if !s.enforcing() {
		return role, nil
	}
	req := policy.Request{Principal: policy.Principal{Type: policy.Service, ARN: svc}, Action: "sts:AssumeRole",
		Resource: role.ARN, ResourceAccount: role.Account, Time: s.now(), SourceAccount: account}
	if role.Trust == nil || !policy.Evaluate(&req, &policy.Set{Resource: role.Trust}).Allowed {
		return identity.Role{}, fmt.Errorf("role %s does not trust %s: %w", roleARN, svc, errCannotAssume)
	}
	return role, nil
}
