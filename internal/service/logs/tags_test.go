package logs

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

func TestTags(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := t.Context()
	c := h.client
	if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("g"), Tags: map[string]string{"a": "1"}}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:logs:us-east-1:000000000000:log-group:g"
	list := func() string {
		t.Helper()
		out, err := c.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		old, err := c.ListTagsLogGroup(ctx, &cloudwatchlogs.ListTagsLogGroupInput{LogGroupName: aws.String("g")})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(old.Tags) != fmt.Sprint(out.Tags) {
			t.Fatalf("ListTagsLogGroup %v != ListTagsForResource %v", old.Tags, out.Tags)
		}
		return fmt.Sprint(out.Tags)
	}
	if got := list(); got != "map[a:1]" {
		t.Fatalf("tags = %s", got)
	}
	if _, err := c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn + ":*"), Tags: map[string]string{"a": "2", "b": "3"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagLogGroup(ctx, &cloudwatchlogs.TagLogGroupInput{LogGroupName: aws.String("g"), Tags: map[string]string{"c": "4"}}); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "map[a:2 b:3 c:4]" {
		t.Fatalf("tags = %s", got)
	}
	if _, err := c.UntagResource(ctx, &cloudwatchlogs.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a", "missing"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagLogGroup(ctx, &cloudwatchlogs.UntagLogGroupInput{LogGroupName: aws.String("g"), Tags: []string{"c"}}); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "map[b:3]" {
		t.Fatalf("tags = %s", got)
	}

	many := map[string]string{}
	for i := range 50 {
		many[fmt.Sprintf("k%d", i)] = "v"
	}
	_, err := c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: many})
	expectAPIError(t, err, "TooManyTagsException")
	if got := list(); got != "map[b:3]" {
		t.Fatalf("a refused TagResource changed tags: %s", got)
	}
	_, err = c.TagResource(ctx, &cloudwatchlogs.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"aws:x": "y"}})
	expectAPIError(t, err, "InvalidParameterException")
	_, err = c.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:000000000000:log-group:nope")})
	expectAPIError(t, err, "ResourceNotFoundException")
	_, err = c.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket")})
	expectAPIError(t, err, "InvalidParameterException")
}
