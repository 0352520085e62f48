package awsproto_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/internal/awsproto"
	api "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/stsapi"
)

func newSTS(t *testing.T) *sts.Client {
	s := mustService(t, "sts", awsproto.ServiceOptions{})
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	awsproto.Handle(s, "AssumeRole", func(ctx context.Context, in *api.AssumeRoleRequest) (*api.AssumeRoleResponse, error) {
		if awsproto.Value(in.RoleArn) == "arn:aws:iam::000000000000:role/bad" {
			return nil, awsproto.Errorf("MalformedPolicyDocumentException", 0, "policy is %s", "bad")
		}
		if len(in.Tags) != 2 || awsproto.Value(in.Tags[1].Value) != "v2" || awsproto.Value(in.DurationSeconds) != 1800 {
			return nil, awsproto.Errorf("InvalidParameterValue", 400, "tags/duration not decoded: %+v", in)
		}
		return &api.AssumeRoleResponse{
			AssumedRoleUser: &api.AssumedRoleUser{Arn: in.RoleArn, AssumedRoleId: awsproto.Ptr("AROA:" + awsproto.Value(in.RoleSessionName))},
			Credentials: &api.Credentials{
				AccessKeyId: awsproto.Ptr("ASIA1"), SecretAccessKey: awsproto.Ptr("s<&>"), SessionToken: awsproto.Ptr("tok"), Expiration: &expires,
			},
			PackedPolicySize: awsproto.Ptr(int32(7)),
		}, nil
	})
	awsproto.Handle(s, "GetCallerIdentity", func(ctx context.Context, in *api.GetCallerIdentityRequest) (*api.GetCallerIdentityResponse, error) {
		c := awsproto.CallFrom(ctx)
		return &api.GetCallerIdentityResponse{Account: &c.AccountID, Arn: awsproto.Ptr("arn:aws:iam::" + c.AccountID + ":root"), UserId: awsproto.Ptr(c.Operation)}, nil
	})
	srv := newServer(t, s)
	return sts.NewFromConfig(sdkConfig(), func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func TestSTSQueryRoundTrip(t *testing.T) {
	client := newSTS(t)
	ctx := context.Background()

	out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::000000000000:role/r"), RoleSessionName: aws.String("sess"),
		DurationSeconds: aws.Int32(1800),
		Tags:            []ststypes.Tag{{Key: aws.String("k1"), Value: aws.String("v1")}, {Key: aws.String("k2"), Value: aws.String("v2")}},
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	if got := aws.ToString(out.Credentials.SecretAccessKey); got != "s<&>" {
		t.Errorf("SecretAccessKey = %q", got)
	}
	if !out.Credentials.Expiration.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("Expiration = %v", out.Credentials.Expiration)
	}
	if aws.ToString(out.AssumedRoleUser.AssumedRoleId) != "AROA:sess" || aws.ToInt32(out.PackedPolicySize) != 7 {
		t.Errorf("AssumedRoleUser = %+v, size %v", out.AssumedRoleUser, out.PackedPolicySize)
	}

	id, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if aws.ToString(id.Account) != "000000000000" || aws.ToString(id.UserId) != "GetCallerIdentity" {
		t.Errorf("identity = %+v", id)
	}

	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/bad"), RoleSessionName: aws.String("sess")})
	var mp *ststypes.MalformedPolicyDocumentException
	if !errors.As(err, &mp) {
		t.Fatalf("error = %v, want MalformedPolicyDocumentException", err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "MalformedPolicyDocument" || apiErr.ErrorMessage() != "policy is bad" {
		t.Errorf("api error = %v", err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 || re.ServiceRequestID() != "req-0001" {
		t.Errorf("response error = %v", err)
	}

	_, err = client.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NotImplemented" {
		t.Errorf("unregistered op error = %v, want NotImplemented", err)
	}
}
