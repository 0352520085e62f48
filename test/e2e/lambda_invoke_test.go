package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// echoAnswer is what testdata/lambda/echo returns.
type echoAnswer struct {
	Said, RequestID, FunctionName, Version, InvokedArn, Region, Endpoint, TaskRoot, Env string
	MemoryMB                                                                            int `json:"memoryMb"`
	RemainingMS                                                                         int64
	ReadError, ReadContent, WriteError, ClientContext                                   string
}

func createEcho(t *testing.T, c *lambda.Client, name string, mut ...func(*lambda.CreateFunctionInput)) {
	t.Helper()
	z := kiritest.GoFunctionZip(t, "./testdata/lambda/echo")
	mut = append([]func(*lambda.CreateFunctionInput){func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"GREETING": "kia ora"}}
	}}, mut...)
	createTestFunction(t, c, name, z, mut...)
	waitActive(t, c, name)
}

func invokeJSON(t *testing.T, c *lambda.Client, in *lambda.InvokeInput) (*lambda.InvokeOutput, echoAnswer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.Invoke(ctx, in)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var a echoAnswer
	if out.FunctionError == nil {
		if err := json.Unmarshal(out.Payload, &a); err != nil {
			t.Fatalf("payload %s: %v", out.Payload, err)
		}
	}
	return out, a
}

func TestLambdaInvokeGoFunction(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	createEcho(t, c, "echo")

	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	out, a := invokeJSON(t, c, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"say":"hello"}`),
		LogType: types.LogTypeTail, ClientContext: aws.String(cc)})
	if out.StatusCode != 200 || aws.ToString(out.ExecutedVersion) != "$LATEST" || out.FunctionError != nil {
		t.Fatalf("status %d version %q error %v", out.StatusCode, aws.ToString(out.ExecutedVersion), aws.ToString(out.FunctionError))
	}
	if a.Said != "hello" || a.FunctionName != "echo" || a.Version != "$LATEST" || a.MemoryMB != 128 || a.Region != kiritest.Region ||
		a.Endpoint != srv.URL || a.Env != "kia ora" || a.RequestID == "" || a.ClientContext != "v" ||
		!strings.HasSuffix(a.InvokedArn, ":function:echo") || a.RemainingMS <= 0 || a.RemainingMS > 3000 {
		t.Errorf("answer = %+v", a)
	}
	logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	for _, want := range []string{"START RequestId: " + a.RequestID, `handling "hello"`, "END RequestId: " + a.RequestID, "REPORT RequestId: " + a.RequestID, "Billed Duration: ", "Memory Size: 128 MB", "Init Duration: "} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("log tail lacks %q:\n%s", want, logs)
		}
	}
	// A warm instance answers the next call: no Init Duration.
	out, _ = invokeJSON(t, c, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"say":"again"}`), LogType: types.LogTypeTail})
	logs, _ = base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if strings.Contains(string(logs), "Init Duration") {
		t.Errorf("warm invoke reported an init:\n%s", logs)
	}

	t.Run("qualifier runs the published version", func(t *testing.T) {
		v, err := c.PublishVersion(context.Background(), &lambda.PublishVersionInput{FunctionName: aws.String("echo")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UpdateFunctionConfiguration(context.Background(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("echo"),
			Environment: &types.Environment{Variables: map[string]string{"GREETING": "changed"}}}); err != nil {
			t.Fatal(err)
		}
		waitUpdated(t, c, "echo")
		out, a := invokeJSON(t, c, &lambda.InvokeInput{FunctionName: aws.String("echo"), Qualifier: v.Version, Payload: []byte(`{}`)})
		if aws.ToString(out.ExecutedVersion) != aws.ToString(v.Version) || a.Version != aws.ToString(v.Version) || a.Env != "kia ora" {
			t.Errorf("version %q answer %+v", aws.ToString(out.ExecutedVersion), a)
		}
		_, a = invokeJSON(t, c, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{}`)})
		if a.Env != "changed" {
			t.Errorf("$LATEST after the update still runs the old configuration: %+v", a)
		}
	})
	t.Run("function error", func(t *testing.T) {
		out, _ := invokeJSON(t, c, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"fail":"boom"}`)})
		if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorMessage":"boom"`) {
			t.Errorf("error %q payload %s", aws.ToString(out.FunctionError), out.Payload)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		_, err := c.UpdateFunctionConfiguration(context.Background(), &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("echo"), Timeout: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		waitUpdated(t, c, "echo")
		out, _ := invokeJSON(t, c, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"sleepMs":3000}`)})
		if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "Task timed out after 1.00 seconds") {
			t.Errorf("error %q payload %s", aws.ToString(out.FunctionError), out.Payload)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeDryRun})
		if err != nil || out.StatusCode != 204 {
			t.Fatalf("DryRun: %v, status %v", err, out)
		}
	})
	t.Run("bad payload", func(t *testing.T) {
		_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{nope`)})
		wantAPIError(t, err, "InvalidRequestContentException", "")
		_, err = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("missing")})
		wantAPIError(t, err, "ResourceNotFoundException", "")
	})
	t.Run("reserved concurrency zero throttles", func(t *testing.T) {
		createEcho(t, c, "throttled")
		if _, err := c.PutFunctionConcurrency(context.Background(), &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("throttled"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
			t.Fatal(err)
		}
		_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("throttled")})
		var tm *types.TooManyRequestsException
		if !errors.As(err, &tm) {
			t.Fatalf("err = %v, want TooManyRequestsException", err)
		}
	})
}

func TestLambdaAsyncInvokeRetriesAndLogs(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	createEcho(t, cl.Lambda, "async")
	out, err := cl.Lambda.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("async"),
		InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"say":"later"}`)})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("Event invoke: %v %v", err, out)
	}
	// A failing event is tried three times (two retries), each logged.
	if _, err := cl.Lambda.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("async"),
		InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"fail":"always"}`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		said, failed := logLines(t, cl.Logs, "/aws/lambda/async", `"later"`), logLines(t, cl.Logs, "/aws/lambda/async", "always")
		if said >= 1 && failed >= 3 {
			if failed > 3 {
				t.Errorf("failing event ran %d times, want 3", failed)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: %d runs of the good event, %d of the failing one", said, failed)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// logLines counts the log events of a group that contain term.
func logLines(t *testing.T, c *cloudwatchlogs.Client, group, term string) int {
	t.Helper()
	out, err := c.FilterLogEvents(context.Background(), &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group), FilterPattern: aws.String(`"` + strings.Trim(term, `"`) + `"`)})
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range out.Events {
		if strings.Contains(aws.ToString(e.Message), strings.Trim(term, `"`)) && !strings.HasPrefix(aws.ToString(e.Message), "REPORT") {
			n++
		}
	}
	return n
}

func TestLambdaInterpretedRuntimes(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	cases := []struct {
		runtime types.Runtime
		handler string
		files   map[string]string
	}{
		{types.RuntimePython312, "app.handler", map[string]string{"app.py": "def handler(event, context):\n    print('py got', event['n'])\n    return {'n': event['n'] + 1, 'fn': context.function_name}\n"}},
		{types.RuntimeNodejs20x, "index.handler", map[string]string{"index.mjs": "export const handler = async (event, context) => { console.log('node got', event.n); return {n: event.n + 1, fn: context.functionName}; };\n"}},
		// The newest identifiers run on the host's python3 and node, whatever their version.
		{types.RuntimePython314, "app.handler", map[string]string{"app.py": "def handler(event, context):\n    return {'n': event['n'] + 1, 'fn': context.function_name}\n"}},
		{types.RuntimeNodejs24x, "index.handler", map[string]string{"index.mjs": "export const handler = async (event, context) => ({n: event.n + 1, fn: context.functionName});\n"}},
	}
	for _, tc := range cases {
		t.Run(string(tc.runtime), func(t *testing.T) {
			name := "fn-" + strings.ReplaceAll(string(tc.runtime), ".", "")
			createTestFunction(t, c, name, kiritest.ZipSource(t, tc.files), func(in *lambda.CreateFunctionInput) {
				in.Runtime, in.Handler = tc.runtime, aws.String(tc.handler)
			})
			waitActive(t, c, name)
			out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"n":41}`)})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				N  int
				Fn string
			}
			if out.FunctionError != nil || json.Unmarshal(out.Payload, &got) != nil || got.N != 42 || got.Fn != name {
				t.Errorf("error %q payload %s", aws.ToString(out.FunctionError), out.Payload)
			}
		})
	}
}

func TestLambdaResponseStreaming(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	src := `export const handler = awslambda.streamifyResponse(async (event, stream, context) => {
  for (const part of ["one ", "two ", "three"]) { stream.write(part); await new Promise(r => setTimeout(r, 50)); }
  stream.end();
});
`
	createTestFunction(t, c, "streamer", kiritest.ZipSource(t, map[string]string{"index.mjs": src}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
	})
	waitActive(t, c, "streamer")
	out, err := c.InvokeWithResponseStream(context.Background(), &lambda.InvokeWithResponseStreamInput{FunctionName: aws.String("streamer")})
	if err != nil {
		t.Fatal(err)
	}
	stream := out.GetStream()
	defer stream.Close()
	var body strings.Builder
	chunks, completed := 0, false
	for ev := range stream.Events() {
		switch e := ev.(type) {
		case *types.InvokeWithResponseStreamResponseEventMemberPayloadChunk:
			chunks++
			body.Write(e.Value.Payload)
		case *types.InvokeWithResponseStreamResponseEventMemberInvokeComplete:
			completed = true
			if e.Value.ErrorCode != nil {
				t.Errorf("stream ended with %s: %s", aws.ToString(e.Value.ErrorCode), aws.ToString(e.Value.ErrorDetails))
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if body.String() != "one two three" || chunks < 2 || !completed {
		t.Errorf("body %q in %d chunks, completed %v", body.String(), chunks, completed)
	}
}

func TestLambdaFunctionURL(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	src := `export const handler = async (event) => ({statusCode: 201, headers: {"x-seen": event.rawPath + "?" + event.rawQueryString}, body: JSON.stringify({method: event.requestContext.http.method, body: event.body, version: event.version})});`
	createTestFunction(t, c, "web", kiritest.ZipSource(t, map[string]string{"index.mjs": src}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
	})
	waitActive(t, c, "web")
	cfg, err := c.CreateFunctionUrlConfig(context.Background(), &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("web"), AuthType: types.FunctionUrlAuthTypeNone})
	if err != nil {
		t.Fatal(err)
	}
	post := func(url string) *http.Response {
		t.Helper()
		resp, err := http.Post(url, "text/plain", strings.NewReader("ping"))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	urlID := strings.SplitN(strings.TrimPrefix(aws.ToString(cfg.FunctionUrl), "http://"), ".", 2)[0]
	pathForm := srv.URL + "/_kiri/lambda-url/" + urlID + "/items/7?x=1"
	// Without a resource policy allowing public access, the URL refuses.
	if resp := post(pathForm); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status without permission = %d, want 403", resp.StatusCode)
	}
	if _, err := c.AddPermission(context.Background(), &lambda.AddPermissionInput{FunctionName: aws.String("web"), StatementId: aws.String("public"),
		Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone}); err != nil {
		t.Fatal(err)
	}
	resp := post(pathForm)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("X-Seen") != "/items/7?x=1" || string(b) != `{"method":"POST","body":"ping","version":"2.0"}` {
		t.Errorf("status %d x-seen %q body %s", resp.StatusCode, resp.Header.Get("X-Seen"), b)
	}
}

func TestLambdaS3PutMakesThumbnail(t *testing.T) {
	t.Run("dev", func(t *testing.T) { testThumbnail(t, kiritest.Options{}, lambdaRole) })
	// In strict mode the function signs its S3 calls with its execution role's credentials.
	// Its role must exist in IAM and trust Lambda; its policies allow the S3 calls.
	t.Run("strict", func(t *testing.T) { testThumbnail(t, kiritest.Options{Strict: true}, "") })
}

// testThumbnail runs the thumbnail function with role, or in strict mode with a role it makes.
func testThumbnail(t *testing.T, opts kiritest.Options, role string) {
	srv := kiritest.Start(t, opts)
	cl := srv.Clients()
	ctx := context.Background()
	if role == "" {
		var err error
		if role, err = createFunctionRole(ctx, cl, "thumbnailer", "arn:aws:iam::aws:policy/AmazonS3FullAccess",
			"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []string{"photos-in", "photos-out"} {
		if _, err := cl.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	createTestFunction(t, cl.Lambda, "thumbnail", kiritest.GoFunctionZip(t, "./testdata/lambda/thumbnail"), func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"THUMBNAIL_BUCKET": "photos-out"}}
		in.Timeout = aws.Int32(10)
		in.Role = aws.String(role)
	})
	waitActive(t, cl.Lambda, "thumbnail")
	fn, err := cl.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("thumbnail")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("thumbnail"), StatementId: aws.String("s3"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com"), SourceArn: aws.String("arn:aws:s3:::photos-in")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.S3.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("photos-in"),
		NotificationConfiguration: &s3types.NotificationConfiguration{LambdaFunctionConfigurations: []s3types.LambdaFunctionConfiguration{{
			LambdaFunctionArn: fn.Configuration.FunctionArn, Events: []s3types.Event{"s3:ObjectCreated:*"},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{{Name: s3types.FilterRuleNamePrefix, Value: aws.String("photos/")}}}},
		}}}}); err != nil {
		t.Fatal(err)
	}
	img := []byte("\x89PNG cat pixels")
	if _, err := cl.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos-in"), Key: aws.String("photos/cat.png"), Body: strings.NewReader(string(img))}); err != nil {
		t.Fatal(err)
	}
	want := []byte("slexip tac GNP\x89")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := cl.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos-out"), Key: aws.String("thumbnails/cat.png")})
		if err == nil {
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(got) != string(want) {
				t.Fatalf("thumbnail = %q, want %q", got, want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no thumbnail after 30s: %v\nlogs:\n%s", err, srv.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestLambdaFunctionURLModes(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	ctx := context.Background()
	src := `export const handler = async (event) => ({statusCode: 200, body: event.requestContext.http.method + " " + event.rawPath});`
	createTestFunction(t, c, "iam", kiritest.ZipSource(t, map[string]string{"index.mjs": src}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
	})
	waitActive(t, c, "iam")
	cfg, err := c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("iam"), AuthType: types.FunctionUrlAuthTypeAwsIam,
		Cors: &types.Cors{AllowOrigins: []string{"https://app.example"}, AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"content-type"}, MaxAge: aws.Int32(60)}})
	if err != nil {
		t.Fatal(err)
	}
	// The host form: <url-id>.lambda-url.<region>.localhost, dialled at Kiri's address.
	hostURL := aws.ToString(cfg.FunctionUrl)
	dial := func(req *http.Request) *http.Response {
		t.Helper()
		req.URL.Host = strings.TrimPrefix(srv.URL, "http://")
		req.Host = strings.TrimSuffix(strings.TrimPrefix(hostURL, "http://"), "/")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	req, _ := http.NewRequest("GET", hostURL+"hello", nil)
	if resp := dial(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned request to an AWS_IAM URL: status %d, want 403", resp.StatusCode)
	}
	pre, _ := http.NewRequest("OPTIONS", hostURL+"hello", nil)
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	resp := dial(pre)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || resp.Header.Get("Access-Control-Max-Age") != "60" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	signed := signedURLRequest(t, srv, "GET", hostURL+"hello")
	resp = dial(signed)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "GET /hello" {
		t.Errorf("signed request: %d %s", resp.StatusCode, b)
	}

	t.Run("response stream", func(t *testing.T) {
		src := `export const handler = awslambda.streamifyResponse(async (event, stream) => {
  stream = awslambda.HttpResponseStream.from(stream, {statusCode: 207, headers: {"x-mode": "stream"}});
  stream.write("a"); await new Promise(r => setTimeout(r, 30)); stream.write("b"); stream.end();
});`
		createTestFunction(t, c, "streamurl", kiritest.ZipSource(t, map[string]string{"index.mjs": src}), func(in *lambda.CreateFunctionInput) {
			in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
		})
		waitActive(t, c, "streamurl")
		cfg, err := c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: aws.String("streamurl"),
			AuthType: types.FunctionUrlAuthTypeNone, InvokeMode: types.InvokeModeResponseStream})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("streamurl"), StatementId: aws.String("public"),
			Action: aws.String("lambda:InvokeFunctionUrl"), Principal: aws.String("*"), FunctionUrlAuthType: types.FunctionUrlAuthTypeNone}); err != nil {
			t.Fatal(err)
		}
		hostURL = aws.ToString(cfg.FunctionUrl)
		req, _ := http.NewRequest("GET", hostURL, nil)
		resp := dial(req)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 207 || resp.Header.Get("X-Mode") != "stream" || string(b) != "ab" {
			t.Errorf("streamed URL: %d %v %q", resp.StatusCode, resp.Header, b)
		}
	})
}

func TestLambdaPayloadLimitsAndMetrics(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	c := srv.Clients().Lambda
	createEcho(t, c, "limits")
	big := []byte(`{"say":"` + strings.Repeat("x", 6*1024*1024) + `"}`)
	_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("limits"), Payload: big})
	wantAPIError(t, err, "RequestEntityTooLargeException", "")
	async := []byte(`{"say":"` + strings.Repeat("x", 300*1024) + `"}`)
	_, err = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("limits"), Payload: async, InvocationType: types.InvocationTypeEvent})
	wantAPIError(t, err, "RequestEntityTooLargeException", "")
	invokeJSON(t, c, &lambda.InvokeInput{FunctionName: aws.String("limits"), Payload: []byte(`{"say":"x"}`)})
	resp, err := http.Get(srv.URL + "/_kiri/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"kiri_lambda_instances", "kiri_lambda_cold_starts_total", "kiri_lambda_invocations_total",
		// The one invoke that ran the function; the refused ones ran nothing.
		`kiri_platform_overhead_seconds_count{operation="Invoke",service="lambda"} 1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestLambdaAsyncDestinations(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	ctx := context.Background()
	createEcho(t, cl.Lambda, "failing")
	recorder := `export const handler = async (event) => { console.log("DESTINATION " + JSON.stringify(event)); return {}; };`
	createTestFunction(t, cl.Lambda, "recorder", kiritest.ZipSource(t, map[string]string{"index.mjs": recorder}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = types.RuntimeNodejs20x, aws.String("index.handler")
	})
	waitActive(t, cl.Lambda, "recorder")
	rec, _ := cl.Lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("recorder")})
	if _, err := cl.Lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("failing"),
		MaximumRetryAttempts: aws.Int32(0), DestinationConfig: &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: rec.Configuration.FunctionArn}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("failing"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"fail":"nope"}`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for logLines(t, cl.Logs, "/aws/lambda/recorder", "RetriesExhausted") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no failure record reached the destination\n%s", srv.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := logLines(t, cl.Logs, "/aws/lambda/failing", "nope"); n != 1 {
		t.Errorf("with MaximumRetryAttempts 0 the event ran %d times, want 1", n)
	}
}

// signedURLRequest signs a request to a function URL with SigV4 for the lambda service, as
// AWS_IAM URLs require.
func signedURLRequest(t *testing.T, srv *kiritest.Server, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := srv.Clients().Config.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	req.Header.Set("X-Amz-Content-Sha256", emptyHash)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptyHash, "lambda", kiritest.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}
