package workload

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestDriveCountsUntilDrained(t *testing.T) {
	t.Parallel()
	var left atomic.Int64
	left.Store(100)
	c, err := Drive(t.Context(), time.Minute, []int{1, 2, 3}, func(context.Context, int) (int, error) {
		if left.Add(-1) < 0 {
			return 0, ErrDrained
		}
		return 2, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Units != 200 || c.Calls < 100 || len(c.Latency) != int(c.Calls) {
		t.Errorf("units %d, calls %d, latencies %d; want 200 units from at least 100 calls, a latency each", c.Units, c.Calls, len(c.Latency))
	}
}

func TestDriveStopsAtTheFirstError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var n atomic.Int64
	_, err := Drive(t.Context(), time.Minute, []int{1, 2}, func(context.Context, int) (int, error) {
		if n.Add(1) == 10 {
			return 0, boom
		}
		return 1, nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	if m := Median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 values = %v, want 2", m)
	}
	if m := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 4 values = %v, want 2.5", m)
	}
}

func TestQuantileIsTheNearestRank(t *testing.T) {
	t.Parallel()
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.5, 6}, {0.99, 10}, {1, 10}} {
		if got := Quantile(d, tc.q); got != tc.want {
			t.Errorf("Quantile(1..10, %v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := Quantile(nil, 0.5); got != 0 {
		t.Errorf("Quantile(nil) = %v, want 0", got)
	}
}

func TestParsePIDs(t *testing.T) {
	t.Parallel()
	names := []string{"a", "b"}
	name := func(i int) string { return names[i] }
	if got, err := ParsePIDs("b=7", 2, name); err != nil || got[0] != 0 || got[1] != 7 {
		t.Errorf("b=7: %v, %v; want [0 7]", got, err)
	}
	if got, err := ParsePIDs("9", 1, name); err != nil || got[0] != 9 {
		t.Errorf("9 for one server: %v, %v; want [9]", got, err)
	}
	for _, bad := range []string{"9", "c=1", "a=x"} {
		if _, err := ParsePIDs(bad, 2, name); err == nil {
			t.Errorf("%q for two servers: no error", bad)
		}
	}
}
