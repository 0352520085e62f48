package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAWSCLILambda deploys, invokes and reads the logs of a Python function with the AWS CLI 2.9.
func TestAWSCLILambda(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "fn.zip")
	src := "def handler(event, context):\n    print('hello from', context.function_name, event['a'])\n    return {'ok': event['a'] + 1}\n"
	if err := os.WriteFile(zipPath, kiritest.ZipSource(t, map[string]string{"app.py": src}), 0o644); err != nil {
		t.Fatal(err)
	}
	mustAWS(t, srv, "iam", "create-role", "--role-name", "r", "--assume-role-policy-document", lambdaTrust)
	mustAWS(t, srv, "lambda", "create-function", "--function-name", "clipy", "--runtime", "python3.11", "--handler", "app.handler",
		"--role", "arn:aws:iam::"+kiritest.TestAccount+":role/r", "--zip-file", "fileb://"+zipPath)
	mustAWS(t, srv, "lambda", "wait", "function-active-v2", "--function-name", "clipy")
	outFile := filepath.Join(dir, "out.json")
	var res struct{ StatusCode int }
	mustAWSJSON(t, srv, &res, "lambda", "invoke", "--function-name", "clipy", "--payload", `{"a":41}`,
		"--cli-binary-format", "raw-in-base64-out", outFile)
	if b, _ := os.ReadFile(outFile); res.StatusCode != 200 || string(b) != `{"ok": 42}` {
		t.Fatalf("invoke: status %d, payload %s", res.StatusCode, b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := mustAWS(t, srv, "logs", "tail", "/aws/lambda/clipy", "--format", "short")
		if strings.Contains(out, "hello from clipy 41") && strings.Contains(out, "REPORT RequestId: ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("aws logs tail lacks the function's output:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
