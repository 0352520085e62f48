package apigateway

import (
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/oidc"
)

func TestCheckJWTClaims(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	at := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(now.Add(d)) }
	cfg := &JWTConfiguration{Issuer: awsproto.Ptr("https://idp.example"), Audience: []string{"app", "cli"}}
	valid := func(mod func(c *oidc.Claims)) *oidc.Claims {
		c := &oidc.Claims{Claims: jwt.Claims{Issuer: "https://idp.example", Audience: jwt.Audience{"app"}, Expiry: at(time.Hour), IssuedAt: at(0)}}
		if mod != nil {
			mod(c)
		}
		return c
	}
	cases := []struct {
		name   string
		claims *oidc.Claims
		want   jwtFailure
	}{
		{"valid", valid(nil), ""},
		{"second configured audience", valid(func(c *oidc.Claims) { c.Audience = jwt.Audience{"x", "cli"} }), ""},
		{"client_id when there is no aud", valid(func(c *oidc.Claims) { c.Audience, c.ClientID = nil, "cli" }), ""},
		{"client_id is not read when aud is there", valid(func(c *oidc.Claims) { c.Audience, c.ClientID = jwt.Audience{"x"}, "cli" }), "the token does not have a valid audience"},
		{"another issuer", valid(func(c *oidc.Claims) { c.Issuer = "https://idp.example/" }), "the token does not have a valid issuer"},
		{"no exp", valid(func(c *oidc.Claims) { c.Expiry = nil }), "the token has expired"},
		{"exp now", valid(func(c *oidc.Claims) { c.Expiry = at(0) }), "the token has expired"},
		{"nbf ahead", valid(func(c *oidc.Claims) { c.NotBefore = at(time.Minute) }), "the token is not valid yet"},
		{"nbf now", valid(func(c *oidc.Claims) { c.NotBefore = at(0) }), ""},
		{"issued in the future", valid(func(c *oidc.Claims) { c.IssuedAt = at(time.Minute) }), "the token was issued in the future"},
	}
	for _, tc := range cases {
		if got := checkJWTClaims(tc.claims, cfg, now); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestClaimStringAndBearer(t *testing.T) {
	t.Parallel()
	for v, want := range map[any]string{"s": "s", 1700000000.0: "1700000000", 1.5: "1.5", true: "true"} {
		if got := claimString(v); got != want {
			t.Errorf("claimString(%v) = %q, want %q", v, got, want)
		}
	}
	if got := claimString([]any{"a", 2.0}); got != "[a 2]" {
		t.Errorf("list claim = %q", got)
	}
	if got := claimString(map[string]any{"k": "v"}); got != `{"k":"v"}` {
		t.Errorf("object claim = %q", got)
	}
	for in, want := range map[string]string{"Bearer abc": "abc", "bearer  abc": "abc", "abc": "abc", "Bearer": "Bearer", "BEARER x.y.z": "x.y.z"} {
		if got := bearerToken(in); got != want {
			t.Errorf("bearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAuthorizerAnswers(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	route := "arn:aws:execute-api:us-east-1:000000000000:api1/prod/GET/items/7"
	cases := []struct {
		name    string
		payload string
		simple  bool
		bad     bool
		allowed bool
	}{
		{"simple yes", `{"isAuthorized":true,"context":{"a":1}}`, true, false, true},
		{"simple no", `{"isAuthorized":false}`, true, false, false},
		{"simple without isAuthorized", `{"context":{}}`, true, true, false},
		{"simple isAuthorized not a boolean", `{"isAuthorized":"yes"}`, true, true, false},
		{"not JSON", `nope`, true, true, false},
		{"policy allows the route", `{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:000000000000:api1/prod/GET/*"}]}}`, false, false, true},
		{"policy allows another method", `{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:000000000000:api1/prod/POST/*"}]}}`, false, false, false},
		{"policy denies explicitly", `{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*/*/GET/items/*"}]}}`, false, false, false},
		{"policy answer without a policy", `{"principalId":"u"}`, false, true, false},
		{"policy that does not parse", `{"principalId":"u","policyDocument":{"Statement":"x"}}`, false, true, false},
		{"simple answer to a policy authorizer", `{"isAuthorized":true}`, false, true, false},
	}
	for _, tc := range cases {
		a, err := readAuthorizerAnswer([]byte(tc.payload), tc.simple)
		if (err != nil) != tc.bad {
			t.Errorf("%s: err %v", tc.name, err)
			continue
		}
		if err == nil && a.allows(route, now) != tc.allowed {
			t.Errorf("%s: allows = %v", tc.name, !tc.allowed)
		}
	}
}

func TestAuthCacheExpires(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	var c authCache[*authorizerAnswer]
	yes := &authorizerAnswer{simple: true, authorized: true}
	c.put("k", yes, now.Add(5*time.Minute), now)
	if c.get("k", now.Add(5*time.Minute-time.Second)) != yes {
		t.Error("an answer within its TTL was not cached")
	}
	if c.get("k", now.Add(5*time.Minute)) != nil {
		t.Error("an answer past its TTL was served")
	}
	if c.get("other", now) != nil {
		t.Error("another key was served")
	}
	for i := range maxCachedAuthorizer + 10 {
		c.put(string(rune(i)), yes, now.Add(time.Minute), now)
	}
	if n := len(c.entries); n > maxCachedAuthorizer {
		t.Errorf("the cache holds %d answers, more than %d", n, maxCachedAuthorizer)
	}
}

func TestCheckAuthorizer(t *testing.T) {
	t.Parallel()
	fn := "arn:aws:lambda:us-east-1:000000000000:function:auth"
	req := func(mod func(a *Authorizer)) *Authorizer {
		a := &Authorizer{Name: awsproto.Ptr("a"), AuthorizerType: awsproto.Ptr(authorizerRequest), AuthorizerUri: &fn,
			AuthorizerPayloadFormatVersion: awsproto.Ptr("2.0"), IdentitySource: []string{"$request.header.X"}}
		if mod != nil {
			mod(a)
		}
		return a
	}
	cases := []struct {
		name string
		a    *Authorizer
		ok   bool
	}{
		{"REQUEST", req(nil), true},
		{"REQUEST with every kind of identity source", req(func(a *Authorizer) {
			a.IdentitySource = []string{"$request.header.X-Api-Key", "$request.querystring.token", "$context.identity.sourceIp", "$stageVariables.key"}
		}), true},
		{"REQUEST with a TTL of an hour", req(func(a *Authorizer) { a.AuthorizerResultTtlInSeconds = awsproto.Ptr(int32(3600)) }), true},
		{"REQUEST with a TTL over an hour", req(func(a *Authorizer) { a.AuthorizerResultTtlInSeconds = awsproto.Ptr(int32(3601)) }), false},
		{"REQUEST with a JWT configuration", req(func(a *Authorizer) { a.JwtConfiguration = &JWTConfiguration{} }), false},
		{"REQUEST with a role", req(func(a *Authorizer) { a.AuthorizerCredentialsArn = awsproto.Ptr("arn:aws:iam::000000000000:role/r") }), true},
		{"REQUEST with a user for a role", req(func(a *Authorizer) { a.AuthorizerCredentialsArn = awsproto.Ptr("arn:aws:iam::000000000000:user/u") }), false},
		{"REQUEST payload 3.0", req(func(a *Authorizer) { a.AuthorizerPayloadFormatVersion = awsproto.Ptr("3.0") }), false},
		{"identity source of REST APIs", req(func(a *Authorizer) { a.IdentitySource = []string{"method.request.header.X"} }), false},
		{"IdentityValidationExpression", req(func(a *Authorizer) { a.IdentityValidationExpression = awsproto.Ptr(".*") }), false},
		{"TOKEN type", req(func(a *Authorizer) { a.AuthorizerType = awsproto.Ptr("TOKEN") }), false},
		{"no name", req(func(a *Authorizer) { a.Name = nil }), false},
		{"JWT on loopback http", &Authorizer{Name: awsproto.Ptr("j"), AuthorizerType: awsproto.Ptr(authorizerJWT), IdentitySource: []string{"$request.querystring.t"},
			JwtConfiguration: &JWTConfiguration{Issuer: awsproto.Ptr("http://127.0.0.1:9000/realm"), Audience: []string{"a"}}}, true},
		{"JWT from a $context variable", &Authorizer{Name: awsproto.Ptr("j"), AuthorizerType: awsproto.Ptr(authorizerJWT), IdentitySource: []string{"$context.stage"},
			JwtConfiguration: &JWTConfiguration{Issuer: awsproto.Ptr("https://idp.example"), Audience: []string{"a"}}}, false},
		{"JWT with a TTL", &Authorizer{Name: awsproto.Ptr("j"), AuthorizerType: awsproto.Ptr(authorizerJWT), IdentitySource: []string{"$request.header.Authorization"},
			AuthorizerResultTtlInSeconds: awsproto.Ptr(int32(0)), JwtConfiguration: &JWTConfiguration{Issuer: awsproto.Ptr("https://idp.example"), Audience: []string{"a"}}}, false},
	}
	for _, tc := range cases {
		if err := checkAuthorizer(tc.a, false); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
