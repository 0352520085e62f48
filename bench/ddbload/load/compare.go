package load

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kiri-run/kiri/bench/internal/workload"
)

// Target is a server to measure: a running endpoint, or a command that starts one for each
// round.
type Target struct {
	Endpoint
	Command string // with {port} and {dir} to fill in; "" for a running endpoint
}

// job is what a driver process reads on stdin; it writes the Result as JSON on stdout.
type job struct {
	Endpoint Endpoint
	Config   Config
}

// phases are the phases a round can run, in their default order: the tables first, so that
// the VmRSS read after them is the tables' and not what the load left behind.
var phases = []string{"tables", "put", "get", "query"}

// targetFlags collects repeated -target flags.
type targetFlags []string

func (t *targetFlags) String() string     { return strings.Join(*t, " ") }
func (t *targetFlags) Set(v string) error { *t = append(*t, v); return nil }

// Main parses the command line and runs the comparison, or, with -driver, one round.
func Main(dial Dial) {
	var (
		c                         Config
		targets                   targetFlags
		pids, phaseList           string
		region, accessKey, secret string
		rounds                    int
		startTimeout              time.Duration
		driver                    bool
	)
	flag.Var(&targets, "target", "a server to measure, repeatable: `name=URL` of a running endpoint, or name=COMMAND that starts one, "+
		"with {port} and {dir} in it replaced by a free loopback port and an empty data directory (default kiri=http://127.0.0.1:4566)")
	flag.StringVar(&pids, "pid", "", "process ids of running endpoints whose CPU time and VmRSS to sample: `PID` with one target, or name=PID,...")
	flag.IntVar(&rounds, "rounds", 1, "rounds; each runs every target once, in an order that rotates per round")
	flag.StringVar(&phaseList, "phases", strings.Join(phases, ","), "phases to run per round, comma-separated")
	flag.DurationVar(&c.Duration, "duration", 10*time.Second, "how long the put and get phases run")
	flag.IntVar(&c.Clients, "clients", 16, "concurrent SDK clients in the put and get phases (and to fill tables)")
	flag.IntVar(&c.ItemSize, "item-size", 200, "payload bytes of each item of the put and get phases")
	flag.IntVar(&c.Prefill, "prefill", 0, "items to top the get phase's up to, written untimed before it")
	flag.IntVar(&c.QueryItems, "query-items", 2000, "items in the one partition the query phase reads")
	flag.IntVar(&c.QueryItemSize, "query-item-size", 1024, "payload bytes of each item of that partition (1 KiB makes 2,000 items span 3 pages of DynamoDB's 1 MB)")
	flag.IntVar(&c.QueryReads, "query-reads", 20, "full reads of the partition to time per round")
	flag.IntVar(&c.Tables, "tables", 100, "tables the tables phase creates")
	flag.DurationVar(&c.Idle, "idle", 2*time.Second, "how long the server idles before each VmRSS reading of the tables phase")
	flag.DurationVar(&startTimeout, "start-timeout", time.Minute, "how long a started target has to answer its first request")
	flag.StringVar(&region, "region", "us-east-1", "region to sign for")
	flag.StringVar(&accessKey, "access-key", "AKIAIOSFODNN7EXAMPLE", "access key id")
	flag.StringVar(&secret, "secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret access key")
	flag.BoolVar(&driver, "driver", false, "run one round as a driver process: a job as JSON on stdin, the result as JSON on stdout")
	flag.Parse()
	log.SetFlags(0)
	if driver {
		if err := drive(os.Stdin, os.Stdout, dial); err != nil {
			log.Fatal(err)
		}
		return
	}
	c.Phases = strings.Split(phaseList, ",")
	for _, p := range c.Phases {
		if !slices.Contains(phases, p) {
			log.Fatalf("unknown phase %q: the phases are %s", p, strings.Join(phases, ", "))
		}
	}
	if c.Clients < 1 || rounds < 1 || c.QueryItems < 1 || c.QueryReads < 1 || c.Tables < 1 {
		log.Fatal("-clients, -rounds, -query-items, -query-reads and -tables must be at least 1")
	}
	if len(targets) == 0 {
		targets = targetFlags{"kiri=http://127.0.0.1:4566"}
	}
	ts, err := parseTargets(targets, pids)
	if err != nil {
		log.Fatal(err)
	}
	for i := range ts {
		ts[i].Region, ts[i].AccessKey, ts[i].Secret = region, accessKey, secret
	}
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	// An interrupt ends the round in flight and stops a server this tool started.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmp := comparison{targets: ts, config: c, rounds: rounds, driver: self, dial: dial, startTimeout: startTimeout}
	if err := cmp.run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// drive runs the job read from in and writes its Result to out.
func drive(in io.Reader, out io.Writer, dial Dial) error {
	return workload.ServeDriver(in, out, func(j job) (any, error) {
		return Round(context.Background(), j.Endpoint, j.Config, dial)
	})
}

// targetName is what a target may be called: the name goes into reports, not table names.
var targetName = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// parseTargets reads the -target flags and -pid.
func parseTargets(specs []string, pids string) ([]Target, error) {
	var ts []Target
	for _, spec := range specs {
		var t Target
		rest := spec
		if name, after, ok := strings.Cut(spec, "="); ok && targetName.MatchString(name) {
			t.Name, rest = name, after
		}
		if u, err := url.Parse(rest); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
			!strings.ContainsAny(rest, " \t") && (u.Path == "" || u.Path == "/") {
			t.URL = strings.TrimSuffix(rest, "/")
			if t.Name == "" {
				t.Name = u.Host
			}
		} else {
			if t.Name == "" || strings.TrimSpace(rest) == "" {
				return nil, fmt.Errorf("target %q: want name=http://host:port, or name=COMMAND", spec)
			}
			t.Command = rest
		}
		if slices.ContainsFunc(ts, func(o Target) bool { return o.Name == t.Name }) {
			return nil, fmt.Errorf("target name %q is used twice", t.Name)
		}
		ts = append(ts, t)
	}
	ps, err := workload.ParsePIDs(pids, len(ts), func(i int) string { return ts[i].Name })
	if err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i].PID = ps[i]
	}
	for _, t := range ts {
		if t.PID != 0 && t.Command != "" {
			return nil, fmt.Errorf("-pid for %s: a target this tool starts is measured as the process it starts", t.Name)
		}
	}
	return ts, nil
}

// comparison runs rounds over targets.
type comparison struct {
	targets      []Target
	config       Config
	rounds       int
	driver       string // the build that runs a round: this one
	dial         Dial
	startTimeout time.Duration
}

// run runs the rounds, rotating the targets' order each round, prints every round's figures,
// and then the medians.
func (cmp comparison) run(ctx context.Context, w io.Writer) error {
	c := cmp.config
	fmt.Fprintf(w, "%d clients, %d B items, put and get phases of %s; %d reads of a %d-item partition of %d B items; %d tables\n",
		c.Clients, c.ItemSize, c.Duration, c.QueryReads, c.QueryItems, c.QueryItemSize, c.Tables)
	results := make(map[string][]*Result)
	for r := range cmp.rounds {
		for k := range cmp.targets {
			t := cmp.targets[(r+k)%len(cmp.targets)]
			what := t.URL
			if t.Command != "" {
				what = "started: " + t.Command
			}
			fmt.Fprintf(w, "round %d/%d  %s (%s)\n", r+1, cmp.rounds, t.Name, what)
			res, err := cmp.once(ctx, t)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				fmt.Fprintf(w, "  failed: %v\n", err)
				continue
			}
			printResult(w, t, res)
			results[t.Name] = append(results[t.Name], res)
		}
	}
	if cmp.rounds > 1 || len(cmp.targets) > 1 {
		printMedians(w, cmp.targets, results, cmp.rounds, c.Tables)
	}
	return nil
}

// once runs one round against a target in a fresh driver process, starting the target's
// command first and stopping it after.
func (cmp comparison) once(ctx context.Context, t Target) (*Result, error) {
	e := t.Endpoint
	var start *Start
	if t.Command != "" {
		srv, st, err := startServer(ctx, t.Command, answers(cmp.dial, e), cmp.startTimeout)
		if err != nil {
			return nil, err
		}
		defer srv.stop()
		e.URL, e.PID, e.Started, start = srv.url, srv.pid(), true, st
	}
	res := new(Result)
	if err := workload.RunDriver(ctx, cmp.driver, job{e, cmp.config}, res); err != nil {
		return nil, err
	}
	res.Start = start
	return res, nil
}

// answers is a probe that asks for ListTables through an SDK client of e's kind.
func answers(dial Dial, e Endpoint) probe {
	var cl Client
	var at string
	return func(ctx context.Context, url string) error {
		if cl == nil || at != url {
			e.URL = url
			cl, at = dial(e), url
		}
		return cl.ListTables(ctx)
	}
}

func printResult(w io.Writer, t Target, r *Result) {
	pid := t.PID != 0 || t.Command != ""
	if s := r.Start; s != nil {
		fmt.Fprintf(w, "  start     first answer %s after the command started; server VmRSS then %d MiB\n", workload.Round(s.Ready), s.RSS>>10)
	}
	if tb := r.Tables; tb != nil {
		fmt.Fprintf(w, "  tables    %d created and ACTIVE in %s", tb.Count, tb.Elapsed.Round(time.Millisecond))
		if pid {
			fmt.Fprintf(w, "; server VmRSS idle %d MiB before, %d MiB after; server CPU %s in the %s idle after",
				tb.RSSBefore>>10, tb.RSSAfter>>10, workload.Round(tb.IdleCPU), tb.Idle)
		}
		fmt.Fprintln(w)
	}
	for _, p := range []struct {
		name string
		t    *Throughput
	}{{"put", r.Put}, {"get", r.Get}} {
		if p.t == nil {
			continue
		}
		fmt.Fprintf(w, "  %-8s  %8.0f items/s  %d items in %s, calls p50 %s p99 %s%s\n", p.name, p.t.Rate(), p.t.Items,
			p.t.Elapsed.Round(time.Millisecond), workload.Round(p.t.CallP50), workload.Round(p.t.CallP99), p.t.PerUnit(p.t.Items, "item", pid))
	}
	if q := r.Query; q != nil {
		reads := slices.Sorted(slices.Values(q.Reads))
		fmt.Fprintf(w, "  query     full read of %d items in %d pages: p50 %s min %s max %s over %d reads%s\n", q.Items, q.Pages,
			workload.Round(workload.Quantile(reads, 0.5)), workload.Round(reads[0]), workload.Round(reads[len(reads)-1]), len(reads),
			q.PerUnit(int64(len(reads)), "read", pid))
	}
}

// printMedians prints per target the median over rounds of each figure.
func printMedians(w io.Writer, ts []Target, results map[string][]*Result, rounds, tables int) {
	fmt.Fprintf(w, "\nmedians over %d rounds, targets alternating:\n", rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\trounds\tstart\tput items/s\tget items/s\tquery read\tpages\tVmRSS idle\twith %d tables\tserver CPU/put\tget\tread\tpeak VmRSS\t\n", tables)
	for _, t := range ts {
		rs := results[t.Name]
		var m medians
		for _, r := range rs {
			m.add(r)
		}
		cost, rss := [3]string{"-", "-", "-"}, [3]string{"-", "-", "-"}
		if t.PID != 0 || t.Command != "" {
			cost = [3]string{workload.OrDash(m.putCPU, workload.Duration), workload.OrDash(m.getCPU, workload.Duration), workload.OrDash(m.readCPU, workload.Duration)}
			rss = [3]string{workload.OrDash(m.rssBefore, mib), workload.OrDash(m.rssAfter, mib), "-"}
			if m.peak > 0 {
				rss[2] = mib(float64(m.peak))
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", t.Name, len(rs),
			workload.OrDash(m.ready, workload.Duration), workload.OrDash(m.put, workload.Rate), workload.OrDash(m.get, workload.Rate),
			workload.OrDash(m.read, workload.Duration), workload.OrDash(m.pages, workload.Rate), rss[0], rss[1], cost[0], cost[1], cost[2], rss[2])
	}
	tw.Flush()
}

// medians gathers one target's per-round figures.
type medians struct {
	ready, put, get, read, pages []float64
	putCPU, getCPU, readCPU      []float64
	rssBefore, rssAfter          []float64
	peak                         int
}

func (m *medians) add(r *Result) {
	if s := r.Start; s != nil {
		m.ready = append(m.ready, float64(s.Ready))
	}
	if t := r.Tables; t != nil {
		m.rssBefore, m.rssAfter = append(m.rssBefore, float64(t.RSSBefore)), append(m.rssAfter, float64(t.RSSAfter))
	}
	if t := r.Put; t != nil {
		m.put, m.putCPU = append(m.put, t.Rate()), append(m.putCPU, perItem(t.ServerCPU, t.Items))
		m.peak = max(m.peak, t.RSSPeak)
	}
	if t := r.Get; t != nil {
		m.get, m.getCPU = append(m.get, t.Rate()), append(m.getCPU, perItem(t.ServerCPU, t.Items))
		m.peak = max(m.peak, t.RSSPeak)
	}
	if q := r.Query; q != nil && len(q.Reads) > 0 {
		reads := slices.Sorted(slices.Values(q.Reads))
		m.read = append(m.read, float64(workload.Quantile(reads, 0.5)))
		m.pages = append(m.pages, float64(q.Pages))
		m.readCPU = append(m.readCPU, perItem(q.ServerCPU, int64(len(reads))))
		m.peak = max(m.peak, q.RSSPeak)
	}
}

func perItem(cpu time.Duration, n int64) float64 { return float64(cpu) / float64(max(n, 1)) }

// mib formats KiB as MiB.
func mib(kib float64) string { return fmt.Sprintf("%.0f MiB", kib/1024) }
