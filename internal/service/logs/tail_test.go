package logs

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// awsCLI finds Debian's AWS CLI v2 (/usr/bin/aws); a pyenv shim named aws on PATH may be
// something else.
func awsCLI(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/aws"); err != nil {
		t.Skip("the AWS CLI (/usr/bin/aws) is not installed: apt-get install awscli")
	}
	return "/usr/bin/aws"
}

func awsCommand(ctx context.Context, t *testing.T, url string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, awsCLI(t), append(args, "--endpoint-url", url, "--color", "off")...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "PYTHONUNBUFFERED=1")
	return cmd
}

func TestAWSCLILogsTail(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := t.Context()
	base := time.Now().Add(-2 * time.Minute)
	if err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "/aws/lambda/fn", "2026/01/01/[$LATEST]a",
		[]Event{{Time: base, Message: "START RequestId: 1"}, {Time: base.Add(time.Second), Message: "hello from fn\n"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "/aws/lambda/fn", "2026/01/01/[$LATEST]b",
		[]Event{{Time: base.Add(500 * time.Millisecond), Message: "other instance"}}); err != nil {
		t.Fatal(err)
	}
	out, err := awsCommand(ctx, t, h.url, "logs", "tail", "/aws/lambda/fn", "--since", "10m").CombinedOutput()
	if err != nil {
		t.Fatalf("aws logs tail: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	want := []string{"2026/01/01/[$LATEST]a START RequestId: 1", "2026/01/01/[$LATEST]b other instance", "2026/01/01/[$LATEST]a hello from fn"}
	if len(lines) != len(want) {
		t.Fatalf("aws logs tail printed %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		// Detailed format: "<timestamp> <stream> <message>".
		if _, rest, _ := strings.Cut(lines[i], " "); rest != w {
			t.Fatalf("line %d = %q, want timestamp then %q", i, lines[i], w)
		}
	}

	out, err = awsCommand(ctx, t, h.url, "logs", "tail", "/aws/lambda/fn", "--since", "10m", "--format", "short", "--filter-pattern", "hello").CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), " hello from fn") || strings.Count(string(out), "\n") != 1 {
		t.Fatalf("aws logs tail --format short --filter-pattern: %v\n%s", err, out)
	}
	out, err = awsCommand(ctx, t, h.url, "logs", "tail", "/aws/lambda/missing").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ResourceNotFoundException") {
		t.Fatalf("aws logs tail of a missing group: %v\n%s", err, out)
	}
}

func TestAWSCLILogsTailFollow(t *testing.T) {
	if testing.Short() {
		t.Skip("aws logs tail --follow polls every 5 seconds")
	}
	h := newHarness(t, harnessOptions{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "/aws/lambda/fn", "s", []Event{{Time: time.Now().Add(-time.Minute), Message: "before start"}}); err != nil {
		t.Fatal(err)
	}
	cmd := awsCommand(ctx, t, h.url, "logs", "tail", "/aws/lambda/fn", "--follow", "--format", "short")
	// Ctrl-C is how --follow ends; the CLI then exits cleanly.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	defer func() {
		cancel()
		for range lines {
		}
		_ = cmd.Wait()
	}()

	expect := func(msg string) {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("aws logs tail --follow ended before %q; stderr:\n%s", msg, stderr.String())
				}
				if strings.HasSuffix(l, " "+msg) {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %q from aws logs tail --follow; stderr:\n%s", msg, stderr.String())
			}
		}
	}
	expect("before start")
	if err := h.svc.AppendLogs(ctx, testAccount, "us-east-1", "/aws/lambda/fn", "s", []Event{{Time: time.Now(), Message: "after start"}}); err != nil {
		t.Fatal(err)
	}
	expect("after start")
}
