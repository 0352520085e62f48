package load

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kiri-run/kiri/bench/internal/procstat"
)

// server is a target's command, started for one round.
type server struct {
	cmd  *exec.Cmd
	url  string
	dir  string        // holds the data directory and the server's log
	done chan struct{} // closed when the process has exited
	err  error         // how it exited, once done is closed
}

// probe asks an endpoint for an answer; nil means it answered.
type probe func(ctx context.Context, url string) error

// probeGap is the pause between two probes of a starting server.
const probeGap = time.Millisecond

// startServer runs command through sh, with {port} replaced by a free loopback port and {dir}
// by an empty directory of its own (also in $PORT and $DIR), and returns once ask has an
// answer from it, with the time from starting the command to that answer. The command should
// be the server or exec it (a script, or a list of commands, that ends in exec; not a launcher
// such as go run or npx), so that the process started is the one whose CPU time and memory
// are read; a simple command is exec'd by the shell.
func startServer(ctx context.Context, command string, ask probe, timeout time.Duration) (*server, *Start, error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "ddbload-*")
	if err != nil {
		return nil, nil, err
	}
	data := filepath.Join(dir, "data")
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err == nil {
		err = os.Mkdir(data, 0o755)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	defer logFile.Close()
	line := strings.NewReplacer("{port}", port, "{dir}", data).Replace(command)
	s := &server{url: "http://127.0.0.1:" + port, dir: dir, done: make(chan struct{})}
	script := line
	if !strings.ContainsAny(line, ";&|\n") {
		script = "exec " + line // the server itself, not a shell waiting for it
	}
	s.cmd = exec.Command("sh", "-c", script)
	s.cmd.Env = append(os.Environ(), "PORT="+port, "DIR="+data)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	// Its own process group, so that stop reaches whatever it started, and a Ctrl-C at the
	// terminal reaches this tool, which stops it, rather than the server mid-round.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	begin := time.Now()
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("start %q: %w", line, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	for {
		probeCtx, cancel := context.WithTimeout(ctx, time.Second)
		err := ask(probeCtx, s.url)
		cancel()
		if err == nil {
			break
		}
		select {
		case <-s.done:
			s.stop()
			return nil, nil, fmt.Errorf("%q exited before it answered (%v); its output:\n%s", line, s.err, s.logTail())
		case <-ctx.Done():
			s.stop()
			return nil, nil, ctx.Err()
		default:
		}
		if time.Since(begin) > timeout {
			tail := s.logTail()
			s.stop()
			return nil, nil, fmt.Errorf("%q did not answer within %s (last: %v); its output:\n%s", line, timeout, err, tail)
		}
		time.Sleep(probeGap)
	}
	st := &Start{Ready: time.Since(begin), RSS: procstat.RSS(s.cmd.Process.Pid)}
	if kids := children(s.cmd.Process.Pid); kids != "" {
		fmt.Fprintf(os.Stderr, "warning: %q runs as process %d with children %s; CPU time and VmRSS are read of process %d alone: give a command that is, or execs, the server\n",
			line, s.cmd.Process.Pid, kids, s.cmd.Process.Pid)
	}
	return s, st, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server's process group, with SIGTERM and after 10 s SIGKILL, and removes its
// directory.
func (s *server) stop() {
	defer os.RemoveAll(s.dir)
	pgid := -s.cmd.Process.Pid
	syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(pgid, syscall.SIGKILL)
		<-s.done
	}
	// Anything left in the group (a child that ignored SIGTERM) goes too.
	syscall.Kill(pgid, syscall.SIGKILL)
}

// logTail returns the last lines the server wrote.
func (s *server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(len(lines)-20, 0):], "\n")
}

// children lists the process ids of pid's children, space-separated, or "".
func children(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}
