package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// BenchmarkStepFunctionsDistributedMap is the seeds' MapReduce: a 10,000-row CSV in S3, a
// Distributed Map with MaxConcurrency 10,000 whose Express children double a value per row,
// then a sum. It reports the wall time from StartExecution to SUCCEEDED (s/run) against a
// durable server in this process.
func BenchmarkStepFunctionsDistributedMap(b *testing.B) {
	srv := kiritest.Start(b, kiritest.Options{DataDir: b.TempDir()})
	cl := srv.Clients()
	ctx := context.Background()
	const rows = 10000
	var csv strings.Builder
	csv.WriteString("id,value\n")
	want := 0
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&csv, "%d,%d\n", i, i%100)
		want += 2 * (i % 100)
	}
	if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		b.Fatal(err)
	}
	if _, err := cl.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("rows.csv"), Body: strings.NewReader(csv.String())}); err != nil {
		b.Fatal(err)
	}
	m, err := cl.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("mapreduce"), Definition: aws.String(mapReduceMachine), RoleArn: aws.String(sfnRole)})
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		out, err := cl.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(`{"bucket":"bench","key":"rows.csv"}`)})
		if err != nil {
			b.Fatal(err)
		}
		for {
			d, err := cl.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
			if err != nil {
				b.Fatal(err)
			}
			if d.Status == sfntypes.ExecutionStatusRunning {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			if d.Status != sfntypes.ExecutionStatusSucceeded || !sameJSON(aws.ToString(d.Output), fmt.Sprintf(`{"sum":%d,"count":%d}`, want, rows)) {
				b.Fatalf("%s: %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause))
			}
			break
		}
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/run")
}
