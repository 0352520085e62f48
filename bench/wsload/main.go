// Command wsload measures WebSocket APIs: how many concurrent connections Kiri holds, the
// server's resident memory per idle connection (its RSS before and after opening them), and
// the push latency from a PostToConnection call to the client receiving the message.
//
// Start Kiri, then point wsload at it with its PID:
//
//	go build -o /tmp/kiri ./cmd/kiri
//	/tmp/kiri --addr 127.0.0.1:4599 --data-dir "$(mktemp -d)" --log-level warn &
//	go run ./bench/wsload -endpoint http://127.0.0.1:4599 -pid $! -conns 10000 -pushes 2000
//
// Each process needs a file descriptor per connection (ulimit -n).
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"slices"
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
	"github.com/gorilla/websocket"

	"github.com/kiri-run/kiri/bench/internal/procstat"
	"github.com/kiri-run/kiri/bench/internal/workload"
)

// whoami answers a message with the connection's id (the API's two-way $default route).
const whoami = "def handler(event, context):\n    return {'statusCode': 200, 'body': event['requestContext']['connectionId']}\n"

var creds = credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4566", "Kiri endpoint")
	pid := flag.Int("pid", 0, "Kiri's process id, for its RSS (0: not measured)")
	conns := flag.Int("conns", 10000, "idle connections to open")
	pushes := flag.Int("pushes", 2000, "PostToConnection calls timed")
	settle := flag.Duration("settle", 5*time.Second, "wait before reading the RSS after opening the connections")
	flag.Parse()
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: endpoint, Credentials: creds}
	wsURL, err := setup(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}

	// One connection first, so lazily built state is in the baseline.
	probe, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		log.Fatal(err)
	}
	id := connectionID(probe)
	time.Sleep(*settle)
	before := procstat.RSS(*pid)

	start := time.Now()
	held := openIdle(wsURL, *conns)
	opened := time.Since(start)
	time.Sleep(*settle)
	after := procstat.RSS(*pid)
	fmt.Printf("connections held: %d of %d (opened in %v, %.0f/s)\n", len(held), *conns, opened.Round(time.Millisecond), float64(len(held))/opened.Seconds())
	if *pid != 0 && len(held) > 0 {
		fmt.Printf("server RSS: %d KiB before, %d KiB after: %.1f KiB per idle connection\n", before, after, float64(after-before)/float64(len(held)))
	}

	lat := pushLatency(ctx, *endpoint, id, probe, *pushes)
	slices.Sort(lat)
	fmt.Printf("push latency (PostToConnection sent -> message received, %d pushes, %d idle connections open): p50 %s p90 %s p99 %s\n",
		len(lat), len(held), workload.Percentile(lat, 0.50), workload.Percentile(lat, 0.90), workload.Percentile(lat, 0.99))
	alive := 0
	for _, c := range held[:min(len(held), 100)] {
		if c.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)) == nil {
			alive++
		}
		c.Close()
	}
	for _, c := range held[min(len(held), 100):] {
		c.Close()
	}
	fmt.Printf("sampled connections still open at the end: %d of %d\n", alive, min(len(held), 100))
}

// setup creates the whoami function and a WebSocket API whose two-way $default route calls it,
// on a stage "bench", and returns the stage's URL.
func setup(ctx context.Context, cfg aws.Config) (string, error) {
	lc := lambda.NewFromConfig(cfg)
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("app.py")
	io.WriteString(w, whoami)
	zw.Close()
	name := fmt.Sprintf("wsload-%d", time.Now().UnixNano())
	fn, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: &name, Runtime: types.RuntimePython312, Handler: aws.String("app.handler"),
		Role: aws.String("arn:aws:iam::000000000000:role/wsload"), Code: &types.FunctionCode{ZipFile: zb.Bytes()}})
	if err != nil {
		return "", err
	}
	if err := lambda.NewFunctionActiveV2Waiter(lc).Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, time.Minute); err != nil {
		return "", err
	}
	c := apigatewayv2.NewFromConfig(cfg)
	api, err := c.CreateApi(ctx, &apigatewayv2.CreateApiInput{Name: &name, ProtocolType: apitypes.ProtocolTypeWebsocket, RouteSelectionExpression: aws.String("$request.body.action")})
	if err != nil {
		return "", err
	}
	integ, err := c.CreateIntegration(ctx, &apigatewayv2.CreateIntegrationInput{ApiId: api.ApiId, IntegrationType: apitypes.IntegrationTypeAwsProxy, IntegrationUri: fn.FunctionArn})
	if err != nil {
		return "", err
	}
	route, err := c.CreateRoute(ctx, &apigatewayv2.CreateRouteInput{ApiId: api.ApiId, RouteKey: aws.String("$default"),
		Target: aws.String("integrations/" + aws.ToString(integ.IntegrationId)), RouteResponseSelectionExpression: aws.String("$default")})
	if err != nil {
		return "", err
	}
	if _, err := c.CreateRouteResponse(ctx, &apigatewayv2.CreateRouteResponseInput{ApiId: api.ApiId, RouteId: route.RouteId, RouteResponseKey: aws.String("$default")}); err != nil {
		return "", err
	}
	if _, err := c.CreateStage(ctx, &apigatewayv2.CreateStageInput{ApiId: api.ApiId, StageName: aws.String("bench"), AutoDeploy: aws.Bool(true)}); err != nil {
		return "", err
	}
	return "ws" + strings.TrimPrefix(*cfg.BaseEndpoint, "http") + "/_kiri/apis/" + aws.ToString(api.ApiId) + "/bench", nil
}

// connectionID asks the whoami route for c's connection id.
func connectionID(c *websocket.Conn) string {
	if err := c.WriteMessage(websocket.TextMessage, []byte("whoami")); err != nil {
		log.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, b, err := c.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	c.SetReadDeadline(time.Time{})
	return string(b)
}

// openIdle opens n connections, 64 at a time, and returns those that opened.
func openIdle(url string, n int) []*websocket.Conn {
	var mu sync.Mutex
	var held []*websocket.Conn
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	d := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 256, WriteBufferSize: 256}
	for range 64 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				c, _, err := d.Dial(url, nil)
				if err != nil {
					if failed.Add(1) == 1 {
						log.Printf("dial: %v", err)
					}
					continue
				}
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return held
}

// pushLatency times n PostToConnection calls to id, one after another, each from sending the
// call to the client c receiving its message.
func pushLatency(ctx context.Context, endpoint, id string, c *websocket.Conn, n int) []time.Duration {
	received := make(chan time.Time, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				close(received)
				return
			}
			received <- time.Now()
		}
	}()
	cred, _ := creds.Retrieve(ctx)
	signer := v4.NewSigner()
	client := &http.Client{}
	lat := make([]time.Duration, 0, n)
	body := []byte(`{"event":"price","value":42}`)
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	for range n {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/@connections/"+id, bytes.NewReader(body))
		if err := signer.SignHTTP(ctx, cred, req, hash, "execute-api", "us-east-1", time.Now()); err != nil {
			log.Fatal(err)
		}
		sent := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			log.Fatalf("PostToConnection: %s", resp.Status)
		}
		got, ok := <-received
		if !ok {
			log.Fatal("the connection closed")
		}
		lat = append(lat, got.Sub(sent))
	}
	return lat
}
