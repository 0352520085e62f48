package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// S3 accepts a function as a notification destination only when the function's resource
// policy lets s3.amazonaws.com invoke it for the bucket, as AWS validates the configuration.
func TestS3NotificationNeedsLambdaPermission(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := context.Background()
	if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("uploads")}); err != nil {
		t.Fatal(err)
	}
	src := `export const handler = async () => ({});`
	fn := createTestFunction(t, cl.Lambda, "onupload", kiritest.ZipSource(t, map[string]string{"index.mjs": src}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
	})
	waitActive(t, cl.Lambda, "onupload")
	id, err := cl.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	account := aws.ToString(id.Account)

	configure := func() error {
		_, err := cl.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("uploads"),
			NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
				LambdaFunctionArn: fn.FunctionArn, Events: []s3types.Event{"s3:ObjectCreated:*"},
			}}}})
		return err
	}
	refused := func(when string) {
		t.Helper()
		err := configure()
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidArgument" || !strings.Contains(apiErr.ErrorMessage(), "Unable to validate the following destination configurations") {
			t.Fatalf("%s: PutBucketNotificationConfiguration err = %v, want InvalidArgument", when, err)
		}
	}
	permit := func(sid, principal, sourceARN, sourceAccount string) {
		t.Helper()
		in := &lambda.AddPermissionInput{FunctionName: aws.String("onupload"), StatementId: aws.String(sid),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(principal), SourceArn: aws.String(sourceARN)}
		if sourceAccount != "" {
			in.SourceAccount = aws.String(sourceAccount)
		}
		if _, err := cl.Lambda.AddPermission(ctx, in); err != nil {
			t.Fatal(err)
		}
	}

	refused("no policy")
	permit("other-bucket", "s3.amazonaws.com", "arn:aws:s3:::other", "")
	refused("a permission for another bucket")
	permit("other-service", "sns.amazonaws.com", "arn:aws:s3:::uploads", "")
	refused("a permission for another service")
	permit("other-account", "s3.amazonaws.com", "arn:aws:s3:::uploads", "999999999999")
	refused("a permission for another account")
	permit("s3", "s3.amazonaws.com", "arn:aws:s3:::upload*", account)
	if err := configure(); err != nil {
		t.Fatalf("with a permission for the bucket: %v", err)
	}
	out, err := cl.S3.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("uploads")})
	if err != nil || len(out.LambdaFunctionConfigurations) != 1 {
		t.Fatalf("GetBucketNotificationConfiguration = %+v, %v", out, err)
	}
}
