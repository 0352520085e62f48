package runtime

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestInvokeRunsUnmodifiedAWSLambdaGoFunction(t *testing.T) {
	sink := &memSink{}
	p := testPool(t, func(c *Config) { c.Logs = sink })
	t.Logf("features: %s", p.Features())
	fn := goFunction(t, "hello")

	res, a := invoke(t, p, fn, ev{"action": "echo", "data": "hi"})
	if res.FunctionError != "" || a.Data != "hi" {
		t.Fatalf("first invoke: %+v payload %s", res, res.Payload)
	}
	if !res.ColdStart || res.InitDuration <= 0 {
		t.Errorf("first invoke: ColdStart=%v InitDuration=%v, want a cold start", res.ColdStart, res.InitDuration)
	}
	res2, a2 := invoke(t, p, fn, ev{"action": "echo", "data": "again"})
	if res2.ColdStart || res2.InitDuration != 0 {
		t.Errorf("second invoke: ColdStart=%v InitDuration=%v, want warm", res2.ColdStart, res2.InitDuration)
	}
	if a2.PID != a.PID {
		t.Errorf("second invoke ran in pid %d, first in %d: warm instance not reused", a2.PID, a.PID)
	}
	if a.ARN != fn.ARN {
		t.Errorf("invoked ARN %q, want %q", a.ARN, fn.ARN)
	}
	if !strings.HasPrefix(a.RequestID, "00000000-") {
		t.Errorf("request id %q", a.RequestID)
	}
}

// TestInvokeRunsGo1xHandlerExecutable checks that functions stored with the deprecated go1.x
// runtime (Lambda refuses it for new functions, not for running ones) run the executable their
// handler names.
func TestInvokeRunsGo1xHandlerExecutable(t *testing.T) {
	p := testPool(t)
	fn := goFunction(t, "legacy")
	if err := os.Rename(filepath.Join(fn.CodeDir, "bootstrap"), filepath.Join(fn.CodeDir, "main")); err != nil {
		t.Fatal(err)
	}
	fn.Runtime, fn.Handler = "go1.x", "main"
	if res, a := invoke(t, p, fn, ev{"action": "echo", "data": "go1"}); res.FunctionError != "" || a.Data != "go1" {
		t.Fatalf("invoke: %+v payload %s", res, res.Payload)
	}
}

func TestInvokeSetsLambdaEnvironment(t *testing.T) {
	p := testPool(t)
	fn := goFunction(t, "envfn")
	fn.MemoryMB = 256
	fn.Environment = map[string]string{
		"MY_VAR": "mine", "AWS_REGION": "eu-west-9", "_HANDLER": "hijack",
		"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
	}
	_, a := invoke(t, p, fn, ev{"action": "env"})
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "envfn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/envfn",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                taskRootOf(p, fn),
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"AWS_ENDPOINT_URL":                "http://127.0.0.1:4566",
		"MY_VAR":                          "mine",
		"AWS_ACCESS_KEY_ID":               "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":           "secret",
	}
	for k, v := range want {
		if got := a.Env[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_LOG_STREAM_NAME", "LAMBDA_RUNTIME_DIR", "PATH", "LD_LIBRARY_PATH"} {
		if a.Env[k] == "" {
			t.Errorf("%s is not set", k)
		}
	}
	if !streamNameRE.MatchString(a.Env["AWS_LAMBDA_LOG_STREAM_NAME"]) {
		t.Errorf("log stream name %q does not look like Lambda's", a.Env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	if _, ok := a.Env["KIRI_SANDBOX_INIT"]; ok {
		t.Error("sandbox init marker leaked into the function's environment")
	}
}

var streamNameRE = regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`)

func TestInvokeDeadlineFollowsTimeout(t *testing.T) {
	p := testPool(t)
	fn := goFunction(t, "deadline")
	fn.Timeout = 7 * time.Second
	invoke(t, p, fn, ev{"action": "echo"}) // warm, so a slow cold start (-race) does not skew the window
	before := time.Now()
	_, a := invoke(t, p, fn, ev{"action": "echo"})
	d := time.UnixMilli(a.Deadline).Sub(before)
	if d < 6*time.Second || d > 8*time.Second {
		t.Errorf("deadline %v after invoke, want about the 7s timeout", d)
	}
}

func TestInvokeFailures(t *testing.T) {
	p := testPool(t)
	tests := []struct {
		name      string
		event     ev
		mutate    func(*Function)
		errType   string
		payloadRE string
	}{
		{
			name: "function error returns the runtime's error body", event: ev{"action": "error", "data": "boom"},
			errType: "errorString", payloadRE: `^\{"errorMessage":"boom","errorType":"errorString"\}$`,
		},
		{
			name: "timeout kills the instance with Lambda's message", event: ev{"action": "sleep", "ms": 5000},
			mutate:  func(f *Function) { f.Timeout = 300 * time.Millisecond },
			errType: errTimeout, payloadRE: `^\{"errorMessage":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 00000000-\S+ Task timed out after 0\.30 seconds"\}$`,
		},
		{
			name: "exit mid-invocation is Runtime.ExitError", event: ev{"action": "exit", "n": 2},
			errType: errExit, payloadRE: `^\{"errorType":"Runtime.ExitError","errorMessage":"RequestId: \S+ Error: Runtime exited with error: exit status 2"\}$`,
		},
		{
			name: "response over 6 MB is Function.ResponseSizeTooLarge", event: ev{"action": "big", "n": 7 << 20},
			// A whole vCPU: at 128 MB (7% of one) writing 7 MiB can outlast the timeout on a busy host.
			mutate:  func(f *Function) { f.MemoryMB = 1769 },
			errType: errResponseTooLarge, payloadRE: `^\{"errorType":"Function.ResponseSizeTooLarge","errorMessage":"Response payload size exceeded maximum allowed payload size \(6291556 bytes\)."\}$`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fn := goFunction(t, "fail")
			fn.Key = t.Name()
			if tc.mutate != nil {
				tc.mutate(fn)
			}
			res, _ := invoke(t, p, fn, tc.event)
			if res.FunctionError != "Unhandled" || res.ErrorType != tc.errType {
				t.Fatalf("FunctionError=%q ErrorType=%q payload=%s, want Unhandled %s", res.FunctionError, res.ErrorType, res.Payload, tc.errType)
			}
			if !regexp.MustCompile(tc.payloadRE).Match(res.Payload) {
				t.Errorf("payload %s does not match %s", res.Payload, tc.payloadRE)
			}
			// The function still works afterwards (on the same or a fresh instance).
			if res, a := invoke(t, p, fn, ev{"action": "echo", "data": "ok"}); a.Data != "ok" {
				t.Errorf("invoke after failure: %s", res.Payload)
			}
		})
	}
}

func TestInvokeTimeoutDuration(t *testing.T) {
	p := testPool(t)
	fn := goFunction(t, "slow")
	fn.Timeout = 200 * time.Millisecond
	start := time.Now()
	res, _ := invoke(t, p, fn, ev{"action": "sleep", "ms": 10000})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("timed-out invoke took %v", took)
	}
	if res.Duration != fn.Timeout || res.BilledDuration < fn.Timeout {
		t.Errorf("Duration=%v Billed=%v, want the timeout", res.Duration, res.BilledDuration)
	}
	res2, _ := invoke(t, p, fn, ev{"action": "echo"})
	if !res2.ColdStart {
		t.Error("invoke after a timeout reused the killed instance")
	}
}

func TestResponseUpToLimitIsReturned(t *testing.T) {
	p := testPool(t)
	fn := goFunction(t, "big")
	res, _ := invoke(t, p, fn, ev{"action": "big", "n": 6_000_000})
	if res.FunctionError != "" || len(res.Payload) != 6_000_002 {
		t.Fatalf("FunctionError=%q len=%d", res.FunctionError, len(res.Payload))
	}
}

func TestInitFailures(t *testing.T) {
	p := testPool(t, func(c *Config) { c.InitTimeout = 500 * time.Millisecond })
	tests := []struct {
		name      string
		mutate    func(*Function)
		errType   string
		payloadRE string
	}{
		{
			name:    "init/error body is the invoke's error",
			mutate:  func(f *Function) { f.Environment = map[string]string{"FN_MODE": "initerror"} },
			errType: "Runtime.TestInitError", payloadRE: `^\{"errorType":"Runtime.TestInitError","errorMessage":"cannot start"\}$`,
		},
		{
			name:    "exit during init is Runtime.ExitError",
			mutate:  func(f *Function) { f.Environment = map[string]string{"FN_MODE": "initexit"} },
			errType: errExit, payloadRE: `^\{"errorType":"Runtime.ExitError","errorMessage":"RequestId: \S+ Error: Runtime exited with error: exit status 3"\}$`,
		},
		{
			name:    "missing bootstrap is Runtime.InvalidEntrypoint",
			mutate:  func(f *Function) { os.Remove(filepath.Join(f.CodeDir, "bootstrap")) },
			errType: errInvalidEntry, payloadRE: `^\{"errorType":"Runtime.InvalidEntrypoint","errorMessage":"RequestId: \S+ Error: fork/exec \S+/bootstrap: no such file or directory"\}$`,
		},
		{
			name:    "init past the init timeout is Sandbox.Timedout",
			mutate:  func(f *Function) { f.Environment = map[string]string{"FN_MODE": "slowinit"} },
			errType: errTimeout, payloadRE: `Task timed out after 0.50 seconds`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fn := goFunction(t, "initfail")
			fn.Key = t.Name()
			tc.mutate(fn)
			res, _ := invoke(t, p, fn, ev{"action": "echo"})
			if res.FunctionError != "Unhandled" || res.ErrorType != tc.errType || !res.ColdStart {
				t.Fatalf("FunctionError=%q ErrorType=%q ColdStart=%v payload=%s, want Unhandled %s", res.FunctionError, res.ErrorType, res.ColdStart, res.Payload, tc.errType)
			}
			if !regexp.MustCompile(tc.payloadRE).Match(res.Payload) {
				t.Errorf("payload %s does not match %s", res.Payload, tc.payloadRE)
			}
		})
	}
}
