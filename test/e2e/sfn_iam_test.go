package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestStepFunctionsRoleWhenIAMIsEnforced checks that a state machine's role must trust
// states.amazonaws.com, and that its tasks act as the role: without sqs:SendMessage the task
// fails with SQS's error, with it the message is sent.
func TestStepFunctionsRoleWhenIAMIsEnforced(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	cl := srv.Clients()
	ctx := t.Context()
	url, _ := createQueue(t, cl.SQS, "guarded-flow")
	def := `{"StartAt":"Send","States":{"Send":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage",
		"Parameters":{"QueueUrl":"` + url + `","MessageBody":"hello"},"End":true}}}`

	lambdaRole, err := createFunctionRole(ctx, cl, "not-for-states")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("untrusted"), Definition: aws.String(def),
		RoleArn: aws.String(lambdaRole)})
	wantAPIError(t, err, "AccessDeniedException", "states.amazonaws.com")

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("flow"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := cl.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("guarded"), Definition: aws.String(def), RoleArn: role.Role.Arn})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.StateMachineArn)
	d := runToEnd(t, cl.SFN, arn, `{}`)
	if d.Status != sfntypes.ExecutionStatusFailed || !strings.HasPrefix(aws.ToString(d.Error), "SQS.") {
		t.Fatalf("without sqs:SendMessage: %+v", d)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("flow"), PolicyName: aws.String("send"),
		PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	d = runToEnd(t, cl.SFN, arn, `{}`)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("with sqs:SendMessage: %+v", d)
	}
	got := receiveAll(t, cl.SQS, url, 1, 10*time.Second)
	if aws.ToString(got[0].Body) != "hello" {
		t.Fatalf("message %s", aws.ToString(got[0].Body))
	}
}
