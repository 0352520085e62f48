package reserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func open(t *testing.T, free int64) (*Reserve, *int64) {
	t.Helper()
	r, err := Open(t.TempDir(), 4096, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.free = func(string) (int64, error) { return free, nil }
	return r, &free
}

func TestAdmitKeepsTheReserveFree(t *testing.T) {
	t.Parallel()
	r, free := open(t, 10_000)
	if st, err := os.Stat(filepath.Join(r.dir, FileName)); err != nil || st.Size() != 4096 {
		t.Fatalf("reserve file: %v, %v", st, err)
	}
	if err := r.Admit(); err != nil {
		t.Fatalf("Admit with room: %v", err)
	}
	*free = 4000
	if err := r.Admit(); !errors.Is(err, ErrFull) {
		t.Fatalf("Admit below the reserve's size = %v, want ErrFull", err)
	}
	if !r.Release() || r.Release() {
		t.Fatal("Release should give the reserve back once")
	}
	if _, err := os.Stat(filepath.Join(r.dir, FileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reserve file after Release: %v", err)
	}
	*free = 8191
	if err := r.Admit(); !errors.Is(err, ErrFull) {
		t.Fatalf("Admit without the reserve and less than twice its size free = %v, want ErrFull", err)
	}
	*free = 8192
	if err := r.Admit(); err != nil || !r.held {
		t.Fatalf("Admit with room to take the reserve back = %v (held %v)", err, r.held)
	}
}

func TestRunByKind(t *testing.T) {
	t.Parallel()
	full := func() error { return errors.New("storage full") }
	noSpace := fmt.Errorf("commit: %w", syscall.ENOSPC)
	cases := []struct {
		name     string
		kind     Kind
		free     int64
		failures int // calls of next that fail for space before it succeeds
		want     string
		calls    int
		released bool
	}{
		{"a write is refused on a full disk", Adds, 100, 0, "storage full", 0, false},
		{"a write that runs out of space is answered full", Adds, 10_000, 1, "storage full", 1, false},
		{"a delete that runs out of space runs again on the reserve", Frees, 0, 1, "", 2, true},
		{"a delete that still finds no space is answered full", Frees, 0, 2, "storage full", 2, true},
		{"a read's errors pass as they are", Reads, 0, 1, noSpace.Error(), 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, _ := open(t, tc.free)
			calls := 0
			err := r.Run(context.Background(), tc.kind, func(context.Context) error {
				calls++
				if calls <= tc.failures {
					return noSpace
				}
				return nil
			}, full)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want || calls != tc.calls || r.held == tc.released {
				t.Fatalf("Run = %q after %d calls (reserve held %v), want %q after %d (released %v)", got, calls, r.held, tc.want, tc.calls, tc.released)
			}
		})
	}
}

func TestIsNoSpace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("put blob: %w", &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}), true},
		{fmt.Errorf("wrap: %w", ErrFull), true},
		{codeErr(13), true},
		{codeErr(13 | 3<<8), true},
		{codeErr(5), false},
		{stateErr("53100"), true},
		{stateErr("23505"), false},
		{errors.New("other"), false},
		{nil, false},
	} {
		if got := IsNoSpace(tc.err); got != tc.want {
			t.Errorf("IsNoSpace(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

type codeErr int

func (c codeErr) Error() string { return fmt.Sprintf("sqlite %d", int(c)) }
func (c codeErr) Code() int     { return int(c) }

type stateErr string

func (s stateErr) Error() string    { return "pg " + string(s) }
func (s stateErr) SQLState() string { return string(s) }
