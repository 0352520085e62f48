package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestStepFunctionsPathCLI prints an execution's path with "kiri sfn path" against a running
// Kiri: the states in order, a Map's iterations indented, the failure and the final status.
func TestStepFunctionsPathCLI(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().SFN
	def := `{"StartAt":"Start","States":{
		"Start":{"Type":"Pass","Result":[1,2],"Next":"Each"},
		"Each":{"Type":"Map","ItemProcessor":{"StartAt":"Item","States":{"Item":{"Type":"Pass","End":true}}},"Next":"Stop"},
		"Stop":{"Type":"Fail","Error":"Stopped","Cause":"on purpose"}}}`
	arn := createMachine(t, c, "path-cli", def, "")
	start, err := c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	ex := aws.ToString(start.ExecutionArn)
	waitExecution(t, c, ex, 30*time.Second)
	cmd := exec.Command(kiritest.Binary(t), "sfn", "path", "--endpoint", srv.URL, ex)
	cmd.Env = append(cmd.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kiri sfn path: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{"Start  Pass", "Each  Map", "  iteration 0", "    Item  Pass", "  iteration 1", "    Item  Pass",
		"Stop  Fail  - failed Stopped: on purpose", "FAILED in"}
	if len(lines) != len(want) {
		t.Fatalf("path:\n%s", out)
	}
	for i, w := range want {
		if !strings.HasPrefix(squeeze(lines[i]), squeeze(w)) {
			t.Errorf("line %d %q, want %q", i, lines[i], w)
		}
	}
	_, err = exec.Command(kiritest.Binary(t), "sfn", "path", "--endpoint", srv.URL, arn+"-nope").CombinedOutput()
	if err == nil {
		t.Error("a path of no execution succeeded")
	}
}

// squeeze keeps the indentation of s and turns its other runs of spaces into one.
func squeeze(s string) string {
	indent := len(s) - len(strings.TrimLeft(s, " "))
	return s[:indent] + strings.Join(strings.Fields(s), " ")
}
