// Command thumbnail is the seeds' first slide: for each object put under photos/ it writes a
// "thumbnail" (the bytes reversed) under thumbnails/ in the bucket named by $THUMBNAIL_BUCKET,
// using the AWS SDK, which reaches Kiri through AWS_ENDPOINT_URL.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"slices"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func handle(ctx context.Context, ev events.S3Event) error {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, r := range ev.Records {
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			return err
		}
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &r.S3.Bucket.Name, Key: &key})
		if err != nil {
			return fmt.Errorf("get %s/%s: %w", r.S3.Bucket.Name, key, err)
		}
		b, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			return err
		}
		slices.Reverse(b)
		dst := os.Getenv("THUMBNAIL_BUCKET")
		thumb := "thumbnails/" + path.Base(key)
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &dst, Key: &thumb, Body: bytes.NewReader(b)}); err != nil {
			return fmt.Errorf("put %s/%s: %w", dst, thumb, err)
		}
		fmt.Printf("wrote %s/%s (%d bytes)\n", dst, thumb, len(b))
	}
	return nil
}

func main() { lambda.Start(handle) }
