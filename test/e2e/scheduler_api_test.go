package e2e

import (
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestSchedulerValidationErrors checks that what Scheduler refuses is refused with its
// error and status, and changes nothing.
func TestSchedulerValidationErrors(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	_, arn := createQueue(t, cl.SQS, "refusals")
	cases := []struct {
		name, code, message string
		status              int
		edit                func(*scheduler.CreateScheduleInput)
	}{
		{"cron with both day fields", "ValidationException", "Invalid Schedule Expression cron(0 18 * * * *).", http.StatusBadRequest,
			func(in *scheduler.CreateScheduleInput) { in.ScheduleExpression = aws.String("cron(0 18 * * * *)") }},
		{"rate(1 minutes)", "ValidationException", "Invalid Schedule Expression rate(1 minutes).", http.StatusBadRequest,
			func(in *scheduler.CreateScheduleInput) { in.ScheduleExpression = aws.String("rate(1 minutes)") }},
		{"an at() with a zone", "ValidationException", "Invalid Schedule Expression at(2030-01-01T00:00:00Z).", http.StatusBadRequest,
			func(in *scheduler.CreateScheduleInput) {
				in.ScheduleExpression = aws.String("at(2030-01-01T00:00:00Z)")
			}},
		{"an unknown time zone", "ValidationException", "Invalid time zone: Europe/Atlantis.", http.StatusBadRequest,
			func(in *scheduler.CreateScheduleInput) { in.ScheduleExpressionTimezone = aws.String("Europe/Atlantis") }},
		{"too many retries", "ValidationException", "", http.StatusBadRequest,
			func(in *scheduler.CreateScheduleInput) {
				in.Target.RetryPolicy = &schedtypes.RetryPolicy{MaximumRetryAttempts: aws.Int32(186)}
			}},
		{"a customer managed key", "ValidationException", "KmsKeyArn is not supported", http.StatusBadRequest,
			func(in *scheduler.CreateScheduleInput) {
				in.KmsKeyArn = aws.String("arn:aws:kms:us-east-1:000000000000:key/abcd")
			}},
		{"a universal target Kiri does not call", "ValidationException", "universal target arn:aws:scheduler:::aws-sdk:ec2:runInstances is not supported", http.StatusBadRequest,
			func(in *scheduler.CreateScheduleInput) {
				in.Target.Arn = aws.String("arn:aws:scheduler:::aws-sdk:ec2:runInstances")
				in.Target.Input = aws.String(`{}`)
			}},
		{"a group that does not exist", "ResourceNotFoundException", "Schedule group nightly does not exist.", http.StatusNotFound,
			func(in *scheduler.CreateScheduleInput) { in.GroupName = aws.String("nightly") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &scheduler.CreateScheduleInput{Name: aws.String("refused"), ScheduleExpression: aws.String("rate(5 minutes)"),
				FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
				Target:             &schedtypes.Target{Arn: aws.String(arn), RoleArn: aws.String(schedulerRole)}}
			tc.edit(in)
			_, err := cl.Scheduler.CreateSchedule(t.Context(), in)
			wantAPIError(t, err, tc.code, tc.message)
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != tc.status {
				t.Fatalf("status of %v, want %d", err, tc.status)
			}
		})
	}
	out, err := cl.Scheduler.ListSchedules(t.Context(), &scheduler.ListSchedulesInput{})
	if err != nil || len(out.Schedules) != 0 {
		t.Fatalf("refused calls left schedules: %+v %v", out, err)
	}
	createSchedule(t, cl.Scheduler, "twice", "rate(1 hour)", &schedtypes.Target{Arn: aws.String(arn)})
	_, err = cl.Scheduler.CreateSchedule(t.Context(), &scheduler.CreateScheduleInput{Name: aws.String("twice"), ScheduleExpression: aws.String("rate(1 hour)"),
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target:             &schedtypes.Target{Arn: aws.String(arn), RoleArn: aws.String(schedulerRole)}})
	wantAPIError(t, err, "ConflictException", "Schedule twice already exists.")
}

// TestSchedulerGroupsAndTags creates a tagged group with a schedule, reads and changes its
// tags, and deletes it with its schedules.
func TestSchedulerGroupsAndTags(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := t.Context()
	_, arn := createQueue(t, cl.SQS, "grouped")
	g, err := cl.Scheduler.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String("billing"),
		Tags: []schedtypes.Tag{{Key: aws.String("team"), Value: aws.String("finance")}}})
	if err != nil {
		t.Fatal(err)
	}
	createSchedule(t, cl.Scheduler, "invoice", "cron(0 6 1 * ? *)", &schedtypes.Target{Arn: aws.String(arn)},
		func(in *scheduler.CreateScheduleInput) {
			in.GroupName = aws.String("billing")
			in.ScheduleExpressionTimezone = aws.String("Europe/Paris")
		})
	groups, err := cl.Scheduler.ListScheduleGroups(ctx, &scheduler.ListScheduleGroupsInput{})
	if err != nil || len(groups.ScheduleGroups) != 2 || aws.ToString(groups.ScheduleGroups[0].Name) != "billing" ||
		aws.ToString(groups.ScheduleGroups[1].Name) != "default" {
		t.Fatalf("groups %+v %v", groups, err)
	}
	if _, err := cl.Scheduler.TagResource(ctx, &scheduler.TagResourceInput{ResourceArn: g.ScheduleGroupArn,
		Tags: []schedtypes.Tag{{Key: aws.String("cost-center"), Value: aws.String("42")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := cl.Scheduler.ListTagsForResource(ctx, &scheduler.ListTagsForResourceInput{ResourceArn: g.ScheduleGroupArn})
	if err != nil || len(tags.Tags) != 2 || aws.ToString(tags.Tags[0].Key) != "cost-center" || aws.ToString(tags.Tags[1].Value) != "finance" {
		t.Fatalf("tags %+v %v", tags, err)
	}
	got, err := cl.Scheduler.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("invoice"), GroupName: aws.String("billing")})
	if err != nil || aws.ToString(got.ScheduleExpressionTimezone) != "Europe/Paris" || aws.ToString(got.Arn) != "arn:aws:scheduler:us-east-1:000000000000:schedule/billing/invoice" {
		t.Fatalf("schedule %+v %v", got, err)
	}
	if _, err := cl.Scheduler.DeleteScheduleGroup(ctx, &scheduler.DeleteScheduleGroupInput{Name: aws.String("billing")}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.Scheduler.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("invoice"), GroupName: aws.String("billing")})
	wantAPIError(t, err, "ResourceNotFoundException", "")
}
