package runtime

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// reportLatencies adds p50/p99 (µs) of samples to the benchmark's output.
func reportLatencies(b *testing.B, prefix string, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	q := func(f float64) float64 {
		return float64(samples[int(f*float64(len(samples)-1))]) / float64(time.Microsecond)
	}
	b.ReportMetric(q(0.50), prefix+"p50-µs")
	b.ReportMetric(q(0.99), prefix+"p99-µs")
}

// BenchmarkWarmInvoke measures the platform's round trip for a no-op aws-lambda-go function on
// warm instances: Invoke to result, through the Runtime API's next/response exchange.
func BenchmarkWarmInvoke(b *testing.B) {
	for _, conc := range []int{1, 16} {
		for _, hostNet := range []bool{false, true} {
			name := "concurrency=" + strconv.Itoa(conc)
			if hostNet {
				name += "/host-network"
			}
			b.Run(name, func(b *testing.B) { benchWarmInvoke(b, conc, hostNet) })
		}
	}
}

func benchWarmInvoke(b *testing.B, conc int, hostNet bool) {
	p := testPool(b, func(c *Config) { c.HostNetwork = hostNet })
	fn := goFunction(b, "warm")
	fn.MemoryMB = 1769 // one vCPU, as Lambda gives
	req := newRequest(ev{"action": "noop"})
	// Warm up conc instances.
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Invoke(context.Background(), fn, &Request{RequestID: randomHex(16), Payload: req.Payload})
		}()
	}
	wg.Wait()
	samples := make([][]time.Duration, conc)
	var next sync.Mutex
	remaining := b.N
	b.ResetTimer()
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for {
				next.Lock()
				if remaining == 0 {
					next.Unlock()
					return
				}
				remaining--
				next.Unlock()
				r := &Request{RequestID: randomHex(16), Payload: req.Payload}
				t0 := time.Now()
				res, err := p.Invoke(ctx, fn, r)
				d := time.Since(t0)
				if err != nil || res.FunctionError != "" {
					b.Errorf("invoke: %v %v", err, res)
					return
				}
				samples[w] = append(samples[w], d)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "invokes/s")
	reportLatencies(b, "", slices.Concat(samples...))
}

// BenchmarkColdStart measures process start to first response for each runtime.
func BenchmarkColdStart(b *testing.B) {
	cases := []struct {
		name    string
		sandbox SandboxMode
		make    func(b *testing.B) *Function
		hostNet bool
	}{
		{"go", SandboxAuto, func(b *testing.B) *Function { return goFunction(b, "cold") }, false},
		{"go-host-network", SandboxAuto, func(b *testing.B) *Function { return goFunction(b, "cold") }, true},
		{"go-no-sandbox", SandboxOff, func(b *testing.B) *Function { return goFunction(b, "cold") }, false},
		{"python3.12", SandboxAuto, func(b *testing.B) *Function {
			return interpretedFunction(b, "python3.12", "app.py", "app.handler", pythonHandler)
		}, false},
		{"nodejs20.x", SandboxAuto, func(b *testing.B) *Function {
			return interpretedFunction(b, "nodejs20.x", "index.mjs", "index.handler", nodeHandler)
		}, false},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			p := testPool(b, func(c *Config) { c.Sandbox, c.HostNetwork = tc.sandbox, tc.hostNet })
			fn := tc.make(b)
			fn.MemoryMB = 1769
			payload := []byte(`{"name":"kiri","action":"echo"}`)
			var walls, inits []time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				fn.Key = fmt.Sprintf("%s#%d", tc.name, i)
				t0 := time.Now()
				res, err := p.Invoke(context.Background(), fn, &Request{RequestID: randomHex(16), Payload: payload})
				walls = append(walls, time.Since(t0))
				if err != nil || res.FunctionError != "" || !res.ColdStart {
					b.Fatalf("invoke: %v %+v %s", err, res, res.Payload)
				}
				inits = append(inits, res.InitDuration)
				p.Drain(fn.Key)
			}
			b.StopTimer()
			reportLatencies(b, "wall-", walls)
			reportLatencies(b, "init-", inits)
		})
	}
}

// BenchmarkScaleOut measures 0 → 50 concurrent instances and the memory each idle one holds.
func BenchmarkScaleOut(b *testing.B) {
	const n = 50
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := testPool(b)
		fn := goFunction(b, "scale50")
		fn.Key = "scale50#" + strconv.Itoa(i)
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := p.Invoke(context.Background(), fn, &Request{RequestID: randomHex(16), Payload: []byte(`{"action":"sleep","ms":1}`)})
				if err != nil || res.FunctionError != "" {
					b.Errorf("invoke: %v %v", err, res)
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(time.Since(start))/float64(time.Millisecond), "ms-to-50")
		b.StopTimer()
		b.ReportMetric(float64(idleRSS(p))/float64(n)/(1<<20), "MB-RSS/instance")
		p.Close()
		b.StartTimer()
	}
}

// idleRSS sums the resident memory of the pool's instance processes.
func idleRSS(p *Pool) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var total int64
	for _, fp := range p.fns {
		for inst := range fp.all {
			data, err := os.ReadFile("/proc/" + strconv.Itoa(inst.proc.cmd.Process.Pid) + "/status")
			if err != nil {
				continue
			}
			for line := range strings.Lines(string(data)) {
				if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
					total += kb << 10
				}
			}
		}
	}
	return total
}

// BenchmarkSandboxDownload measures a function downloading 100 MiB from a loopback server: on
// the host's network, through the sandbox's port forward, and through the sandbox's proxy.
func BenchmarkSandboxDownload(b *testing.B) {
	const size = 100 << 20
	chunk := make([]byte, 1<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for range size / len(chunk) {
			w.Write(chunk)
		}
	}))
	defer srv.Close()
	allow, _ := ParseNetAllow(strings.TrimPrefix(srv.URL, "http://"))
	for _, tc := range []struct {
		name    string
		hostNet bool
		via     string
	}{{"host-network", true, ""}, {"forward", false, ""}, {"proxy", false, "proxy"}} {
		b.Run(tc.name, func(b *testing.B) {
			p := testPool(b, func(c *Config) { c.HostNetwork, c.NetworkAllow = tc.hostNet, allow })
			fn := goFunction(b, "download")
			fn.MemoryMB, fn.Timeout = 1769, time.Minute
			event := ev{"action": "download", "addr": srv.URL, "data": tc.via}
			invoke(b, p, fn, ev{"action": "noop"})
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				if _, ans := invoke(b, p, fn, event); ans.Data != strconv.Itoa(size) {
					b.Fatalf("download: %+v", ans)
				}
			}
		})
	}
}

// BenchmarkSandboxMemory reports what each idle instance holds: its process tree's RSS, and
// Kiri's own heap and goroutine stacks serving it (Runtime API, and in the sandboxed network
// the forwards and proxy).
func BenchmarkSandboxMemory(b *testing.B) {
	const n = 20
	for _, hostNet := range []bool{false, true} {
		name := "sandboxed-network"
		if hostNet {
			name = "host-network"
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				p := testPool(b, func(c *Config) { c.HostNetwork = hostNet })
				fn := goFunction(b, "mem")
				var before, after goruntime.MemStats
				goruntime.GC()
				goruntime.ReadMemStats(&before)
				var wg sync.WaitGroup
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						p.Invoke(context.Background(), fn, &Request{RequestID: randomHex(16), Payload: []byte(`{"action":"sleep","ms":200}`)})
					}()
				}
				wg.Wait()
				goruntime.GC()
				goruntime.ReadMemStats(&after)
				insts := len(p.fns[fn.Key].all)
				b.ReportMetric(float64(idleRSS(p))/float64(insts)/(1<<20), "MB-RSS/instance")
				kiri := int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)
				b.ReportMetric(float64(kiri)/float64(insts)/(1<<10), "KB-kiri/instance")
				p.Close()
			}
		})
	}
}
