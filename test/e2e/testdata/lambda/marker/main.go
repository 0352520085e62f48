// Command marker records that an event ran: it puts marks/<mark> into $MARK_BUCKET.
package main

import (
	"context"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type event struct {
	Mark string `json:"mark"`
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := os.Getenv("MARK_BUCKET")
	lambda.Start(func(ctx context.Context, ev event) error {
		key := "marks/" + ev.Mark
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(ev.Mark)})
		return err
	})
}
