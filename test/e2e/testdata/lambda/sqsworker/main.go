// Command sqsworker consumes SQS events: for each record whose body is a job
// {"id":..., "input":...}, it puts results/<id> into $RESULT_BUCKET holding the upper-cased
// input with what the record said (receive count, group, when it ran, how big its batch was),
// and, with $RECORDS set,
// keeps the record as it arrived under records/<messageId>. A job with "fail": true fails the
// batch, or, with $REPORT set, is reported in batchItemFailures.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type record struct {
	MessageID  string            `json:"messageId"`
	Body       string            `json:"body"`
	Attributes map[string]string `json:"attributes"`
}

type job struct {
	ID    string `json:"id"`
	Input string `json:"input"`
	Fail  bool   `json:"fail"`
}

type result struct {
	Output   string `json:"output"`
	Receives string `json:"receives"`
	Group    string `json:"group,omitempty"`
	RanAt    int64  `json:"ranAt"`
	Batch    int    `json:"batch"`
}

type failure struct {
	ItemIdentifier string `json:"itemIdentifier"`
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket := os.Getenv("RESULT_BUCKET")
	report, records := os.Getenv("REPORT") != "", os.Getenv("RECORDS") != ""
	put := func(ctx context.Context, key string, body []byte) error {
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
		return err
	}
	lambda.Start(func(ctx context.Context, ev struct{ Records []json.RawMessage }) (any, error) {
		var failed []failure
		for _, raw := range ev.Records {
			var r record
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, err
			}
			if records {
				if err := put(ctx, "records/"+r.MessageID, raw); err != nil {
					return nil, err
				}
			}
			var j job
			json.Unmarshal([]byte(r.Body), &j)
			if j.Fail {
				if !report {
					return nil, errors.New("job " + j.ID + " failed")
				}
				failed = append(failed, failure{r.MessageID})
				continue
			}
			if j.ID == "" {
				continue
			}
			out, _ := json.Marshal(result{Output: strings.ToUpper(j.Input), Receives: r.Attributes["ApproximateReceiveCount"],
				Group: r.Attributes["MessageGroupId"], RanAt: time.Now().UnixNano(), Batch: len(ev.Records)})
			if err := put(ctx, "results/"+j.ID, out); err != nil {
				return nil, err
			}
		}
		if report {
			return map[string]any{"batchItemFailures": failed}, nil
		}
		return nil, nil
	})
}
