package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/kiri-run/kiri/internal/service/servicetest"
)

func TestEveryOperationHasAnAuthorizationRule(t *testing.T) {
	t.Parallel()
	s, err := New(t.Context(), servicetest.Deps(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.api.Load(); err != nil {
		t.Fatal(err)
	}
	implemented := s.api.Implemented()
	if len(implemented) != 12 {
		t.Fatalf("the service implements %d operations, want all 12: %v", len(implemented), implemented)
	}
	if missing := s.operations().Missing(implemented); len(missing) > 0 {
		t.Fatalf("operations without an authorization rule (refused in enforce mode): %v", missing)
	}
}

func TestCreateScheduleRefusesWhatSchedulerRefuses(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct {
		name, code, message string
		edit                func(*scheduler.CreateScheduleInput)
	}{
		{"an invalid cron expression", "ValidationException", "Invalid Schedule Expression cron(0 18 * * * *).",
			func(in *scheduler.CreateScheduleInput) { in.ScheduleExpression = aws.String("cron(0 18 * * * *)") }},
		{"a plural unit for one", "ValidationException", "Invalid Schedule Expression rate(1 minutes).",
			func(in *scheduler.CreateScheduleInput) { in.ScheduleExpression = aws.String("rate(1 minutes)") }},
		{"an unknown time zone", "ValidationException", "Invalid time zone: Mars/Olympus.",
			func(in *scheduler.CreateScheduleInput) { in.ScheduleExpressionTimezone = aws.String("Mars/Olympus") }},
		{"an end date before the start date", "ValidationException", "The EndDate must be after the StartDate.",
			func(in *scheduler.CreateScheduleInput) {
				in.StartDate, in.EndDate = aws.Time(start.Add(2*time.Hour)), aws.Time(start.Add(time.Hour))
			}},
		{"an end date in the past", "ValidationException", "The EndDate must be in the future.",
			func(in *scheduler.CreateScheduleInput) { in.EndDate = aws.Time(start.Add(-time.Hour)) }},
		{"a customer managed key", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.KmsKeyArn = aws.String("arn:aws:kms:us-east-1:000000000000:key/1234abcd")
			}},
		{"a universal target", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.Target.Arn = aws.String("arn:aws:scheduler:::aws-sdk:sqs:sendMessage")
			}},
		{"an EventBridge target before buses deliver", "ValidationException",
			"Target arn:aws:events:us-east-1:000000000000:event-bus/default is not supported by this server.",
			func(in *scheduler.CreateScheduleInput) {
				in.Target.Arn = aws.String("arn:aws:events:us-east-1:000000000000:event-bus/default")
				in.Target.EventBridgeParameters = &types.EventBridgeParameters{DetailType: aws.String("tick"), Source: aws.String("my.app")}
			}},
		{"a Step Functions target while Step Functions does not run", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.Target.Arn = aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:flow")
			}},
		{"a FIFO queue without a message group", "ValidationException", "MessageGroupId is required for an Amazon SQS FIFO queue target.",
			func(in *scheduler.CreateScheduleInput) { in.Target.Arn = aws.String(fifoARN) }},
		{"a message group for a standard queue", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.Target.SqsParameters = &types.SqsParameters{MessageGroupId: aws.String("g")}
			}},
		{"SqsParameters for a function", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.Target.Arn = aws.String(funcARN)
				in.Target.SqsParameters = &types.SqsParameters{MessageGroupId: aws.String("g")}
			}},
		{"a window with mode OFF", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) { in.FlexibleTimeWindow.MaximumWindowInMinutes = aws.Int32(5) }},
		{"mode FLEXIBLE without a window", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.FlexibleTimeWindow.Mode = types.FlexibleTimeWindowModeFlexible
			}},
		{"a window over a day", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.FlexibleTimeWindow = &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeFlexible, MaximumWindowInMinutes: aws.Int32(1441)}
			}},
		{"186 retries", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.Target.RetryPolicy = &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(186)}
			}},
		{"an event age under a minute", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.Target.RetryPolicy = &types.RetryPolicy{MaximumEventAgeInSeconds: aws.Int32(59)}
			}},
		{"a dead-letter queue that is no queue", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.Target.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String("arn:aws:sns:us-east-1:000000000000:topic")}
			}},
		{"a name with a space", "ValidationException",
			"1 validation error detected: Value 'bad name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$",
			func(in *scheduler.CreateScheduleInput) { in.Name = aws.String("bad name") }},
		{"a role that is no role", "ValidationException", "",
			func(in *scheduler.CreateScheduleInput) {
				in.Target.RoleArn = aws.String("arn:aws:iam::000000000000:user/me")
			}},
		{"a group that does not exist", "ResourceNotFoundException", "Schedule group nope does not exist.",
			func(in *scheduler.CreateScheduleInput) { in.GroupName = aws.String("nope") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &scheduler.CreateScheduleInput{
				Name: aws.String("refused"), ScheduleExpression: aws.String("rate(5 minutes)"),
				FlexibleTimeWindow: &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
				Target:             &types.Target{Arn: aws.String(queueARN), RoleArn: aws.String(roleARN)},
			}
			tc.edit(in)
			_, err := h.client.CreateSchedule(t.Context(), in)
			expectAPIError(t, err, tc.code, tc.message)
		})
	}
	out, err := h.client.ListSchedules(t.Context(), &scheduler.ListSchedulesInput{})
	if err != nil || len(out.Schedules) != 0 {
		t.Fatalf("refused calls created schedules: %+v %v", out, err)
	}
}

func TestCreateScheduleIsIdempotentWithAClientToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	in := &scheduler.CreateScheduleInput{
		Name: aws.String("once"), ScheduleExpression: aws.String("rate(1 hour)"), ClientToken: aws.String("token-1"),
		FlexibleTimeWindow: &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		Target:             &types.Target{Arn: aws.String(queueARN), RoleArn: aws.String(roleARN)},
	}
	first, err := h.client.CreateSchedule(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.client.CreateSchedule(t.Context(), in)
	if err != nil || aws.ToString(again.ScheduleArn) != aws.ToString(first.ScheduleArn) {
		t.Fatalf("a retry with the same token: %+v %v", again, err)
	}
	in.ClientToken = aws.String("token-2")
	_, err = h.client.CreateSchedule(t.Context(), in)
	expectAPIError(t, err, "ConflictException", "Schedule once already exists.")
	h.settle()
	if n := len(h.targets.to(queueARN)); n != 1 {
		t.Fatalf("%d fires, want the one of the one schedule", n)
	}
}

func TestScheduleGroupsListTagAndDeleteTheirSchedules(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := t.Context()
	def, err := h.client.GetScheduleGroup(ctx, &scheduler.GetScheduleGroupInput{Name: aws.String("default")})
	if err != nil || aws.ToString(def.Arn) != "arn:aws:scheduler:us-east-1:000000000000:schedule-group/default" || def.State != types.ScheduleGroupStateActive {
		t.Fatalf("the default group: %+v %v", def, err)
	}
	for _, name := range []string{"team-a", "team-b", "other"} {
		if _, err := h.client.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String(name),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(name)}}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = h.client.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String("team-a")})
	expectAPIError(t, err, "ConflictException", "Schedule group team-a already exists.")
	_, err = h.client.DeleteScheduleGroup(ctx, &scheduler.DeleteScheduleGroupInput{Name: aws.String("default")})
	expectAPIError(t, err, "ValidationException", "")

	var names []string
	p := scheduler.NewListScheduleGroupsPaginator(h.client, &scheduler.ListScheduleGroupsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page.ScheduleGroups {
			names = append(names, aws.ToString(g.Name))
		}
	}
	if want := "default other team-a team-b"; join(names) != want {
		t.Fatalf("groups %q, want %q", join(names), want)
	}
	teams, err := h.client.ListScheduleGroups(ctx, &scheduler.ListScheduleGroupsInput{NamePrefix: aws.String("team")})
	if err != nil || len(teams.ScheduleGroups) != 2 {
		t.Fatalf("groups named team*: %+v %v", teams, err)
	}

	arn := aws.String("arn:aws:scheduler:us-east-1:000000000000:schedule-group/team-a")
	if _, err := h.client.TagResource(ctx, &scheduler.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.UntagResource(ctx, &scheduler.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := h.client.ListTagsForResource(ctx, &scheduler.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" || aws.ToString(tags.Tags[0].Value) != "dev" {
		t.Fatalf("tags %+v %v", tags, err)
	}
	_, err = h.client.ListTagsForResource(ctx, &scheduler.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:scheduler:us-east-1:000000000000:schedule-group/nope")})
	expectAPIError(t, err, "ResourceNotFoundException", "")

	h.create(t, "in-a", "at(2026-12-05T20:10:00)", func(in *scheduler.CreateScheduleInput) { in.GroupName = aws.String("team-a") })
	h.create(t, "in-default", "at(2026-12-05T21:00:00)", nil)
	if _, err := h.client.DeleteScheduleGroup(ctx, &scheduler.DeleteScheduleGroupInput{Name: aws.String("team-a")}); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("in-a"), GroupName: aws.String("team-a")})
	expectAPIError(t, err, "ResourceNotFoundException", "")
	h.advance(10 * time.Minute)
	h.settle()
	if n := len(h.targets.to(queueARN)); n != 0 {
		t.Fatalf("a schedule of a deleted group fired")
	}
}

func TestListSchedulesFiltersAndPages(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testListSchedulesFiltersAndPages)
}

func testListSchedulesFiltersAndPages(t *testing.T, h *harness) {
	ctx := t.Context()
	if _, err := h.client.CreateScheduleGroup(ctx, &scheduler.CreateScheduleGroupInput{Name: aws.String("nightly")}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"report-a", "report-b", "cleanup"} {
		h.create(t, n, "cron(0 3 * * ? *)", nil)
	}
	h.create(t, "report-n", "cron(0 3 * * ? *)", func(in *scheduler.CreateScheduleInput) {
		in.GroupName = aws.String("nightly")
		in.State = types.ScheduleStateDisabled
	})
	list := func(in *scheduler.ListSchedulesInput) string {
		t.Helper()
		var names []string
		p := scheduler.NewListSchedulesPaginator(h.client, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.Schedules {
				names = append(names, aws.ToString(s.GroupName)+"/"+aws.ToString(s.Name)+":"+string(s.State))
			}
		}
		return join(names)
	}
	if got, want := list(&scheduler.ListSchedulesInput{MaxResults: aws.Int32(1)}), "default/cleanup:ENABLED default/report-a:ENABLED default/report-b:ENABLED nightly/report-n:DISABLED"; got != want {
		t.Errorf("all schedules %q, want %q", got, want)
	}
	if got, want := list(&scheduler.ListSchedulesInput{NamePrefix: aws.String("report"), State: types.ScheduleStateEnabled}), "default/report-a:ENABLED default/report-b:ENABLED"; got != want {
		t.Errorf("enabled report* %q, want %q", got, want)
	}
	if got, want := list(&scheduler.ListSchedulesInput{GroupName: aws.String("nightly")}), "nightly/report-n:DISABLED"; got != want {
		t.Errorf("group nightly %q, want %q", got, want)
	}
	_, err := h.client.ListSchedules(ctx, &scheduler.ListSchedulesInput{GroupName: aws.String("nope")})
	expectAPIError(t, err, "ResourceNotFoundException", "")
	got, err := h.client.GetSchedule(ctx, &scheduler.GetScheduleInput{Name: aws.String("report-n"), GroupName: aws.String("nightly")})
	if err != nil {
		t.Fatal(err)
	}
	rp := got.Target.RetryPolicy
	if rp == nil || aws.ToInt32(rp.MaximumRetryAttempts) != 185 || aws.ToInt32(rp.MaximumEventAgeInSeconds) != 86400 ||
		got.ActionAfterCompletion != types.ActionAfterCompletionNone || got.FlexibleTimeWindow.Mode != types.FlexibleTimeWindowModeOff {
		t.Fatalf("defaults of a schedule: %+v", got)
	}
}

func join(s []string) string { return strings.Join(s, " ") }
