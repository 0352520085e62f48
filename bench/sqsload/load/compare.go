package load

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kiri-run/kiri/bench/internal/workload"
)

// Tool is one build of sqsload: the SQS protocol its SDK client speaks, and where to find a
// build for another protocol. An SDK release speaks one SQS protocol, and a Go build holds one
// release of a module, so each protocol has its own build; every round runs in a fresh
// driver process of the build for its endpoint's protocol, whichever that is.
type Tool struct {
	Protocol string
	Dial     Dial
	// Driver returns the path of a build that drives protocol, one this build does not
	// speak; nil if there is none.
	Driver func(protocol string) (string, error)
}

// job is what a driver process reads on stdin; it writes the Result as JSON on stdout.
type job struct {
	Endpoint Endpoint
	Config   Config
}

// Main parses the command line and runs the comparison, or, with -driver, one round.
func (t Tool) Main() {
	var (
		c                         Config
		endpoints, pids, phases   string
		region, accessKey, secret string
		rounds                    int
		driver                    bool
	)
	flag.StringVar(&endpoints, "endpoints", "kiri=http://127.0.0.1:4566", "endpoints to compare, comma-separated `[name=][json:|query:]URL` (protocol default json)")
	flag.StringVar(&pids, "pid", "", "server process ids whose CPU time and VmRSS to sample: `PID` with one endpoint, or name=PID,...")
	flag.IntVar(&rounds, "rounds", 1, "rounds; each runs every endpoint once, in an order that rotates per round")
	flag.StringVar(&phases, "phases", "send,receive,wake", "phases to run per round, comma-separated")
	flag.DurationVar(&c.Duration, "duration", 10*time.Second, "how long the send and receive phases run at most")
	flag.IntVar(&c.Clients, "clients", 16, "concurrent SDK clients in the send and receive phases")
	flag.IntVar(&c.Batch, "batch", 10, "messages per SendMessageBatch and MaxNumberOfMessages per ReceiveMessage (1-10)")
	flag.IntVar(&c.BodySize, "body-size", 200, "message body size in bytes")
	flag.IntVar(&c.Prefill, "prefill", 0, "messages to top the receive phase's backlog up to, sent untimed before it")
	flag.IntVar(&c.Wakeups, "wakeups", 200, "long-poll wake-ups to time per round")
	flag.DurationVar(&c.Settle, "settle", 20*time.Millisecond, "least time a long-polling receiver gets to block before the message is sent")
	flag.DurationVar(&c.Jitter, "jitter", 100*time.Millisecond, "random extra settle time, so that sends fall anywhere in a polling server's interval")
	flag.StringVar(&region, "region", "us-east-1", "region to sign for")
	flag.StringVar(&accessKey, "access-key", "AKIAIOSFODNN7EXAMPLE", "access key id")
	flag.StringVar(&secret, "secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret access key")
	flag.BoolVar(&driver, "driver", false, "run one round as a driver process: a job as JSON on stdin, the result as JSON on stdout")
	flag.Parse()
	log.SetFlags(0)
	if driver {
		if err := t.drive(os.Stdin, os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
	}
	c.Phases = strings.Split(phases, ",")
	for _, p := range c.Phases {
		if !slices.Contains([]string{"send", "receive", "wake"}, p) {
			log.Fatalf("unknown phase %q: the phases are send, receive and wake", p)
		}
	}
	if c.Batch < 1 || c.Batch > 10 || c.Clients < 1 || rounds < 1 {
		log.Fatal("-batch must be 1 to 10, and -clients and -rounds at least 1")
	}
	es, err := parseEndpoints(endpoints, pids)
	if err != nil {
		log.Fatal(err)
	}
	for i := range es {
		es[i].Region, es[i].AccessKey, es[i].Secret = region, accessKey, secret
	}
	if err := t.compare(context.Background(), es, c, rounds, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// drive runs the job read from in and writes its Result to out.
func (t Tool) drive(in io.Reader, out io.Writer) error {
	return workload.ServeDriver(in, out, func(j job) (any, error) {
		if j.Endpoint.Protocol != t.Protocol {
			return nil, fmt.Errorf("this build speaks %s, not %s", t.Protocol, j.Endpoint.Protocol)
		}
		return Round(context.Background(), j.Endpoint, j.Config, t.Dial)
	})
}

// parseEndpoints reads -endpoints and -pid.
func parseEndpoints(spec, pids string) ([]Endpoint, error) {
	var es []Endpoint
	for item := range strings.SplitSeq(spec, ",") {
		var e Endpoint
		rest := item
		if name, after, ok := strings.Cut(item, "="); ok {
			e.Name, rest = name, after
		}
		e.Protocol = "json"
		for _, p := range []string{"json", "query"} {
			if after, ok := strings.CutPrefix(rest, p+":"); ok {
				e.Protocol, rest = p, after
			}
		}
		u, err := url.Parse(rest)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("endpoint %q: want [name=][json:|query:]http://host:port", item)
		}
		e.URL = rest
		if e.Name == "" {
			e.Name = u.Host
		}
		if slices.ContainsFunc(es, func(o Endpoint) bool { return o.Name == e.Name }) {
			return nil, fmt.Errorf("endpoint name %q is used twice", e.Name)
		}
		es = append(es, e)
	}
	ps, err := workload.ParsePIDs(pids, len(es), func(i int) string { return es[i].Name })
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].PID = ps[i]
	}
	return es, nil
}

// compare runs rounds over the endpoints, rotating their order each round, prints every
// round's figures, and then the medians.
func (t Tool) compare(ctx context.Context, es []Endpoint, c Config, rounds int, w io.Writer) error {
	drivers := map[string]string{}
	for _, e := range es {
		if _, ok := drivers[e.Protocol]; ok {
			continue
		}
		path, err := t.driverFor(e.Protocol)
		if err != nil {
			return fmt.Errorf("endpoint %s: %w", e.Name, err)
		}
		drivers[e.Protocol] = path
	}
	fmt.Fprintf(w, "%d clients, batches of %d, %d B bodies, phases of %s, %d wake-ups per round\n",
		c.Clients, c.Batch, c.BodySize, c.Duration, c.Wakeups)
	results := make(map[string][]*Result)
	for r := range rounds {
		for k := range es {
			e := es[(r+k)%len(es)]
			fmt.Fprintf(w, "round %d/%d  %s (%s %s)\n", r+1, rounds, e.Name, e.Protocol, e.URL)
			res := new(Result)
			if err := workload.RunDriver(ctx, drivers[e.Protocol], job{e, c}, res); err != nil {
				fmt.Fprintf(w, "  failed: %v\n", err)
				continue
			}
			printResult(w, e, res)
			results[e.Name] = append(results[e.Name], res)
		}
	}
	if rounds > 1 || len(es) > 1 {
		printMedians(w, es, results, rounds)
	}
	return nil
}

func (t Tool) driverFor(protocol string) (string, error) {
	if protocol == t.Protocol {
		return os.Executable()
	}
	if t.Driver == nil {
		return "", fmt.Errorf("this build speaks only %s", t.Protocol)
	}
	return t.Driver(protocol)
}

func printResult(w io.Writer, e Endpoint, r *Result) {
	if t := r.Send; t != nil {
		fmt.Fprintf(w, "  send      %8.0f msg/s  %d messages in %s, batch calls p50 %s p99 %s%s\n",
			t.Rate(), t.Messages, t.Elapsed.Round(time.Millisecond), workload.Round(t.CallP50), workload.Round(t.CallP99), t.PerUnit(t.Messages, "msg", e.PID != 0))
	}
	if t := r.Receive; t != nil {
		fmt.Fprintf(w, "  recv+del  %8.0f msg/s  %d messages in %s, %.1f per receive, %d empty; receive+delete p50 %s p99 %s%s\n",
			t.Rate(), t.Messages, t.Elapsed.Round(time.Millisecond), float64(t.Messages)/float64(max(t.Calls-t.Empty, 1)), t.Empty,
			workload.Round(t.CallP50), workload.Round(t.CallP99), t.PerUnit(t.Messages, "msg", e.PID != 0))
	}
	if wk := r.Wake; wk != nil {
		lat := slices.Sorted(slices.Values(wk.Latencies))
		fmt.Fprintf(w, "  wake-up   p50 %s p90 %s p99 %s max %s over %d, %d long polls returned empty%s\n",
			workload.Round(workload.Quantile(lat, 0.5)), workload.Round(workload.Quantile(lat, 0.9)), workload.Round(workload.Quantile(lat, 0.99)), workload.Round(workload.Quantile(lat, 1)),
			len(lat), wk.Empty, wk.PerUnit(int64(len(lat)), "wake-up", e.PID != 0))
	}
}

// printMedians prints per endpoint the median over rounds of each rate and CPU cost, and
// wake-up percentiles over all rounds' wake-ups together.
func printMedians(w io.Writer, es []Endpoint, results map[string][]*Result, rounds int) {
	fmt.Fprintf(w, "\nmedians over %d rounds, endpoints alternating (wake-up percentiles over all rounds' wake-ups):\n", rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\tprotocol\trounds\tsend msg/s\trecv+del msg/s\twake p50\tp90\tp99\tserver CPU/msg send\trecv+del\tpeak VmRSS\t")
	for _, e := range es {
		rs := results[e.Name]
		var send, recv, sendCPU, recvCPU []float64
		var lat []time.Duration
		peak := 0
		for _, r := range rs {
			if t := r.Send; t != nil {
				send = append(send, t.Rate())
				sendCPU = append(sendCPU, perMessage(t))
				peak = max(peak, t.RSSPeak)
			}
			if t := r.Receive; t != nil {
				recv = append(recv, t.Rate())
				recvCPU = append(recvCPU, perMessage(t))
				peak = max(peak, t.RSSPeak)
			}
			if wk := r.Wake; wk != nil {
				lat = append(lat, wk.Latencies...)
				peak = max(peak, wk.RSSPeak)
			}
		}
		slices.Sort(lat)
		sendCost, recvCost, rss := "-", "-", "-"
		if e.PID != 0 {
			sendCost, recvCost = workload.OrDash(sendCPU, workload.Duration), workload.OrDash(recvCPU, workload.Duration)
			rss = fmt.Sprintf("%d MiB", peak>>10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", e.Name, e.Protocol, len(rs),
			workload.OrDash(send, workload.Rate), workload.OrDash(recv, workload.Rate), workload.Percentile(lat, 0.5), workload.Percentile(lat, 0.9), workload.Percentile(lat, 0.99),
			sendCost, recvCost, rss)
	}
	tw.Flush()
}

func perMessage(t *Throughput) float64 {
	return float64(t.ServerCPU) / float64(max(t.Messages, 1))
}
