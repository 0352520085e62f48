package awsproto_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/internal/awsproto"
	s3api "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/s3api"
)

func TestS3XMLAttributesAndFlattenedInput(t *testing.T) {
	s := mustService(t, "s3", awsproto.ServiceOptions{XMLRootNames: map[string]string{"GetBucketAcl": "AccessControlPolicy"}})
	awsproto.Handle(s, "GetBucketAcl", func(ctx context.Context, in *s3api.GetBucketAclRequest) (*s3api.GetBucketAclOutput, error) {
		return &s3api.GetBucketAclOutput{
			Owner: &s3api.Owner{ID: awsproto.Ptr("owner-id")},
			Grants: []s3api.Grant{
				{Grantee: &s3api.Grantee{Type: awsproto.Ptr("CanonicalUser"), ID: awsproto.Ptr("owner-id")}, Permission: awsproto.Ptr("FULL_CONTROL")},
				{Grantee: &s3api.Grantee{Type: awsproto.Ptr("Group"), URI: awsproto.Ptr("http://acs.amazonaws.com/groups/global/AllUsers")}, Permission: awsproto.Ptr("READ")},
			},
		}, nil
	})
	awsproto.Handle(s, "DeleteObjects", func(ctx context.Context, in *s3api.DeleteObjectsRequest) (*s3api.DeleteObjectsOutput, error) {
		out := &s3api.DeleteObjectsOutput{}
		for _, o := range in.Delete.Objects {
			out.Deleted = append(out.Deleted, s3api.DeletedObject{Key: o.Key})
		}
		out.Errors = []s3api.Error{{Key: awsproto.Ptr("locked"), Code: awsproto.Ptr("AccessDenied"), Message: awsproto.Ptr("no")}}
		return out, nil
	})
	srv := newServer(t, s)
	client := s3.NewFromConfig(sdkConfig(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	ctx := context.Background()

	acl, err := client.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("bkt")})
	if err != nil {
		t.Fatalf("GetBucketAcl: %v", err)
	}
	if len(acl.Grants) != 2 || acl.Grants[0].Grantee.Type != s3types.TypeCanonicalUser || acl.Grants[1].Grantee.Type != s3types.TypeGroup ||
		aws.ToString(acl.Grants[1].Grantee.URI) != "http://acs.amazonaws.com/groups/global/AllUsers" || acl.Grants[0].Permission != s3types.PermissionFullControl ||
		aws.ToString(acl.Owner.ID) != "owner-id" {
		t.Errorf("GetBucketAcl = %+v", acl)
	}

	del, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &s3types.Delete{
		Objects: []s3types.ObjectIdentifier{{Key: aws.String("a")}, {Key: aws.String("b/c")}}}})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	if len(del.Deleted) != 2 || aws.ToString(del.Deleted[1].Key) != "b/c" || len(del.Errors) != 1 || aws.ToString(del.Errors[0].Code) != "AccessDenied" {
		t.Errorf("DeleteObjects = %+v", del)
	}

	rec := httptest.NewRecorder()
	edge(awsproto.NewRouter(s)).ServeHTTP(rec, httptest.NewRequest("GET", "/bkt?acl", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
		`<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>owner-id</ID></Grantee>`,
		`<AccessControlList><Grant>`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body %s\nlacks %s", body, want)
		}
	}
}
