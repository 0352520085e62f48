// Command lambdaload measures Lambda invocations through the real aws-sdk-go-v2 client: warm
// invoke latency (p50/p99) and invokes/s of a no-op Go function at each concurrency, the
// platform overhead (client latency minus the function's own billed time is not separable from
// the outside, so the figure reported is the whole round trip), cold starts (the REPORT line's
// Init Duration), and the time to scale from zero to N concurrent instances.
//
//	go run ./bench/lambdaload -endpoint http://127.0.0.1:4566 -duration 10s -concurrency 1,16
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kiri-run/kiri/bench/internal/noopzip"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4566", "Kiri endpoint")
	duration := flag.Duration("duration", 10*time.Second, "length of each warm phase")
	concs := flag.String("concurrency", "1,16", "comma-separated concurrency levels")
	scale := flag.Int("scale", 50, "instances for the scale-from-zero phase (0 skips it)")
	colds := flag.Int("cold", 10, "cold starts to measure (0 skips them)")
	coldGap = flag.Duration("cold-gap", 250*time.Millisecond, "pause before each cold start")
	flag.IntVar(&memory, "memory", 1769, "function MemorySize in MB")
	flag.Parse()
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: endpoint, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")}
	c := lambda.NewFromConfig(cfg)
	zip, err := noopzip.Build()
	if err != nil {
		log.Fatal(err)
	}
	name := "lambdaload-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := create(ctx, c, name, zip); err != nil {
		log.Fatal(err)
	}
	defer c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: &name})
	fmt.Printf("endpoint %s  function %s\n", *endpoint, name)

	if *colds > 0 {
		coldStarts(ctx, c, name, *colds)
	}
	for _, s := range strings.Split(*concs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			log.Fatalf("bad concurrency %q", s)
		}
		warm(ctx, cfg, *endpoint, name, n, *duration)
	}
	if *scale > 0 {
		scaleOut(ctx, c, zip, *scale)
	}
}

func create(ctx context.Context, c *lambda.Client, name string, zip []byte) error {
	_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: &name, Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String("arn:aws:iam::000000000000:role/bench"), Code: &types.FunctionCode{ZipFile: zip},
		// 1,769 MB is one full vCPU, so the function's CPU cap (proportional to memory, as in
		// Lambda) does not throttle it and the figures show the platform, not the cap.
		MemorySize: aws.Int32(int32(memory)),
	})
	if err != nil {
		return err
	}
	return lambda.NewFunctionActiveV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, time.Minute)
}

// memory is the functions' MemorySize.
var memory int

// coldGap is the pause before each measured cold start.
var coldGap *time.Duration

var initRE = regexp.MustCompile(`Init Duration: ([0-9.]+) ms`)

// coldStarts forces n cold starts by changing the configuration before each invoke (which
// retires the warm instance) and reports, from each REPORT line, the time from the process's
// start to its first response (Init Duration plus the first invocation's Duration), the Init
// Duration alone, and the client's round trip.
func coldStarts(ctx context.Context, c *lambda.Client, name string, n int) {
	var inits, firsts, totals []time.Duration
	for i := range n {
		if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: &name,
			Description: aws.String("cold " + strconv.Itoa(i))}); err != nil {
			log.Fatal(err)
		}
		if err := lambda.NewFunctionUpdatedV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, time.Minute); err != nil {
			log.Fatal(err)
		}
		// Let the previous cold start's aftermath (the old instance's exit, the spare init
		// that replaces the one it used) finish: this measures cold starts one at a time.
		time.Sleep(*coldGap)
		start := time.Now()
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: []byte(`{}`), LogType: types.LogTypeTail})
		if err != nil {
			log.Fatal(err)
		}
		totals = append(totals, time.Since(start))
		logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
		m, d := initRE.FindSubmatch(logs), durationRE.FindSubmatch(logs)
		if m != nil && d != nil {
			initMS, _ := strconv.ParseFloat(string(m[1]), 64)
			durMS, _ := strconv.ParseFloat(string(d[1]), 64)
			inits = append(inits, time.Duration(initMS*float64(time.Millisecond)))
			firsts = append(firsts, time.Duration((initMS+durMS)*float64(time.Millisecond)))
		}
	}
	fmt.Printf("cold start: process start to first response p50 %s  min %s;  Init Duration p50 %s;  client round trip p50 %s  (n=%d)\n",
		pct(firsts, 50), pct(firsts, 0), pct(inits, 50), pct(totals, 50), len(inits))
}

// warm runs n clients invoking as fast as they can for d and reports latency, rate and the
// platform overhead: each invoke asks for its log tail, and the overhead is the client's round
// trip minus the REPORT line's Duration (the function's own time, from the event's hand-over
// to its response). The round trip includes the SDK's own work on both ends, so the overhead
// is an upper bound on what Kiri adds.
func warm(ctx context.Context, cfg aws.Config, endpoint, name string, n int, d time.Duration) {
	// One client, and so one connection pool, per worker: a shared client keeps only 10 idle
	// connections per host and would open new ones all the time above that.
	clients := make([]*lambda.Client, n)
	for i := range clients {
		clients[i] = lambda.NewFromConfig(cfg)
	}
	// Warm up enough instances first.
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { clients[i].Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: []byte(`{}`)}) })
	}
	wg.Wait()
	before := overheadBuckets(endpoint)
	var count, failed atomic.Int64
	lat := make([][]time.Duration, n)
	over := make([][]time.Duration, n)
	end := time.Now().Add(d)
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			c := clients[i]
			for time.Now().Before(end) {
				t0 := time.Now()
				out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: []byte(`{"n":1}`), LogType: types.LogTypeTail})
				rt := time.Since(t0)
				if err != nil || out.FunctionError != nil {
					failed.Add(1)
					continue
				}
				lat[i] = append(lat[i], rt)
				count.Add(1)
				logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
				if m := durationRE.FindSubmatch(logs); m != nil {
					ms, _ := strconv.ParseFloat(string(m[1]), 64)
					over[i] = append(over[i], rt-time.Duration(ms*float64(time.Millisecond)))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all, overAll := slices.Concat(lat...), slices.Concat(over...)
	fmt.Printf("warm invoke, concurrency %2d: %6.0f invokes/s  p50 %s  p99 %s  overhead p50 %s  p99 %s  (%d ok, %d failed)\n",
		n, float64(count.Load())/elapsed.Seconds(), pct(all, 50), pct(all, 99), pct(overAll, 50), pct(overAll, 99), count.Load(), failed.Load())
	if after := overheadBuckets(endpoint); after != nil && before != nil {
		fmt.Printf("  server-side platform overhead (kiri_platform_overhead_seconds): p50 %s  p99 %s\n",
			histQuantile(before, after, 0.50), histQuantile(before, after, 0.99))
	}
}

// overheadBuckets scrapes Kiri's platform overhead histogram for Invoke: cumulative counts by
// upper bound, or nil when the endpoint has no such metric.
func overheadBuckets(endpoint string) map[float64]float64 {
	resp, err := http.Get(strings.TrimSuffix(endpoint, "/") + "/_kiri/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := map[float64]float64{}
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, `kiri_platform_overhead_seconds_bucket{operation="Invoke",service="lambda",le="`)
		if !ok {
			continue
		}
		le, count, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		bound, err1 := strconv.ParseFloat(le, 64)
		n, err2 := strconv.ParseFloat(strings.TrimSpace(count), 64)
		if err1 == nil && err2 == nil {
			m[bound] = n
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// histQuantile estimates quantile q of the observations made between two scrapes of a
// cumulative histogram, interpolating linearly inside the bucket, as Prometheus does.
func histQuantile(before, after map[float64]float64, q float64) time.Duration {
	bounds := slices.Sorted(maps.Keys(after))
	total := after[math.Inf(1)] - before[math.Inf(1)]
	if total <= 0 {
		return 0
	}
	rank, prevBound, prevCount := q*total, 0.0, 0.0
	for _, ub := range bounds {
		c := after[ub] - before[ub]
		if c >= rank {
			if math.IsInf(ub, 1) {
				return time.Duration(prevBound * float64(time.Second))
			}
			frac := 0.0
			if c > prevCount {
				frac = (rank - prevCount) / (c - prevCount)
			}
			return time.Duration((prevBound + frac*(ub-prevBound)) * float64(time.Second)).Round(time.Microsecond)
		}
		prevBound, prevCount = ub, c
	}
	return 0
}

// durationRE finds the REPORT line's Duration (not Billed Duration: that one is preceded by
// "Billed ").
var durationRE = regexp.MustCompile(`\tDuration: ([0-9.]+) ms`)

// scaleOut creates a fresh function and invokes it n times at once with a function that holds
// each instance briefly, timing until all n have answered.
func scaleOut(ctx context.Context, c *lambda.Client, zip []byte, n int) {
	name := "lambdaload-scale-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := create(ctx, c, name, zip); err != nil {
		log.Fatal(err)
	}
	defer c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: &name})
	var wg sync.WaitGroup
	var cold atomic.Int64
	start := time.Now()
	for range n {
		wg.Go(func() {
			out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: &name, Payload: []byte(`{}`), LogType: types.LogTypeTail})
			if err == nil {
				if logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult)); strings.Contains(string(logs), "Init Duration") {
					cold.Add(1)
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("scale from zero: %d concurrent invokes answered in %s (%d cold starts)\n", n, time.Since(start).Round(time.Millisecond), cold.Load())
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := len(s) * p / 100
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i].Round(10 * time.Microsecond)
}
