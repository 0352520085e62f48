package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// BenchmarkS3GetUnderIAM measures a warm 4 KiB GET signed by an IAM user with 10 attached
// managed policies of 20 statements each, on a strict server with --iam=enforce and on one
// with --iam=off: the difference is what authorization costs a request. Run with -count to
// alternate the two in separate runs, each starting only its own server:
//
//	for i in 1 2 3 4; do for m in enforce off; do
//	  go test ./test/e2e -run '^$' -bench "S3GetUnderIAM/$m" -benchtime 3s; done; done
func BenchmarkS3GetUnderIAM(b *testing.B) {
	parent := b // servers outlive a sub-benchmark's rounds
	for _, mode := range []authz.Mode{authz.Enforce, authz.Off} {
		var urls []string
		b.Run(string(mode), func(b *testing.B) {
			if urls == nil {
				b.StopTimer()
				urls = iamBenchServer(parent, mode)
				b.StartTimer()
			}
			var next atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				hc := &http.Client{Transport: &http.Transport{}}
				for pb.Next() {
					req, _ := http.NewRequest("GET", urls[int(next.Add(1))%len(urls)], nil)
					if err := roundTrip(hc, req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// iamBenchServer starts a strict server in mode with a bucket of 500 objects and a user whose
// ten managed policies of twenty statements allow reading them (in the last statement of the
// last policy), and returns GET URLs the user presigned.
func iamBenchServer(b *testing.B, mode authz.Mode) []string {
	srv := kiritest.Start(b, kiritest.Options{Strict: true, IAM: mode, DataDir: b.TempDir()})
	c := srv.Clients()
	ctx := context.Background()
	const bucket = "bench"
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.IAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}); err != nil {
		b.Fatal(err)
	}
	for i := range 10 {
		p, err := c.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%d", i)),
			PolicyDocument: aws.String(benchPolicy(i, bucket))})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.IAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: p.Policy.Arn}); err != nil {
			b.Fatal(err)
		}
	}
	k, err := c.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		b.Fatal(err)
	}
	reader := srv.ClientsAs(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
	pc := s3.NewPresignClient(reader.S3)
	body := bytes.Repeat([]byte("k"), 4<<10)
	urls := make([]string, 500)
	for i := range urls {
		key := fmt.Sprintf("data/%04d", i)
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			b.Fatal(err)
		}
		p, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			b.Fatal(err)
		}
		urls[i] = p.URL
	}
	// The first GET proves the user may read, and warms what the server caches.
	if err := roundTrip(http.DefaultClient, must(http.NewRequest("GET", urls[0], nil))); err != nil {
		b.Fatal(err)
	}
	return urls
}

// benchPolicy is policy i of the benchmark: twenty statements over several services, with
// wildcards, a third of them with conditions and a Deny; policy 9's statement 18 allows
// reading the bucket.
func benchPolicy(i int, bucket string) string {
	services := []string{"s3", "sqs", "sns", "lambda", "logs"}
	var stmts []string
	for j := range 20 {
		svc := services[(i+j)%len(services)]
		effect, cond := "Allow", ""
		switch {
		case j == 7:
			effect, cond = "Deny", `,"Condition":{"Bool":{"aws:SecureTransport":"true"}}`
		case j%3 == 0:
			cond = `,"Condition":{"StringEquals":{"aws:PrincipalTag/team":"team-` + fmt.Sprint(j) + `"},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`
		}
		resource := fmt.Sprintf(`["arn:aws:%s:us-east-1:111122223333:res-%d-%d","arn:aws:%s:*:111122223333:other-%d"]`, svc, i, j, svc, j)
		if svc == "s3" {
			resource = fmt.Sprintf(`["arn:aws:s3:::bucket-%d-%d/*","arn:aws:s3:::bucket-%d-%d"]`, i, j, i, j)
		}
		stmt := fmt.Sprintf(`{"Sid":"S%d","Effect":"%s","Action":["%s:Get*","%s:Tag%d"],"Resource":%s%s}`, j, effect, svc, svc, j, resource, cond)
		if i == 9 && j == 18 {
			stmt = `{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::` + bucket + `/data/*",` +
				`"Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}`
		}
		stmts = append(stmts, stmt)
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
