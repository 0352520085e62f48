package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// awsCLI finds Debian's AWS CLI v2 (/usr/bin/aws), which .ci/run installs. A pyenv shim named
// aws on PATH may be something else.
func awsCLI(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		return "/usr/bin/aws"
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the AWS CLI is not installed; .ci/run installs it")
	}
	t.Skip("the AWS CLI (/usr/bin/aws) is not installed: apt-get install awscli")
	return ""
}

func runAWS(t *testing.T, srv *kiritest.Server, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(awsCLI(t), append(args, "--endpoint-url", srv.URL, "--output", "json")...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+kiritest.TestAccessKey, "AWS_SECRET_ACCESS_KEY="+kiritest.TestSecretKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestAWSCLIGetCallerIdentity(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	out, err := runAWS(t, srv, "sts", "get-caller-identity")
	if err != nil || !strings.Contains(out, `"Account": "`+kiritest.TestAccount+`"`) {
		t.Fatalf("aws sts get-caller-identity: %v\n%s", err, out)
	}
	mustAWS(t, srv, "iam", "create-role", "--role-name", "cli", "--assume-role-policy-document", trustAccounts(kiritest.TestAccount))
	out, err = runAWS(t, srv, "sts", "assume-role", "--role-arn", "arn:aws:iam::111122223333:role/cli", "--role-session-name", "cli")
	if err != nil || !strings.Contains(out, `"AccessKeyId": "ASIA`) {
		t.Fatalf("aws sts assume-role: %v\n%s", err, out)
	}
}
