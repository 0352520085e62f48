package bootstraps

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

const nodeRuntime = "nodejs20.x"

func TestNodeResultRoundTrip(t *testing.T) {
	code := writeCode(t, map[string]string{"index.mjs": `
export const handler = async (event) => ({ echo: event, n: 1.5 });
`})
	in := start(t, nodeRuntime, code, "index.handler")
	p := in.invoke(t, invocation{Event: `{"a":[1,2],"s":"h\u00e9llo"}`})
	if p.Kind != "response" {
		t.Fatalf("kind = %s, body %s", p.Kind, p.Body)
	}
	if got, want := string(p.Body), `{"echo":{"a":[1,2],"s":"héllo"},"n":1.5}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
}

func TestNodeModuleFormats(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		handler string
	}{
		{"mjs is an ES module", map[string]string{
			"index.mjs": "export const handler = async () => import.meta.url.endsWith('index.mjs');",
		}, "index.handler"},
		{"cjs is CommonJS", map[string]string{
			"index.cjs": "exports.handler = async () => typeof require === 'function';",
		}, "index.handler"},
		{"js without package type is CommonJS", map[string]string{
			"index.js": "module.exports.handler = async () => typeof module === 'object';",
		}, "index.handler"},
		{"js under package type module is an ES module", map[string]string{
			"package.json": `{"type":"module"}`,
			"index.js":     "export async function handler() { return typeof require === 'undefined'; }",
		}, "index.handler"},
		{"nested directory", map[string]string{
			"src/app.js": "exports.handler = async () => __filename.endsWith('/src/app.js');",
		}, "src/app.handler"},
		{"nested export path", map[string]string{
			"index.js": "exports.api = { v1: { handler: async () => true } };",
		}, "index.api.v1.handler"},
		{"directory module through node resolution", map[string]string{
			"lib/index.js": "exports.handler = async () => true;",
		}, "lib.handler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := start(t, nodeRuntime, writeCode(t, tt.files), tt.handler)
			if p := in.invoke(t, invocation{}); p.Kind != "response" || string(p.Body) != "true" {
				t.Errorf("%s: %s", p.Kind, p.Body)
			}
		})
	}
}

func TestNodeContext(t *testing.T) {
	code := writeCode(t, map[string]string{"index.mjs": `
export const handler = async (event, context) => ({
  awsRequestId: context.awsRequestId,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  clientContext: context.clientContext,
  identity: context.identity,
  remaining: context.getRemainingTimeInMillis(),
  waits: context.callbackWaitsForEmptyEventLoop,
  legacy: [typeof context.succeed, typeof context.fail, typeof context.done],
  trace: process.env._X_AMZN_TRACE_ID ?? null,
});
`})
	in := start(t, nodeRuntime, code, "index.handler")
	p := in.invoke(t, invocation{
		ID:            "11111111-2222-3333-4444-555555555555",
		Deadline:      time.Now().Add(30 * time.Second),
		ARN:           "arn:aws:lambda:us-east-1:000000000000:function:fn:live",
		TraceID:       "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
		ClientContext: `{"custom":{"k":"v"}}`,
		Identity:      `{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}`,
	})
	got := decode(t, p.Body)
	want := map[string]any{
		"awsRequestId":       "11111111-2222-3333-4444-555555555555",
		"functionName":       "fn",
		"functionVersion":    "$LATEST",
		"invokedFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:fn:live",
		"memoryLimitInMB":    "256",
		"logGroupName":       "/aws/lambda/fn",
		"logStreamName":      "2025/01/01/[$LATEST]abc",
		"waits":              true,
		"trace":              "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if cc, _ := got["clientContext"].(map[string]any); cc == nil || cc["custom"].(map[string]any)["k"] != "v" {
		t.Errorf("clientContext = %v", got["clientContext"])
	}
	if id, _ := got["identity"].(map[string]any); id == nil || id["cognitoIdentityPoolId"] != "pool-1" {
		t.Errorf("identity = %v", got["identity"])
	}
	if r, _ := got["remaining"].(float64); r < 25000 || r > 30000 {
		t.Errorf("remaining = %v, want about 30000", got["remaining"])
	}
	if l, _ := json.Marshal(got["legacy"]); string(l) != `["function","function","function"]` {
		t.Errorf("succeed/fail/done = %s", l)
	}
	got = decode(t, in.invoke(t, invocation{}).Body)
	if got["trace"] != nil {
		t.Errorf("trace id leaked into the next invocation: %v", got["trace"])
	}
}

func TestNodeCallbackStyle(t *testing.T) {
	code := writeCode(t, map[string]string{"index.js": `
exports.handler = (event, context, callback) => {
  switch (event.kind) {
  case 'ok': return callback(null, { ok: true });
  case 'error': return callback(new Error('cb boom'));
  case 'succeed': return context.succeed('legacy');
  case 'wait':
    setTimeout(() => {}, 300);
    return callback(null, 'waited');
  case 'nowait':
    context.callbackWaitsForEmptyEventLoop = false;
    setTimeout(() => {}, 300);
    return callback(null, 'early');
  case 'never':
    return; // neither callback nor promise: null once the event loop empties
  case 'twice':
    callback(null, 'first');
    return callback(null, 'second');
  }
};
`})
	in := start(t, nodeRuntime, code, "index.handler")
	tests := []struct {
		kind, wantKind, wantBody string
		minElapsed, maxElapsed   time.Duration
	}{
		{kind: "ok", wantKind: "response", wantBody: `{"ok":true}`},
		{kind: "succeed", wantKind: "response", wantBody: `"legacy"`},
		{kind: "wait", wantKind: "response", wantBody: `"waited"`, minElapsed: 250 * time.Millisecond},
		{kind: "nowait", wantKind: "response", wantBody: `"early"`, maxElapsed: 200 * time.Millisecond},
		{kind: "never", wantKind: "response", wantBody: `null`},
		{kind: "twice", wantKind: "response", wantBody: `"first"`},
		{kind: "error", wantKind: "error"},
	}
	for _, tt := range tests {
		began := time.Now()
		p := in.invoke(t, invocation{Event: `{"kind":"` + tt.kind + `"}`})
		elapsed := time.Since(began)
		if p.Kind != tt.wantKind || (tt.wantBody != "" && string(p.Body) != tt.wantBody) {
			t.Errorf("%s: %s %s, want %s %s", tt.kind, p.Kind, p.Body, tt.wantKind, tt.wantBody)
		}
		if tt.minElapsed > 0 && elapsed < tt.minElapsed {
			t.Errorf("%s: answered after %v, before the event loop emptied", tt.kind, elapsed)
		}
		if tt.maxElapsed > 0 && elapsed > tt.maxElapsed {
			t.Errorf("%s: answered after %v despite callbackWaitsForEmptyEventLoop = false", tt.kind, elapsed)
		}
		if tt.kind == "error" {
			got := decode(t, p.Body)
			if got["errorType"] != "Error" || got["errorMessage"] != "cb boom" {
				t.Errorf("callback error = %v", got)
			}
		}
	}
}

func TestNodeHandlerError(t *testing.T) {
	code := writeCode(t, map[string]string{"index.mjs": `
class TeapotError extends Error { constructor(m) { super(m); this.name = 'TeapotError'; } }
export const handler = async (event) => {
  if (event.kind === 'custom') throw new TeapotError('short and stout');
  if (event.kind === 'string') throw 'just a string';
  if (event.kind === 'circular') { const o = {}; o.o = o; return o; }
  throw new Error('boom');
};
`})
	in := start(t, nodeRuntime, code, "index.handler")

	p := in.invoke(t, invocation{})
	if p.Kind != "error" || p.Header.Get("Lambda-Runtime-Function-Error-Type") != "Error" {
		t.Fatalf("%s with error type %q", p.Kind, p.Header.Get("Lambda-Runtime-Function-Error-Type"))
	}
	got := decode(t, p.Body)
	trace, _ := got["trace"].([]any)
	if got["errorType"] != "Error" || got["errorMessage"] != "boom" || len(trace) < 2 || trace[0] != "Error: boom" {
		t.Errorf("error = %v", got)
	}
	if len(trace) > 1 && !strings.Contains(trace[1].(string), "index.mjs") {
		t.Errorf("trace[1] = %v, want the handler's frame", trace[1])
	}
	in.waitOutput(t, "\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"boom\"")

	got = decode(t, in.invoke(t, invocation{Event: `{"kind":"custom"}`}).Body)
	if got["errorType"] != "TeapotError" || got["errorMessage"] != "short and stout" {
		t.Errorf("custom error = %v", got)
	}
	got = decode(t, in.invoke(t, invocation{Event: `{"kind":"string"}`}).Body)
	if got["errorType"] != "string" || got["errorMessage"] != "just a string" {
		t.Errorf("string error = %v", got)
	}
	got = decode(t, in.invoke(t, invocation{Event: `{"kind":"circular"}`}).Body)
	if got["errorMessage"] != "Unable to stringify response body" {
		t.Errorf("circular result = %v", got)
	}
}

func TestNodeInitErrors(t *testing.T) {
	files := map[string]string{
		"index.js":      "exports.handler = async () => 1; exports.notfn = 3;",
		"syntax.js":     "exports.handler = async () => {;",
		"syntaxesm.mjs": "export const handler = async () => {;",
		"throws.js":     "throw new TypeError('init boom');",
		"needsdep.js":   "require('left-pad-nowhere'); exports.handler = async () => 1;",
	}
	tests := []struct {
		name, handler, errorType, messagePrefix string
	}{
		{"missing module is an import error", "nope.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'nope'"},
		{"missing dependency is an import error", "needsdep.handler", "Runtime.ImportModuleError", "Error: Cannot find module 'left-pad-nowhere'"},
		{"CommonJS syntax error", "syntax.handler", "Runtime.UserCodeSyntaxError", "SyntaxError: "},
		{"ES module syntax error", "syntaxesm.handler", "Runtime.UserCodeSyntaxError", "SyntaxError: "},
		{"missing export is handler not found", "index.missing", "Runtime.HandlerNotFound", "index.missing is undefined or not exported"},
		{"non-function export is handler not found", "index.notfn", "Runtime.HandlerNotFound", "index.notfn is not a function"},
		{"handler without a dot is malformed", "index", "Runtime.MalformedHandlerName", "Bad handler"},
		{"relative path is malformed", "../index.handler", "Runtime.MalformedHandlerName",
			"'../index.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names."},
		{"exception during import keeps its type", "throws.handler", "TypeError", "init boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := start(t, nodeRuntime, writeCode(t, files), tt.handler)
			p := in.initError(t)
			if h := p.Header.Get("Lambda-Runtime-Function-Error-Type"); h != tt.errorType {
				t.Errorf("error type header = %q, want %q", h, tt.errorType)
			}
			got := decode(t, p.Body)
			msg, _ := got["errorMessage"].(string)
			if got["errorType"] != tt.errorType || !strings.HasPrefix(msg, tt.messagePrefix) {
				t.Errorf("error = %v\nwant type %q message prefix %q", got, tt.errorType, tt.messagePrefix)
			}
			if _, ok := got["trace"].([]any); !ok {
				t.Errorf("trace = %v, want a list", got["trace"])
			}
			in.waitOutput(t, "\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\""+tt.errorType+"\"")
		})
	}
}

func TestNodeUncaughtErrorsEndTheInvocation(t *testing.T) {
	code := writeCode(t, map[string]string{"index.mjs": `
export const handler = async (event) => {
  if (event.kind === 'throw') {
    setTimeout(() => { throw new RangeError('late throw'); }, 10);
    return new Promise(() => {});
  }
  if (event.kind === 'reject') {
    Promise.reject(new Error('nobody listens'));
    await new Promise((r) => setTimeout(r, 500));
    return 'too late';
  }
  if (event.kind === 'never') return new Promise(() => {});
  return 'ok';
};
`})
	tests := []struct {
		kind, errorType, message string
		exitCode                 int
	}{
		{"throw", "RangeError", "late throw", 129},
		{"reject", "Runtime.UnhandledPromiseRejection", "Error: nobody listens", 128},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			in := start(t, nodeRuntime, code, "index.handler")
			p := in.invoke(t, invocation{Event: `{"kind":"` + tt.kind + `"}`})
			got := decode(t, p.Body)
			if p.Kind != "error" || got["errorType"] != tt.errorType || got["errorMessage"] != tt.message {
				t.Errorf("%s %v, want error %s %q", p.Kind, got, tt.errorType, tt.message)
			}
			if code := in.exitCode(t); code != tt.exitCode {
				t.Errorf("exit code = %d, want %d", code, tt.exitCode)
			}
		})
	}

	t.Run("never settled promise", func(t *testing.T) {
		in := start(t, nodeRuntime, code, "index.handler")
		p := in.invoke(t, invocation{Event: `{"kind":"never"}`})
		if got := decode(t, p.Body); p.Kind != "error" || got["errorType"] != "Runtime.NodeJsExit" {
			t.Errorf("%s %v, want Runtime.NodeJsExit", p.Kind, got)
		}
		if p := in.invoke(t, invocation{}); string(p.Body) != `"ok"` {
			t.Errorf("next invocation = %s %s", p.Kind, p.Body)
		}
	})
}

func TestNodeResponseStreaming(t *testing.T) {
	code := writeCode(t, map[string]string{"index.mjs": `
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const handler = awslambda.streamifyResponse(async (event, stream, context) => {
  if (event.kind === 'http') {
    stream = awslambda.HttpResponseStream.from(stream, { statusCode: 201, headers: { 'x-a': 'b' } });
    stream.write('hi');
    stream.end();
    return;
  }
  if (event.kind === 'fail') {
    stream.write('partial');
    throw new Error('mid-stream');
  }
  stream.setContentType('text/plain');
  stream.write('a');
  await sleep(150);
  stream.write('b');
  await sleep(150);
  stream.end('c' + context.awsRequestId);
});
`})
	in := start(t, nodeRuntime, code, "index.handler")

	p := in.invoke(t, invocation{ID: "s1"})
	if p.Kind != "response" || string(p.Body) != "abcs1" {
		t.Fatalf("%s %q, want response abcs1", p.Kind, p.Body)
	}
	if h := p.Header.Get("Lambda-Runtime-Function-Response-Mode"); h != "streaming" {
		t.Errorf("response mode = %q", h)
	}
	if ct := p.Header.Get("Content-Type"); ct != "text/plain" {
		t.Errorf("Content-Type = %q", ct)
	}
	var parts []string
	for _, c := range p.Chunks {
		parts = append(parts, string(c.data))
	}
	if len(p.Chunks) < 3 || parts[0] != "a" {
		t.Fatalf("chunks = %q, want a, b, c… arriving separately", parts)
	}
	if gap := p.Chunks[len(p.Chunks)-1].at.Sub(p.Chunks[0].at); gap < 250*time.Millisecond {
		t.Errorf("first and last chunk %v apart, want them sent as written (~300ms)", gap)
	}

	p = in.invoke(t, invocation{Event: `{"kind":"http"}`})
	if ct := p.Header.Get("Content-Type"); ct != "application/vnd.awslambda.http-integration-response" {
		t.Errorf("Content-Type = %q", ct)
	}
	prelude, body, ok := bytes.Cut(p.Body, make([]byte, 8))
	if !ok || string(body) != "hi" {
		t.Fatalf("body = %q, want prelude, 8 NULs, hi", p.Body)
	}
	var meta map[string]any
	if err := json.Unmarshal(prelude, &meta); err != nil || meta["statusCode"] != float64(201) {
		t.Errorf("prelude = %s (%v)", prelude, err)
	}

	p = in.invoke(t, invocation{Event: `{"kind":"fail"}`})
	if string(p.Body) != "partial" || p.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "Error" {
		t.Fatalf("failed stream: body %q trailers %v", p.Body, p.Trailer)
	}
	raw, err := base64.StdEncoding.DecodeString(p.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, raw); got["errorMessage"] != "mid-stream" || got["errorType"] != "Error" {
		t.Errorf("error body trailer = %v", got)
	}

	if p := in.invoke(t, invocation{ID: "s4"}); string(p.Body) != "abcs4" {
		t.Errorf("stream after a failed stream = %q", p.Body)
	}
}

func TestNodeLogging(t *testing.T) {
	code := writeCode(t, map[string]string{"index.js": `
console.log('init log');
exports.handler = async () => {
  console.log('hello %s', 'world');
  console.warn('careful');
  console.error('two\nlines');
  console.debug({ a: 1 });
  return null;
};
`})
	in := start(t, nodeRuntime, code, "index.handler")
	in.invoke(t, invocation{ID: "log-req"})
	// stdout (log, debug) and stderr (warn, error) are read apart: wait for the last line of each.
	in.waitOutput(t, "two\rlines")
	out := in.waitOutput(t, "{ a: 1 }")
	ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`
	for _, want := range []string{
		`(?m)^` + ts + `\tundefined\tINFO\tinit log$`,
		`(?m)^` + ts + `\tlog-req\tINFO\thello world$`,
		`(?m)^` + ts + `\tlog-req\tWARN\tcareful$`,
		`(?m)^` + ts + `\tlog-req\tERROR\ttwo\rlines$`,
		`(?m)^` + ts + `\tlog-req\tDEBUG\t\{ a: 1 \}$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("output lacks %s:\n%q", want, out)
		}
	}
}

func TestNodeLogLevelAndJSONFormat(t *testing.T) {
	code := writeCode(t, map[string]string{"index.js": `
exports.handler = async () => { console.debug('hidden'); console.info('shown'); return 1; };
`})
	in := start(t, nodeRuntime, code, "index.handler", "AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=INFO")
	in.invoke(t, invocation{ID: "json-req"})
	out := in.waitOutput(t, "shown")
	if strings.Contains(out, "hidden") {
		t.Errorf("DEBUG logged at level INFO: %q", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "shown") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
			if rec["level"] != "INFO" || rec["requestId"] != "json-req" || rec["message"] != "shown" {
				t.Errorf("JSON log record = %v", rec)
			}
		}
	}
}

func TestNodeWarmReuse(t *testing.T) {
	code := writeCode(t, map[string]string{"index.cjs": `
let count = 0;
exports.handler = async (event, context) => ({ count: ++count, pid: process.pid, id: context.awsRequestId });
`})
	in := start(t, nodeRuntime, code, "index.handler")
	for i := 1; i <= 3; i++ {
		got := decode(t, in.invoke(t, invocation{}).Body)
		if got["count"] != float64(i) || got["pid"] != float64(in.pid) {
			t.Errorf("invocation %d: got %v, want count %d in pid %d", i, got, i, in.pid)
		}
	}
}
