package sts

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/identity"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/oidc"
)

func invalidToken(format string, args ...any) error {
	return awsproto.Errorf("InvalidIdentityToken", 400, format, args...)
}

// errNotJWT is a token that is not a signed JWT.
var errNotJWT = invalidToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")

// errUnverified is a token whose signature none of the issuer's keys verifies.
var errUnverified = invalidToken("The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.")

// tokenSkew is how far a token's times may be from STS's clock.
const tokenSkew = 5 * time.Minute

// checkClaims applies the token's times and audience: exp, nbf and iat within tokenSkew of
// now, and an audience among the provider's client ids.
func checkClaims(c *oidc.Claims, p identity.OIDCProvider, now time.Time) (audience string, err error) {
	if c.Expiry == nil {
		return "", invalidToken("Missing a required claim: exp")
	}
	if exp := c.Expiry.Time(); !now.Before(exp.Add(tokenSkew)) {
		return "", awsproto.Errorf("ExpiredTokenException", 400, "Token expired: current date/time %d must be before the expiration date/time %d",
			now.Unix(), exp.Unix())
	}
	if c.NotBefore != nil && now.Add(tokenSkew).Before(c.NotBefore.Time()) {
		return "", awsproto.Errorf("IDPRejectedClaim", 403, "Token is not valid yet: current date/time %d is before the not-before date/time %d",
			now.Unix(), c.NotBefore.Time().Unix())
	}
	if c.IssuedAt != nil && now.Add(tokenSkew).Before(c.IssuedAt.Time()) {
		return "", awsproto.Errorf("IDPRejectedClaim", 403, "Token was issued in the future: current date/time %d is before the issued-at date/time %d",
			now.Unix(), c.IssuedAt.Time().Unix())
	}
	for _, aud := range c.Audience {
		if slices.Contains(p.ClientIDs, aud) {
			return aud, nil
		}
	}
	if c.AZP != "" && slices.Contains(p.ClientIDs, c.AZP) {
		return c.AZP, nil
	}
	return "", invalidToken("Incorrect token audience")
}

func (s *Service) assumeRoleWithWebIdentity(ctx context.Context, in *AssumeRoleWithWebIdentityRequest) (*AssumeRoleWithWebIdentityResponse, error) {
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
	if in.ProviderId != nil {
		return nil, invalidToken("Kiri accepts OpenID Connect ID tokens only: ProviderId (OAuth 2.0 access tokens of Login with Amazon or Facebook) is not supported")
	}
	tok, err := oidc.Parse(awsproto.Value(in.WebIdentityToken))
	if err != nil {
		return nil, errNotJWT
	}
	unverified := tok.Unverified
	ids, ok := s.iam()
	if !ok {
		return nil, invalidToken("No OpenIDConnect provider found in your account for %s", unverified.Issuer)
	}
	provider, ok, err := ids.OIDCProvider(ctx, r.account, unverified.Issuer)
	if err != nil {
		return nil, err
	}
	if !ok || strings.TrimRight(unverified.Issuer, "/") != provider.URL && identity.TrimScheme(unverified.Issuer) != provider.Host() {
		return nil, invalidToken("No OpenIDConnect provider found in your account for %s", unverified.Issuer)
	}
	keys, err := s.issuers.Get(ctx, provider.URL, tok.KeyID())
	if err != nil {
		s.log.Warn("web identity provider's keys could not be read", "issuer", provider.URL, "err", err)
		return nil, awsproto.Errorf("IDPCommunicationError", 400,
			"Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements")
	}
	claims, err := tok.Verify(keys)
	if err != nil {
		return nil, errUnverified
	}
	audience, err := checkClaims(claims, provider, s.now())
	if err != nil {
		return nil, err
	}
	role, ok, err := s.findRole(ctx, r)
	if err != nil {
		return nil, err
	}
	if !ok || s.enforcing() && !s.trustsWebIdentity(role, provider, claims, audience, session) {
		return nil, awsproto.Errorf("AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	duration, err := sessionDuration(in.DurationSeconds, role, false)
	if err != nil {
		return nil, err
	}
	policies, size, err := s.sessionPolicies(ctx, role.Account, in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	principal := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", r.partition, role.Account, role.Name, session)
	caller := &awsproto.Call{RequestID: c.RequestID, AccountID: role.Account, PrincipalARN: provider.ARN}
	key, err := s.issue(ctx, caller, grant{account: role.Account, principal: principal, userID: role.ID + ":" + session,
		duration: duration, event: "AssumeRoleWithWebIdentity", session: auth.Session{ParentARN: role.ARN, Tags: role.Tags, Policies: policies}})
	if err != nil {
		return nil, err
	}
	s.roleUsed(role, c.Region)
	out := &AssumeRoleWithWebIdentityResponse{
		Credentials:                 credentials(key),
		AssumedRoleUser:             &AssumedRoleUser{AssumedRoleId: awsproto.Ptr(role.ID + ":" + session), Arn: awsproto.Ptr(principal)},
		Audience:                    awsproto.Ptr(audience),
		Provider:                    awsproto.Ptr(provider.Host()),
		SubjectFromWebIdentityToken: awsproto.Ptr(claims.Subject),
	}
	if len(policies) > 0 {
		out.PackedPolicySize = awsproto.Ptr(int32(size * 100 / packedLimit))
	}
	return out, nil
}

// trustsWebIdentity evaluates the role's trust policy for the provider's federated principal,
// with the token's claims as the provider's condition keys (HOST/PATH:aud, :sub, :amr).
func (s *Service) trustsWebIdentity(role identity.Role, p identity.OIDCProvider, c *oidc.Claims, audience, session string) bool {
	if role.Trust == nil {
		return false
	}
	prefix := strings.ToLower(p.Host()) + ":"
	values := policy.ValueMap{
		prefix + "aud":        {audience},
		prefix + "sub":        {c.Subject},
		"sts:rolesessionname": {session},
	}
	if len(c.AMR) > 0 {
		values[prefix+"amr"] = c.AMR
	}
	if c.AZP != "" {
		values[prefix+"azp"] = []string{c.AZP}
	}
	if len(c.Audience) > 0 {
		values[prefix+"oaud"] = c.Audience
	}
	req := policy.Request{
		Principal: policy.Principal{Type: policy.FederatedUser, ARN: p.ARN, Provider: p.ARN},
		Action:    "sts:AssumeRoleWithWebIdentity", Resource: role.ARN, Time: s.now(), Values: values,
	}
	return policy.Evaluate(&req, &policy.Set{Resource: role.Trust}).Allowed
}
