// Command s3load measures an S3 endpoint with concurrent aws-sdk-go-v2 clients: 4 KiB PUT
// ops/s, 4 KiB GET ops/s over the keys the PUT phase wrote, and 64 MiB object PUT and GET
// throughput. It works against any S3-compatible endpoint (Kiri, MinIO, AWS), so figures can
// be compared side by side on one machine.
//
//	go run ./bench/s3load -endpoint http://127.0.0.1:4566 -access-key K -secret S -duration 10s
//
// With -pid it also samples that process's VmRSS and reports its peak per phase.
//
// The rss subcommand runs a command while sampling a process's VmRSS, to measure, for example,
// Kiri's memory during an `aws s3 cp` of a 1 GiB file:
//
//	go run ./bench/s3load rss -pid 1234 -- aws s3 cp big s3://bucket/big --endpoint-url ...
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/kiri-run/kiri/bench/internal/procstat"
)

// config holds the load's flags.
type config struct {
	endpoint, accessKey, secret, region, bucket string
	duration                                    time.Duration
	clients, smallSize                          int
	largeSize, largeClients, largeCount         int
	phases                                      string
	pid                                         int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "rss" {
		if err := rssCommand(os.Args[2:]); err != nil {
			log.Fatal(err)
		}
		return
	}
	var c config
	flag.StringVar(&c.endpoint, "endpoint", "http://127.0.0.1:4566", "S3 endpoint URL")
	flag.StringVar(&c.accessKey, "access-key", "AKIAIOSFODNN7EXAMPLE", "access key id")
	flag.StringVar(&c.secret, "secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret access key")
	flag.StringVar(&c.region, "region", "us-east-1", "region to sign for")
	flag.StringVar(&c.bucket, "bucket", fmt.Sprintf("s3load-%d", time.Now().Unix()), "bucket to create and use")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long each small-object phase runs")
	flag.IntVar(&c.clients, "clients", 16, "concurrent clients for the small-object phases")
	flag.IntVar(&c.smallSize, "small-size", 4<<10, "small object size in bytes")
	flag.IntVar(&c.largeSize, "large-size", 64<<20, "large object size in bytes")
	flag.IntVar(&c.largeClients, "large-clients", 4, "concurrent clients for the large-object phases")
	flag.IntVar(&c.largeCount, "large-count", 16, "large objects to PUT (then GET)")
	flag.StringVar(&c.phases, "phases", "put,get,large", "phases to run, comma-separated")
	flag.IntVar(&c.pid, "pid", 0, "server process id whose VmRSS to sample (0: none)")
	flag.Parse()
	if err := run(context.Background(), c); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, c config) error {
	clients := make([]*s3.Client, max(c.clients, c.largeClients))
	for i := range clients {
		clients[i] = newClient(c) // one client, and so one connection pool, per worker
	}
	if _, err := clients[0].CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(c.bucket)}); err != nil {
		var owned *types.BucketAlreadyOwnedByYou
		if !errors.As(err, &owned) {
			return fmt.Errorf("create bucket %s: %w", c.bucket, err)
		}
	}
	fmt.Printf("endpoint %s  bucket %s  clients %d  duration %s\n", c.endpoint, c.bucket, c.clients, c.duration)
	var keys []string
	for _, phase := range strings.Split(c.phases, ",") {
		rss := procstat.StartPeakRSS(c.pid)
		var err error
		switch phase {
		case "put":
			keys, err = smallPuts(ctx, c, clients[:c.clients])
		case "get":
			if len(keys) == 0 {
				return fmt.Errorf("the get phase reads the keys the put phase wrote; run put first")
			}
			err = smallGets(ctx, c, clients[:c.clients], keys)
		case "large":
			err = large(ctx, c, clients[:c.largeClients])
		default:
			err = fmt.Errorf("unknown phase %q", phase)
		}
		if first, peak := rss.Stop(); c.pid != 0 {
			fmt.Printf("  server VmRSS: %d MiB at start, peak %d MiB\n", first>>10, peak>>10)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
	}
	return nil
}

func newClient(c config) *s3.Client {
	return s3.New(s3.Options{
		Region:       c.region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.accessKey, c.secret, ""),
		BaseEndpoint: aws.String(c.endpoint),
		UsePathStyle: true,
	})
}

// latencies collects per-operation durations from many workers.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

func (l *latencies) String() string {
	if len(l.d) == 0 {
		return "no operations"
	}
	slices.Sort(l.d)
	q := func(p float64) time.Duration { return l.d[int(p*float64(len(l.d)-1))].Round(10 * time.Microsecond) }
	return fmt.Sprintf("p50 %s  p99 %s  max %s", q(0.5), q(0.99), l.d[len(l.d)-1].Round(10*time.Microsecond))
}

// forDuration runs op in every client's worker until the duration is over or an op fails.
func forDuration(ctx context.Context, c config, clients []*s3.Client, op func(ctx context.Context, cl *s3.Client, worker, i int) error) (int64, time.Duration, *latencies, error) {
	ctx, cancel := context.WithTimeout(ctx, c.duration)
	defer cancel()
	var (
		n     atomic.Int64
		lat   latencies
		wg    sync.WaitGroup
		first atomic.Pointer[error]
	)
	start := time.Now()
	for w, cl := range clients {
		wg.Go(func() {
			var mine []time.Duration
			for i := 0; ctx.Err() == nil; i++ {
				t := time.Now()
				if err := op(ctx, cl, w, i); err != nil {
					if ctx.Err() == nil {
						first.CompareAndSwap(nil, &err)
						cancel()
					}
					break
				}
				mine = append(mine, time.Since(t))
				n.Add(1)
			}
			lat.add(mine)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := first.Load(); err != nil {
		return 0, 0, nil, *err
	}
	return n.Load(), elapsed, &lat, nil
}

func smallPuts(ctx context.Context, c config, clients []*s3.Client) ([]string, error) {
	body := randomBytes(c.smallSize, 1)
	var mu sync.Mutex
	var keys []string
	before := sampleCPU(c.pid)
	n, elapsed, lat, err := forDuration(ctx, c, clients, func(ctx context.Context, cl *s3.Client, w, i int) error {
		key := fmt.Sprintf("small/%02d/%08d", w, i)
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		mu.Lock()
		keys = append(keys, key)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	fmt.Printf("PUT %d B: %8.0f ops/s  (%d ops in %s; %s)\n", c.smallSize, float64(n)/elapsed.Seconds(), n, elapsed.Round(time.Millisecond), lat)
	printCPU(c.pid, before, sampleCPU(c.pid), n)
	return keys, nil
}

func smallGets(ctx context.Context, c config, clients []*s3.Client, keys []string) error {
	before := sampleCPU(c.pid)
	n, elapsed, lat, err := forDuration(ctx, c, clients, func(ctx context.Context, cl *s3.Client, w, i int) error {
		key := keys[rand.IntN(len(keys))]
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key)})
		if err != nil {
			return fmt.Errorf("get %s: %w", key, err)
		}
		got, err := io.Copy(io.Discard, out.Body)
		out.Body.Close()
		if err == nil && got != int64(c.smallSize) {
			err = fmt.Errorf("get %s: %d bytes, want %d", key, got, c.smallSize)
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("GET %d B: %8.0f ops/s  (%d ops over %d keys in %s; %s)\n", c.smallSize, float64(n)/elapsed.Seconds(), n, len(keys), elapsed.Round(time.Millisecond), lat)
	printCPU(c.pid, before, sampleCPU(c.pid), n)
	return nil
}

// large PUTs largeCount objects of largeSize with largeClients workers, then GETs them all.
func large(ctx context.Context, c config, clients []*s3.Client) error {
	body := randomBytes(c.largeSize, 2)
	each := func(op func(cl *s3.Client, key string) error) (time.Duration, error) {
		next := atomic.Int64{}
		var wg sync.WaitGroup
		var first atomic.Pointer[error]
		start := time.Now()
		for _, cl := range clients {
			wg.Go(func() {
				for i := next.Add(1) - 1; i < int64(c.largeCount) && first.Load() == nil; i = next.Add(1) - 1 {
					if err := op(cl, fmt.Sprintf("large/%04d", i)); err != nil {
						first.CompareAndSwap(nil, &err)
					}
				}
			})
		}
		wg.Wait()
		if err := first.Load(); err != nil {
			return 0, *err
		}
		return time.Since(start), nil
	}
	mib := float64(c.largeSize) * float64(c.largeCount) / (1 << 20)
	d, err := each(func(cl *s3.Client, key string) error {
		_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
		return err
	})
	if err != nil {
		return fmt.Errorf("large put: %w", err)
	}
	fmt.Printf("PUT %d MiB: %8.1f MiB/s  (%d objects, %d clients, %s)\n", c.largeSize>>20, mib/d.Seconds(), c.largeCount, len(clients), d.Round(time.Millisecond))
	d, err = each(func(cl *s3.Client, key string) error {
		out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key)})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		n, err := io.Copy(io.Discard, out.Body)
		if err == nil && n != int64(c.largeSize) {
			err = fmt.Errorf("get %s: %d bytes, want %d", key, n, c.largeSize)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("large get: %w", err)
	}
	fmt.Printf("GET %d MiB: %8.1f MiB/s  (%d objects, %d clients, %s)\n", c.largeSize>>20, mib/d.Seconds(), c.largeCount, len(clients), d.Round(time.Millisecond))
	return nil
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{0: byte(seed)}).Read(b)
	return b
}

// cpuSample is CPU time used so far by the server (pid) and by this process.
type cpuSample struct{ server, self time.Duration }

func sampleCPU(pid int) cpuSample {
	s := cpuSample{self: procstat.SelfCPU()}
	if pid != 0 {
		s.server = procstat.CPU(pid)
	}
	return s
}

// printCPU reports CPU time per operation between two samples: the server's (with -pid) and
// this load tool's, whose SDK clients cost about as much as the server does.
func printCPU(pid int, before, after cpuSample, ops int64) {
	if ops == 0 {
		return
	}
	per := func(d time.Duration) int64 { return d.Microseconds() / ops }
	if pid != 0 {
		fmt.Printf("  CPU per op: server %d µs, load tool %d µs\n", per(after.server-before.server), per(after.self-before.self))
	} else {
		fmt.Printf("  CPU per op: load tool %d µs\n", per(after.self-before.self))
	}
}

// rssCommand runs a command while sampling -pid's VmRSS, and reports the growth.
func rssCommand(args []string) error {
	fs := flag.NewFlagSet("rss", flag.ExitOnError)
	pid := fs.Int("pid", 0, "process id to sample")
	fs.Parse(args)
	if *pid == 0 || fs.NArg() == 0 {
		return fmt.Errorf("usage: s3load rss -pid N -- command [args...]")
	}
	s := procstat.StartPeakRSS(*pid)
	cmd := exec.Command(fs.Arg(0), fs.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	start := time.Now()
	err := cmd.Run()
	first, peak := s.Stop()
	fmt.Printf("VmRSS of %d: %d MiB before, peak %d MiB during, growth %d MiB (command took %s)\n",
		*pid, first>>10, peak>>10, (peak-first)>>10, time.Since(start).Round(time.Millisecond))
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	return nil
}
