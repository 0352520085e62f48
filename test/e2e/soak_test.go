//go:build soak

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// Soak tests: a backlog of work for a Python function that imports boto3, at 256 MB (a small
// CPU share), drains steadily on this machine with no init timeouts, whether it comes as Event
// invokes or through an event source mapping from a deep queue. Run them with
//
//	go test -tags soak -run TestSoak -v -timeout 30m ./test/e2e
//
// and SOAK_N=<count> to change the backlog (default 2,000).

// soakHandler is the function: it imports boto3 and makes an S3 client at init, as functions
// do, and puts done/<id> for each event or record, saying which Python and boto3 ran it.
const soakHandler = `import json, os, sys
import boto3

s3 = boto3.client("s3")
BUCKET = os.environ["BUCKET"]
INFO = json.dumps({"python": sys.executable, "version": sys.version.split()[0], "boto3": boto3.__version__})

def handler(event, context):
    for r in event.get("Records") or [event]:
        job = json.loads(r["body"]) if "body" in r else r
        s3.put_object(Bucket=BUCKET, Key="done/" + job["id"], Body=INFO)
`

func soakN() int {
	if n, err := strconv.Atoi(os.Getenv("SOAK_N")); err == nil && n > 0 {
		return n
	}
	return 2000
}

// soakFunction creates the boto3 function and its bucket.
func soakFunction(t *testing.T, cl *kiritest.Clients, name string) {
	t.Helper()
	if _, err := cl.S3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	createTestFunction(t, cl.Lambda, name, kiritest.ZipSource(t, map[string]string{"app.py": soakHandler}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimePython311, aws.String("app.handler")
		in.MemorySize, in.Timeout = aws.Int32(256), aws.Int32(30)
		in.Environment = &types.Environment{Variables: map[string]string{"BUCKET": name}}
	})
	waitActive(t, cl.Lambda, name)
}

// metricSum reads a Prometheus counter or gauge from Kiri's /_kiri/metrics, summed over the
// series whose labels contain every one of match.
func metricSum(t *testing.T, url, name string, match ...string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/_kiri/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, m := range match {
			ok = ok && strings.Contains(line, m)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// soakFigures are what a soak run reports.
type soakFigures struct {
	n                         int
	drain                     time.Duration
	coldStarts, initTimeouts  float64
	maxPollers, maxInstances  float64
	longestStall              time.Duration
	python, version, boto3Ver string
}

// watchDrain samples progress (successful invocations of fn) every second until want are done,
// failing the test if nothing progresses for 60 seconds; it returns the figures.
func watchDrain(t *testing.T, srv *kiritest.Process, fn string, want int, start time.Time) soakFigures {
	t.Helper()
	label := `function="` + fn + `"`
	var f soakFigures
	last, lastChange := 0.0, time.Now()
	for {
		done := metricSum(t, srv.URL, "kiri_lambda_invocations_total", label, `outcome="success"`)
		f.maxPollers = max(f.maxPollers, metricSum(t, srv.URL, "kiri_lambda_event_source_pollers"))
		f.maxInstances = max(f.maxInstances, metricSum(t, srv.URL, "kiri_lambda_instances", label))
		if done != last {
			f.longestStall = max(f.longestStall, time.Since(lastChange))
			last, lastChange = done, time.Now()
		}
		if int(done) >= want {
			break
		}
		if time.Since(lastChange) > 60*time.Second {
			t.Fatalf("no progress for 60s: %v of %d done, %v init timeouts, %v cold starts", done, want,
				metricSum(t, srv.URL, "kiri_lambda_init_timeouts_total", label), metricSum(t, srv.URL, "kiri_lambda_cold_starts_total", label))
		}
		if s := time.Since(start); s.Truncate(time.Second)%(10*time.Second) == 0 {
			t.Logf("%5.0fs: %v done", s.Seconds(), done)
		}
		time.Sleep(time.Second)
	}
	f.drain = time.Since(start)
	f.coldStarts = metricSum(t, srv.URL, "kiri_lambda_cold_starts_total", label)
	f.initTimeouts = metricSum(t, srv.URL, "kiri_lambda_init_timeouts_total", label)
	return f
}

func reportSoak(t *testing.T, cl *kiritest.Clients, bucket string, f soakFigures) {
	t.Helper()
	b := waitObject(t, cl.S3, bucket, "done/0", 10*time.Second)
	var info struct{ Python, Version, Boto3 string }
	json.Unmarshal(b, &info)
	t.Logf("%d jobs drained in %s (%.0f/s); cold starts %v; init timeouts %v; most instances %v; most pollers %v; longest stall %s; python %s (%s), boto3 %s",
		f.n, f.drain.Round(time.Millisecond), float64(f.n)/f.drain.Seconds(), f.coldStarts, f.initTimeouts, f.maxInstances, f.maxPollers,
		f.longestStall.Round(time.Millisecond), info.Python, info.Version, info.Boto3)
	if f.initTimeouts != 0 {
		t.Errorf("%v init timeouts", f.initTimeouts)
	}
}

// A burst of Event invokes of the boto3 function drains steadily, with no init timeouts.
func TestSoakEventBurstDrains(t *testing.T) {
	srv := kiritest.StartProcess(t, kiritest.Options{})
	cl := srv.Clients()
	soakFunction(t, cl, "soak-events")
	n := soakN()
	start := time.Now()
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				payload := fmt.Sprintf(`{"id":"%d"}`, i)
				if _, err := cl.Lambda.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("soak-events"),
					InvocationType: types.InvocationTypeEvent, Payload: []byte(payload)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	t.Logf("%d Event invokes accepted in %s", n, time.Since(start).Round(time.Millisecond))
	f := watchDrain(t, srv, "soak-events", n, start)
	f.n = n
	reportSoak(t, cl, "soak-events", f)
}

// A deep queue drains through an event source mapping into the boto3 function steadily, with
// no init timeouts.
func TestSoakDeepQueueDrains(t *testing.T) {
	srv := kiritest.StartProcess(t, kiritest.Options{})
	cl := srv.Clients()
	soakFunction(t, cl, "soak-queue")
	url, arn := createQueueWith(t, cl.SQS, "soak-jobs", map[string]string{"VisibilityTimeout": "180"})
	n := soakN()
	var wg sync.WaitGroup
	batches := make(chan int)
	for range 8 {
		wg.Go(func() {
			for b := range batches {
				var entries []sqstypes.SendMessageBatchRequestEntry
				for i := b; i < min(b+10, n); i++ {
					entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprintf(`{"id":"%d"}`, i))})
				}
				if _, err := cl.SQS.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for b := 0; b < n; b += 10 {
		batches <- b
	}
	close(batches)
	wg.Wait()
	start := time.Now()
	if _, err := cl.Lambda.CreateEventSourceMapping(t.Context(), &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("soak-queue"),
		EventSourceArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	// Each invocation takes a batch of up to 10 messages: the queue is drained when it is empty.
	label := `function="soak-queue"`
	var f soakFigures
	lastLeft, lastChange := n, time.Now()
	for {
		visible, inFlight := queueCounts(t, cl.SQS, url)
		left := visible + inFlight
		f.maxPollers = max(f.maxPollers, metricSum(t, srv.URL, "kiri_lambda_event_source_pollers"))
		f.maxInstances = max(f.maxInstances, metricSum(t, srv.URL, "kiri_lambda_instances", label))
		if left != lastLeft {
			f.longestStall = max(f.longestStall, time.Since(lastChange))
			lastLeft, lastChange = left, time.Now()
		}
		if left == 0 {
			break
		}
		if time.Since(lastChange) > 60*time.Second {
			t.Fatalf("no progress for 60s: %d messages left, %v init timeouts", left, metricSum(t, srv.URL, "kiri_lambda_init_timeouts_total", label))
		}
		if s := time.Since(start); s.Truncate(time.Second)%(10*time.Second) == 0 {
			t.Logf("%5.0fs: %d messages left", s.Seconds(), left)
		}
		time.Sleep(time.Second)
	}
	f.n, f.drain = n, time.Since(start)
	f.coldStarts = metricSum(t, srv.URL, "kiri_lambda_cold_starts_total", label)
	f.initTimeouts = metricSum(t, srv.URL, "kiri_lambda_init_timeouts_total", label)
	reportSoak(t, cl, "soak-queue", f)
}

// cpuTime is the CPU time (user and system) a process has used, from /proc/<pid>/stat.
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command (which may hold spaces) start after its closing parenthesis;
	// utime and stime are the 14th and 15th fields, in clock ticks (100 a second on Linux).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// idleCPU is the CPU time Kiri uses over d of idleness.
func idleCPU(t *testing.T, pid int, d time.Duration) time.Duration {
	t.Helper()
	before := cpuTime(t, pid)
	time.Sleep(d)
	return cpuTime(t, pid) - before
}

// Ten idle event source mappings cost no CPU beyond the noise of an idle Kiri: their pollers
// wait on the engine, which wakes them only when a message arrives.
func TestSoakIdleMappingsCostNothing(t *testing.T) {
	srv := kiritest.StartProcess(t, kiritest.Options{})
	cl := srv.Clients()
	createWorker(t, cl, "idle-worker", "idle-results", nil)
	const window = 30 * time.Second
	time.Sleep(5 * time.Second) // let start-up work finish
	base := idleCPU(t, srv.PID(), window)
	for i := range 10 {
		url, arn := createQueueWith(t, cl.SQS, fmt.Sprintf("idle-%d", i), nil)
		mapQueue(t, cl.Lambda, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("idle-worker"), EventSourceArn: aws.String(arn)})
		// One message each, so that every mapping has polled, invoked, grown and then gone
		// back to idle before the measurement.
		if _, err := cl.SQS.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(job{ID: fmt.Sprint(i), Input: "x"}.body())}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		result(t, cl.S3, "idle-results", fmt.Sprint(i))
	}
	time.Sleep(retireAfter)
	pollers := metricSum(t, srv.URL, "kiri_lambda_event_source_pollers")
	mapped := idleCPU(t, srv.PID(), window)
	t.Logf("Kiri's CPU over %s idle: %s without mappings, %s with 10 idle mappings (%v pollers waiting)", window, base, mapped, pollers)
	if mapped > base+200*time.Millisecond {
		t.Errorf("10 idle mappings cost %s of CPU over %s, an idle Kiri %s", mapped, window, base)
	}
}

// retireAfter is longer than the wait after which pollers beyond the idle few stop.
const retireAfter = 25 * time.Second
