package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestEventRulesLifecycle puts, describes, lists (by prefix, in pages), disables, enables and
// deletes rules, with AWS's refusals.
func TestEventRulesLifecycle(t *testing.T) {
	t.Parallel()
	c := kiritest.Start(t, kiritest.Options{}).Clients().Events
	ctx := t.Context()
	if _, err := c.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		out, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(fmt.Sprintf("order-%d", i)), EventBusName: aws.String("shop"),
			EventPattern: aws.String(`{"source":["shop"]}`), Description: aws.String("orders"), State: ebtypes.RuleStateDisabled,
			Tags: []ebtypes.Tag{{Key: aws.String("n"), Value: aws.String(fmt.Sprint(i))}}})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("arn:aws:events:us-east-1:000000000000:rule/shop/order-%d", i); aws.ToString(out.RuleArn) != want {
			t.Fatalf("RuleArn = %s, want %s", aws.ToString(out.RuleArn), want)
		}
	}
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("other"), EventBusName: aws.String("shop"),
		EventPattern: aws.String(`{"source":["x"]}`)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("order-3"), EventBusName: aws.String("shop")})
	if err != nil || d.State != ebtypes.RuleStateDisabled || aws.ToString(d.Description) != "orders" || aws.ToString(d.EventBusName) != "shop" ||
		aws.ToString(d.EventPattern) != `{"source":["shop"]}` || aws.ToString(d.CreatedBy) != "000000000000" {
		t.Fatalf("DescribeRule = %+v, %v", d, err)
	}
	var names []string
	var token *string
	for {
		page, err := c.ListRules(ctx, &eventbridge.ListRulesInput{EventBusName: aws.String("shop"), NamePrefix: aws.String("order-"), Limit: aws.Int32(2), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rules {
			names = append(names, aws.ToString(r.Name))
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if strings.Join(names, ",") != "order-0,order-1,order-2,order-3,order-4" {
		t.Fatalf("ListRules = %v", names)
	}
	if _, err := c.EnableRule(ctx, &eventbridge.EnableRuleInput{Name: aws.String("order-3"), EventBusName: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("order-3"), EventBusName: aws.String("shop")})
	if d.State != ebtypes.RuleStateEnabled {
		t.Fatalf("state after EnableRule = %s", d.State)
	}
	tags, err := c.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: d.Arn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "3" {
		t.Fatalf("rule tags = %+v, %v", tags, err)
	}

	_, err = c.DisableRule(ctx, &eventbridge.DisableRuleInput{Name: aws.String("nope"), EventBusName: aws.String("shop")})
	wantEventsError(t, err, "ResourceNotFoundException", "Rule nope does not exist on EventBus shop.")
	_, err = c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("order-1")})
	wantEventsError(t, err, "ResourceNotFoundException", "Rule order-1 does not exist on EventBus default.")
	_, err = c.ListRules(ctx, &eventbridge.ListRulesInput{EventBusName: aws.String("nope")})
	wantEventsError(t, err, "ResourceNotFoundException", "Event bus nope does not exist.")
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad")})
	wantEventsError(t, err, "ValidationException", "Parameter(s) EventPattern or ScheduleExpression must be specified.")
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad"), EventPattern: aws.String(`{"source":"shop"}`)})
	wantEventsError(t, err, "InvalidEventPatternException", `Event pattern is not valid. Reason: "source" must be an object or an array`)
	_, err = c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("tick"), EventBusName: aws.String("shop"), ScheduleExpression: aws.String("rate(5 minutes)")})
	wantEventsError(t, err, "ValidationException", "ScheduleExpression is supported only on the default event bus.")

	if _, err := c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("order-0"), EventBusName: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("order-0"), EventBusName: aws.String("shop")})
	wantEventsError(t, err, "ResourceNotFoundException", "")
}

// TestEventPatternOracle runs every case recorded from AWS's TestEventPattern (the shared oracle
// file) through Kiri's TestEventPattern: each verdict and each refusal must be AWS's.
func TestEventPatternOracle(t *testing.T) {
	t.Parallel()
	path := filepath.Join(kiritest.ModuleRoot(), "internal", "pattern", "testdata", "eventbridge-patterns.json")
	if shared := filepath.Join(kiritest.ModuleRoot(), "..", "shared", "oracles", "eventbridge-patterns.json"); fileExists(shared) {
		path = shared
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name    string
		Event   json.RawMessage
		Pattern json.RawMessage
		Expect  json.RawMessage
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	c := kiritest.Start(t, kiritest.Options{}).Clients().Events
	passed := 0
	for _, tc := range cases {
		out, err := c.TestEventPattern(t.Context(), &eventbridge.TestEventPatternInput{Event: aws.String(string(tc.Event)), EventPattern: aws.String(string(tc.Pattern))})
		var verdict string
		var want struct{ Error, Message string }
		if json.Unmarshal(tc.Expect, &verdict) != nil {
			_ = json.Unmarshal(tc.Expect, &want)
		}
		switch {
		case want.Error != "":
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != want.Error || ae.ErrorMessage() != want.Message {
				t.Errorf("%s: got %v, %v; want %s: %s", tc.Name, out, err, want.Error, want.Message)
				continue
			}
		case err != nil:
			t.Errorf("%s: %v", tc.Name, err)
			continue
		case out.Result != (verdict == "match"):
			t.Errorf("%s: Result = %v, want %s", tc.Name, out.Result, verdict)
			continue
		}
		passed++
	}
	t.Logf("%d of %d AWS-recorded cases pass", passed, len(cases))
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
