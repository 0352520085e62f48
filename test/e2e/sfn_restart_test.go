package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestStepFunctionsMachinesSurviveKill kills Kiri (SIGKILL) right after it acknowledged a state
// machine, a version, an alias and an activity: all are there after a restart.
func TestStepFunctionsMachinesSurviveKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	c := first.Clients().SFN
	out, err := c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String("durable"), Definition: aws.String(passMachine),
		RoleArn: aws.String(sfnRole), Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateActivity(t.Context(), &sfn.CreateActivityInput{Name: aws.String("durable")}); err != nil {
		t.Fatal(err)
	}
	first.Kill()

	c = kiritest.StartProcess(t, kiritest.Options{DataDir: dir}).Clients().SFN
	d, err := c.DescribeStateMachine(t.Context(), &sfn.DescribeStateMachineInput{StateMachineArn: out.StateMachineVersionArn})
	if err != nil || aws.ToString(d.Definition) != passMachine {
		t.Fatalf("after restart: %+v %v", d, err)
	}
	if _, err := c.DescribeActivity(t.Context(), &sfn.DescribeActivityInput{
		ActivityArn: aws.String("arn:aws:states:us-east-1:000000000000:activity:durable")}); err != nil {
		t.Fatal(err)
	}
}
