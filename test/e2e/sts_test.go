package e2e

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func TestGetCallerIdentityDevMode(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	out, err := srv.Clients().STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != "000000000000" || aws.ToString(out.Arn) != "arn:aws:iam::000000000000:root" {
		t.Fatalf("identity = %s %s, want account 000000000000 root", aws.ToString(out.Account), aws.ToString(out.Arn))
	}
}

func TestAssumeRoleCredentialsWorkInStrictMode(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	c := srv.Clients()
	ctx := t.Context()
	createRole(t, c, "app/deployer", trustAccounts(kiritest.TestAccount))
	out, err := c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::" + kiritest.TestAccount + ":role/app/deployer"),
		RoleSessionName: aws.String("ci-run.42"),
		DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	if !strings.HasPrefix(aws.ToString(cr.AccessKeyId), "ASIA") || aws.ToString(cr.SessionToken) == "" {
		t.Fatalf("credentials %+v are not temporary ones", cr)
	}
	if d := time.Until(aws.ToTime(cr.Expiration)); d < 14*time.Minute || d > 15*time.Minute {
		t.Fatalf("expiration in %s, want 15m", d)
	}
	wantArn := "arn:aws:sts::" + kiritest.TestAccount + ":assumed-role/deployer/ci-run.42"
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != wantArn {
		t.Fatalf("AssumedRoleUser.Arn = %s, want %s", got, wantArn)
	}

	assumed := srv.ClientsAs(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	who, err := assumed.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("temporary credentials refused: %v", err)
	}
	if aws.ToString(who.Arn) != wantArn || aws.ToString(who.Account) != kiritest.TestAccount ||
		aws.ToString(who.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Fatalf("caller = %s %s %s", aws.ToString(who.Account), aws.ToString(who.Arn), aws.ToString(who.UserId))
	}

	// The session token is part of the credential: without it, or with another, AWS refuses.
	for name, token := range map[string]string{"no session token": "", "wrong session token": "bm90IHRoZSB0b2tlbg=="} {
		t.Run(name, func(t *testing.T) {
			bad := srv.ClientsAs(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), token)
			_, err := bad.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			expectAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
		})
	}
}

func TestGetSessionToken(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	ctx := t.Context()
	out, err := srv.Clients().STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(aws.ToTime(out.Credentials.Expiration)); d < 11*time.Hour || d > 12*time.Hour {
		t.Fatalf("default session lasts %s, want 12h", d)
	}
	cr := out.Credentials
	session := srv.ClientsAs(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	who, err := session.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Account) != kiritest.TestAccount || aws.ToString(who.Arn) != "arn:aws:iam::"+kiritest.TestAccount+":root" {
		t.Fatalf("session credentials act as %s %s, want the caller", aws.ToString(who.Account), aws.ToString(who.Arn))
	}
	_, err = session.STS.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	expectAPIError(t, err, "AccessDenied", http.StatusForbidden)
}

func TestSTSValidation(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients()
	cases := []struct {
		name string
		in   *sts.AssumeRoleInput
		code string
	}{
		{"duration below 15 minutes", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(60)}, "ValidationError"},
		{"session name with a space", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("bad name")}, "ValidationError"},
		{"session name too short", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("s")}, "ValidationError"},
		{"role arn that is not a role", &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:user/bob"), RoleSessionName: aws.String("s1")}, "ValidationError"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.STS.AssumeRole(t.Context(), tc.in)
			expectAPIError(t, err, tc.code, http.StatusBadRequest)
		})
	}
}

// expectAPIError asserts err is the AWS error code with the HTTP status.
func expectAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("error code %s (%s), want %s", apiErr.ErrorCode(), apiErr.ErrorMessage(), code)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("HTTP status %d, want %d", re.HTTPStatusCode(), status)
	}
}

// TestNoAccountBorrowsAnothersIdentity runs two accounts in strict mode: neither may assume a
// role of the other's that does not trust it, whether or not the role exists, nor name one as a
// function's execution role; each still assumes its own roles.
func TestNoAccountBorrowsAnothersIdentity(t *testing.T) {
	other := auth.Key{AccessKeyID: "AKIAKIRITEST00000002", SecretAccessKey: "kiri-test-secret-key-0000000000000000002", AccountID: "444455556666"}
	srv := kiritest.Start(t, kiritest.Options{Strict: true, Keys: []auth.Key{
		{AccessKeyID: kiritest.TestAccessKey, SecretAccessKey: kiritest.TestSecretKey, AccountID: kiritest.TestAccount}, other}})
	ctx := t.Context()
	a, b := srv.Clients(), srv.ClientsAs(other.AccessKeyID, other.SecretAccessKey, "")
	if _, err := a.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("a-private")}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("a-private"), Key: aws.String("secret"), Body: strings.NewReader("a's")}); err != nil {
		t.Fatal(err)
	}
	createRole(t, a, "admin", trustAccounts(kiritest.TestAccount))
	createRole(t, b, "reader", trustAccounts("444455556666"))
	createRole(t, b, "fn", lambdaTrust)
	// A uses its role once.
	if _, err := a.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + kiritest.TestAccount + ":role/admin"), RoleSessionName: aws.String("a-session")}); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"arn:aws:iam::" + kiritest.TestAccount + ":role/admin", "arn:aws:iam::" + kiritest.TestAccount + ":role/never-made"} {
		_, err := b.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("b-session")})
		expectAPIError(t, err, "AccessDenied", http.StatusForbidden)
		var apiErr smithy.APIError
		errors.As(err, &apiErr)
		if want := "User: arn:aws:iam::444455556666:root is not authorized to perform: sts:AssumeRole on resource: " + role; apiErr.ErrorMessage() != want {
			t.Errorf("message %q, want %q", apiErr.ErrorMessage(), want)
		}
	}
	own, err := b.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444455556666:role/reader"), RoleSessionName: aws.String("b-session")})
	if err != nil {
		t.Fatalf("b assuming its own role: %v", err)
	}
	cr := own.Credentials
	session := srv.ClientsAs(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	// An assumed role of B may not hop into A either.
	_, err = session.STS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + kiritest.TestAccount + ":role/admin"), RoleSessionName: aws.String("hop")})
	expectAPIError(t, err, "AccessDenied", http.StatusForbidden)
	if _, err := session.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("a-private"), Key: aws.String("secret")}); err == nil {
		t.Error("b's role read a's object")
	}

	// A function's execution role must be of the function's account.
	z := kiritest.ZipSource(t, map[string]string{"index.mjs": "export const handler = async () => 1;\n"})
	create := func(role string) error {
		_, err := b.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("fn"), Runtime: lambdatypes.RuntimeNodejs22x,
			Handler: aws.String("index.handler"), Role: aws.String(role), Code: &lambdatypes.FunctionCode{ZipFile: z}})
		return err
	}
	const cannotAssume = "The role defined for the function cannot be assumed by Lambda."
	wantAPIError(t, create("arn:aws:iam::"+kiritest.TestAccount+":role/admin"), "InvalidParameterValueException", cannotAssume)
	if err := create("arn:aws:iam::444455556666:role/fn"); err != nil {
		t.Fatal(err)
	}
	_, err = b.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"),
		Role: aws.String("arn:aws:iam::" + kiritest.TestAccount + ":role/admin")})
	wantAPIError(t, err, "InvalidParameterValueException", cannotAssume)
}
