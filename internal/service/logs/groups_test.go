package logs

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// TestHandlersFitModel binds every handler to the model, as the first request would.
func TestHandlersFitModel(t *testing.T) {
	svc, err := New(context.Background(), servicetest.Deps(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.API().Load(); err != nil {
		t.Fatal(err)
	}
}

// TestMigrationsRunOnEveryBackend opens the schema on SQLite, and on PostgreSQL when
// KIRI_TEST_POSTGRES is set, and drives a write and a read through it.
func TestMigrationsRunOnEveryBackend(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{cfg: b.Config})
			ctx := t.Context()
			if err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "/aws/lambda/fn", "s1", []Event{{Time: nowish(), Message: "hello"}}); err != nil {
				t.Fatal(err)
			}
			out, err := h.client.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/aws/lambda/fn")})
			if err != nil || len(out.Events) != 1 {
				t.Fatalf("filter = %v, %v", out, err)
			}
		})
	}
}

func TestLogGroupLifecycle(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := t.Context()
	c := h.client
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/app/web"),
		Tags: map[string]string{"team": "core"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/app/web")})
	expectAPIError(t, err, "ResourceAlreadyExistsException")

	out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LogGroups) != 1 {
		t.Fatalf("groups = %d, want 1", len(out.LogGroups))
	}
	g := out.LogGroups[0]
	wantARN := "arn:aws:logs:us-east-1:000000000000:log-group:/app/web"
	if aws.ToString(g.Arn) != wantARN+":*" || aws.ToString(g.LogGroupArn) != wantARN {
		t.Fatalf("arn = %s, logGroupArn = %s", aws.ToString(g.Arn), aws.ToString(g.LogGroupArn))
	}
	if g.CreationTime == nil || g.RetentionInDays != nil || aws.ToInt64(g.StoredBytes) != 0 || g.LogGroupClass != types.LogGroupClassStandard {
		t.Fatalf("group = %+v", g)
	}

	if _, err := c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/app/web")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/app/web")})
	expectAPIError(t, err, "ResourceNotFoundException")
	// A group of the same name starts empty: no tags survive from its predecessor.
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/app/web")}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(wantARN)})
	if err != nil || len(tags.Tags) != 0 {
		t.Fatalf("tags of recreated group = %v, %v", tags, err)
	}
}

func TestCreateLogGroupValidation(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	cases := []struct{ name, group string }{
		{"empty name is refused", ""},
		{"a space is outside the pattern", "bad name"},
		{"a colon is outside the pattern", "bad:name"},
		{"names longer than 512 are refused", string(make([]byte, 513))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.CreateLogGroup(t.Context(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(tc.group)})
			expectAPIError(t, err, "InvalidParameterException")
		})
	}
}

func TestDescribeLogGroupsFiltersAndPages(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := t.Context()
	for _, n := range []string{"/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/c", "/aws/lambda/d", "/app/Web-Server", "/app/worker", "z"} {
		if _, err := h.client.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(in *cloudwatchlogs.DescribeLogGroupsInput) []string {
		t.Helper()
		var names []string
		p := cloudwatchlogs.NewDescribeLogGroupsPaginator(h.client, in)
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if in.Limit != nil && len(out.LogGroups) > int(*in.Limit) {
				t.Fatalf("page of %d, limit %d", len(out.LogGroups), *in.Limit)
			}
			for _, g := range out.LogGroups {
				names = append(names, aws.ToString(g.LogGroupName))
			}
		}
		return names
	}
	cases := []struct {
		name string
		in   cloudwatchlogs.DescribeLogGroupsInput
		want string
	}{
		{"all groups in byte order, two per page", cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(2)},
			"[/app/Web-Server /app/worker /aws/lambda/a /aws/lambda/b /aws/lambda/c /aws/lambda/d z]"},
		{"prefix narrows", cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/"), Limit: aws.Int32(3)},
			"[/aws/lambda/a /aws/lambda/b /aws/lambda/c /aws/lambda/d]"},
		{"pattern matches anywhere, ignoring case", cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("web")},
			"[/app/Web-Server]"},
		{"pattern treats _ literally", cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("a_b")}, "[]"},
		{"identifiers take names and ARNs", cloudwatchlogs.DescribeLogGroupsInput{LogGroupIdentifiers: []string{
			"z", "arn:aws:logs:us-east-1:000000000000:log-group:/app/worker:*"}}, "[/app/worker z]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(list(&tc.in)); got != tc.want {
				t.Fatalf("= %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("prefix and pattern together are refused", func(t *testing.T) {
		_, err := h.client.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{
			LogGroupNamePrefix: aws.String("/a"), LogGroupNamePattern: aws.String("a")})
		expectAPIError(t, err, "InvalidParameterException")
	})
	t.Run("a made-up token is refused", func(t *testing.T) {
		_, err := h.client.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{NextToken: aws.String("bogus")})
		expectAPIError(t, err, "InvalidParameterException")
	})
	t.Run("limit over 50 is refused", func(t *testing.T) {
		_, err := h.client.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(51)})
		expectAPIError(t, err, "InvalidParameterException")
	})
	t.Run("another region sees none of them", func(t *testing.T) {
		out, err := newClient(h.url, "eu-west-1").DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
		if err != nil || len(out.LogGroups) != 0 {
			t.Fatalf("eu-west-1 groups = %v, %v", out, err)
		}
	})
}
