package e2e

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// regionalS3 returns an S3 client of c signing for region.
func regionalS3(c *kiritest.Clients, region string) *s3.Client {
	cfg := c.Config.Copy()
	cfg.Region = region
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func mustCreateBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
}

func TestS3BucketCreateAndLocation(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients()
	ctx := t.Context()
	east, west := c.S3, regionalS3(c, "eu-west-1")

	mustCreateBucket(t, east, "plain")
	if _, err := west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("euro"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := east.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("global-to-west"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "us-west-2"}}); err != nil {
		t.Fatalf("us-east-1 endpoint refused another region's constraint: %v", err)
	}

	for bucket, want := range map[string]s3types.BucketLocationConstraint{"plain": "", "euro": "eu-west-1", "global-to-west": "us-west-2"} {
		loc, err := east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		if loc.LocationConstraint != want {
			t.Errorf("location of %s = %q, want %q", bucket, loc.LocationConstraint, want)
		}
		head, err := east.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		wantRegion := string(want)
		if wantRegion == "" {
			wantRegion = "us-east-1"
		}
		if aws.ToString(head.BucketRegion) != wantRegion {
			t.Errorf("HeadBucket %s region = %q, want %q", bucket, aws.ToString(head.BucketRegion), wantRegion)
		}
	}

	t.Run("recreating an owned us-east-1 bucket succeeds (legacy)", func(t *testing.T) {
		mustCreateBucket(t, east, "plain")
	})
	t.Run("recreating an owned regional bucket is BucketAlreadyOwnedByYou", func(t *testing.T) {
		_, err := west.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("euro"),
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
		expectAPIError(t, err, "BucketAlreadyOwnedByYou", http.StatusConflict)
	})

	for _, tc := range []struct {
		name, bucket, code string
		client             *s3.Client
		constraint         s3types.BucketLocationConstraint
		status             int
	}{
		{"upper case name is InvalidBucketName", "Bad-Name", "InvalidBucketName", east, "", 400},
		{"too short name is InvalidBucketName", "ab", "InvalidBucketName", east, "", 400},
		{"ip address name is InvalidBucketName", "192.168.5.4", "InvalidBucketName", east, "", 400},
		{"adjacent dots are InvalidBucketName", "a..b", "InvalidBucketName", east, "", 400},
		{"xn-- prefix is InvalidBucketName", "xn--bucket", "InvalidBucketName", east, "", 400},
		{"regional endpoint without constraint is IllegalLocationConstraint", "needs-constraint", "IllegalLocationConstraintException", west, "", 400},
		{"regional endpoint with another region is IllegalLocationConstraint", "other-region", "IllegalLocationConstraintException", west, "us-west-2", 400},
		{"us-east-1 as explicit constraint is InvalidLocationConstraint", "explicit-east", "InvalidLocationConstraint", east, "us-east-1", 400},
		{"nonsense constraint is InvalidLocationConstraint", "nonsense", "InvalidLocationConstraint", east, "moon-base", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &s3.CreateBucketInput{Bucket: aws.String(tc.bucket)}
			if tc.constraint != "" {
				in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: tc.constraint}
			}
			_, err := tc.client.CreateBucket(ctx, in)
			expectAPIError(t, err, tc.code, tc.status)
		})
	}

	t.Run("missing bucket is 404 on HEAD and NoSuchBucket on GET", func(t *testing.T) {
		_, err := east.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope")})
		expectHTTPStatus(t, err, http.StatusNotFound)
		_, err = east.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("nope")})
		expectAPIError(t, err, "NoSuchBucket", http.StatusNotFound)
	})
}

// expectHTTPStatus checks err is an HTTP response error with status (HEAD errors have no code).
func expectHTTPStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("err = %v, want HTTP %d", err, status)
	}
}

func TestS3BucketOwnershipAcrossAccounts(t *testing.T) {
	other := auth.Key{AccessKeyID: "AKIAKIRITEST00000002", SecretAccessKey: "kiri-test-secret-key-0000000000000000002", AccountID: "444455556666"}
	srv := kiritest.Start(t, kiritest.Options{Strict: true, Keys: []auth.Key{
		{AccessKeyID: kiritest.TestAccessKey, SecretAccessKey: kiritest.TestSecretKey, AccountID: kiritest.TestAccount}, other}})
	ctx := t.Context()
	mine, theirs := srv.Clients().S3, srv.ClientsAs(other.AccessKeyID, other.SecretAccessKey, "").S3
	mustCreateBucket(t, mine, "taken")
	_, err := theirs.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("taken")})
	expectAPIError(t, err, "BucketAlreadyExists", http.StatusConflict)
	_, err = theirs.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("taken")})
	expectHTTPStatus(t, err, http.StatusForbidden)
	_, err = theirs.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("taken")})
	expectAPIError(t, err, "AccessDenied", http.StatusForbidden)
	list, err := theirs.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(list.Buckets) != 0 {
		t.Fatalf("other account lists %v (%v), want none", list, err)
	}
}

func TestS3BucketListAndDelete(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	names := []string{"alpha-1", "alpha-2", "alpha-3", "beta-1", "gamma-1"}
	for _, n := range names {
		mustCreateBucket(t, c, n)
	}
	var got []string
	var token *string
	pages := 0
	for {
		out, err := c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(2), ContinuationToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if out.Owner == nil || len(aws.ToString(out.Owner.ID)) != 64 {
			t.Fatalf("owner = %+v, want a canonical id", out.Owner)
		}
		for _, b := range out.Buckets {
			got = append(got, aws.ToString(b.Name))
			if aws.ToString(b.BucketRegion) != "us-east-1" || b.CreationDate == nil {
				t.Errorf("bucket %+v lacks region or creation date", b)
			}
		}
		if token = out.ContinuationToken; token == nil {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(names, ",") || pages != 3 {
		t.Fatalf("listed %v in %d pages, want %v in 3", got, pages, names)
	}
	pre, err := c.ListBuckets(ctx, &s3.ListBucketsInput{Prefix: aws.String("alpha-")})
	if err != nil || len(pre.Buckets) != 3 || aws.ToString(pre.Prefix) != "alpha-" {
		t.Fatalf("prefix listing = %+v, %v", pre, err)
	}
	_, err = c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(10001)})
	expectAPIError(t, err, "InvalidArgument", 400)

	t.Run("a bucket holding an object is BucketNotEmpty", func(t *testing.T) {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("beta-1"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
		_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("beta-1")})
		expectAPIError(t, err, "BucketNotEmpty", http.StatusConflict)
	})
	t.Run("a bucket holding only a delete marker is BucketNotEmpty", func(t *testing.T) {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("gamma-1"),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("gamma-1"), Key: aws.String("gone")}); err != nil {
			t.Fatal(err)
		}
		_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("gamma-1")})
		expectAPIError(t, err, "BucketNotEmpty", http.StatusConflict)
	})
	t.Run("an empty bucket is deleted and gone", func(t *testing.T) {
		if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha-1")}); err != nil {
			t.Fatal(err)
		}
		_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("alpha-1")})
		expectHTTPStatus(t, err, http.StatusNotFound)
		_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("alpha-1")})
		expectAPIError(t, err, "NoSuchBucket", http.StatusNotFound)
	})
}

func TestS3BucketVersioningConfig(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "vers")
	get := func() s3types.BucketVersioningStatus {
		t.Helper()
		out, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("vers")})
		if err != nil {
			t.Fatal(err)
		}
		return out.Status
	}
	if st := get(); st != "" {
		t.Fatalf("new bucket versioning = %q, want none", st)
	}
	for _, st := range []s3types.BucketVersioningStatus{s3types.BucketVersioningStatusEnabled, s3types.BucketVersioningStatusSuspended} {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("vers"),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: st, MFADelete: s3types.MFADeleteDisabled}}); err != nil {
			t.Fatal(err)
		}
		if got := get(); got != st {
			t.Fatalf("versioning = %q, want %q", got, st)
		}
	}
	_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("vers"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: "Sideways"}})
	expectAPIError(t, err, "MalformedXML", 400)
	_, err = c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("nope")})
	expectAPIError(t, err, "NoSuchBucket", 404)
}

func TestS3BucketTagging(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "tagged")
	b := aws.String("tagged")
	_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
	expectAPIError(t, err, "NoSuchTagSet", 404)
	tags := []s3types.Tag{{Key: aws.String("team"), Value: aws.String("storage")}, {Key: aws.String("env"), Value: aws.String("")}}
	if _, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &s3types.Tagging{TagSet: tags}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
	if err != nil || len(out.TagSet) != 2 || aws.ToString(out.TagSet[0].Key) != "team" || aws.ToString(out.TagSet[0].Value) != "storage" {
		t.Fatalf("tags = %+v, %v", out, err)
	}
	for name, set := range map[string][]s3types.Tag{
		"duplicate keys": {{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}},
		"aws: prefix":    {{Key: aws.String("aws:cloudformation"), Value: aws.String("1")}},
		"long key":       {{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("1")}},
		"long value":     {{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}},
	} {
		t.Run(name+" is InvalidTag and changes nothing", func(t *testing.T) {
			_, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &s3types.Tagging{TagSet: set}})
			expectAPIError(t, err, "InvalidTag", 400)
			out, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
			if err != nil || len(out.TagSet) != 2 {
				t.Fatalf("tags after refused put = %+v, %v", out, err)
			}
		})
	}
	if _, err := c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
	expectAPIError(t, err, "NoSuchTagSet", 404)
}

func TestS3BucketPolicy(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "pol")
	b := aws.String("pol")
	_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	expectAPIError(t, err, "NoSuchBucketPolicy", 404)
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*"}]}`
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	if err != nil || aws.ToString(out.Policy) != doc {
		t.Fatalf("policy = %q, %v; want the document as put", aws.ToString(out.Policy), err)
	}
	for name, bad := range map[string]string{
		"not json":       `not json`,
		"no statement":   `{"Version":"2012-10-17"}`,
		"bad effect":     `{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"*"}]}`,
		"bad version":    `{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`,
		"missing action": `{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}`,
	} {
		t.Run(name+" is MalformedPolicy", func(t *testing.T) {
			_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(bad)})
			expectAPIError(t, err, "MalformedPolicy", 400)
		})
	}
	if _, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	expectAPIError(t, err, "NoSuchBucketPolicy", 404)
}

func TestS3BucketEncryptionAndOwnership(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "enc")
	b := aws.String("enc")
	_, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	expectAPIError(t, err, "ServerSideEncryptionConfigurationNotFoundError", 404)
	cfg := &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
		ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/mine")},
		BucketKeyEnabled:                   aws.Bool(true)}}}
	if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: cfg}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	r := out.ServerSideEncryptionConfiguration.Rules[0]
	if r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms || aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != "alias/mine" || !aws.ToBool(r.BucketKeyEnabled) {
		t.Fatalf("encryption = %+v", r)
	}
	_, err = c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: "ROT13"}}}}})
	expectAPIError(t, err, "InvalidArgument", 400)
	if _, err := c.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	expectAPIError(t, err, "ServerSideEncryptionConfigurationNotFoundError", 404)

	_, err = c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
	expectAPIError(t, err, "OwnershipControlsNotFoundError", 404)
	if _, err := c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, OwnershipControls: &s3types.OwnershipControls{
		Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}}); err != nil {
		t.Fatal(err)
	}
	own, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b})
	if err != nil || own.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Fatalf("ownership = %+v, %v", own, err)
	}
	_, err = c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: s3types.BucketCannedACLPublicRead})
	expectAPIError(t, err, "AccessControlListNotSupported", 400)
}

func TestS3BucketAndObjectACL(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acl"), ACL: s3types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	b := aws.String("acl")
	acl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	owner := aws.ToString(acl.Owner.ID)
	// A canned ACL lists its group grants first, then the owner's, as AWS does.
	if len(acl.Grants) != 2 || aws.ToString(acl.Grants[1].Grantee.ID) != owner || acl.Grants[1].Permission != s3types.PermissionFullControl ||
		aws.ToString(acl.Grants[0].Grantee.URI) != "http://acs.amazonaws.com/groups/global/AllUsers" || acl.Grants[0].Permission != s3types.PermissionRead {
		t.Fatalf("public-read bucket acl = %+v", acl.Grants)
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, GrantRead: aws.String(`uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"`),
		GrantFullControl: aws.String(`id="` + owner + `"`)}); err != nil {
		t.Fatal(err)
	}
	acl, err = c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b})
	if err != nil || len(acl.Grants) != 2 || acl.Grants[0].Permission != s3types.PermissionFullControl ||
		aws.ToString(acl.Grants[1].Grantee.URI) != "http://acs.amazonaws.com/groups/global/AuthenticatedUsers" {
		t.Fatalf("grant-header acl = %+v, %v", acl, err)
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, AccessControlPolicy: &s3types.AccessControlPolicy{
		Owner:  &s3types.Owner{ID: aws.String(owner)},
		Grants: []s3types.Grant{{Grantee: &s3types.Grantee{Type: s3types.TypeCanonicalUser, ID: aws.String(owner)}, Permission: s3types.PermissionFullControl}}}}); err != nil {
		t.Fatal(err)
	}
	acl, err = c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b})
	if err != nil || len(acl.Grants) != 1 {
		t.Fatalf("body acl = %+v, %v", acl, err)
	}
	_, err = c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: "world-writable"})
	expectAPIError(t, err, "InvalidArgument", 400)
	_, err = c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, AccessControlPolicy: &s3types.AccessControlPolicy{
		Owner:  &s3types.Owner{ID: aws.String(owner)},
		Grants: []s3types.Grant{{Grantee: &s3types.Grantee{Type: s3types.TypeCanonicalUser, ID: aws.String(owner)}, Permission: "EVERYTHING"}}}})
	expectAPIError(t, err, "MalformedACLError", 400)

	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("obj"), Body: strings.NewReader("hi")}); err != nil {
		t.Fatal(err)
	}
	oacl, err := c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: b, Key: aws.String("obj")})
	if err != nil || len(oacl.Grants) != 1 || oacl.Grants[0].Permission != s3types.PermissionFullControl || aws.ToString(oacl.Owner.ID) != owner {
		t.Fatalf("default object acl = %+v, %v", oacl, err)
	}
	if _, err := c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: b, Key: aws.String("obj"), ACL: s3types.ObjectCannedACLPublicReadWrite}); err != nil {
		t.Fatal(err)
	}
	oacl, err = c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: b, Key: aws.String("obj")})
	if err != nil || len(oacl.Grants) != 3 || oacl.Grants[1].Permission != s3types.PermissionWrite || oacl.Grants[2].Permission != s3types.PermissionFullControl {
		t.Fatalf("public-read-write object acl = %+v, %v", oacl, err)
	}
	// A new object at the same key starts over with the default ACL.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("obj"), Body: strings.NewReader("again")}); err != nil {
		t.Fatal(err)
	}
	oacl, err = c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: b, Key: aws.String("obj")})
	if err != nil || len(oacl.Grants) != 1 {
		t.Fatalf("acl of the overwritten object = %+v, %v", oacl, err)
	}
	_, err = c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: b, Key: aws.String("missing")})
	expectAPIError(t, err, "NoSuchKey", 404)
}

// rawRequest sends an unsigned request (browsers' CORS preflights are unsigned).
func rawRequest(t *testing.T, method, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func TestS3BucketCORS(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "web")
	b := aws.String("web")
	_, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b})
	expectAPIError(t, err, "NoSuchCORSConfiguration", 404)

	resp, body := rawRequest(t, http.MethodOptions, srv.URL+"/web/index.html", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CORSResponse") {
		t.Fatalf("preflight without CORS config: %d %s, want 403 CORSResponse", resp.StatusCode, body)
	}

	rules := []s3types.CORSRule{
		{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"x-amz-*", "content-type"},
			ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(600), ID: aws.String("app")},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
	}
	if _, err := c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: b, CORSConfiguration: &s3types.CORSConfiguration{CORSRules: rules}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b})
	if err != nil || len(got.CORSRules) != 2 || aws.ToString(got.CORSRules[0].ID) != "app" || aws.ToInt32(got.CORSRules[0].MaxAgeSeconds) != 600 {
		t.Fatalf("cors = %+v, %v", got, err)
	}

	for _, tc := range []struct {
		name                 string
		header               map[string]string
		status               int
		allowOrigin, methods string
	}{
		{"matching origin, method and headers is allowed", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
			"Access-Control-Request-Headers": "Content-Type, X-Amz-Date"}, 200, "https://app.example.com", "GET, PUT"},
		{"any origin may GET through the wildcard rule", map[string]string{"Origin": "http://elsewhere.test", "Access-Control-Request-Method": "GET"}, 200, "*", "GET"},
		{"unlisted method is refused", map[string]string{"Origin": "http://elsewhere.test", "Access-Control-Request-Method": "DELETE"}, 403, "", ""},
		{"unlisted header is refused", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
			"Access-Control-Request-Headers": "authorization"}, 403, "", ""},
		{"missing request method is a bad request", map[string]string{"Origin": "https://app.example.com"}, 400, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := rawRequest(t, http.MethodOptions, srv.URL+"/web/index.html", tc.header)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tc.status)
			}
			if tc.status == 403 && !strings.Contains(body, "CORSResponse: This CORS request is not allowed") {
				t.Fatalf("body %s lacks the CORSResponse message", body)
			}
			if h := resp.Header.Get("Access-Control-Allow-Origin"); h != tc.allowOrigin {
				t.Errorf("Allow-Origin = %q, want %q", h, tc.allowOrigin)
			}
			if h := resp.Header.Get("Access-Control-Allow-Methods"); h != tc.methods {
				t.Errorf("Allow-Methods = %q, want %q", h, tc.methods)
			}
			if tc.status == 200 && tc.allowOrigin != "*" {
				if resp.Header.Get("Access-Control-Max-Age") != "600" || resp.Header.Get("Access-Control-Allow-Headers") != "Content-Type, X-Amz-Date" ||
					resp.Header.Get("Access-Control-Expose-Headers") != "ETag" {
					t.Errorf("preflight headers = %v", resp.Header)
				}
			}
		})
	}

	t.Run("actual responses carry the matched rule's headers", func(t *testing.T) {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("index.html"), Body: strings.NewReader("<html/>")}); err != nil {
			t.Fatal(err)
		}
		resp, _ := rawRequest(t, http.MethodGet, srv.URL+"/web/index.html", map[string]string{"Origin": "https://app.example.com"})
		if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || resp.Header.Get("Access-Control-Expose-Headers") != "ETag" {
			t.Fatalf("GET with Origin: headers %v", resp.Header)
		}
		resp, _ = rawRequest(t, http.MethodGet, srv.URL+"/web/index.html", nil)
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("GET without Origin got CORS headers %v", resp.Header)
		}
	})

	_, err = c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: b, CORSConfiguration: &s3types.CORSConfiguration{CORSRules: []s3types.CORSRule{
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"PATCH"}}}}})
	expectAPIError(t, err, "InvalidRequest", 400)
	if _, err := c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b})
	expectAPIError(t, err, "NoSuchCORSConfiguration", 404)
}
