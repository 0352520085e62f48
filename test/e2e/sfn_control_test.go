package e2e

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

const (
	sfnRole     = "arn:aws:iam::000000000000:role/sfn-role"
	passMachine = `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"End":true}}}`
)

func createMachine(t *testing.T, c *sfn.Client, name, def string, typ sfntypes.StateMachineType) string {
	t.Helper()
	out, err := c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def),
		RoleArn: aws.String(sfnRole), Type: typ})
	if err != nil {
		t.Fatalf("create state machine %s: %v", name, err)
	}
	return aws.ToString(out.StateMachineArn)
}

// TestStepFunctionsStateMachineLifecycle creates, describes, updates, lists, tags and deletes
// state machines, with AWS's idempotency and errors.
func TestStepFunctionsStateMachineLifecycle(t *testing.T) {
	t.Parallel()
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	c := cl.SFN
	ctx := t.Context()
	arn := createMachine(t, c, "orders", passMachine, "")
	if arn != "arn:aws:states:us-east-1:000000000000:stateMachine:orders" {
		t.Fatalf("arn %s", arn)
	}
	// The same create again is idempotent; a different definition conflicts.
	if again := createMachine(t, c, "orders", passMachine, ""); again != arn {
		t.Fatalf("again %s", again)
	}
	_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("orders"), RoleArn: aws.String(sfnRole),
		Definition: aws.String(`{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}`)})
	wantAPIError(t, err, "StateMachineAlreadyExists", "State Machine Already Exists: '"+arn+"'")

	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Definition) != passMachine || d.Type != sfntypes.StateMachineTypeStandard || d.Status != sfntypes.StateMachineStatusActive ||
		d.LoggingConfiguration.Level != sfntypes.LogLevelOff || aws.ToString(d.RevisionId) == "" {
		t.Fatalf("describe %+v", d)
	}
	up, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: &arn,
		Definition: aws.String(`{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}`), Publish: true, VersionDescription: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(up.StateMachineVersionArn) != arn+":1" || aws.ToString(up.RevisionId) == aws.ToString(d.RevisionId) {
		t.Fatalf("update %+v", up)
	}
	_, err = c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: &arn})
	wantAPIError(t, err, "MissingRequiredParameter", "")

	for i := range 3 {
		createMachine(t, c, fmt.Sprintf("page-%d", i), passMachine, sfntypes.StateMachineTypeExpress)
	}
	var names []string
	p := sfn.NewListStateMachinesPaginator(c, &sfn.ListStateMachinesInput{MaxResults: 2})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.StateMachines) > 2 {
			t.Fatalf("page of %d", len(pg.StateMachines))
		}
		for _, m := range pg.StateMachines {
			names = append(names, aws.ToString(m.Name))
		}
	}
	if fmt.Sprint(names) != "[orders page-0 page-1 page-2]" {
		t.Fatalf("names %v", names)
	}

	if _, err := c.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: &arn, Tags: []sfntypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "a" {
		t.Fatalf("tags %+v %v", tags, err)
	}
	if _, err := c.UntagResource(ctx, &sfn.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}

	// Another region does not see the state machine.
	west := sfn.NewFromConfig(cl.Config, func(o *sfn.Options) { o.Region = "us-west-2" })
	_, err = west.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: &arn})
	wantAPIError(t, err, "StateMachineDoesNotExist", "")

	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: &arn})
	wantAPIError(t, err, "StateMachineDoesNotExist", "State Machine Does Not Exist: '"+arn+"'")
}

// TestStepFunctionsRefusals checks what CreateStateMachine refuses, with AWS's errors.
func TestStepFunctionsRefusals(t *testing.T) {
	t.Parallel()
	c := kiritest.Start(t, kiritest.Options{}).Clients().SFN
	cases := []struct {
		name, code, msg string
		in              sfn.CreateStateMachineInput
	}{
		{"a name with a space", "InvalidName", "Invalid Name: 'a b'",
			sfn.CreateStateMachineInput{Name: aws.String("a b"), Definition: aws.String(passMachine), RoleArn: aws.String(sfnRole)}},
		{"a definition that is not JSON", "InvalidDefinition", "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION",
			sfn.CreateStateMachineInput{Name: aws.String("bad"), Definition: aws.String("{"), RoleArn: aws.String(sfnRole)}},
		{"a role that is not a role", "InvalidArn", "Invalid Arn",
			sfn.CreateStateMachineInput{Name: aws.String("bad"), Definition: aws.String(passMachine), RoleArn: aws.String("role")}},
		{"a distributed map in an express machine", "InvalidDefinition", "Express state machine does not support Distributed Map",
			sfn.CreateStateMachineInput{Name: aws.String("dmap"), RoleArn: aws.String(sfnRole), Type: sfntypes.StateMachineTypeExpress, Definition: aws.String(
				`{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`)}},
		{"a resource no integration runs", "InvalidDefinition", "The resource provided arn:aws:states:::ec2:runInstances is not recognized",
			sfn.CreateStateMachineInput{Name: aws.String("ec2"), RoleArn: aws.String(sfnRole), Definition: aws.String(
				`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::ec2:runInstances","End":true}}}`)}},
		{"an AWS SDK action the service does not have", "InvalidDefinition", "The resource provided arn:aws:states:::aws-sdk:s3:getObjects is not recognized",
			sfn.CreateStateMachineInput{Name: aws.String("sdk-action"), RoleArn: aws.String(sfnRole), Definition: aws.String(
				`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObjects","End":true}}}`)}},
		{"an AWS SDK service this server does not serve", "InvalidDefinition", "The resource provided arn:aws:states:::aws-sdk:ec2:describeInstances is not recognized",
			sfn.CreateStateMachineInput{Name: aws.String("sdk-service"), RoleArn: aws.String(sfnRole), Definition: aws.String(
				`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:ec2:describeInstances","End":true}}}`)}},
		{"logging without a destination", "InvalidLoggingConfiguration", "Must specify exactly one Log Destination",
			sfn.CreateStateMachineInput{Name: aws.String("logs"), Definition: aws.String(passMachine), RoleArn: aws.String(sfnRole),
				LoggingConfiguration: &sfntypes.LoggingConfiguration{Level: sfntypes.LogLevelAll}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateStateMachine(t.Context(), &tc.in)
			wantAPIError(t, err, tc.code, tc.msg)
		})
	}
	ms, err := c.ListStateMachines(t.Context(), &sfn.ListStateMachinesInput{})
	if err != nil || len(ms.StateMachines) != 0 {
		t.Fatalf("refusals created %+v (%v)", ms, err)
	}
	_, err = c.DescribeStateMachine(t.Context(), &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:activity:a")})
	wantAPIError(t, err, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: activity'")
	_, err = c.ListMapRuns(t.Context(), &sfn.ListMapRunsInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:000000000000:execution:m:e")})
	wantAPIError(t, err, "ExecutionDoesNotExist", "")
}

// TestStepFunctionsVersionsAndAliases publishes versions and routes aliases between them.
func TestStepFunctionsVersionsAndAliases(t *testing.T) {
	t.Parallel()
	c := kiritest.Start(t, kiritest.Options{}).Clients().SFN
	ctx := t.Context()
	out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("v"), Definition: aws.String(passMachine),
		RoleArn: aws.String(sfnRole), Publish: true, VersionDescription: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.StateMachineArn)
	if aws.ToString(out.StateMachineVersionArn) != arn+":1" {
		t.Fatalf("version %s", aws.ToString(out.StateMachineVersionArn))
	}
	// Publishing an unchanged revision answers the latest version.
	pub, err := c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: &arn})
	if err != nil || aws.ToString(pub.StateMachineVersionArn) != arn+":1" {
		t.Fatalf("publish %+v %v", pub, err)
	}
	if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: &arn,
		Definition: aws.String(`{"StartAt":"S","States":{"S":{"Type":"Succeed"}}}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: &arn, RevisionId: aws.String("stale")})
	wantAPIError(t, err, "ConflictException", "Failed to publish the State Machine version for revision stale.")
	pub, err = c.PublishStateMachineVersion(ctx, &sfn.PublishStateMachineVersionInput{StateMachineArn: &arn, Description: aws.String("second")})
	if err != nil || aws.ToString(pub.StateMachineVersionArn) != arn+":2" {
		t.Fatalf("publish %+v %v", pub, err)
	}
	vs, err := c.ListStateMachineVersions(ctx, &sfn.ListStateMachineVersionsInput{StateMachineArn: &arn})
	if err != nil || len(vs.StateMachineVersions) != 2 || aws.ToString(vs.StateMachineVersions[0].StateMachineVersionArn) != arn+":2" {
		t.Fatalf("versions %+v %v", vs, err)
	}
	d, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn + ":1")})
	if err != nil || aws.ToString(d.Definition) != passMachine || aws.ToString(d.Description) != "first" {
		t.Fatalf("describe version %+v %v", d, err)
	}

	_, err = c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("live"), RoutingConfiguration: []sfntypes.RoutingConfigurationListItem{
		{StateMachineVersionArn: aws.String(arn + ":1"), Weight: 50}, {StateMachineVersionArn: aws.String(arn + ":2"), Weight: 40}}})
	wantAPIError(t, err, "ValidationException", "Sum of routing configuration weights must be equal to 100")
	al, err := c.CreateStateMachineAlias(ctx, &sfn.CreateStateMachineAliasInput{Name: aws.String("live"), RoutingConfiguration: []sfntypes.RoutingConfigurationListItem{
		{StateMachineVersionArn: aws.String(arn + ":1"), Weight: 60}, {StateMachineVersionArn: aws.String(arn + ":2"), Weight: 40}}})
	if err != nil || aws.ToString(al.StateMachineAliasArn) != arn+":live" {
		t.Fatalf("alias %+v %v", al, err)
	}
	_, err = c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: aws.String(arn + ":1")})
	wantAPIError(t, err, "ConflictException", "Version to be deleted must not be referenced by an alias.")
	if _, err := c.UpdateStateMachineAlias(ctx, &sfn.UpdateStateMachineAliasInput{StateMachineAliasArn: al.StateMachineAliasArn,
		RoutingConfiguration: []sfntypes.RoutingConfigurationListItem{{StateMachineVersionArn: aws.String(arn + ":2"), Weight: 100}}}); err != nil {
		t.Fatal(err)
	}
	da, err := c.DescribeStateMachineAlias(ctx, &sfn.DescribeStateMachineAliasInput{StateMachineAliasArn: al.StateMachineAliasArn})
	if err != nil || len(da.RoutingConfiguration) != 1 || da.RoutingConfiguration[0].Weight != 100 {
		t.Fatalf("describe alias %+v %v", da, err)
	}
	if _, err := c.DeleteStateMachineVersion(ctx, &sfn.DeleteStateMachineVersionInput{StateMachineVersionArn: aws.String(arn + ":1")}); err != nil {
		t.Fatal(err)
	}
	las, err := c.ListStateMachineAliases(ctx, &sfn.ListStateMachineAliasesInput{StateMachineArn: &arn})
	if err != nil || len(las.StateMachineAliases) != 1 {
		t.Fatalf("aliases %+v %v", las, err)
	}
	if _, err := c.DeleteStateMachineAlias(ctx, &sfn.DeleteStateMachineAliasInput{StateMachineAliasArn: al.StateMachineAliasArn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStateMachineAlias(ctx, &sfn.DescribeStateMachineAliasInput{StateMachineAliasArn: al.StateMachineAliasArn})
	wantAPIError(t, err, "ResourceNotFound", "")
}

// TestStepFunctionsActivities creates, describes, lists and deletes activities.
func TestStepFunctionsActivities(t *testing.T) {
	t.Parallel()
	c := kiritest.Start(t, kiritest.Options{}).Clients().SFN
	ctx := t.Context()
	a, err := c.CreateActivity(ctx, &sfn.CreateActivityInput{Name: aws.String("work")})
	if err != nil || aws.ToString(a.ActivityArn) != "arn:aws:states:us-east-1:000000000000:activity:work" {
		t.Fatalf("create %+v %v", a, err)
	}
	d, err := c.DescribeActivity(ctx, &sfn.DescribeActivityInput{ActivityArn: a.ActivityArn})
	if err != nil || aws.ToString(d.Name) != "work" {
		t.Fatalf("describe %+v %v", d, err)
	}
	l, err := c.ListActivities(ctx, &sfn.ListActivitiesInput{})
	if err != nil || len(l.Activities) != 1 {
		t.Fatalf("list %+v %v", l, err)
	}
	if _, err := c.DeleteActivity(ctx, &sfn.DeleteActivityInput{ActivityArn: a.ActivityArn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeActivity(ctx, &sfn.DescribeActivityInput{ActivityArn: a.ActivityArn})
	wantAPIError(t, err, "ActivityDoesNotExist", "Activity Does Not Exist: '"+aws.ToString(a.ActivityArn)+"'")
}
