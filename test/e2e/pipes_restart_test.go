package e2e

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestPipeSurvivesKill kills Kiri (SIGKILL) under a running pipe and a stopped one: after the
// restart the running pipe delivers again, what was sent while Kiri was down included, and the
// stopped pipe stays stopped.
func TestPipeSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Kiri as a subprocess twice")
	}
	t.Parallel()
	dir := t.TempDir()
	p := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	cl := p.Clients()
	src := sqsQueue(t, cl.SQS, "r-src", nil)
	dst := sqsQueue(t, cl.SQS, "r-dst", nil)
	idle := sqsQueue(t, cl.SQS, "r-idle", nil)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("running"), Source: aws.String(queueARN("r-src")), Target: aws.String(queueARN("r-dst")),
		TargetParameters: &ptypes.PipeTargetParameters{InputTemplate: aws.String(`<$.body>`)}})
	if _, err := cl.Pipes.CreatePipe(t.Context(), &pipes.CreatePipeInput{Name: aws.String("stopped"), RoleArn: aws.String(pipeRole),
		Source: aws.String(queueARN("r-idle")), Target: aws.String(queueARN("r-dst")), DesiredState: ptypes.RequestedPipeStateStopped}); err != nil {
		t.Fatal(err)
	}
	waitPipeState(t, cl.Pipes, "stopped", ptypes.PipeStateStopped)
	sendBodies(t, cl.SQS, src, "one")
	if got := receiveBodies(t, cl.SQS, dst, 1); got[0] != "one" {
		t.Fatalf("before the kill the target received %q", got)
	}
	p.Kill()

	p = kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	cl = p.Clients()
	sendBodies(t, cl.SQS, src, "two")
	sendBodies(t, cl.SQS, idle, "idle")
	if got := receiveBodies(t, cl.SQS, dst, 1); got[0] != "two" {
		t.Fatalf("after the restart the target received %q", got)
	}
	d := waitPipeState(t, cl.Pipes, "running", ptypes.PipeStateRunning)
	if d.DesiredState != ptypes.RequestedPipeStateDescribeResponseRunning {
		t.Fatalf("running pipe desired %s", d.DesiredState)
	}
	waitPipeState(t, cl.Pipes, "stopped", ptypes.PipeStateStopped)
	expectEmpty(t, cl.SQS, dst)
	if visible, _ := queueCounts(t, cl.SQS, idle); visible != 1 {
		t.Fatalf("the stopped pipe's queue holds %d messages, want 1", visible)
	}
}
