package streamlog

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openLog(t *testing.T) (*Log, *store.Store, *clock) {
	t.Helper()
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	l, err := Open(context.Background(), st, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return l, st, c
}

const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-12-01T00:00:00.000"

func create(t *testing.T, l *Log, st *store.Store, c *clock) {
	t.Helper()
	err := st.Write(context.Background(), func(tx *store.Tx) error {
		return l.CreateStream(tx, Stream{ARN: arn, Account: "000000000000", Region: "us-east-1", Source: "table", Status: "ENABLED", Created: c.now()})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func appendN(t *testing.T, l *Log, st *store.Store, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := st.Write(context.Background(), func(tx *store.Tx) error {
			return l.Append(tx, arn, fmt.Sprint("k", i%3), func(shard string, seq int64, _ time.Time) ([]byte, error) {
				return []byte(fmt.Sprintf("%s/%d", shard, seq)), nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendNumbersRecordsInOrderAndReadResumes(t *testing.T) {
	t.Parallel()
	l, st, c := openLog(t)
	create(t, l, st, c)
	appendN(t, l, st, 5)
	shards, err := l.Shards(context.Background(), arn)
	if err != nil || len(shards) != 1 {
		t.Fatalf("shards = %v, %v", shards, err)
	}
	sh := shards[0]
	if sh.First != 1 || sh.Last != 5 || !sh.Open() || sh.Parent != "" {
		t.Fatalf("shard = %+v", sh)
	}
	recs, err := l.Read(context.Background(), arn, sh.ID, 1, 3, 0)
	if err != nil || len(recs) != 3 {
		t.Fatalf("read = %v, %v", recs, err)
	}
	for i, r := range recs {
		if r.Seq != int64(i+1) || string(r.Data) != fmt.Sprintf("%s/%d", sh.ID, i+1) {
			t.Errorf("record %d = %+v", i, r)
		}
	}
	recs, _ = l.Read(context.Background(), arn, sh.ID, 4, 10, 0)
	if len(recs) != 2 || recs[0].Seq != 4 {
		t.Fatalf("resumed read = %+v", recs)
	}
}

func TestClosedStreamRefusesAppendsAndStaysReadable(t *testing.T) {
	t.Parallel()
	l, st, c := openLog(t)
	create(t, l, st, c)
	appendN(t, l, st, 2)
	ch := l.Changed(arn)
	if err := st.Write(context.Background(), func(tx *store.Tx) error { return l.CloseStream(tx, arn, "DISABLED") }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("closing did not wake the readers")
	}
	err := st.Write(context.Background(), func(tx *store.Tx) error {
		return l.Append(tx, arn, "k", func(string, int64, time.Time) ([]byte, error) { return []byte("x"), nil })
	})
	if err != ErrClosed {
		t.Fatalf("append to a closed stream = %v", err)
	}
	s, ok, _ := l.Stream(context.Background(), arn)
	if !ok || s.Status != "DISABLED" || s.Closed.IsZero() {
		t.Fatalf("stream = %+v", s)
	}
	shards, _ := l.Shards(context.Background(), arn)
	if shards[0].Open() || shards[0].Last != 2 {
		t.Fatalf("shard = %+v", shards[0])
	}
	if recs, _ := l.Read(context.Background(), arn, shards[0].ID, 1, 10, 0); len(recs) != 2 {
		t.Fatalf("records of a closed stream = %d", len(recs))
	}
}

func TestTrimRemovesOldRecordsThenExpiredStreams(t *testing.T) {
	t.Parallel()
	l, st, c := openLog(t)
	create(t, l, st, c)
	appendN(t, l, st, 3)
	c.add(Retention + time.Minute)
	appendN(t, l, st, 2)
	if err := l.Trim(context.Background(), Retention); err != nil {
		t.Fatal(err)
	}
	shards, _ := l.Shards(context.Background(), arn)
	if shards[0].Trimmed != 3 || shards[0].Last != 5 {
		t.Fatalf("after trim: %+v", shards[0])
	}
	recs, _ := l.Read(context.Background(), arn, shards[0].ID, 1, 10, 0)
	if len(recs) != 2 || recs[0].Seq != 4 {
		t.Fatalf("left after trim: %+v", recs)
	}
	if err := st.Write(context.Background(), func(tx *store.Tx) error { return l.CloseStream(tx, arn, "DISABLED") }); err != nil {
		t.Fatal(err)
	}
	c.add(Retention + time.Minute)
	if err := l.Trim(context.Background(), Retention); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := l.Stream(context.Background(), arn); ok {
		t.Fatal("a stream closed longer than the retention period is still listed")
	}
}

func TestCheckpointsAndIterators(t *testing.T) {
	t.Parallel()
	l, st, c := openLog(t)
	create(t, l, st, c)
	if _, ok, _ := l.Checkpoint(context.Background(), "m", arn, "s"); ok {
		t.Fatal("checkpoint before any was saved")
	}
	for _, seq := range []int64{3, 7} {
		if err := st.Write(context.Background(), func(tx *store.Tx) error { return l.SetCheckpoint(tx, "m", arn, "s", seq) }); err != nil {
			t.Fatal(err)
		}
	}
	if seq, ok, _ := l.Checkpoint(context.Background(), "m", arn, "s"); !ok || seq != 7 {
		t.Fatalf("checkpoint = %d %v", seq, ok)
	}
	it := Iterator{Stream: arn, Shard: "s", Seq: 9, Issued: c.now().UnixMilli()}
	got, err := DecodeIterator(it.Encode())
	if err != nil || got != it {
		t.Fatalf("iterator round trip = %+v, %v", got, err)
	}
	if got.Expired(c.now().Add(IteratorLifetime)) || !got.Expired(c.now().Add(IteratorLifetime+time.Second)) {
		t.Fatal("iterator lifetime is not 15 minutes")
	}
	if _, err := DecodeIterator("not-an-iterator"); err != ErrBadIterator {
		t.Fatalf("decode garbage = %v", err)
	}
}

func TestSequenceNumbersOrderAsTextAndNumbers(t *testing.T) {
	t.Parallel()
	a, b := FormatSeq(9), FormatSeq(10)
	if len(a) != 21 || len(b) != 21 || a >= b {
		t.Fatalf("%s, %s", a, b)
	}
	if n, ok := ParseSeq(b); !ok || n != 10 {
		t.Fatalf("parse %s = %d %v", b, n, ok)
	}
	for _, bad := range []string{"", "12", "abc", "-1", "200000000000000000001", "1-0000000000000000001"} {
		if _, ok := ParseSeq(bad); ok {
			t.Errorf("ParseSeq(%q) accepted", bad)
		}
	}
}
