// Package procstat reads a process's CPU time and resident memory from /proc, so the
// benchmarks can report what a server spent per operation and how much memory it held.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU returns the user+system time process pid has used so far, or 0 if it cannot be read.
// /proc counts in clock ticks of 10 ms, as on every Linux this runs on.
func CPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; the fields after it start past its ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// SelfCPU returns the user+system time this process has used so far.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// RSS returns process pid's resident set size (VmRSS) in KiB, or 0 if it cannot be read.
func RSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return n
		}
	}
	return 0
}

// PeakRSS samples a process's VmRSS every 50 ms, from StartPeakRSS until Stop, and keeps
// the peak.
type PeakRSS struct {
	pid         int
	first, peak int // KiB
	stopc, done chan struct{}
}

// StartPeakRSS starts sampling process pid; with pid 0 it samples nothing.
func StartPeakRSS(pid int) *PeakRSS {
	s := &PeakRSS{pid: pid, stopc: make(chan struct{}), done: make(chan struct{})}
	if pid == 0 {
		close(s.done)
		return s
	}
	s.first = RSS(pid)
	s.peak = s.first
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stopc:
				return
			case <-t.C:
				s.peak = max(s.peak, RSS(pid))
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the VmRSS at the start and the peak, in KiB.
func (s *PeakRSS) Stop() (first, peak int) {
	close(s.stopc)
	<-s.done
	if s.pid != 0 {
		s.peak = max(s.peak, RSS(s.pid))
	}
	return s.first, s.peak
}
