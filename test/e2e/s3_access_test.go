package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// accessFixture is a strict-mode Kiri with a bucket owner and a second account.
type accessFixture struct {
	srv          *kiritest.Server
	owner, other *s3.Client
	otherAccount string
}

func startAccessFixture(t *testing.T) *accessFixture {
	t.Helper()
	other := auth.Key{AccessKeyID: "AKIAKIRITEST00000002", SecretAccessKey: "kiri-test-secret-key-0000000000000000002", AccountID: "444455556666"}
	srv := kiritest.Start(t, kiritest.Options{Strict: true, Keys: []auth.Key{
		{AccessKeyID: kiritest.TestAccessKey, SecretAccessKey: kiritest.TestSecretKey, AccountID: kiritest.TestAccount}, other}})
	return &accessFixture{srv: srv, owner: srv.Clients().S3,
		other: srv.ClientsAs(other.AccessKeyID, other.SecretAccessKey, "").S3, otherAccount: other.AccountID}
}

// anonymous sends an unsigned request and returns its status and body.
func (f *accessFixture) anonymous(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func put(t *testing.T, c *s3.Client, bucket, key string, acl s3types.ObjectCannedACL) {
	t.Helper()
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader("content of " + key), ACL: acl}); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func getErr(ctx context.Context, c *s3.Client, bucket, key string) error {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err == nil {
		out.Body.Close()
	}
	return err
}

func listErr(ctx context.Context, c *s3.Client, bucket string) error {
	_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	return err
}

func putErr(ctx context.Context, c *s3.Client, bucket, key string) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("x")})
	return err
}

func expectAllowed(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v, want allowed", what, err)
	}
}

func expectDenied(t *testing.T, what string, err error) {
	t.Helper()
	var re interface{ HTTPStatusCode() int }
	if err == nil || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
		t.Fatalf("%s: %v, want 403 AccessDenied", what, err)
	}
}

func TestS3AccessCannedACLs(t *testing.T) {
	f := startAccessFixture(t)
	ctx := t.Context()
	cases := []struct {
		name                        string
		bucketACL                   s3types.BucketCannedACL
		objectACL                   s3types.ObjectCannedACL
		list, readPublic, readOther bool
		write                       bool
	}{
		{name: "private bucket and object refuse another account", bucketACL: "private", objectACL: "private"},
		{name: "public-read object in private bucket is readable", bucketACL: "private", objectACL: "public-read", readPublic: true},
		{name: "public-read bucket lists but keeps private objects", bucketACL: "public-read", objectACL: "private", list: true},
		{name: "public-read-write bucket takes writes", bucketACL: "public-read-write", objectACL: "public-read", list: true, readPublic: true, write: true},
		{name: "authenticated-read bucket lists for any account", bucketACL: "authenticated-read", objectACL: "authenticated-read", list: true, readPublic: true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bucket := fmt.Sprintf("canned-%d", i)
			mustCreateBucket(t, f.owner, bucket)
			if _, err := f.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(bucket), ACL: c.bucketACL}); err != nil {
				t.Fatal(err)
			}
			put(t, f.owner, bucket, "granted", c.objectACL)
			put(t, f.owner, bucket, "default", "")
			check := func(what string, want bool, err error) {
				t.Helper()
				if want {
					expectAllowed(t, what, err)
				} else {
					expectDenied(t, what, err)
				}
			}
			check("list", c.list, listErr(ctx, f.other, bucket))
			check("get granted object", c.readPublic, getErr(ctx, f.other, bucket, "granted"))
			check("get default object", c.readOther, getErr(ctx, f.other, bucket, "default"))
			check("put", c.write, putErr(ctx, f.other, bucket, "new"))
			expectAllowed(t, "owner list", listErr(ctx, f.owner, bucket))
		})
	}
}

func TestS3AccessAnonymous(t *testing.T) {
	f := startAccessFixture(t)
	ctx := t.Context()
	mustCreateBucket(t, f.owner, "anon")
	put(t, f.owner, "anon", "public", s3types.ObjectCannedACLPublicRead)
	put(t, f.owner, "anon", "private", "")

	if status, body := f.anonymous(t, http.MethodGet, "/anon/public", ""); status != http.StatusOK || body != "content of public" {
		t.Fatalf("anonymous GET of a public-read object = %d %q", status, body)
	}
	for _, c := range []struct{ name, method, path string }{
		{"private object", http.MethodGet, "/anon/private"},
		{"listing a private bucket", http.MethodGet, "/anon"},
		{"missing key without list access", http.MethodGet, "/anon/nope"},
		{"writing a private bucket", http.MethodPut, "/anon/new"},
		{"listing buckets", http.MethodGet, "/"},
		{"creating a bucket", http.MethodPut, "/anon-created"},
	} {
		if status, body := f.anonymous(t, c.method, c.path, ""); status != http.StatusForbidden || !strings.Contains(body, "AccessDenied") {
			t.Fatalf("anonymous %s: %d %s, want 403 AccessDenied", c.name, status, body)
		}
	}
	if _, err := f.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("anon"), ACL: s3types.BucketCannedACLPublicReadWrite}); err != nil {
		t.Fatal(err)
	}
	if status, body := f.anonymous(t, http.MethodPut, "/anon/dropped", "from nobody"); status != http.StatusOK {
		t.Fatalf("anonymous PUT into a public-read-write bucket = %d %s", status, body)
	}
	// An anonymous writer's object belongs to the bucket owner.
	out, err := f.owner.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("anon"), Key: aws.String("dropped")})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if status, _ := f.anonymous(t, http.MethodGet, "/anon/nope", ""); status != http.StatusNotFound {
		t.Fatalf("anonymous GET of a missing key in a listable bucket = %d, want 404", status)
	}
}

func TestS3AccessBucketPolicy(t *testing.T) {
	f := startAccessFixture(t)
	ctx := t.Context()
	mustCreateBucket(t, f.owner, "pol")
	for _, k := range []string{"shared/a", "secret/b", "public/c"} {
		put(t, f.owner, "pol", k, "")
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":["s3:Get*","s3:PutObject"],"Resource":"arn:aws:s3:::pol/*"},
	 {"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/secret/*"},
	 {"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::pol","Condition":{"StringLike":{"s3:prefix":"public/*"}}},
	 {"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::pol/*","Condition":{"StringEquals":{"s3:x-amz-acl":"public-read"}}}]}`,
		f.otherAccount)
	if _, err := f.owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pol"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	expectAllowed(t, "named account reads", getErr(ctx, f.other, "pol", "shared/a"))
	expectAllowed(t, "named account writes", putErr(ctx, f.other, "pol", "shared/new"))
	expectDenied(t, "explicit deny beats the account's allow", getErr(ctx, f.other, "pol", "secret/b"))
	expectDenied(t, "explicit deny binds the owner too", getErr(ctx, f.owner, "pol", "secret/b"))
	expectAllowed(t, "owner reads elsewhere", getErr(ctx, f.owner, "pol", "shared/a"))
	_, err := f.other.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("pol"), Prefix: aws.String("public/")})
	expectAllowed(t, "list under the allowed prefix", err)
	_, err = f.other.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("pol"), Prefix: aws.String("shared/")})
	expectDenied(t, "list outside the allowed prefix", err)
	_, err = f.owner.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pol"), Key: aws.String("x"), Body: strings.NewReader("x"), ACL: s3types.ObjectCannedACLPublicRead})
	expectDenied(t, "condition on x-amz-acl", err)
	_, err = f.other.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pol")})
	expectDenied(t, "only the owner's account reads the policy", err)
	// A missing key is 404 under a prefix the caller may list, 403 elsewhere.
	_, err = f.other.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("pol"), Key: aws.String("public/missing")})
	expectHTTPStatus(t, err, http.StatusNotFound)

	_, err = f.owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("pol"), Policy: aws.String(
		`{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:*","Resource":"arn:aws:s3:::pol"}]}`)})
	expectAPIError(t, err, "MalformedPolicy", http.StatusBadRequest)
}

// TestS3AccessBucketPolicyEngine drives what the IAM policy engine evaluates in a bucket
// policy: a role named as principal covers its sessions, policy variables resolve per
// caller, and a Deny's NotPrincipal exempts only a caller whose every identity it names.
func TestS3AccessBucketPolicyEngine(t *testing.T) {
	f := startAccessFixture(t)
	ctx := t.Context()
	mustCreateBucket(t, f.owner, "eng")
	owner := kiritest.TestAccount
	for _, k := range []string{"home/" + f.otherAccount + "/a", "home/" + owner + "/a", "shared/a"} {
		put(t, f.owner, "eng", k, "")
	}
	// The other account's roles trust it and may read S3: the bucket policy decides the rest.
	otherClients := f.srv.ClientsAs("AKIAKIRITEST00000002", "kiri-test-secret-key-0000000000000000002", "")
	session := func(role string) *s3.Client {
		createRole(t, otherClients, role, trustAccounts(f.otherAccount), "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
		out, err := otherClients.STS.AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + f.otherAccount + ":role/" + role), RoleSessionName: aws.String("s1")})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		return f.srv.ClientsAs(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)).S3
	}
	reader, writer := session("reader"), session("writer")
	putPolicy := func(exempt string) {
		t.Helper()
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
		 {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%[1]s:role/reader"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::eng/shared/*"},
		 {"Effect":"Allow","Principal":{"AWS":"%[1]s"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::eng/home/${aws:PrincipalAccount}/*"},
		 {"Effect":"Deny","NotPrincipal":{"AWS":[%[2]s]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::eng/*"}]}`,
			f.otherAccount, exempt)
		if _, err := f.owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("eng"), Policy: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
	}
	putPolicy(fmt.Sprintf(`"arn:aws:sts::%[1]s:assumed-role/reader/s1","arn:aws:iam::%[1]s:role/reader","%[1]s"`, f.otherAccount))
	expectAllowed(t, "a variable resolves to the caller's account", getErr(ctx, f.other, "eng", "home/"+f.otherAccount+"/a"))
	expectDenied(t, "another account's home", getErr(ctx, f.other, "eng", "home/"+owner+"/a"))
	expectAllowed(t, "a session of the named role", getErr(ctx, reader, "eng", "shared/a"))
	expectDenied(t, "a session of another role", getErr(ctx, writer, "eng", "shared/a"))

	putPolicy(fmt.Sprintf(`"arn:aws:sts::%[1]s:assumed-role/reader/s1","%[1]s"`, f.otherAccount))
	expectDenied(t, "NotPrincipal without the session's role denies the session", getErr(ctx, reader, "eng", "shared/a"))
	expectAllowed(t, "NotPrincipal naming the account exempts its root", getErr(ctx, f.other, "eng", "home/"+f.otherAccount+"/a"))
}

func TestS3AccessPublicAccessBlock(t *testing.T) {
	f := startAccessFixture(t)
	ctx := t.Context()
	b := aws.String("pab")
	mustCreateBucket(t, f.owner, "pab")
	_, err := f.owner.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	expectAPIError(t, err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)
	status, err := f.owner.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: b})
	if err != nil || aws.ToBool(status.PolicyStatus.IsPublic) {
		t.Fatalf("policy status of a private bucket = %+v, %v", status, err)
	}

	if _, err := f.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: s3types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	put(t, f.owner, "pab", "k", s3types.ObjectCannedACLPublicRead)
	expectAllowed(t, "public bucket lists", listErr(ctx, f.other, "pab"))
	status, err = f.owner.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: b})
	if err != nil || !aws.ToBool(status.PolicyStatus.IsPublic) {
		t.Fatalf("policy status of a public-read bucket = %+v, %v", status, err)
	}

	if _, err := f.owner.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	got, err := f.owner.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	if err != nil || !aws.ToBool(got.PublicAccessBlockConfiguration.IgnorePublicAcls) || aws.ToBool(got.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Fatalf("public access block = %+v, %v", got, err)
	}
	expectDenied(t, "IgnorePublicAcls hides a public bucket", listErr(ctx, f.other, "pab"))
	expectDenied(t, "IgnorePublicAcls hides a public object", getErr(ctx, f.other, "pab", "k"))
	_, err = f.owner.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("p"), Body: strings.NewReader("x"), ACL: s3types.ObjectCannedACLPublicRead})
	expectDenied(t, "BlockPublicAcls refuses a public object ACL", err)
	_, err = f.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: s3types.BucketCannedACLPublicReadWrite})
	expectDenied(t, "BlockPublicAcls refuses a public bucket ACL", err)
	_, err = f.owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pab/*"}]}`)})
	expectDenied(t, "BlockPublicPolicy refuses a public policy", err)
	_, err = f.other.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{}})
	expectDenied(t, "another account changes the block", err)

	// RestrictPublicBuckets voids a public policy for everyone but the owner's account.
	if _, err := f.owner.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pab/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	put(t, f.owner, "pab", "private", "")
	expectAllowed(t, "public policy grants reads", getErr(ctx, f.other, "pab", "private"))
	if _, err := f.owner.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
		RestrictPublicBuckets: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	expectDenied(t, "RestrictPublicBuckets", getErr(ctx, f.other, "pab", "private"))
	expectAllowed(t, "owner under RestrictPublicBuckets", getErr(ctx, f.owner, "pab", "private"))
	if _, err := f.owner.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	expectAllowed(t, "public policy after the block is deleted", getErr(ctx, f.other, "pab", "private"))
}

func TestS3AccessForeignObject(t *testing.T) {
	f := startAccessFixture(t)
	ctx := t.Context()
	mustCreateBucket(t, f.owner, "shared")
	if _, err := f.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("shared"), ACL: s3types.BucketCannedACLPublicReadWrite}); err != nil {
		t.Fatal(err)
	}
	put(t, f.other, "shared", "theirs", "")
	put(t, f.other, "shared", "granted", s3types.ObjectCannedACLBucketOwnerRead)
	expectDenied(t, "bucket owner reads an object another account owns", getErr(ctx, f.owner, "shared", "theirs"))
	_, err := f.owner.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("shared"), Key: aws.String("theirs")})
	expectDenied(t, "bucket owner reads its ACL", err)
	expectAllowed(t, "bucket-owner-read grants the bucket owner", getErr(ctx, f.owner, "shared", "granted"))
	expectAllowed(t, "the writer reads its object", getErr(ctx, f.other, "shared", "theirs"))
	_, err = f.owner.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("shared"), Key: aws.String("theirs")})
	expectAllowed(t, "bucket owner deletes any object", err)
}

// TestS3ObjectOwnership checks who owns what another account writes into a bucket, under each
// Object Ownership setting, for PutObject, CopyObject and multipart uploads, and which ACLs a
// bucket whose ACLs are disabled (BucketOwnerEnforced) takes.
func TestS3ObjectOwnership(t *testing.T) {
	f := startAccessFixture(t)
	ctx := t.Context()
	ownerID, writerID := canonicalIDOf(t, f.owner), canonicalIDOf(t, f.other)
	objectOwner := func(t *testing.T, bucket, key string) string {
		t.Helper()
		out, err := f.owner.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			out, err = f.other.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		}
		if err != nil {
			t.Fatalf("GetObjectAcl %s: %v", key, err)
		}
		return aws.ToString(out.Owner.ID)
	}
	// write puts key through path as the other account, with a canned ACL, and returns the
	// owner ListParts showed for a multipart upload ("" otherwise).
	write := func(t *testing.T, bucket, path, key string, acl s3types.ObjectCannedACL) (string, error) {
		t.Helper()
		switch path {
		case "put":
			_, err := f.other.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("x"), ACL: acl})
			return "", err
		case "copy":
			_, err := f.other.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
				CopySource: aws.String(bucket + "/source"), ACL: acl})
			return "", err
		}
		cu, err := f.other.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), ACL: acl})
		if err != nil {
			return "", err
		}
		lp, err := f.other.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cu.UploadId})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(lp.Initiator.ID); got != writerID {
			t.Errorf("ListParts initiator %s, want the writer %s", got, writerID)
		}
		up, err := f.other.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cu.UploadId,
			PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.other.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
			UploadId: cu.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}}); err != nil {
			t.Fatal(err)
		}
		return aws.ToString(lp.Owner.ID), nil
	}
	for _, tc := range []struct {
		ownership s3types.ObjectOwnership
		acl       s3types.ObjectCannedACL
		owner     string // "": the write is refused with AccessControlListNotSupported
	}{
		{s3types.ObjectOwnershipBucketOwnerEnforced, "", ownerID},
		{s3types.ObjectOwnershipBucketOwnerEnforced, s3types.ObjectCannedACLBucketOwnerFullControl, ownerID},
		{s3types.ObjectOwnershipBucketOwnerEnforced, s3types.ObjectCannedACLPrivate, ""},
		{s3types.ObjectOwnershipBucketOwnerEnforced, s3types.ObjectCannedACLPublicRead, ""},
		{s3types.ObjectOwnershipBucketOwnerPreferred, "", writerID},
		{s3types.ObjectOwnershipBucketOwnerPreferred, s3types.ObjectCannedACLBucketOwnerFullControl, ownerID},
		{s3types.ObjectOwnershipBucketOwnerPreferred, s3types.ObjectCannedACLPrivate, writerID},
		{s3types.ObjectOwnershipObjectWriter, s3types.ObjectCannedACLBucketOwnerFullControl, writerID},
	} {
		bucket := strings.ToLower(fmt.Sprintf("own-%s-%s", tc.ownership, tc.acl))
		bucket = strings.TrimSuffix(bucket, "-")
		t.Run(bucket, func(t *testing.T) {
			if _, err := f.owner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket), ObjectOwnership: tc.ownership}); err != nil {
				t.Fatal(err)
			}
			policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"%s"},"Action":"s3:*","Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"]}]}`,
				f.otherAccount, bucket, bucket)
			if _, err := f.owner.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)}); err != nil {
				t.Fatal(err)
			}
			put(t, f.other, bucket, "source", "")
			for _, path := range []string{"put", "copy", "multipart"} {
				key := path + "-object"
				uploadOwner, err := write(t, bucket, path, key, tc.acl)
				if tc.owner == "" {
					var ae interface{ ErrorCode() string }
					if !errors.As(err, &ae) || ae.ErrorCode() != "AccessControlListNotSupported" {
						t.Fatalf("%s with ACL %s: %v, want AccessControlListNotSupported", path, tc.acl, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s with ACL %q: %v", path, tc.acl, err)
				}
				if got := objectOwner(t, bucket, key); got != tc.owner {
					t.Errorf("%s with ACL %q: owner %s, want %s", path, tc.acl, got, tc.owner)
				}
				if path == "multipart" && uploadOwner != tc.owner {
					t.Errorf("ListParts owner %s, want %s", uploadOwner, tc.owner)
				}
			}
		})
	}
}

// canonicalIDOf is the canonical user id S3 gives the account c signs as.
func canonicalIDOf(t *testing.T, c *s3.Client) string {
	t.Helper()
	out, err := c.ListBuckets(t.Context(), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Owner.ID)
}

// TestS3MultipartACL checks that the ACL a CreateMultipartUpload asks for is the completed
// object's, as for a PutObject.
func TestS3MultipartACL(t *testing.T) {
	f := startAccessFixture(t)
	ctx := t.Context()
	mustCreateBucket(t, f.owner, "mpu-acl")
	for _, tc := range []struct {
		acl    s3types.ObjectCannedACL
		status int // of an anonymous GET
	}{{s3types.ObjectCannedACLPublicRead, http.StatusOK}, {"", http.StatusForbidden}} {
		key := "object-" + string(tc.acl)
		cu, err := f.owner.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mpu-acl"), Key: aws.String(key), ACL: tc.acl})
		if err != nil {
			t.Fatal(err)
		}
		up, err := f.owner.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("mpu-acl"), Key: aws.String(key), UploadId: cu.UploadId,
			PartNumber: aws.Int32(1), Body: strings.NewReader("multipart body")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.owner.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpu-acl"), Key: aws.String(key),
			UploadId: cu.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}}); err != nil {
			t.Fatal(err)
		}
		if status, body := f.anonymous(t, http.MethodGet, "/mpu-acl/"+key, ""); status != tc.status {
			t.Errorf("anonymous GET of an object uploaded with ACL %q: %d %.200s, want %d", tc.acl, status, body, tc.status)
		}
	}
}

// TestS3DisableACLsNeedsOwnerOnlyBucketACL checks that a bucket whose ACL grants others cannot
// have its ACLs disabled until that ACL is reset.
func TestS3DisableACLsNeedsOwnerOnlyBucketACL(t *testing.T) {
	f := startAccessFixture(t)
	ctx := t.Context()
	if _, err := f.owner.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("was-public"), ACL: s3types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	enforce := func() error {
		_, err := f.owner.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: aws.String("was-public"),
			OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}})
		return err
	}
	var ae interface{ ErrorCode() string }
	if err := enforce(); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidBucketAclWithObjectOwnership" {
		t.Fatalf("disabling the ACLs of a public-read bucket: %v, want InvalidBucketAclWithObjectOwnership", err)
	}
	if _, err := f.owner.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("was-public"), ACL: s3types.BucketCannedACLPrivate}); err != nil {
		t.Fatal(err)
	}
	if err := enforce(); err != nil {
		t.Fatalf("disabling the ACLs once the bucket ACL is private: %v", err)
	}
}
