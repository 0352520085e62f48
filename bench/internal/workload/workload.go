// Package workload holds what the load benchmarks (sqsload, ddbload) share: workers that call
// a server until a phase's time is up, what a phase cost the server and the load tool, the
// statistics and formats of their reports, and the driver processes every round runs in.
package workload

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kiri-run/kiri/bench/internal/procstat"
)

// ErrDrained ends a phase early without failing it.
var ErrDrained = errors.New("drained")

// CallTimeout bounds one call of a throughput phase: a call in flight when the phase's time
// is up is waited for rather than cancelled, because a cancelled call may still run on the
// server while the next endpoint is being measured.
const CallTimeout = time.Minute

// Calls is what Drive counted.
type Calls struct {
	Units, Calls int64 // what the calls moved (messages, items), and the calls
	Elapsed      time.Duration
	Latency      []time.Duration // per call, sorted
}

// Drive runs op in a worker per client until d is up, op fails, or op returns ErrDrained, and
// then waits for the calls in flight. op returns how many units it moved, also with
// ErrDrained.
func Drive[C any](ctx context.Context, d time.Duration, clients []C, op func(ctx context.Context, c C) (int, error)) (Calls, error) {
	var (
		units, n atomic.Int64
		stop     atomic.Bool
		mu       sync.Mutex
		lat      []time.Duration
		wg       sync.WaitGroup
		first    atomic.Pointer[error]
	)
	start := time.Now()
	end := start.Add(d)
	for _, c := range clients {
		wg.Go(func() {
			var mine []time.Duration
			for !stop.Load() && time.Now().Before(end) {
				t := time.Now()
				callCtx, cancel := context.WithTimeout(ctx, CallTimeout)
				m, err := op(callCtx, c)
				cancel()
				drained := errors.Is(err, ErrDrained)
				if err == nil || drained {
					mine = append(mine, time.Since(t))
					n.Add(1)
					units.Add(int64(m))
				}
				if err != nil {
					if !drained {
						first.CompareAndSwap(nil, &err)
					}
					stop.Store(true)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return Calls{}, *err
	}
	slices.Sort(lat)
	return Calls{Units: units.Load(), Calls: n.Load(), Elapsed: time.Since(start), Latency: lat}, nil
}

// Usage is what a phase cost: CPU time of the server (with a PID) and of this load tool, and
// the server's VmRSS.
type Usage struct {
	ServerCPU, ToolCPU time.Duration
	RSSStart, RSSPeak  int // KiB
}

// Measure runs a phase and records its Usage; pid is the server's process id, or 0.
func Measure(pid int, phase func() error) (Usage, error) {
	var u Usage
	rss := procstat.StartPeakRSS(pid)
	server, tool := ServerCPU(pid), procstat.SelfCPU()
	err := phase()
	u.ServerCPU, u.ToolCPU = ServerCPU(pid)-server, procstat.SelfCPU()-tool
	u.RSSStart, u.RSSPeak = rss.Stop()
	return u, err
}

// ServerCPU returns the CPU time process pid has used so far, or 0 for pid 0.
func ServerCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	return procstat.CPU(pid)
}

// Quantile returns the q-quantile of sorted durations (nearest rank), or 0 for none.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(q*float64(len(sorted)-1)+0.5)]
}

// Median returns the median of vs, which must not be empty.
func Median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// Round rounds d for a report: to the millisecond from 100 ms, to 10 µs from 1 ms, else to the
// microsecond.
func Round(d time.Duration) time.Duration {
	switch a := max(d, -d); {
	case a >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case a >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Rate formats a rate per second.
func Rate(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

// Duration formats a duration held as a float64 of nanoseconds.
func Duration(v float64) string { return Round(time.Duration(v)).String() }

// OrDash formats the median of vs, or "-" for none.
func OrDash(vs []float64, format func(float64) string) string {
	if len(vs) == 0 {
		return "-"
	}
	return format(Median(vs))
}

// Percentile formats the q-quantile of sorted durations, or "-" for none.
func Percentile(sorted []time.Duration, q float64) string {
	if len(sorted) == 0 {
		return "-"
	}
	return Round(Quantile(sorted, q)).String()
}

// PerUnit formats a phase's CPU time per unit moved: the load tool's, and with server the
// server's and its VmRSS.
func (u Usage) PerUnit(n int64, unit string, server bool) string {
	if n == 0 {
		return ""
	}
	s := fmt.Sprintf("\n            CPU per %s: load tool %s", unit, Round(u.ToolCPU/time.Duration(n)))
	if server {
		s += fmt.Sprintf(", server %s; server VmRSS %d MiB at start, peak %d MiB", Round(u.ServerCPU/time.Duration(n)), u.RSSStart>>10, u.RSSPeak>>10)
	}
	return s
}

// ParsePIDs reads a -pid flag for n servers, the i-th called name(i): "PID" with one server,
// or "name=PID,...". It returns a process id per server, 0 for one it does not name.
func ParsePIDs(spec string, n int, name func(i int) string) ([]int, error) {
	pids := make([]int, n)
	if spec == "" {
		return pids, nil
	}
	if pid, err := strconv.Atoi(spec); err == nil {
		if n != 1 {
			return nil, errors.New("-pid PID needs one server; with several, give name=PID,...")
		}
		pids[0] = pid
		return pids, nil
	}
	for item := range strings.SplitSeq(spec, ",") {
		named, p, _ := strings.Cut(item, "=")
		pid, err := strconv.Atoi(p)
		i := -1
		for j := range n {
			if name(j) == named {
				i = j
				break
			}
		}
		if err != nil || i < 0 {
			return nil, fmt.Errorf("-pid %q: want name=PID for a named server", item)
		}
		pids[i] = pid
	}
	return pids, nil
}
