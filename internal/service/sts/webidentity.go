package sts

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/identity"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// The signature algorithms STS accepts on web identity tokens.
var tokenAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256}

// tokenSkew is how far a token's times may be from STS's clock.
const tokenSkew = 5 * time.Minute

// tokenClaims are the claims of an OpenID Connect ID token STS reads.
type tokenClaims struct {
	jwt.Claims
	AMR stringList `json:"amr"`
	AZP string     `json:"azp"`
}

// stringList reads a claim that is a string or a list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = stringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

func invalidToken(format string, args ...any) error {
	return awsproto.Errorf("InvalidIdentityToken", 400, format, args...)
}

// errNotJWT is a token that is not a signed JWT.
var errNotJWT = invalidToken("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")

// errUnverified is a token whose signature none of the issuer's keys verifies.
var errUnverified = invalidToken("The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.")

// parseToken reads a compact JWS without verifying it, for its issuer.
func parseToken(raw string) (*jwt.JSONWebToken, *tokenClaims, error) {
	tok, err := jwt.ParseSigned(raw, tokenAlgorithms)
	if err != nil || len(tok.Headers) != 1 {
		return nil, nil, errNotJWT
	}
	var claims tokenClaims
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil || claims.Issuer == "" {
		return nil, nil, errNotJWT
	}
	return tok, &claims, nil
}

// verifyToken checks a token's signature with the issuer's keys (the one its kid names, else
// each that fits), and returns its claims.
func verifyToken(tok *jwt.JSONWebToken, keys *jose.JSONWebKeySet) (*tokenClaims, error) {
	candidates := keys.Keys
	if kid := tok.Headers[0].KeyID; kid != "" {
		candidates = keys.Key(kid)
	}
	for _, k := range candidates {
		if k.Use != "" && k.Use != "sig" || !k.Valid() || !k.IsPublic() {
			continue
		}
		var claims tokenClaims
		if err := tok.Claims(k.Key, &claims); err == nil {
			return &claims, nil
		}
	}
	return nil, errUnverified
}

// checkClaims applies the token's times and audience: exp, nbf and iat within tokenSkew of
// now, and an audience among the provider's client ids.
func checkClaims(c *tokenClaims, p identity.OIDCProvider, now time.Time) (audience string, err error) {
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
	tok, unverified, err := parseToken(awsproto.Value(in.WebIdentityToken))
	if err != nil {
		return nil, err
	}
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
	keys, err := s.issuers.keys(ctx, provider.URL, tok.Headers[0].KeyID)
	if err != nil {
		s.log.Warn("web identity provider's keys could not be read", "issuer", provider.URL, "err", err)
		return nil, awsproto.Errorf("IDPCommunicationError", 400,
			"Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements")
	}
	claims, err := verifyToken(tok, keys)
	if err != nil {
		return nil, err
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
func (s *Service) trustsWebIdentity(role identity.Role, p identity.OIDCProvider, c *tokenClaims, audience, session string) bool {
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

// issuers fetches and caches the signing keys (JWKS) of OpenID Connect issuers, found through
// each issuer's discovery document.
type issuers struct {
	client *http.Client
	now    func() time.Time
	mu     sync.Mutex
	sets   map[string]keySet
}

type keySet struct {
	keys    *jose.JSONWebKeySet
	fetched time.Time
}

// Key set cache times: keys are kept for keysTTL; a token naming a kid the cached set lacks
// refetches it, at most once per keysRefetch.
const (
	keysTTL       = time.Hour
	keysRefetch   = 10 * time.Second
	maxKeysDoc    = 1 << 20
	fetchDeadline = 10 * time.Second
)

func newIssuers(now func() time.Time) *issuers {
	return &issuers{client: &http.Client{Timeout: fetchDeadline}, now: now, sets: map[string]keySet{}}
}

// keys returns the issuer's key set, fetched again when it is old or lacks kid.
func (is *issuers) keys(ctx context.Context, issuer, kid string) (*jose.JSONWebKeySet, error) {
	now := is.now()
	is.mu.Lock()
	cached, ok := is.sets[issuer]
	is.mu.Unlock()
	fresh := ok && now.Sub(cached.fetched) < keysTTL
	if fresh && (kid == "" || len(cached.keys.Key(kid)) > 0 || now.Sub(cached.fetched) < keysRefetch) {
		return cached.keys, nil
	}
	set, err := is.fetch(ctx, issuer)
	if err != nil {
		if fresh {
			return cached.keys, nil
		}
		return nil, err
	}
	is.mu.Lock()
	is.sets[issuer] = keySet{keys: set, fetched: now}
	is.mu.Unlock()
	return set, nil
}

// fetch reads the issuer's discovery document, then the key set its jwks_uri names.
func (is *issuers) fetch(ctx context.Context, issuer string) (*jose.JSONWebKeySet, error) {
	var discovery struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := is.getJSON(ctx, strings.TrimRight(issuer, "/")+"/.well-known/openid-configuration", &discovery); err != nil {
		return nil, err
	}
	if !identity.IssuerURL(discovery.JWKSURI) {
		return nil, fmt.Errorf("discovery document's jwks_uri %q is not an https URL (or http on loopback)", discovery.JWKSURI)
	}
	var set jose.JSONWebKeySet
	if err := is.getJSON(ctx, discovery.JWKSURI, &set); err != nil {
		return nil, err
	}
	return &set, nil
}

func (is *issuers) getJSON(ctx context.Context, url string, into any) error {
	ctx, cancel := context.WithTimeout(ctx, fetchDeadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := is.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeysDoc))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}
