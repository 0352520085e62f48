package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestSchedulerExecutionRoleWhenIAMIsEnforced checks that a schedule's execution role must
// trust scheduler.amazonaws.com, and that invocations act as the role: without sqs:SendMessage
// nothing reaches the queue, with it the message does.
func TestSchedulerExecutionRoleWhenIAMIsEnforced(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce})
	cl := srv.Clients()
	ctx := t.Context()
	url, arn := createQueue(t, cl.SQS, "guarded-schedule")

	lambdaRole, err := createFunctionRole(ctx, cl, "not-for-scheduler")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.Scheduler.CreateSchedule(ctx, &scheduler.CreateScheduleInput{Name: aws.String("untrusted"), ScheduleExpression: aws.String("rate(1 hour)"),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target:             &schedtypes.Target{Arn: aws.String(arn), RoleArn: aws.String(lambdaRole)}})
	wantAPIError(t, err, "ValidationException", "The execution role you provide must allow AWS EventBridge Scheduler to assume the role.")

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := cl.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("scheduler-send"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := role.Role.Arn
	createSchedule(t, cl.Scheduler, "denied", atIn(time.Second), &schedtypes.Target{Arn: aws.String(arn), RoleArn: roleARN, Input: aws.String("denied")})
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(srv.Logs(), "schedule invocation failed for good") {
		if time.Now().After(deadline) {
			t.Fatal("the invocation of a role without sqs:SendMessage did not fail")
		}
		time.Sleep(100 * time.Millisecond)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}`
	if _, err := cl.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("scheduler-send"), PolicyName: aws.String("send"),
		PolicyDocument: aws.String(allow)}); err != nil {
		t.Fatal(err)
	}
	createSchedule(t, cl.Scheduler, "allowed", atIn(time.Second), &schedtypes.Target{Arn: aws.String(arn), RoleArn: roleARN, Input: aws.String("allowed")})
	got := receiveAll(t, cl.SQS, url, 1, 15*time.Second)
	if len(got) != 1 || aws.ToString(got[0].Body) != "allowed" {
		t.Fatalf("messages %+v", got)
	}
}
