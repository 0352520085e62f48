package bootstraps

import (
	"cmp"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pyRuntime is the runtime the Python tests run under; KIRI_TEST_PYTHON_RUNTIME overrides it
// (e.g. python3.9) to check the bootstrap against another interpreter version.
var pyRuntime = cmp.Or(os.Getenv("KIRI_TEST_PYTHON_RUNTIME"), "python3.11")

// decode unmarshals a posted JSON body.
func decode(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return m
}

func TestPythonResultRoundTrip(t *testing.T) {
	code := writeCode(t, map[string]string{"lambda_function.py": `
import decimal
def lambda_handler(event, context):
    if event.get("kind") == "decimal":
        return [decimal.Decimal("1.5"), decimal.Decimal("10")]
    if event.get("kind") == "bytes":
        return b"raw\x00bytes"
    return {"echo": event, "n": 1.5}
`})
	in := start(t, pyRuntime, code, "lambda_function.lambda_handler")

	p := in.invoke(t, invocation{Event: `{"a":[1,2],"s":"h\u00e9llo"}`})
	if p.Kind != "response" {
		t.Fatalf("kind = %s, body %s", p.Kind, p.Body)
	}
	if got, want := string(p.Body), `{"echo": {"a": [1, 2], "s": "h\u00e9llo"}, "n": 1.5}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if ct := p.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}

	if p := in.invoke(t, invocation{Event: `{"kind":"decimal"}`}); string(p.Body) != "[1.5, 10]" {
		t.Errorf("decimal body = %s, want [1.5, 10]", p.Body)
	}
	if p := in.invoke(t, invocation{Event: `{"kind":"bytes"}`}); string(p.Body) != "raw\x00bytes" {
		t.Errorf("bytes body = %q", p.Body)
	}
}

func TestPythonContext(t *testing.T) {
	code := writeCode(t, map[string]string{"lambda_function.py": `
import os
def lambda_handler(event, context):
    cc = context.client_context
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "custom": cc.custom if cc else None,
        "app_title": cc.client.app_title if cc else None,
        "identity_id": context.identity.cognito_identity_id,
        "identity_pool": context.identity.cognito_identity_pool_id,
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
    }
`})
	in := start(t, pyRuntime, code, "lambda_function.lambda_handler")
	p := in.invoke(t, invocation{
		ID:            "11111111-2222-3333-4444-555555555555",
		Deadline:      time.Now().Add(30 * time.Second),
		ARN:           "arn:aws:lambda:us-east-1:000000000000:function:fn:live",
		TraceID:       "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		ClientContext: `{"custom":{"k":"v"},"env":{},"client":{"app_title":"app"}}`,
		Identity:      `{"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"}`,
	})
	got := decode(t, p.Body)
	want := map[string]any{
		"aws_request_id":       "11111111-2222-3333-4444-555555555555",
		"function_name":        "fn",
		"function_version":     "$LATEST",
		"invoked_function_arn": "arn:aws:lambda:us-east-1:000000000000:function:fn:live",
		"memory_limit_in_mb":   "256",
		"log_group_name":       "/aws/lambda/fn",
		"log_stream_name":      "2025/01/01/[$LATEST]abc",
		"app_title":            "app",
		"identity_id":          "id-1",
		"identity_pool":        "pool-1",
		"trace":                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if custom, _ := got["custom"].(map[string]any); custom["k"] != "v" {
		t.Errorf("client_context.custom = %v", got["custom"])
	}
	if r, _ := got["remaining"].(float64); r < 25000 || r > 30000 {
		t.Errorf("remaining = %v, want about 30000", got["remaining"])
	}

	// Without a trace header the previous trace id must not leak into the next invocation.
	got = decode(t, in.invoke(t, invocation{}).Body)
	if got["trace"] != nil || got["custom"] != nil || got["identity_id"] != nil {
		t.Errorf("second invocation kept per-invoke data: %v", got)
	}
}

func TestPythonHandlerError(t *testing.T) {
	code := writeCode(t, map[string]string{"lambda_function.py": `
def fail(msg):
    raise ValueError(msg)

def lambda_handler(event, context):
    if event.get("kind") == "set":
        return {1, 2}
    fail("boom")
`})
	in := start(t, pyRuntime, code, "lambda_function.lambda_handler")

	p := in.invoke(t, invocation{ID: "req-err"})
	if p.Kind != "error" {
		t.Fatalf("kind = %s, want error", p.Kind)
	}
	if h := p.Header.Get("Lambda-Runtime-Function-Error-Type"); h != "ValueError" {
		t.Errorf("error type header = %q", h)
	}
	got := decode(t, p.Body)
	if got["errorType"] != "ValueError" || got["errorMessage"] != "boom" || got["requestId"] != "req-err" {
		t.Errorf("error = %v", got)
	}
	trace, _ := got["stackTrace"].([]any)
	if len(trace) != 2 {
		t.Fatalf("stackTrace = %v, want the handler's two frames", got["stackTrace"])
	}
	if s, _ := trace[0].(string); !strings.Contains(s, "lambda_function.py\", line 8, in lambda_handler") {
		t.Errorf("stackTrace[0] = %q", s)
	}
	for _, f := range trace {
		if strings.Contains(f.(string), "bootstrap.py") {
			t.Errorf("stackTrace includes bootstrap frame %q", f)
		}
	}
	out := in.waitOutput(t, "[ERROR] ValueError: boom\rTraceback (most recent call last):\r")
	if !strings.Contains(out, "\r\u00a0\u00a0File ") {
		t.Errorf("error log lines are not indented with NBSP: %q", out)
	}

	p = in.invoke(t, invocation{Event: `{"kind":"set"}`})
	got = decode(t, p.Body)
	if got["errorType"] != "Runtime.MarshalError" ||
		got["errorMessage"] != "Unable to marshal response: Object of type set is not JSON serializable" {
		t.Errorf("marshal error = %v", got)
	}

	// A non-JSON event body with a JSON content type is an unmarshal error, and the process lives on.
	p = in.invoke(t, invocation{Event: `{not json`})
	if got := decode(t, p.Body); got["errorType"] != "Runtime.UnmarshalError" {
		t.Errorf("unmarshal error = %v", got)
	}
}

func TestPythonInitErrors(t *testing.T) {
	files := map[string]string{
		"lambda_function.py": "def lambda_handler(event, context):\n    return 1\nnot_callable = 3\n",
		"bad_syntax.py":      "def lambda_handler(event, context)\n    return 1\n",
		"raises.py":          "raise RuntimeError('init boom')\n",
		"imports_missing.py": "import no_such_dependency\n",
	}
	tests := []struct {
		name, handler, errorType, message string // message is a prefix: syntax errors vary by version
	}{
		{"missing module is an import error", "nope.handler", "Runtime.ImportModuleError",
			"Unable to import module 'nope': No module named 'nope'"},
		{"missing dependency is an import error", "imports_missing.handler", "Runtime.ImportModuleError",
			"Unable to import module 'imports_missing': No module named 'no_such_dependency'"},
		{"syntax error is a user code syntax error", "bad_syntax.lambda_handler", "Runtime.UserCodeSyntaxError",
			"Syntax error in module 'bad_syntax': "},
		{"missing function is handler not found", "lambda_function.missing", "Runtime.HandlerNotFound",
			"Handler 'missing' missing on module 'lambda_function'"},
		{"handler without a dot is malformed", "lambda_function", "Runtime.MalformedHandlerName",
			"Bad handler 'lambda_function': not enough values to unpack (expected 2, got 1)"},
		{"built-in module name conflicts", "sys.handler", "Runtime.BuiltInModuleConflict",
			"Cannot use built-in module sys as a handler module"},
		{"exception during import keeps its type", "raises.handler", "RuntimeError", "init boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := start(t, pyRuntime, writeCode(t, files), tt.handler)
			p := in.initError(t)
			if h := p.Header.Get("Lambda-Runtime-Function-Error-Type"); h != tt.errorType {
				t.Errorf("error type header = %q, want %q", h, tt.errorType)
			}
			got := decode(t, p.Body)
			msg, _ := got["errorMessage"].(string)
			if got["errorType"] != tt.errorType || !strings.HasPrefix(msg, tt.message) {
				t.Errorf("error = %v\nwant type %q message prefix %q", got, tt.errorType, tt.message)
			}
			if got["requestId"] != "" {
				t.Errorf("requestId = %v, want empty for an init error", got["requestId"])
			}
			if _, ok := got["stackTrace"].([]any); !ok {
				t.Errorf("stackTrace = %v, want a list", got["stackTrace"])
			}
			in.waitOutput(t, "[ERROR] "+tt.errorType+": ")
		})
	}
}

func TestPythonNestedModulePaths(t *testing.T) {
	files := map[string]string{
		"helper.py":      "NAME = 'helper'\n",
		"pkg/sub/mod.py": "import helper\ndef handler(event, context):\n    return {'from': __name__, 'helper': helper.NAME}\n",
	}
	for _, handler := range []string{"pkg/sub/mod.handler", "pkg.sub.mod.handler"} {
		t.Run(handler, func(t *testing.T) {
			in := start(t, pyRuntime, writeCode(t, files), handler)
			got := decode(t, in.invoke(t, invocation{}).Body)
			if got["from"] != "pkg.sub.mod" || got["helper"] != "helper" {
				t.Errorf("got %v", got)
			}
		})
	}
}

func TestPythonLogging(t *testing.T) {
	code := writeCode(t, map[string]string{"lambda_function.py": `
import logging
logger = logging.getLogger()
print("init print")
def lambda_handler(event, context):
    print("plain print")
    logger.info("info %s", "hidden")
    logger.warning("warned %s", "here")
    return None
`})
	in := start(t, pyRuntime, code, "lambda_function.lambda_handler")
	p := in.invoke(t, invocation{ID: "log-req"})
	if string(p.Body) != "null" {
		t.Errorf("body = %s, want null", p.Body)
	}
	// print (stdout) and logging (stderr) are read apart: wait for the last line of each.
	in.waitOutput(t, "plain print\n")
	out := in.waitOutput(t, "warned here")
	if !strings.Contains(out, "init print\n") || !strings.Contains(out, "plain print\n") {
		t.Errorf("prints missing from output: %q", out)
	}
	line := regexp.MustCompile(`(?m)^\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\tlog-req\twarned here$`)
	if !line.MatchString(out) {
		t.Errorf("warning line not in AWS format: %q", out)
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("INFO logged at the default WARNING level: %q", out)
	}
}

func TestPythonLogLevelAndJSONFormat(t *testing.T) {
	code := writeCode(t, map[string]string{"lambda_function.py": `
import logging
def lambda_handler(event, context):
    logging.getLogger("app").info("structured", extra={"k": "v"})
    return 1
`})
	in := start(t, pyRuntime, code, "lambda_function.lambda_handler",
		"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL=INFO")
	in.invoke(t, invocation{ID: "json-req"})
	out := in.waitOutput(t, `"message": "structured"`)
	var rec map[string]any
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "structured") {
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
		}
	}
	if rec["level"] != "INFO" || rec["logger"] != "app" || rec["requestId"] != "json-req" || rec["k"] != "v" {
		t.Errorf("JSON log record = %v", rec)
	}
	if ts, _ := rec["timestamp"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(ts) {
		t.Errorf("timestamp = %q", ts)
	}
}

func TestPythonWarmReuse(t *testing.T) {
	code := writeCode(t, map[string]string{"lambda_function.py": `
import os
count = 0
def lambda_handler(event, context):
    global count
    count += 1
    return {"count": count, "pid": os.getpid(), "id": context.aws_request_id}
`})
	in := start(t, pyRuntime, code, "lambda_function.lambda_handler")
	for i := 1; i <= 3; i++ {
		got := decode(t, in.invoke(t, invocation{}).Body)
		if got["count"] != float64(i) || got["pid"] != float64(in.pid) {
			t.Errorf("invocation %d: got %v, want count %d in pid %d", i, got, i, in.pid)
		}
	}
}
