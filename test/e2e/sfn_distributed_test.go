package e2e

import (
	"bytes"
	"compress/gzip"
	"slices"

	"encoding/json"
	"fmt"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
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

// readerMachine maps the items an ItemReader reads through Standard children that keep each
// item with its index.
func readerMachine(reader string) string {
	return `{"StartAt":"Each","States":{"Each":{"Type":"Map",` + reader + `,
		"ItemSelector":{"index.$":"$$.Map.Item.Index","item.$":"$$.Map.Item.Value"},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
			"StartAt":"Keep","States":{"Keep":{"Type":"Pass","End":true}}},
		"End":true}}}`
}

// TestStepFunctionsDistributedMapReaders reads items from S3 in every form an ItemReader
// takes: CSV with given headers, a JSON array, JSON Lines, an S3 Inventory manifest and a
// bucket listing, with MaxItems.
func TestStepFunctionsDistributedMapReaders(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	c := cl.SFN
	putObject(t, cl.S3, "items", "given.csv", "1|x\n2|\"y|z\"\n")
	putObject(t, cl.S3, "items", "array.json", `[{"n":1},{"n":2},{"n":3}]`)
	putObject(t, cl.S3, "items", "lines.jsonl", "{\"n\":1}\n\n[2]\n\"three\"\n")
	putObject(t, cl.S3, "items", "listing/a.txt", "aa")
	putObject(t, cl.S3, "items", "listing/b.txt", "bbb")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("\"items\",\"listing/a.txt\",\"2\"\n\"items\",\"listing/b.txt\",\"3\"\n"))
	zw.Close()
	putObject(t, cl.S3, "inventory", "data/part-0.csv.gz", gz.String())
	putObject(t, cl.S3, "inventory", "manifest.json", `{"sourceBucket":"items","destinationBucket":"arn:aws:s3:::inventory",
		"fileFormat":"CSV","fileSchema":"Bucket, Key, Size","files":[{"key":"data/part-0.csv.gz","size":1,"MD5checksum":"x"}]}`)
	cases := []struct{ name, reader, want string }{
		{"csv-given", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN","CSVHeaders":["id","v"],"CSVDelimiter":"PIPE"},"Parameters":{"Bucket":"items","Key":"given.csv"}}`,
			`[{"index":0,"item":{"id":"1","v":"x"}},{"index":1,"item":{"id":"2","v":"y|z"}}]`},
		{"json", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON","MaxItems":2},"Parameters":{"Bucket":"items","Key.$":"$.key"}}`,
			`[{"index":0,"item":{"n":1}},{"index":1,"item":{"n":2}}]`},
		{"jsonl", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSONL"},"Parameters":{"Bucket":"items","Key":"lines.jsonl"}}`,
			`[{"index":0,"item":{"n":1}},{"index":1,"item":[2]},{"index":2,"item":"three"}]`},
		{"manifest", `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"MANIFEST"},"Parameters":{"Bucket":"inventory","Key":"manifest.json"}}`,
			`[{"index":0,"item":{"Bucket":"items","Key":"listing/a.txt","Size":"2"}},{"index":1,"item":{"Bucket":"items","Key":"listing/b.txt","Size":"3"}}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, d := runMachine(t, c, "reader-"+tc.name, readerMachine(tc.reader), `{"key":"array.json"}`)
			if d.Status != sfntypes.ExecutionStatusSucceeded || !sameJSON(aws.ToString(d.Output), tc.want) {
				t.Fatalf("%s: %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause))
			}
		})
	}
	t.Run("listObjectsV2", func(t *testing.T) {
		_, d := runMachine(t, c, "reader-list", readerMachine(`"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"items","Prefix":"listing/"}}`), `{}`)
		var out []struct {
			Index int
			Item  struct {
				Key, Etag, StorageClass string
				Size, LastModified      int64
			}
		}
		if d.Status != sfntypes.ExecutionStatusSucceeded || json.Unmarshal([]byte(aws.ToString(d.Output)), &out) != nil || len(out) != 2 ||
			out[0].Item.Key != "listing/a.txt" || out[1].Item.Size != 3 || out[0].Item.StorageClass != "STANDARD" ||
			!strings.HasPrefix(out[0].Item.Etag, `"`) || out[0].Item.LastModified < time.Now().Add(-time.Hour).Unix() {
			t.Fatalf("%s: %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
		}
	})
	t.Run("missing object", func(t *testing.T) {
		_, d := runMachine(t, c, "reader-missing", readerMachine(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"items","Key":"nope.json"}}`), `{}`)
		if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "States.ItemReaderFailed" || !strings.Contains(aws.ToString(d.Cause), "NoSuchKey") {
			t.Fatalf("%s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
	})
}

// TestStepFunctionsDistributedMapBatchesAndResultWriter batches items (ItemBatcher with
// BatchInput) into Standard children, writes their results to S3 as Step Functions lays them
// out, and lists the children by their Map Run.
func TestStepFunctionsDistributedMapBatchesAndResultWriter(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	c := cl.SFN
	putObject(t, cl.S3, "results", "seed", "")
	def := `{"StartAt":"Batches","States":{"Batches":{"Type":"Map","ItemsPath":"$.items","Label":"Batches",
		"ItemBatcher":{"MaxItemsPerBatch":2,"BatchInput":{"run.$":"$.run"}},
		"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"results","Prefix":"out"}},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
			"StartAt":"Count","States":{"Count":{"Type":"Pass","Parameters":{"run.$":"$.BatchInput.run","n.$":"States.ArrayLength($.Items)"},"End":true}}},
		"End":true}}}`
	exec, d := runMachine(t, c, "batches", def, `{"run":"r1","items":[1,2,3,4,5]}`)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("%s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	mr := mapRunOf(t, c, exec)
	id := mr[strings.LastIndexByte(mr, ':')+1:]
	manifestKey := "out/" + id + "/manifest.json"
	if !sameJSON(aws.ToString(d.Output), `{"MapRunArn":"`+mr+`","ResultWriterDetails":{"Bucket":"results","Key":"`+manifestKey+`"}}`) {
		t.Fatalf("output %s", aws.ToString(d.Output))
	}
	var manifest struct {
		DestinationBucket, MapRunArn string
		ResultFiles                  map[string][]struct {
			Key  string
			Size int
		}
	}
	if err := json.Unmarshal([]byte(getObject(t, cl.S3, "results", manifestKey)), &manifest); err != nil {
		t.Fatal(err)
	}
	succeeded := manifest.ResultFiles["SUCCEEDED"]
	if manifest.DestinationBucket != "results" || manifest.MapRunArn != mr || len(succeeded) != 1 ||
		succeeded[0].Key != "out/"+id+"/SUCCEEDED_0.json" || len(manifest.ResultFiles["FAILED"]) != 0 || len(manifest.ResultFiles["PENDING"]) != 0 {
		t.Fatalf("manifest %+v", manifest)
	}
	body := getObject(t, cl.S3, "results", succeeded[0].Key)
	var results []struct {
		ExecutionArn, Input, Output, Name, Status, StateMachineArn, StartDate, StopDate string
	}
	if len(body) != succeeded[0].Size || json.Unmarshal([]byte(body), &results) != nil || len(results) != 3 {
		t.Fatalf("results %s", body)
	}
	var outputs []string
	for _, r := range results {
		if r.Status != "SUCCEEDED" || r.StateMachineArn != "arn:aws:states:us-east-1:000000000000:stateMachine:batches/Batches" ||
			!strings.HasPrefix(r.ExecutionArn, "arn:aws:states:us-east-1:000000000000:execution:batches/Batches:") || r.StartDate == "" {
			t.Fatalf("result %+v", r)
		}
		outputs = append(outputs, r.Output)
	}
	if !sameJSON(results[2].Input, `{"BatchInput":{"run":"r1"},"Items":[5]}`) || !sameJSON("["+strings.Join(outputs, ",")+"]", `[{"run":"r1","n":2},{"run":"r1","n":2},{"run":"r1","n":1}]`) {
		t.Fatalf("results %s", body)
	}
	dm, err := c.DescribeMapRun(t.Context(), &sfn.DescribeMapRunInput{MapRunArn: &mr})
	if err != nil || dm.ItemCounts.Total != 5 || dm.ItemCounts.Succeeded != 5 || dm.ItemCounts.ResultsWritten != 5 ||
		dm.ExecutionCounts.Total != 3 || dm.ExecutionCounts.Succeeded != 3 || dm.ExecutionCounts.ResultsWritten != 3 {
		t.Fatalf("describe map run %+v %+v %v", dm.ItemCounts, dm.ExecutionCounts, err)
	}
	l, err := c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{MapRunArn: &mr})
	if err != nil || len(l.Executions) != 3 {
		t.Fatalf("list executions %+v %v", l, err)
	}
	for _, e := range l.Executions {
		if aws.ToString(e.MapRunArn) != mr || e.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("child %+v", e)
		}
	}
	for filter, want := range map[sfntypes.ExecutionRedriveFilter]int{sfntypes.ExecutionRedriveFilterRedriven: 0, sfntypes.ExecutionRedriveFilterNotRedriven: 3} {
		l, err := c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{MapRunArn: &mr, RedriveFilter: filter})
		if err != nil || len(l.Executions) != want {
			t.Fatalf("list executions %s: %+v %v", filter, l, err)
		}
	}
	child, err := c.DescribeExecution(t.Context(), &sfn.DescribeExecutionInput{ExecutionArn: l.Executions[0].ExecutionArn})
	if err != nil || aws.ToString(child.MapRunArn) != mr {
		t.Fatalf("describe child %+v %v", child, err)
	}
	// the parent's machine lists the parent only
	all, err := c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:batches")})
	if err != nil || len(all.Executions) != 1 {
		t.Fatalf("list parent executions %+v %v", all, err)
	}
}

// failingMap fails the items whose "fail" is true; tolerance is the Map's tolerance fields.
func failingMap(tolerance string) string {
	return `{"StartAt":"Each","States":{"Each":{"Type":"Map",` + tolerance + `
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
			"StartAt":"Check","States":{
				"Check":{"Type":"Choice","Choices":[{"Variable":"$.fail","BooleanEquals":true,"Next":"Boom"}],"Default":"Fine"},
				"Boom":{"Type":"Fail","Error":"Item.Bad","Cause":"bad item"},
				"Fine":{"Type":"Pass","Result":"ok","End":true}}},
		"End":true}}}`
}

// TestStepFunctionsDistributedMapToleratedFailures fails a Map Run once its failed items pass
// ToleratedFailureCount or ToleratedFailurePercentage, and not before.
func TestStepFunctionsDistributedMapToleratedFailures(t *testing.T) {
	t.Parallel()
	c := startKiri(t).SFN
	input := `[{"fail":false},{"fail":true},{"fail":false},{"fail":true}]`
	exec, d := runMachine(t, c, "tolerant", failingMap(`"ToleratedFailurePercentage":50,`), input)
	if d.Status != sfntypes.ExecutionStatusSucceeded ||
		!sameJSON(aws.ToString(d.Output), `["ok",{"Error":"Item.Bad","Cause":"bad item"},"ok",{"Error":"Item.Bad","Cause":"bad item"}]`) {
		t.Fatalf("tolerated: %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
	}
	dm, err := c.DescribeMapRun(t.Context(), &sfn.DescribeMapRunInput{MapRunArn: aws.String(mapRunOf(t, c, exec))})
	if err != nil || dm.Status != sfntypes.MapRunStatusSucceeded || dm.ItemCounts.Failed != 2 || dm.ItemCounts.Succeeded != 2 || dm.ToleratedFailurePercentage != 50 {
		t.Fatalf("describe map run %+v %v", dm, err)
	}
	for _, tolerance := range []string{`"ToleratedFailureCount":1,`, `"ToleratedFailurePercentage":25,`, ``} {
		exec, d := runMachine(t, c, fmt.Sprintf("intolerant%d", len(tolerance)), failingMap(tolerance), input)
		if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "States.ExceedToleratedFailureThreshold" {
			t.Fatalf("%s: %s %s %s", tolerance, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		types := historyTypes(t, c, exec)
		if strings.Join(types[len(types)-3:], " ") != "MapRunFailed MapStateFailed ExecutionFailed" {
			t.Fatalf("history %v", types)
		}
		dm, err := c.DescribeMapRun(t.Context(), &sfn.DescribeMapRunInput{MapRunArn: aws.String(mapRunOf(t, c, exec))})
		if err != nil || dm.Status != sfntypes.MapRunStatusFailed {
			t.Fatalf("describe map run %+v %v", dm, err)
		}
	}
}

// slowMap runs each item through a Standard child that waits a second.
const slowMap = `{"StartAt":"Each","States":{"Each":{"Type":"Map","MaxConcurrency":1,
	"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
		"StartAt":"Nap","States":{"Nap":{"Type":"Wait","Seconds":1,"Next":"Done"},"Done":{"Type":"Pass","Parameters":{"n.$":"$.n"},"End":true}}},
	"End":true}}}`

// TestStepFunctionsDistributedMapUpdateAndStop raises a running Map Run's concurrency with
// UpdateMapRun, then stops the parent execution: the Map Run and its running children are
// aborted.
func TestStepFunctionsDistributedMapUpdateAndStop(t *testing.T) {
	t.Parallel()
	c := startKiri(t).SFN
	arn := createMachine(t, c, "slow", slowMap, "")
	var items []string
	for i := range 20 {
		items = append(items, fmt.Sprintf(`{"n":%d}`, i))
	}
	start, err := c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &arn, Input: aws.String("[" + strings.Join(items, ",") + "]")})
	if err != nil {
		t.Fatal(err)
	}
	exec := aws.ToString(start.ExecutionArn)
	var mr string
	for deadline := time.Now().Add(10 * time.Second); mr == ""; time.Sleep(20 * time.Millisecond) {
		l, err := c.ListMapRuns(t.Context(), &sfn.ListMapRunsInput{ExecutionArn: &exec})
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("no map run: %v", err)
		}
		if len(l.MapRuns) == 1 {
			mr = aws.ToString(l.MapRuns[0].MapRunArn)
		}
	}
	dm, err := c.DescribeMapRun(t.Context(), &sfn.DescribeMapRunInput{MapRunArn: &mr})
	if err != nil || dm.MaxConcurrency != 1 || dm.ExecutionCounts.Running > 1 || dm.Status != sfntypes.MapRunStatusRunning {
		t.Fatalf("describe map run %+v %v", dm, err)
	}
	_, err = c.UpdateMapRun(t.Context(), &sfn.UpdateMapRunInput{MapRunArn: &mr})
	wantAPIError(t, err, "ValidationException", "Must provide at least one")
	if _, err := c.UpdateMapRun(t.Context(), &sfn.UpdateMapRunInput{MapRunArn: &mr, MaxConcurrency: aws.Int32(5), ToleratedFailureCount: aws.Int64(3)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		dm, err = c.DescribeMapRun(t.Context(), &sfn.DescribeMapRunInput{MapRunArn: &mr})
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("describe map run %+v %v", dm, err)
		}
		if dm.ExecutionCounts.Running == 5 {
			break
		}
	}
	if dm.MaxConcurrency != 5 || dm.ToleratedFailureCount != 3 {
		t.Fatalf("updated map run %+v", dm)
	}
	if _, err := c.StopExecution(t.Context(), &sfn.StopExecutionInput{ExecutionArn: &exec}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		dm, err = c.DescribeMapRun(t.Context(), &sfn.DescribeMapRunInput{MapRunArn: &mr})
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("describe map run %+v %v", dm, err)
		}
		if dm.ExecutionCounts.Running == 0 {
			break
		}
	}
	if dm.Status != sfntypes.MapRunStatusAborted || dm.ExecutionCounts.Aborted < 1 || dm.StopDate == nil {
		t.Fatalf("stopped map run %+v %+v", dm, dm.ExecutionCounts)
	}
	types := historyTypes(t, c, exec)
	if strings.Join(types[len(types)-2:], " ") != "MapRunStarted ExecutionAborted" {
		t.Fatalf("history %v", types)
	}
	l, err := c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{MapRunArn: &mr, StatusFilter: sfntypes.ExecutionStatusAborted})
	if err != nil || len(l.Executions) < 1 {
		t.Fatalf("aborted children %+v %v", l, err)
	}
	_, err = c.UpdateMapRun(t.Context(), &sfn.UpdateMapRunInput{MapRunArn: &mr, MaxConcurrency: aws.Int32(1)})
	wantAPIError(t, err, "ValidationException", "")
}

// TestStepFunctionsDistributedMapSurvivesKill kills Kiri (SIGKILL) while a Map Run's Standard
// children run one at a time and starts it again on the same data directory: the Map Run
// finishes, with one child per item and every item's result.
func TestStepFunctionsDistributedMapSurvivesKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	c := first.Clients().SFN
	arn := createMachine(t, c, "slow", slowMap, "")
	start, err := c.StartExecution(t.Context(), &sfn.StartExecutionInput{StateMachineArn: &arn, Input: aws.String(`[{"n":0},{"n":1},{"n":2},{"n":3}]`)})
	if err != nil {
		t.Fatal(err)
	}
	exec := aws.ToString(start.ExecutionArn)
	time.Sleep(1500 * time.Millisecond) // the second child waits
	first.Kill()

	c = kiritest.StartProcess(t, kiritest.Options{DataDir: dir}).Clients().SFN
	d := waitExecution(t, c, exec, 30*time.Second)
	if d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != `[{"n":0},{"n":1},{"n":2},{"n":3}]` {
		t.Fatalf("after restart: %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Cause))
	}
	mr := mapRunOf(t, c, exec)
	l, err := c.ListExecutions(t.Context(), &sfn.ListExecutionsInput{MapRunArn: &mr})
	if err != nil || len(l.Executions) != 4 {
		t.Fatalf("children %+v %v", l, err)
	}
	var names []string
	for _, e := range l.Executions {
		names = append(names, aws.ToString(e.Name))
		if e.Status != sfntypes.ExecutionStatusSucceeded {
			t.Fatalf("child %+v", e)
		}
	}
	slices.Sort(names)
	if len(slices.Compact(names)) != 4 {
		t.Fatalf("children %v", names)
	}
}

// TestStepFunctionsDistributedMapRefusals checks what CreateStateMachine refuses of a
// Distributed Map, with nothing created.
func TestStepFunctionsDistributedMapRefusals(t *testing.T) {
	t.Parallel()
	c := startKiri(t).SFN
	dmap := func(fields, config string) string {
		return `{"StartAt":"M","States":{"M":{"Type":"Map",` + fields + `"ItemProcessor":{"ProcessorConfig":` + config +
			`,"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`
	}
	distributed := `{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"}`
	cases := []struct{ name, def, msg string }{
		{"reader in inline mode", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"b"}},`, `{"Mode":"INLINE"}`),
			"The field 'ItemReader' is supported only when the ItemProcessor's Mode is DISTRIBUTED"},
		{"unknown reader", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObjectAttributes","ReaderConfig":{"InputType":"CSV"},"Parameters":{"Bucket":"b"}},`, distributed),
			"The value for the field 'Resource' must be one of"},
		{"no input type", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"}},`, distributed),
			"These fields are required: [InputType]"},
		{"parquet", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"PARQUET"},"Parameters":{"Bucket":"b","Key":"k"}},`, distributed),
			"PARQUET"},
		{"given without headers", dmap(`"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV","CSVHeaderLocation":"GIVEN"},"Parameters":{"Bucket":"b","Key":"k"}},`, distributed),
			"The field 'CSVHeaders' is required when 'CSVHeaderLocation' is GIVEN"},
		{"empty batcher", dmap(`"ItemBatcher":{},`, distributed), "At least one of 'MaxItemsPerBatch'"},
		{"writer config", dmap(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Bucket":"b"},"WriterConfig":{"OutputType":"JSONL"}},`, distributed),
			"WriterConfig"},
		{"writer without bucket", dmap(`"ResultWriter":{"Resource":"arn:aws:states:::s3:putObject","Parameters":{"Prefix":"p"}},`, distributed),
			"These fields are required: [Bucket]"},
		{"bad label", dmap(`"Label":"has space",`, distributed), "The value for the field 'Label'"},
		{"express child with a callback", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},
			"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}}},"End":true}}}`,
			"Express state machine does not support '.waitForTaskToken'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateStateMachine(t.Context(), &sfn.CreateStateMachineInput{Name: aws.String("dmap"), RoleArn: aws.String(sfnRole), Definition: aws.String(tc.def)})
			wantAPIError(t, err, "InvalidDefinition", tc.msg)
		})
	}
	ms, err := c.ListStateMachines(t.Context(), &sfn.ListStateMachinesInput{})
	if err != nil || len(ms.StateMachines) != 0 {
		t.Fatalf("refusals created %+v (%v)", ms, err)
	}
}
