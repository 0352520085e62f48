package workload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// Every round of a load benchmark runs in a fresh driver process, a build of the benchmark
// started with -driver: the comparison writes it a job as JSON on stdin, and it answers with
// the round's result as JSON on stdout. A round so starts with nothing left by the last one
// in the load tool (heap, connection pools), and a build of another SDK release can drive it.

// RunDriver runs one round in a fresh driver process: the build at path with -driver, job as
// JSON on its stdin, and its stdout decoded as JSON into result. What the driver wrote to
// stderr is passed on (warnings, such as a queue or table it could not delete).
func RunDriver(ctx context.Context, path string, job, result any) error {
	in, err := json.Marshal(job)
	if err != nil {
		return err
	}
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "-driver")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	os.Stderr.Write(stderr.Bytes())
	if err := json.Unmarshal(out.Bytes(), result); err != nil {
		return fmt.Errorf("driver output: %w", err)
	}
	return nil
}

// ServeDriver is the driver's side: it reads a job from in, runs it, and writes the result to
// out.
func ServeDriver[J any](in io.Reader, out io.Writer, run func(J) (any, error)) error {
	var j J
	if err := json.NewDecoder(in).Decode(&j); err != nil {
		return fmt.Errorf("read job: %w", err)
	}
	r, err := run(j)
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(r)
}
