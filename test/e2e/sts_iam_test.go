package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// otherAccount is the second account of two-account strict-mode tests.
var otherAccount = auth.Key{AccessKeyID: "AKIAKIRITEST00000002", SecretAccessKey: "kiri-test-secret-key-0000000000000000002", AccountID: "444455556666"}

func twoAccounts(t *testing.T) (*kiritest.Server, *kiritest.Clients, *kiritest.Clients) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce, Keys: []auth.Key{
		{AccessKeyID: kiritest.TestAccessKey, SecretAccessKey: kiritest.TestSecretKey, AccountID: kiritest.TestAccount}, otherAccount}})
	return srv, srv.Clients(), srv.ClientsAs(otherAccount.AccessKeyID, otherAccount.SecretAccessKey, "")
}

// userWithKey makes a user with an inline policy (when doc is not "") and an access key, and
// returns clients signing with the key.
func userWithKey(t *testing.T, srv *kiritest.Server, c *kiritest.Clients, name, doc string) *kiritest.Clients {
	t.Helper()
	ctx := t.Context()
	if _, err := c.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if doc != "" {
		if _, err := c.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	k, err := c.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return srv.ClientsAs(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
}

func allowDoc(actions string, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + actions + `,"Resource":"` + resource + `"}]}`
}

func TestIAMAccessKeysSignAtOnce(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	c := srv.Clients()
	ctx := t.Context()
	if _, err := c.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol"), Path: aws.String("/ops/"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}}); err != nil {
		t.Fatal(err)
	}
	k, err := c.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("carol")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(k.AccessKey.AccessKeyId)
	carol := srv.ClientsAs(id, aws.ToString(k.AccessKey.SecretAccessKey), "")
	who, err := carol.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("a key CreateAccessKey made is refused: %v", err)
	}
	if aws.ToString(who.Arn) != "arn:aws:iam::"+kiritest.TestAccount+":user/ops/carol" || !strings.HasPrefix(aws.ToString(who.UserId), "AIDA") {
		t.Fatalf("caller = %s %s", aws.ToString(who.Arn), aws.ToString(who.UserId))
	}
	// The user has no policies: IAM refuses it what no policy allows.
	_, err = carol.IAM.ListUsers(ctx, &iam.ListUsersInput{})
	wantIAMError(t, err, "AccessDenied", "User: arn:aws:iam::111122223333:user/ops/carol is not authorized to perform: iam:ListUsers because no identity-based policy allows the iam:ListUsers action")
	// A policy attached takes effect at once.
	if _, err := c.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("carol"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/PowerUserAccess")}); err != nil {
		t.Fatal(err)
	}
	_, err = carol.IAM.ListUsers(ctx, &iam.ListUsersInput{})
	wantIAMError(t, err, "AccessDenied", "") // PowerUserAccess allows no iam: action but a few
	if _, err := carol.IAM.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatalf("PowerUserAccess allows iam:ListRoles: %v", err)
	}

	// Inactive: refused as an unknown key; active again: accepted; deleted: refused.
	if _, err := c.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("carol"), AccessKeyId: aws.String(id),
		Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = carol.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	expectAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
	if _, err := c.IAM.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("carol"), AccessKeyId: aws.String(id),
		Status: iamtypes.StatusTypeActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("reactivated key: %v", err)
	}
	used, err := c.IAM.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil || aws.ToString(used.UserName) != "carol" || aws.ToString(used.AccessKeyLastUsed.ServiceName) != "sts" {
		t.Fatalf("last used = %+v, %v", used.AccessKeyLastUsed, err)
	}
	if _, err := c.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("carol"), AccessKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = carol.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	expectAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
}

func TestAssumeRoleTrust(t *testing.T) {
	t.Parallel()
	srv, a, b := twoAccounts(t)
	ctx := t.Context()
	onlyLambda := createRole(t, a, "lambda-only", lambdaTrust)
	_, err := a.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(onlyLambda), RoleSessionName: aws.String("s1")})
	wantIAMError(t, err, "AccessDenied", "User: arn:aws:iam::111122223333:root is not authorized to perform: sts:AssumeRole on resource: "+onlyLambda)

	// A role trusting its own account and the other one.
	shared := createRole(t, a, "shared", trustAccounts(kiritest.TestAccount, otherAccount.AccountID))
	if _, err := a.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(shared), RoleSessionName: aws.String("own")}); err != nil {
		t.Fatalf("own account: %v", err)
	}
	out, err := b.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(shared), RoleSessionName: aws.String("cross")})
	if err != nil {
		t.Fatalf("the other account's root, trusted: %v", err)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::111122223333:assumed-role/shared/cross" {
		t.Fatalf("assumed %s", got)
	}

	// A user of the other account needs its own policies to allow sts:AssumeRole on the role.
	bob := userWithKey(t, srv, b, "bob", "")
	_, err = bob.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(shared), RoleSessionName: aws.String("bob")})
	wantIAMError(t, err, "AccessDenied", "")
	eve := userWithKey(t, srv, b, "eve", allowDoc(`"sts:AssumeRole"`, shared))
	session, err := eve.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(shared), RoleSessionName: aws.String("eve")})
	if err != nil {
		t.Fatalf("a user whose policy allows it, of a trusted account: %v", err)
	}

	// The session acts as the role: the role's policies, intersected with session policies.
	if _, err := a.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("shared"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(allowDoc(`["iam:ListRoles","iam:ListUsers","sts:AssumeRole"]`, "*"))}); err != nil {
		t.Fatal(err)
	}
	cr := session.Credentials
	as := srv.ClientsAs(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	if _, err := as.IAM.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatalf("the role's policy allows ListRoles: %v", err)
	}
	_, err = as.IAM.ListGroups(ctx, &iam.ListGroupsInput{})
	wantIAMError(t, err, "AccessDenied", "")
	narrowed, err := a.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(shared), RoleSessionName: aws.String("narrow"),
		Policy: aws.String(allowDoc(`"iam:ListUsers"`, "*"))})
	if err != nil {
		t.Fatal(err)
	}
	ncr := narrowed.Credentials
	ns := srv.ClientsAs(aws.ToString(ncr.AccessKeyId), aws.ToString(ncr.SecretAccessKey), aws.ToString(ncr.SessionToken))
	if _, err := ns.IAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("role and session policy both allow ListUsers: %v", err)
	}
	_, err = ns.IAM.ListRoles(ctx, &iam.ListRolesInput{})
	wantIAMError(t, err, "AccessDenied", "")

	// A role session assuming another role (chaining) is limited to one hour.
	next := createRole(t, a, "next", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+shared+`"},"Action":"sts:AssumeRole"}]}`)
	if _, err := as.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(next), RoleSessionName: aws.String("hop")}); err != nil {
		t.Fatalf("chained: %v", err)
	}
	_, err = as.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(next), RoleSessionName: aws.String("hop"), DurationSeconds: aws.Int32(7200)})
	wantIAMError(t, err, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
}

func TestAssumeRoleExternalIDAndDuration(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	c := srv.Clients()
	ctx := t.Context()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole",
		"Condition":{"StringEquals":{"sts:ExternalId":"s3cr3t-id"}}}]}`
	role := createRole(t, c, "vendor", trust)
	_, err := c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")})
	wantIAMError(t, err, "AccessDenied", "")
	_, err = c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), ExternalId: aws.String("wrong-id")})
	wantIAMError(t, err, "AccessDenied", "")
	if _, err := c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), ExternalId: aws.String("s3cr3t-id")}); err != nil {
		t.Fatalf("with the external id: %v", err)
	}

	// DurationSeconds: 900 up to the role's MaxSessionDuration (default 3600).
	in := func(d int32) *sts.AssumeRoleInput {
		return &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), ExternalId: aws.String("s3cr3t-id"), DurationSeconds: aws.Int32(d)}
	}
	_, err = c.STS.AssumeRole(ctx, in(899))
	wantIAMError(t, err, "ValidationError", "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
	_, err = c.STS.AssumeRole(ctx, in(3601))
	wantIAMError(t, err, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	if _, err := c.IAM.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("vendor"), MaxSessionDuration: aws.Int32(7200)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.STS.AssumeRole(ctx, in(7200))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 119*time.Minute || d > 2*time.Hour {
		t.Fatalf("session lasts %s, want 2h", d)
	}

	// A role that does not exist is refused as one that does not trust the caller.
	_, err = c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111122223333:role/ghost"), RoleSessionName: aws.String("s1")})
	wantIAMError(t, err, "AccessDenied", "User: arn:aws:iam::111122223333:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/ghost")

	// Session tags need sts:TagSession in the trust policy, and become principal tags.
	tagged := createRole(t, c, "tagged", trustAccounts(kiritest.TestAccount))
	if _, err := c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(tagged), RoleSessionName: aws.String("t1"),
		Tags: []ststypes.Tag{{Key: aws.String("project"), Value: aws.String("kiri")}}}); err != nil {
		t.Fatalf("session tags: %v", err)
	}
	_, err = c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("t1"), ExternalId: aws.String("s3cr3t-id"),
		Tags: []ststypes.Tag{{Key: aws.String("project"), Value: aws.String("kiri")}}})
	wantIAMError(t, err, "AccessDenied", "User: arn:aws:iam::111122223333:root is not authorized to perform: sts:TagSession on resource: "+role)
}

// oidcIssuer is a local OpenID Connect identity provider: discovery document and JWKS over
// plain http on loopback, and tokens it signs.
type oidcIssuer struct {
	*httptest.Server
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	is := &oidcIssuer{}
	var err error
	if is.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if is.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	is.Server = httptest.NewServer(mux)
	t.Cleanup(is.Close)
	mux.HandleFunc("/realm/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.URL + "/realm", "jwks_uri": is.URL + "/realm/keys"})
	})
	mux.HandleFunc("/realm/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &is.rsa.PublicKey, KeyID: "rsa-1", Algorithm: string(jose.RS256), Use: "sig"},
			{Key: &is.ec.PublicKey, KeyID: "ec-1", Algorithm: string(jose.ES256), Use: "sig"},
		}})
	})
	return is
}

func (is *oidcIssuer) issuer() string { return is.URL + "/realm" }

// token signs claims with the issuer's RSA key (or its EC key), or with a stranger's key.
func (is *oidcIssuer) token(t *testing.T, claims map[string]any, alg string) string {
	t.Helper()
	var key jose.SigningKey
	switch alg {
	case "ES256":
		key = jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: is.ec, KeyID: "ec-1"}}
	case "stranger":
		other, _ := rsa.GenerateKey(rand.Reader, 2048)
		key = jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: other, KeyID: "rsa-1"}}
	default:
		key = jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: is.rsa, KeyID: "rsa-1"}}
	}
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	t.Parallel()
	idp := newOIDCIssuer(t)
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	c := srv.Clients()
	ctx := t.Context()
	p, err := c.IAM.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String(idp.issuer()),
		ClientIDList: []string{"kiri-app"}, ThumbprintList: []string{strings.Repeat("a", 40)}})
	if err != nil {
		t.Fatal(err)
	}
	providerARN := aws.ToString(p.OpenIDConnectProviderArn)
	host := strings.TrimPrefix(idp.issuer(), "http://")
	if providerARN != "arn:aws:iam::111122223333:oidc-provider/"+host {
		t.Fatalf("provider ARN %s", providerARN)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},
		"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + host + `:aud":"kiri-app"},"StringLike":{"` + host + `:sub":"repo:kiri/*"}}}]}`
	role := createRole(t, c, "ci", trust)
	anonymous := srv.ClientsAs("", "", "").Config
	anonymous.Credentials = aws.AnonymousCredentials{}
	client := sts.NewFromConfig(anonymous)
	now := time.Now()
	claims := func(sub, aud string, exp time.Time) map[string]any {
		return map[string]any{"iss": idp.issuer(), "sub": sub, "aud": aud, "exp": exp.Unix(), "iat": now.Unix(), "amr": []string{"pwd"}}
	}
	assume := func(token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return client.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role),
			RoleSessionName: aws.String("build-7"), WebIdentityToken: aws.String(token)})
	}

	for _, alg := range []string{"RS256", "ES256"} {
		out, err := assume(idp.token(t, claims("repo:kiri/main", "kiri-app", now.Add(time.Hour)), alg))
		if err != nil {
			t.Fatalf("%s token: %v", alg, err)
		}
		if aws.ToString(out.SubjectFromWebIdentityToken) != "repo:kiri/main" || aws.ToString(out.Audience) != "kiri-app" ||
			aws.ToString(out.Provider) != host || aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::111122223333:assumed-role/ci/build-7" {
			t.Fatalf("answer %+v", out)
		}
		cr := out.Credentials
		who, err := srv.ClientsAs(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)).
			STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(who.Arn) != "arn:aws:sts::111122223333:assumed-role/ci/build-7" {
			t.Fatalf("web identity session: %v %v", who, err)
		}
	}
	cases := []struct {
		name, token, code string
	}{
		{"subject the trust policy does not allow", idp.token(t, claims("repo:other/main", "kiri-app", now.Add(time.Hour)), ""), "AccessDenied"},
		{"audience not among the client ids", idp.token(t, claims("repo:kiri/main", "someone-else", now.Add(time.Hour)), ""), "InvalidIdentityToken"},
		{"expired", idp.token(t, claims("repo:kiri/main", "kiri-app", now.Add(-time.Hour)), ""), "ExpiredTokenException"},
		{"signed by another key", idp.token(t, claims("repo:kiri/main", "kiri-app", now.Add(time.Hour)), "stranger"), "InvalidIdentityToken"},
		{"not a JWT", "not-a-token", "InvalidIdentityToken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := assume(tc.token)
			wantIAMError(t, err, tc.code, "")
		})
	}
	// A token of an issuer with no provider in the account.
	stranger := newOIDCIssuer(t)
	_, err = assume(stranger.token(t, map[string]any{"iss": stranger.issuer(), "sub": "x", "aud": "kiri-app", "exp": now.Add(time.Hour).Unix()}, ""))
	wantIAMError(t, err, "InvalidIdentityToken", "No OpenIDConnect provider found in your account for "+stranger.issuer())
}

func TestSimulatePrincipalPolicy(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	c := srv.Clients()
	ctx := t.Context()
	doc := `{"Version":"2012-10-17","Statement":[
  {"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"},
  {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/secret/*"}
]}`
	userWithKey(t, srv, c, "sim", doc)
	out, err := c.IAM.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::111122223333:user/sim"),
		ActionNames:     []string{"s3:GetObject", "s3:PutObject"},
		ResourceArns:    []string{"arn:aws:s3:::data/public/a", "arn:aws:s3:::data/secret/b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"s3:GetObject arn:aws:s3:::data/public/a": "allowed", "s3:GetObject arn:aws:s3:::data/secret/b": "explicitDeny",
		"s3:PutObject arn:aws:s3:::data/public/a": "implicitDeny", "s3:PutObject arn:aws:s3:::data/secret/b": "implicitDeny",
	}
	if len(out.EvaluationResults) != 4 {
		t.Fatalf("%d results", len(out.EvaluationResults))
	}
	for _, r := range out.EvaluationResults {
		k := aws.ToString(r.EvalActionName) + " " + aws.ToString(r.EvalResourceName)
		if string(r.EvalDecision) != want[k] {
			t.Errorf("%s: %s, want %s", k, r.EvalDecision, want[k])
		}
		if want[k] != "implicitDeny" {
			if len(r.MatchedStatements) != 1 || aws.ToString(r.MatchedStatements[0].SourcePolicyId) != "p" ||
				r.MatchedStatements[0].StartPosition == nil {
				t.Errorf("%s: matched %+v", k, r.MatchedStatements)
			} else if line := r.MatchedStatements[0].StartPosition.Line; want[k] == "allowed" && line != 2 || want[k] == "explicitDeny" && line != 3 {
				t.Errorf("%s: statement at line %d", k, line)
			}
		}
	}
}

// TestFunctionRoleMustTrustLambda: with IAM enforced, a function's execution role must exist in
// its account and trust lambda.amazonaws.com.
func TestFunctionRoleMustTrustLambda(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	c := srv.Clients()
	ctx := t.Context()
	z := kiritest.ZipSource(t, map[string]string{"index.mjs": "export const handler = async () => 1;\n"})
	create := func(name, role string) error {
		_, err := c.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Runtime: lambdatypes.RuntimeNodejs22x,
			Handler: aws.String("index.handler"), Role: aws.String(role), Code: &lambdatypes.FunctionCode{ZipFile: z}})
		return err
	}
	const cannotAssume = "The role defined for the function cannot be assumed by Lambda."
	wantAPIError(t, create("f1", "arn:aws:iam::111122223333:role/missing"), "InvalidParameterValueException", cannotAssume)
	untrusting := createRole(t, c, "people-only", trustAccounts(kiritest.TestAccount))
	wantAPIError(t, create("f1", untrusting), "InvalidParameterValueException", cannotAssume)
	role, err := createFunctionRole(ctx, c, "fn-role", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	if err != nil {
		t.Fatal(err)
	}
	if err := create("f1", role); err != nil {
		t.Fatal(err)
	}
	_, err = c.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("f1"), Role: aws.String(untrusting)})
	wantAPIError(t, err, "InvalidParameterValueException", cannotAssume)
}

// TestFunctionActsAsItsRole: the credentials a function receives carry exactly its execution
// role's permissions. With a read-only role the thumbnail function reads the photo and is
// refused the write, in S3's words; once the role's policy allows the write, it succeeds.
func TestFunctionActsAsItsRole(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	c := srv.Clients()
	ctx := t.Context()
	role, err := createFunctionRole(ctx, c, "reader", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"role-in", "role-out"} {
		mustCreateBucket(t, c.S3, b)
	}
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("role-in"), Key: aws.String("photos/a.png"), Body: strings.NewReader("abc")}); err != nil {
		t.Fatal(err)
	}
	createTestFunction(t, c.Lambda, "thumb", kiritest.GoFunctionZip(t, "./testdata/lambda/thumbnail"), func(in *lambda.CreateFunctionInput) {
		in.Environment = &lambdatypes.Environment{Variables: map[string]string{"THUMBNAIL_BUCKET": "role-out"}}
		in.Timeout = aws.Int32(10)
		in.Role = aws.String(role)
	})
	waitActive(t, c.Lambda, "thumb")
	event := []byte(`{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"role-in"},"object":{"key":"photos/a.png"}}}]}`)
	invoke := func() *lambda.InvokeOutput {
		t.Helper()
		out, err := c.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("thumb"), Payload: event})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := invoke()
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "put role-out/thumbnails/a.png") ||
		!strings.Contains(string(out.Payload), "AccessDenied") {
		t.Fatalf("a read-only role wrote: error %q, payload %s", aws.ToString(out.FunctionError), out.Payload)
	}
	if _, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("role-out"), Key: aws.String("thumbnails/a.png")}); err == nil {
		t.Fatal("the refused write was stored")
	}
	if _, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("write-thumbnails"),
		PolicyDocument: aws.String(allowDoc(`"s3:PutObject"`, "arn:aws:s3:::role-out/thumbnails/*"))}); err != nil {
		t.Fatal(err)
	}
	if out := invoke(); out.FunctionError != nil {
		t.Fatalf("with s3:PutObject allowed: %s", out.Payload)
	}
	if _, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("role-out"), Key: aws.String("thumbnails/a.png")}); err != nil {
		t.Fatalf("the allowed write: %v", err)
	}
}

// TestServicesActForUsersUnderIAM: with IAM enforced, a service acting for a user is held to
// what AWS checks on its path. S3 notifications and SNS deliveries need the queue's policy to
// let the service send for that bucket or topic; an event source mapping needs its function's
// execution role to read the queue.
func TestServicesActForUsersUnderIAM(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	c := srv.Clients()
	ctx := t.Context()
	url, queueARN := createQueue(t, c.SQS, "for-services")
	policyFor := func(service, source string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sqs:SendMessage",` +
			`"Resource":"` + queueARN + `","Condition":{"ArnLike":{"aws:SourceArn":"` + source + `"}}}]}`
	}
	setPolicy := func(doc string) {
		t.Helper()
		if _, err := c.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"Policy": doc}}); err != nil {
			t.Fatal(err)
		}
	}

	// S3 validates the destination when the configuration is put.
	mustCreateBucket(t, c.S3, "notifying")
	notify := func() error {
		_, err := c.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("notifying"),
			NotificationConfiguration: &s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
				QueueArn: aws.String(queueARN), Events: []s3types.Event{"s3:ObjectCreated:*"}}}}})
		return err
	}
	wantAPIError(t, notify(), "InvalidArgument", "Unable to validate the following destination configurations")
	setPolicy(policyFor("s3.amazonaws.com", "arn:aws:s3:::notifying"))
	if err := notify(); err != nil {
		t.Fatalf("with the queue's policy letting the bucket send: %v", err)
	}
	receiveAll(t, c.SQS, url, 1, 10*time.Second) // s3:TestEvent
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("notifying"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if m := receiveAll(t, c.SQS, url, 1, 10*time.Second); !strings.Contains(aws.ToString(m[0].Body), `"ObjectCreated:Put"`) {
		t.Fatalf("notification: %s", aws.ToString(m[0].Body))
	}

	// SNS: the queue's policy (now S3's only) does not let the topic send; the publish is
	// accepted and the delivery refused, as SNS drops it.
	topic, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("for-services")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(queueARN),
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatal(err)
	}
	publish := func(msg string) {
		t.Helper()
		if _, err := c.SNS.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(msg)}); err != nil {
			t.Fatal(err)
		}
	}
	publish("refused")
	if out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 2}); err != nil || len(out.Messages) != 0 {
		t.Fatalf("a delivery the queue's policy does not allow arrived: %v %v", out, err)
	}
	setPolicy(policyFor("sns.amazonaws.com", aws.ToString(topic.TopicArn)))
	publish("allowed")
	if m := receiveAll(t, c.SQS, url, 1, 10*time.Second); aws.ToString(m[0].Body) != "allowed" {
		t.Fatalf("delivery: %s", aws.ToString(m[0].Body))
	}

	// An event source mapping reads the queue as the function's execution role.
	role, err := createFunctionRole(ctx, c, "no-sqs", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	if err != nil {
		t.Fatal(err)
	}
	createTestFunction(t, c.Lambda, "consumer", kiritest.GoFunctionZip(t, "./testdata/lambda/echo"), func(in *lambda.CreateFunctionInput) {
		in.Role = aws.String(role)
	})
	_, err = c.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("consumer"), EventSourceArn: aws.String(queueARN)})
	wantAPIError(t, err, "InvalidParameterValueException", "The provided execution role does not have permissions to call ReceiveMessage on SQS")
	if _, err := c.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("no-sqs"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("consumer"),
		EventSourceArn: aws.String(queueARN), Enabled: aws.Bool(false)}); err != nil {
		t.Fatalf("with the role allowed to read the queue: %v", err)
	}
}
