package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// With IAM enforced a pipe acts as its role: a role that does not trust pipes.amazonaws.com,
// or may not read the source or send to the target, fails the pipe with Pipes' reason; once
// the role may, an update runs it.
func TestPipeActsAsItsRoleWhenIAMIsEnforced(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	cl := srv.Clients()
	ctx := t.Context()
	arn := func(name string) string { return "arn:aws:sqs:us-east-1:" + kiritest.TestAccount + ":" + name }
	src := sqsQueue(t, cl.SQS, "iam-src", nil)
	dst := sqsQueue(t, cl.SQS, "iam-dst", nil)
	role := func(name, service string) string {
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sts:AssumeRole"}]}`
		out, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Role.Arn)
	}
	fails := func(name, roleARN, reason string) {
		t.Helper()
		if _, err := cl.Pipes.CreatePipe(ctx, &pipes.CreatePipeInput{Name: aws.String(name), RoleArn: aws.String(roleARN),
			Source: aws.String(arn("iam-src")), Target: aws.String(arn("iam-dst"))}); err != nil {
			t.Fatal(err)
		}
		d := waitPipeState(t, cl.Pipes, name, ptypes.PipeStateCreateFailed)
		if !strings.Contains(aws.ToString(d.StateReason), reason) {
			t.Fatalf("StateReason %q, want %q", aws.ToString(d.StateReason), reason)
		}
	}
	fails("untrusted", role("lambda-only", "lambda.amazonaws.com"), "cannot assume the role")
	pipeRole := role("pipe-runner", "pipes.amazonaws.com")
	fails("unallowed", pipeRole, "does not have permissions to call ReceiveMessage on SQS")

	allow := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"` + arn("iam-src") + `"}]}`
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("pipe-runner"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	update := func() {
		t.Helper()
		if _, err := cl.Pipes.UpdatePipe(ctx, &pipes.UpdatePipeInput{Name: aws.String("unallowed"), RoleArn: aws.String(pipeRole)}); err != nil {
			t.Fatal(err)
		}
	}
	update()
	d := waitPipeState(t, cl.Pipes, "unallowed", ptypes.PipeStateUpdateFailed)
	if !strings.Contains(aws.ToString(d.StateReason), "deliver to the target") {
		t.Fatalf("StateReason %q", aws.ToString(d.StateReason))
	}
	send := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"` + arn("iam-dst") + `"}]}`
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("pipe-runner"), PolicyName: aws.String("send"),
		PolicyDocument: aws.String(send)}); err != nil {
		t.Fatal(err)
	}
	update()
	waitPipeState(t, cl.Pipes, "unallowed", ptypes.PipeStateRunning)
	sendBodies(t, cl.SQS, src, "through")
	var rec struct{ Body string }
	body := receiveBodies(t, cl.SQS, dst, 1)[0]
	if err := json.Unmarshal([]byte(body), &rec); err != nil || rec.Body != "through" {
		t.Fatalf("target received %s", body)
	}
}
