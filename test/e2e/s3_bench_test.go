package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// BenchmarkS3SmallObjects measures Kiri's side of 4 KiB PUTs and GETs: a durable server in
// this process, driven over loopback by plain HTTP clients with presigned URLs, so that most
// of each op's CPU is Kiri's (bench/s3load drives the SDK, whose clients cost as much as Kiri).
func BenchmarkS3SmallObjects(b *testing.B) {
	srv := kiritest.Start(b, kiritest.Options{DataDir: b.TempDir()})
	c := srv.Clients().S3
	pc := s3.NewPresignClient(c)
	ctx := context.Background()
	bucket := "bench"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("k"), 4<<10)
	const keys = 2000
	getURLs := make([]string, keys)
	for i := range getURLs {
		key := fmt.Sprintf("small/%08d", i)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			b.Fatal(err)
		}
		p, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			b.Fatal(err)
		}
		getURLs[i] = p.URL
	}
	// PUT URLs are presigned before the timer starts, a pool of them reused round robin: large
	// enough that a run of a few seconds writes new keys, as bench/s3load does.
	putURLs := make([]string, 1<<16)
	for i := range putURLs {
		p, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("put/%08d", i))})
		if err != nil {
			b.Fatal(err)
		}
		putURLs[i] = p.URL
	}
	run := func(b *testing.B, do func(hc *http.Client, i int) error) {
		var next atomic.Int64
		b.SetParallelism(8) // 16 clients on 2 CPUs, as bench/s3load
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			hc := &http.Client{Transport: &http.Transport{}}
			for pb.Next() {
				if err := do(hc, int(next.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.Run("PUT", func(b *testing.B) {
		run(b, func(hc *http.Client, i int) error {
			req, _ := http.NewRequest("PUT", putURLs[i%len(putURLs)], bytes.NewReader(body))
			return roundTrip(hc, req)
		})
	})
	b.Run("GET", func(b *testing.B) {
		run(b, func(hc *http.Client, i int) error {
			req, _ := http.NewRequest("GET", getURLs[i%len(getURLs)], nil)
			return roundTrip(hc, req)
		})
	})
	// A page of 1,000 keys, through the SDK (ListObjectsV2 has no presigned form).
	b.Run("LIST", func(b *testing.B) {
		for b.Loop() {
			out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("small/")})
			if err != nil {
				b.Fatal(err)
			}
			if len(out.Contents) != 1000 {
				b.Fatalf("a page lists %d keys, want 1000", len(out.Contents))
			}
		}
	})
}

func roundTrip(hc *http.Client, req *http.Request) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
	}
	return nil
}
