package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// putObject stores body at bucket/key, creating the bucket when it is missing.
func putObject(t *testing.T, c *s3.Client, bucket, key, body string) {
	t.Helper()
	_, _ = c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &bucket})
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func getObject(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return string(b)
}

// runMachine creates a Standard state machine, runs it with input and waits for its end.
func runMachine(t *testing.T, c *sfn.Client, name, def, input string) (string, *sfn.DescribeExecutionOutput) {
	t.Helper()
	arn := createMachine(t, c, name, def, "")
	start, err := c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &arn, Input: aws.String(input)})
	if err != nil {
		t.Fatal(err)
	}
	exec := aws.ToString(start.ExecutionArn)
	return exec, waitExecution(t, c, exec, 60*time.Second)
}

// mapRunOf is the one Map Run an execution started.
func mapRunOf(t *testing.T, c *sfn.Client, exec string) string {
	t.Helper()
	l, err := c.ListMapRuns(t.Context(), &sfn.ListMapRunsInput{ExecutionArn: &exec})
	if err != nil || len(l.MapRuns) != 1 {
		t.Fatalf("list map runs: %+v %v", l, err)
	}
	return aws.ToString(l.MapRuns[0].MapRunArn)
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// The seeds' MapReduce: double a value per CSV row in Express children, then sum.
const mapReduceMachine = `{"QueryLanguage":"JSONata","StartAt":"Double","States":{
	"Double":{"Type":"Map","Label":"doubler",
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject",
			"ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"},
			"Arguments":{"Bucket":"{% $states.input.bucket %}","Key":"{% $states.input.key %}"}},
		"MaxConcurrency":10000,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
			"StartAt":"X2","States":{"X2":{"Type":"Pass","Output":"{% $number($states.input.value) * 2 %}","End":true}}},
		"Next":"Sum"},
	"Sum":{"Type":"Pass","Output":{"sum":"{% $sum($states.input) %}","count":"{% $count($states.input) %}"},"End":true}}}`

// TestStepFunctionsDistributedMapCSV sums a CSV in S3 with a Distributed Map whose Express
// children double a value per row (the header row names the columns; quoted fields hold
// commas and quotes), and reads the Map Run back through the Map Run API.
func TestStepFunctionsDistributedMapCSV(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	c := cl.SFN
	var csv strings.Builder
	csv.WriteString("id,value,note\n")
	want := 0
	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&csv, "%d,%d,\"a, \"\"quoted\"\" note\"\n", i, i)
		want += 2 * i
	}
	putObject(t, cl.S3, "mapreduce", "rows.csv", csv.String())
	exec, d := runMachine(t, c, "mapreduce", mapReduceMachine, `{"bucket":"mapreduce","key":"rows.csv"}`)
	if d.Status != sfntypes.ExecutionStatusSucceeded || !sameJSON(aws.ToString(d.Output), fmt.Sprintf(`{"sum":%d,"count":300}`, want)) {
		t.Fatalf("execution: %s %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	types := historyTypes(t, c, exec)
	wantTypes := "ExecutionStarted MapStateEntered MapStateStarted MapRunStarted MapRunSucceeded MapStateSucceeded MapStateExited PassStateEntered PassStateExited ExecutionSucceeded"
	if strings.Join(types, " ") != wantTypes {
		t.Fatalf("history %v", types)
	}
	mr := mapRunOf(t, c, exec)
	if !strings.HasPrefix(mr, "arn:aws:states:us-east-1:000000000000:mapRun:mapreduce/doubler:") {
		t.Fatalf("map run arn %s", mr)
	}
	h, err := c.GetExecutionHistory(t.Context(), &sfn.GetExecutionHistoryInput{ExecutionArn: &exec})
	if err != nil || aws.ToString(h.Events[3].MapRunStartedEventDetails.MapRunArn) != mr {
		t.Fatalf("MapRunStarted %+v %v", h.Events[3], err)
	}
	dm, err := c.DescribeMapRun(t.Context(), &sfn.DescribeMapRunInput{MapRunArn: &mr})
	if err != nil {
		t.Fatal(err)
	}
	if dm.Status != sfntypes.MapRunStatusSucceeded || dm.MaxConcurrency != 10000 || aws.ToString(dm.ExecutionArn) != exec ||
		dm.ItemCounts.Total != 300 || dm.ItemCounts.Succeeded != 300 || dm.ItemCounts.Pending != 0 || dm.ItemCounts.Running != 0 ||
		dm.ExecutionCounts.Total != 300 || dm.ExecutionCounts.Succeeded != 300 || dm.StopDate == nil {
		t.Fatalf("describe map run: %+v %+v %+v", dm, dm.ItemCounts, dm.ExecutionCounts)
	}
	_, err = c.DescribeMapRun(t.Context(), &sfn.DescribeMapRunInput{MapRunArn: aws.String(mr[:strings.LastIndexByte(mr, ':')] + ":00000000-0000-0000-0000-000000000000")})
	wantAPIError(t, err, "ResourceNotFound", "Resource not found")
}
