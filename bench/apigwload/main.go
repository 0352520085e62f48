// Command apigwload measures what an HTTP API adds in front of a function: requests/s and
// latency through an HTTP API's invoke URL (Lambda proxy, payload format 2.0) against direct
// Invoke calls of the same no-op function, at each concurrency, in alternating rounds.
//
// Both sides are plain HTTP/1.1 keep-alive clients with one connection per worker, so the
// client's own cost is the same: the Invoke request is signed once per round (dev mode checks
// a signature's time, not its bytes) and carries the very event the API hands the function, so
// the function does the same work on both sides.
//
//	go run ./bench/apigwload -endpoint http://127.0.0.1:4566 -duration 5s -rounds 3 -concurrency 16,64
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	apitypes "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kiri-run/kiri/bench/internal/noopzip"
)

var creds = credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4566", "Kiri endpoint")
	duration := flag.Duration("duration", 5*time.Second, "length of each round")
	rounds := flag.Int("rounds", 3, "rounds per side and concurrency (alternating)")
	concs := flag.String("concurrency", "16,64", "comma-separated connection counts")
	flag.Parse()
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: endpoint, RetryMaxAttempts: 1, Credentials: creds}
	lc := lambda.NewFromConfig(cfg)
	zip, err := noopzip.Build()
	if err != nil {
		log.Fatal(err)
	}
	name := "apigwload-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	fn, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: &name, Runtime: types.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String("arn:aws:iam::000000000000:role/bench"), Code: &types.FunctionCode{ZipFile: zip},
		MemorySize: aws.Int32(1769)})
	if err != nil {
		log.Fatal(err)
	}
	defer lc.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: &name})
	if err := lambda.NewFunctionActiveV2Waiter(lc).Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, time.Minute); err != nil {
		log.Fatal(err)
	}
	gc := apigatewayv2.NewFromConfig(cfg)
	api, err := gc.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: &name, ProtocolType: apitypes.ProtocolTypeHttp, Target: fn.FunctionArn})
	if err != nil {
		log.Fatal(err)
	}
	defer gc.DeleteApi(ctx, &apigatewayv2.DeleteApiInput{ApiId: api.ApiId})
	apiURL := *endpoint + "/_kiri/apis/" + aws.ToString(api.ApiId) + "/hello?x=1"
	// The function returns its event; the API answers with it as the body (format 2.0's
	// inference), and that event is the payload of the direct Invoke.
	event, err := get(apiURL)
	if err != nil {
		log.Fatal(err)
	}
	invokeURL := *endpoint + "/2015-03-31/functions/" + name + "/invocations"
	fmt.Printf("endpoint %s  function %s  API %s  event %d bytes\n", *endpoint, name, aws.ToString(api.ApiId), len(event))

	for _, s := range strings.Split(*concs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			log.Fatalf("bad concurrency %q", s)
		}
		var inv, via []result
		for range *rounds {
			h := signedInvoke(ctx, invokeURL, event)
			inv = append(inv, run(n, *duration, func() *http.Request {
				r, _ := http.NewRequest(http.MethodPost, invokeURL, bytes.NewReader(event))
				r.Header = h.Clone()
				return r
			}))
			via = append(via, run(n, *duration, func() *http.Request {
				r, _ := http.NewRequest(http.MethodGet, apiURL, nil)
				return r
			}))
		}
		report(n, "Invoke", inv)
		report(n, "HTTP API", via)
		d50 := median(via, func(r result) time.Duration { return r.p50 }) - median(inv, func(r result) time.Duration { return r.p50 })
		d99 := median(via, func(r result) time.Duration { return r.p99 }) - median(inv, func(r result) time.Duration { return r.p99 })
		rps := medianRate(via) / medianRate(inv)
		fmt.Printf("  c=%d  added by the HTTP API: p50 %+.3f ms  p99 %+.3f ms  req/s ratio %.2f\n", n, ms(d50), ms(d99), rps)
	}
}

// signedInvoke signs an Invoke request with body once and returns its headers.
func signedInvoke(ctx context.Context, url string, body []byte) http.Header {
	r, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	c, _ := creds.Retrieve(ctx)
	if err := v4.NewSigner().SignHTTP(ctx, c, r, hex.EncodeToString(sum[:]), "lambda", "us-east-1", time.Now()); err != nil {
		log.Fatal(err)
	}
	return r.Header
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b, err
}

// result is one round of one side.
type result struct {
	rps           float64
	p50, p99, max time.Duration
	failed        int64
}

// run has n workers, each with its own keep-alive connection, send requests as fast as
// answers come back for d.
func run(n int, d time.Duration, req func() *http.Request) result {
	var wg sync.WaitGroup
	var failed atomic.Int64
	lat := make([][]time.Duration, n)
	clients := make([]*http.Client, n)
	for i := range clients {
		clients[i] = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DialContext: (&net.Dialer{}).DialContext}}
		do(clients[i], req()) // connect and warm an instance
	}
	start := time.Now()
	end := start.Add(d)
	for i := range n {
		wg.Go(func() {
			for time.Now().Before(end) {
				t0 := time.Now()
				if !do(clients[i], req()) {
					failed.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return result{failed: failed.Load()}
	}
	return result{rps: float64(len(all)) / elapsed.Seconds(), p50: all[len(all)/2], p99: all[len(all)*99/100], max: all[len(all)-1], failed: failed.Load()}
}

func do(c *http.Client, r *http.Request) bool {
	resp, err := c.Do(r)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func report(n int, side string, rs []result) {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%.0f/s p50 %.3f p99 %.3f ms", r.rps, ms(r.p50), ms(r.p99)))
		if r.failed > 0 {
			parts[len(parts)-1] += fmt.Sprintf(" (%d failed)", r.failed)
		}
	}
	fmt.Printf("c=%-3d %-8s median %.0f req/s  p50 %.3f ms  p99 %.3f ms   rounds: %s\n", n, side,
		medianRate(rs),
		ms(median(rs, func(r result) time.Duration { return r.p50 })), ms(median(rs, func(r result) time.Duration { return r.p99 })),
		strings.Join(parts, "; "))
}

func median(rs []result, f func(result) time.Duration) time.Duration {
	v := make([]time.Duration, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func medianRate(rs []result) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = r.rps
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
