package runtime

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// maxLogLine is CloudWatch Logs' event size limit; longer lines are split.
const maxLogLine = 256 * 1024

// streamKey names one log stream.
type streamKey struct {
	account, region, group, stream string
}

// shipper batches function log events and writes them to the LogSink. The first event queued
// after a flush starts the clock: what arrives within the flush interval is written with it, so
// a busy function costs a few store writes a second, not one per invocation. A backlog of
// shipFlushEvents events or shipFlushBytes bytes is written at once. Nothing runs while there is
// nothing to ship.
type shipper struct {
	sink     LogSink
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	pending map[streamKey][]LogEvent
	order   []streamKey // streams in first-pending order
	events  int         // events pending
	bytes   int         // message bytes pending

	kick chan struct{} // the first event of a batch is pending
	now  chan struct{} // flush without waiting for the interval
	stop chan struct{}
	done chan struct{}
}

// A backlog this large is shipped without waiting for the flush interval.
const (
	shipFlushEvents = 4096
	shipFlushBytes  = 1 << 20
)

func newShipper(sink LogSink, interval time.Duration, log *slog.Logger) *shipper {
	s := &shipper{
		sink: sink, interval: interval, log: log,
		pending: map[streamKey][]LogEvent{},
		kick:    make(chan struct{}, 1), now: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go s.run()
	return s
}

// enabled reports whether events are kept at all.
func (s *shipper) enabled() bool { return s.sink != nil }

// add queues events for a stream.
func (s *shipper) add(k streamKey, events ...LogEvent) {
	if s.sink == nil || len(events) == 0 {
		return
	}
	s.mu.Lock()
	first := s.events == 0
	q, ok := s.pending[k]
	if !ok {
		s.order = append(s.order, k)
	}
	s.pending[k] = append(q, events...)
	s.events += len(events)
	for _, e := range events {
		s.bytes += len(e.Message)
	}
	full := s.events >= shipFlushEvents || s.bytes >= shipFlushBytes
	s.mu.Unlock()
	if first {
		signal(s.kick)
	}
	if full {
		signal(s.now)
	}
}

// flushSoon asks for a flush now, without waiting for it.
func (s *shipper) flushSoon() { signal(s.now) }

// signal wakes whoever waits on a one-slot channel, without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (s *shipper) run() {
	defer close(s.done)
	final := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.flush(ctx)
		cancel()
	}
	t := time.NewTimer(s.interval)
	t.Stop()
	for {
		select {
		case <-s.stop:
			final()
			return
		case <-s.kick:
		case <-s.now:
		}
		t.Reset(s.interval)
		select {
		case <-s.stop:
			final()
			return
		case <-t.C:
		case <-s.now:
			t.Stop()
		}
		s.flush(context.Background())
	}
}

// flush writes every pending stream, one AppendLogs call each. The calls run concurrently, so a
// store with group commit writes them in one transaction rather than one after another.
func (s *shipper) flush(ctx context.Context) {
	s.mu.Lock()
	if len(s.order) == 0 {
		s.mu.Unlock()
		return
	}
	order, pending := s.order, s.pending
	s.order, s.pending = nil, make(map[streamKey][]LogEvent, len(pending))
	s.events, s.bytes = 0, 0
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, k := range order {
		wg.Go(func() {
			if err := s.sink.AppendLogs(ctx, k.account, k.region, k.group, k.stream, pending[k]); err != nil {
				s.log.Warn("ship function logs", "group", k.group, "stream", k.stream, "events", len(pending[k]), "err", err)
			}
		})
	}
	wg.Wait()
}

// close flushes what is pending and stops the shipper.
func (s *shipper) close() {
	close(s.stop)
	<-s.done
}

// logReader turns an instance's stdout/stderr pipe into log events, line by line. It reads
// under mu, so sync can tell that everything written before a given moment has been seen.
type logReader struct {
	inst *instance
	f    *os.File

	fd int // f's descriptor; f.Fd() would switch f to blocking mode

	mu      sync.Mutex
	closed  bool
	partial []byte
	buf     []byte
}

func newLogReader(inst *instance, f *os.File) *logReader {
	lr := &logReader{inst: inst, f: f, fd: -1, buf: make([]byte, 32*1024)}
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { lr.fd = int(fd) })
	}
	return lr
}

// run reads until the pipe's writers are all gone.
func (lr *logReader) run() {
	defer func() {
		lr.mu.Lock()
		lr.closed = true
		lr.f.Close()
		lr.mu.Unlock()
	}()
	rc, err := lr.f.SyscallConn()
	if err != nil {
		return
	}
	eof := false
	for !eof {
		err := rc.Read(func(fd uintptr) bool {
			lr.mu.Lock()
			defer lr.mu.Unlock()
			n, err := unix.Read(int(fd), lr.buf)
			if err == unix.EAGAIN || err == unix.EINTR {
				return false
			}
			if n <= 0 {
				eof = true
				lr.flushPartialLocked()
				return true
			}
			lr.consumeLocked(lr.buf[:n])
			return true
		})
		if err != nil {
			return
		}
	}
}

// consumeLocked splits data into lines and records each complete one.
func (lr *logReader) consumeLocked(data []byte) {
	now := time.Now()
	var events []LogEvent
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lr.partial = append(lr.partial, data...)
			if len(lr.partial) >= maxLogLine {
				events = append(events, lr.eventLocked(now, lr.partial[:maxLogLine], true))
				lr.partial = append(lr.partial[:0], lr.partial[maxLogLine:]...)
			}
			break
		}
		line := data[:i+1]
		if len(lr.partial) > 0 {
			lr.partial = append(lr.partial, line...)
			line = lr.partial
		}
		events = append(events, lr.eventLocked(now, line, false))
		lr.partial = lr.partial[:0]
		data = data[i+1:]
	}
	lr.inst.pool.ship.add(lr.inst.logKey, events...)
}

// eventLocked records one line in the current invocation's tail and returns its event.
func (lr *logReader) eventLocked(now time.Time, line []byte, addNewline bool) LogEvent {
	msg := string(line)
	if addNewline {
		msg += "\n"
	}
	if inv := lr.inst.cur.Load(); inv != nil && inv.req.Tail {
		inv.appendTail(msg)
	}
	return LogEvent{Time: now, Message: msg}
}

// flushPartialLocked records an unterminated last line.
func (lr *logReader) flushPartialLocked() {
	if len(lr.partial) == 0 {
		return
	}
	ev := lr.eventLocked(time.Now(), lr.partial, true)
	lr.partial = lr.partial[:0]
	lr.inst.pool.ship.add(lr.inst.logKey, ev)
}

// sync waits until everything the instance wrote before now has been recorded, then records
// an unterminated last line too. The caller knows the function has written it (it answered
// after writing), so the bytes are either still in the pipe or already read.
func (lr *logReader) sync() {
	deadline := time.Now().Add(50 * time.Millisecond)
	for {
		lr.mu.Lock()
		if lr.closed {
			lr.mu.Unlock()
			return
		}
		n, err := unix.IoctlGetInt(lr.fd, unix.TIOCINQ)
		if err != nil || n == 0 || time.Now().After(deadline) {
			lr.flushPartialLocked()
			lr.mu.Unlock()
			return
		}
		lr.mu.Unlock()
		time.Sleep(20 * time.Microsecond)
	}
}

// platform lines, as Lambda writes them.

func startLine(id, version string) string {
	return "START RequestId: " + id + " Version: " + version + "\n"
}

func endLine(id string) string { return "END RequestId: " + id + "\n" }

// reportLine is Lambda's REPORT line. Init Duration appears on cold starts; Status and Error
// Type when the invocation failed in the platform (timeout, crash, OOM).
func reportLine(id string, res *Result, status string) string {
	s := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
		id, ms(res.Duration), res.BilledDuration.Milliseconds(), res.MemoryMB, res.MaxMemoryMB)
	if res.InitDuration > 0 {
		s += fmt.Sprintf("Init Duration: %.2f ms\t", ms(res.InitDuration))
	}
	switch status {
	case "timeout":
		s += "Status: timeout\n"
	case "error":
		s += "Status: error\tError Type: " + res.ErrorType + "\n"
	default:
		s += "\n"
	}
	return s
}

// initReportLine is Lambda's INIT_REPORT line for a failed or timed-out init.
func initReportLine(d time.Duration, status, errType string) string {
	s := fmt.Sprintf("INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: %s", ms(d), status)
	if errType != "" {
		s += "\tError Type: " + errType
	}
	return s + "\n"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
