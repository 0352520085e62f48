package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func TestS3BucketLifecycleConfiguration(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	mustCreateBucket(t, c, "rules")
	b := aws.String("rules")
	_, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
	expectAPIError(t, err, "NoSuchLifecycleConfiguration", 404)
	rules := []s3types.LifecycleRule{
		{ID: aws.String("logs"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(30)}},
		{ID: aws.String("old"), Status: s3types.ExpirationStatusDisabled, Filter: &s3types.LifecycleRuleFilter{Tag: &s3types.Tag{Key: aws.String("tmp"), Value: aws.String("1")}},
			NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(7), NewerNoncurrentVersions: aws.Int32(2)}},
		{ID: aws.String("mpu"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{},
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(3)}},
	}
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules}}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
	if err != nil || len(got.Rules) != 3 || aws.ToInt32(got.Rules[0].Expiration.Days) != 30 || aws.ToString(got.Rules[1].Filter.Tag.Key) != "tmp" ||
		got.Rules[1].Status != s3types.ExpirationStatusDisabled || aws.ToInt32(got.Rules[2].AbortIncompleteMultipartUpload.DaysAfterInitiation) != 3 {
		t.Fatalf("lifecycle = %+v, %v", got, err)
	}

	midday := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		rule s3types.LifecycleRule
		code string
	}{
		{"zero days is InvalidArgument", s3types.LifecycleRule{ID: aws.String("z"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(0)}}, "InvalidArgument"},
		{"a date not at midnight is InvalidArgument", s3types.LifecycleRule{ID: aws.String("d"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{},
			Expiration: &s3types.LifecycleExpiration{Date: &midday}}, "InvalidArgument"},
		{"a transition date not at midnight is InvalidArgument", s3types.LifecycleRule{ID: aws.String("td"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{},
			Transitions: []s3types.Transition{{Date: &midday, StorageClass: s3types.TransitionStorageClassGlacier}}}, "InvalidArgument"},
		{"a rule without action is InvalidRequest", s3types.LifecycleRule{ID: aws.String("n"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{}}, "InvalidRequest"},
		{"an unknown status is MalformedXML", s3types.LifecycleRule{ID: aws.String("s"), Status: "Sometimes", Filter: &s3types.LifecycleRuleFilter{},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}}, "MalformedXML"},
		{"abort with a tag filter is InvalidRequest", s3types.LifecycleRule{ID: aws.String("t"), Status: s3types.ExpirationStatusEnabled,
			Filter:                         &s3types.LifecycleRuleFilter{Tag: &s3types.Tag{Key: aws.String("k"), Value: aws.String("v")}},
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}}, "InvalidRequest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
				LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{tc.rule}}})
			expectAPIError(t, err, tc.code, 400)
		})
	}
	dup := []s3types.LifecycleRule{rules[0], rules[0]}
	_, err = c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: dup}})
	expectAPIError(t, err, "InvalidArgument", 400)

	if _, err := c.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
	expectAPIError(t, err, "NoSuchLifecycleConfiguration", 404)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestS3BucketLifecycleExpiresObjects(t *testing.T) {
	// A lifecycle "day" of one second, applied every 100 ms.
	t.Setenv("KIRI_S3_LIFECYCLE_INTERVAL", "100ms")
	t.Setenv("KIRI_S3_LIFECYCLE_DAY", "1s")
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().S3
	ctx := t.Context()
	put := func(bucket, key, tagging string) {
		t.Helper()
		in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("data " + key)}
		if tagging != "" {
			in.Tagging = aws.String(tagging)
		}
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(bucket, key string) bool {
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			return true
		}
		expectHTTPStatus(t, err, http.StatusNotFound)
		return false
	}
	setRules := func(bucket string, rules ...s3types.LifecycleRule) {
		t.Helper()
		if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket),
			LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules}}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("prefix and tag filters pick what expires in an unversioned bucket", func(t *testing.T) {
		mustCreateBucket(t, c, "plain")
		put("plain", "tmp/a", "")
		put("plain", "keep/b", "")
		put("plain", "keep/tagged", "expire=yes")
		setRules("plain",
			s3types.LifecycleRule{ID: aws.String("tmp"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
				Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}},
			s3types.LifecycleRule{ID: aws.String("tag"), Status: s3types.ExpirationStatusEnabled,
				Filter:     &s3types.LifecycleRuleFilter{Tag: &s3types.Tag{Key: aws.String("expire"), Value: aws.String("yes")}},
				Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}},
			s3types.LifecycleRule{ID: aws.String("off"), Status: s3types.ExpirationStatusDisabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("keep/b")},
				Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}})
		eventually(t, 10*time.Second, "expiry of tmp/a and keep/tagged", func() bool { return !exists("plain", "tmp/a") && !exists("plain", "keep/tagged") })
		time.Sleep(300 * time.Millisecond)
		if !exists("plain", "keep/b") {
			t.Fatal("keep/b expired, but no enabled rule selects it")
		}
	})

	t.Run("a past date expires at once", func(t *testing.T) {
		mustCreateBucket(t, c, "dated")
		put("dated", "x", "")
		past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		setRules("dated", s3types.LifecycleRule{ID: aws.String("past"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{},
			Expiration: &s3types.LifecycleExpiration{Date: &past}})
		eventually(t, 5*time.Second, "expiry by date", func() bool { return !exists("dated", "x") })
	})

	t.Run("a versioned bucket gets a delete marker, then noncurrent and marker cleanup", func(t *testing.T) {
		mustCreateBucket(t, c, "versioned")
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("versioned"),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatal(err)
		}
		put("versioned", "doc", "")
		put("versioned", "doc", "")
		setRules("versioned",
			s3types.LifecycleRule{ID: aws.String("current"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{},
				Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}},
			s3types.LifecycleRule{ID: aws.String("noncurrent"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{},
				NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}},
			s3types.LifecycleRule{ID: aws.String("markers"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{},
				Expiration: &s3types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}})
		eventually(t, 10*time.Second, "the current version hidden by a delete marker", func() bool { return !exists("versioned", "doc") })
		eventually(t, 15*time.Second, "every version and marker removed", func() bool {
			out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("versioned")})
			if err != nil {
				t.Fatal(err)
			}
			return len(out.Versions) == 0 && len(out.DeleteMarkers) == 0
		})
		if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("versioned")}); err != nil {
			t.Fatalf("bucket emptied by lifecycle cannot be deleted: %v", err)
		}
	})

	t.Run("incomplete multipart uploads are aborted", func(t *testing.T) {
		mustCreateBucket(t, c, "uploads")
		if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String("big")}); err != nil {
			t.Fatal(err)
		}
		setRules("uploads", s3types.LifecycleRule{ID: aws.String("mpu"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{},
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}})
		eventually(t, 10*time.Second, "the upload aborted", func() bool {
			out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("uploads")})
			if err != nil {
				t.Fatal(err)
			}
			return len(out.Uploads) == 0
		})
	})
}
