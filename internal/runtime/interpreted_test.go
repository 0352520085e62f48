package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kiri-run/kiri/internal/runtime/bootstraps"
)

// interpretedFunction writes a handler file into a fresh code dir, skipping when the runtime's
// interpreter is not installed.
func interpretedFunction(t testing.TB, runtime, file, handler, source string) *Function {
	t.Helper()
	bs, ok := bootstraps.For(runtime)
	if !ok {
		t.Fatalf("no bootstrap for %s", runtime)
	}
	if _, err := bs.Interpreter(context.Background()); errors.Is(err, bootstraps.ErrNoInterpreter) {
		t.Skipf("%s: %v", runtime, err)
	}
	fn := goFunction(t, "interp-"+filepath.Ext(file)[1:])
	os.Remove(filepath.Join(fn.CodeDir, "bootstrap"))
	if err := os.WriteFile(filepath.Join(fn.CodeDir, file), []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	fn.Runtime, fn.Handler, fn.Key = runtime, handler, runtime+"#1"
	return fn
}

const pythonHandler = `import os
def handler(event, context):
    return {"hello": event["name"], "uid": os.getuid(), "root": os.environ["LAMBDA_TASK_ROOT"], "rid": context.aws_request_id}
`

const nodeHandler = `export const handler = async (event, context) => ({hello: event.name, uid: process.getuid(), root: process.env.LAMBDA_TASK_ROOT, rid: context.awsRequestId});
`

func TestInterpretedRuntimes(t *testing.T) {
	p := testPool(t)
	tests := []struct {
		name, runtime, file, handler, source string
	}{
		{"python3.12 handler", "python3.12", "app.py", "app.handler", pythonHandler},
		{"nodejs20.x handler", "nodejs20.x", "index.mjs", "index.handler", nodeHandler},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fn := interpretedFunction(t, tc.runtime, tc.file, tc.handler, tc.source)
			for i := range 2 {
				req := newRequest(ev{"name": "kiri"})
				res, err := p.Invoke(context.Background(), fn, req)
				if err != nil {
					t.Fatal(err)
				}
				var out struct {
					Hello, Root, Rid string
					UID              int
				}
				if res.FunctionError != "" || json.Unmarshal(res.Payload, &out) != nil {
					t.Fatalf("invoke %d: %s %s", i, res.FunctionError, res.Payload)
				}
				if out.Hello != "kiri" || out.Root != taskRootOf(p, fn) || out.Rid != req.RequestID {
					t.Errorf("invoke %d: %+v", i, out)
				}
				if res.ColdStart != (i == 0) {
					t.Errorf("invoke %d: ColdStart=%v", i, res.ColdStart)
				}
				if i == 0 {
					t.Logf("%s cold start: init %v, duration %v", tc.runtime, res.InitDuration, res.Duration)
				}
			}
		})
	}
}
