package e2e

import (
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAWSCLIIAM drives IAM with the AWS CLI 2.9, which decodes the percent-encoded policy
// documents IAM answers into JSON.
func TestAWSCLIIAM(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	var role struct {
		Role struct {
			Arn, RoleId              string
			AssumeRolePolicyDocument struct {
				Statement []struct{ Principal struct{ Service string } }
			}
			MaxSessionDuration int
		}
	}
	mustAWSJSON(t, srv, &role, "iam", "create-role", "--role-name", "cli-fn", "--path", "/apps/",
		"--assume-role-policy-document", lambdaTrust, "--max-session-duration", "7200")
	if role.Role.Arn != "arn:aws:iam::"+kiritest.TestAccount+":role/apps/cli-fn" || role.Role.MaxSessionDuration != 7200 {
		t.Fatalf("create-role: %+v", role.Role)
	}
	mustAWSJSON(t, srv, &role, "iam", "get-role", "--role-name", "cli-fn")
	if len(role.Role.AssumeRolePolicyDocument.Statement) != 1 || role.Role.AssumeRolePolicyDocument.Statement[0].Principal.Service != "lambda.amazonaws.com" {
		t.Fatalf("get-role trust policy: %+v", role.Role.AssumeRolePolicyDocument)
	}
	mustAWS(t, srv, "iam", "attach-role-policy", "--role-name", "cli-fn", "--policy-arn", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
	var attached struct{ AttachedPolicies []struct{ PolicyName string } }
	mustAWSJSON(t, srv, &attached, "iam", "list-attached-role-policies", "--role-name", "cli-fn")
	if len(attached.AttachedPolicies) != 1 || attached.AttachedPolicies[0].PolicyName != "AWSLambdaBasicExecutionRole" {
		t.Fatalf("list-attached-role-policies: %+v", attached)
	}

	var pol struct {
		Policy struct{ Arn, DefaultVersionId string }
	}
	mustAWSJSON(t, srv, &pol, "iam", "create-policy", "--policy-name", "cli-read",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	var version struct {
		PolicyVersion struct {
			Document struct{ Statement []struct{ Action string } }
		}
	}
	mustAWSJSON(t, srv, &version, "iam", "get-policy-version", "--policy-arn", pol.Policy.Arn, "--version-id", "v1")
	if len(version.PolicyVersion.Document.Statement) != 1 || version.PolicyVersion.Document.Statement[0].Action != "s3:GetObject" {
		t.Fatalf("get-policy-version: %+v", version)
	}

	mustAWS(t, srv, "iam", "create-user", "--user-name", "cli-user")
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey, Status string }
	}
	mustAWSJSON(t, srv, &key, "iam", "create-access-key", "--user-name", "cli-user")
	if !strings.HasPrefix(key.AccessKey.AccessKeyId, "AKIA") || key.AccessKey.Status != "Active" {
		t.Fatalf("create-access-key: %+v", key.AccessKey)
	}
	var users struct{ Users []struct{ UserName string } }
	mustAWSJSON(t, srv, &users, "iam", "list-users")
	if len(users.Users) != 1 || users.Users[0].UserName != "cli-user" {
		t.Fatalf("list-users: %+v", users)
	}
	out, err := runAWS(t, srv, "iam", "delete-user", "--user-name", "cli-user")
	if err == nil || !strings.Contains(out, "DeleteConflict") {
		t.Fatalf("delete-user with a key: %v\n%s", err, out)
	}
}
