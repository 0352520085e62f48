package e2e

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/schemas"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestSchemasWhenIAMIsEnforced checks that schema registry calls authorize as
// schemas:OPERATION on the registry's ARN: a user allowed DescribeRegistry on one registry
// describes it and is refused (ForbiddenException, 403) anything else.
func TestSchemasWhenIAMIsEnforced(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	cl := srv.Clients()
	ctx := t.Context()
	admin := schemas.NewFromConfig(cl.Config)
	if _, err := admin.CreateRegistry(ctx, &schemas.CreateRegistryInput{RegistryName: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"schemas:DescribeRegistry","Resource":"arn:aws:schemas:us-east-1:` +
		kiritest.TestAccount + `:registry/shop"}]}`
	if _, err := cl.IAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("read"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	key, err := cl.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	reader := schemas.NewFromConfig(srv.ClientsAs(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "").Config)
	if _, err := reader.DescribeRegistry(ctx, &schemas.DescribeRegistryInput{RegistryName: aws.String("shop")}); err != nil {
		t.Fatalf("allowed DescribeRegistry: %v", err)
	}
	_, err = reader.CreateRegistry(ctx, &schemas.CreateRegistryInput{RegistryName: aws.String("other")})
	wantSchemasError(t, err, "ForbiddenException", http.StatusForbidden)
	_, err = reader.ListRegistries(ctx, &schemas.ListRegistriesInput{})
	wantSchemasError(t, err, "ForbiddenException", http.StatusForbidden)
}
