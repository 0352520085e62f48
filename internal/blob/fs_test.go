package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestFSPutOpenRanges(t *testing.T) {
	ctx := context.Background()
	f, err := OpenFS(t.TempDir(), FSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20+17)
	rand.Read(data)
	n, err := f.Put(ctx, "obj-1", bytes.NewReader(data))
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Put = %d, %v", n, err)
	}
	cases := []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"whole blob", 0, -1, data},
		{"prefix", 0, 10, data[:10]},
		{"middle", 1000, 5000, data[1000:6000]},
		{"open-ended tail", int64(len(data)) - 7, -1, data[len(data)-7:]},
		{"length past the end is cut", int64(len(data)) - 3, 100, data[len(data)-3:]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := f.Open(ctx, "obj-1", tc.offset, tc.length)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("read %d bytes (err %v), want %d", len(got), err, len(tc.want))
			}
		})
	}
	if size, err := f.Size(ctx, "obj-1"); err != nil || size != int64(len(data)) {
		t.Fatalf("Size = %d, %v", size, err)
	}
}

func TestFSReplaceAndDelete(t *testing.T) {
	ctx := context.Background()
	f, _ := OpenFS(t.TempDir(), FSOptions{NoSync: true})
	f.Put(ctx, "k", bytes.NewReader([]byte("old")))
	f.Put(ctx, "k", bytes.NewReader([]byte("new")))
	rc, _ := f.Open(ctx, "k", 0, -1)
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "new" {
		t.Fatalf("after replace got %q", got)
	}
	if err := f.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, "k"); err != nil {
		t.Fatalf("deleting a missing blob: %v", err)
	}
	if _, err := f.Open(ctx, "k", 0, -1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open after delete: %v, want ErrNotFound", err)
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("client went away")
	}
	r.n -= len(p)
	return len(p), nil
}

func TestFSFailedPutLeavesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f, _ := OpenFS(dir, FSOptions{})
	f.Put(ctx, "k", bytes.NewReader([]byte("kept")))
	if _, err := f.Put(ctx, "k", &failingReader{n: 1 << 20}); err == nil {
		t.Fatal("Put of a failing stream succeeded")
	}
	rc, _ := f.Open(ctx, "k", 0, -1)
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "kept" {
		t.Fatalf("failed Put changed the blob to %q", got)
	}
	tmp, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	if len(tmp) != 0 {
		t.Fatalf("failed Put left %d temp files", len(tmp))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.Put(cctx, "k2", bytes.NewReader([]byte("x"))); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with cancelled ctx: %v", err)
	}
}

func TestFSRejectsUnsafeKeys(t *testing.T) {
	f, _ := OpenFS(t.TempDir(), FSOptions{})
	for _, key := range []string{"", "../escape", "a/b", ".hidden", string(make([]byte, 201))} {
		if _, err := f.Put(context.Background(), key, bytes.NewReader(nil)); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
	}
}

func TestOpenFSClearsCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "tmp"), 0o700)
	os.WriteFile(filepath.Join(dir, "tmp", "put-123"), []byte("partial"), 0o600)
	if _, err := OpenFS(dir, FSOptions{}); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Fatalf("%d leftovers remain", len(left))
	}
}

func BenchmarkFSPut64MiB(b *testing.B) {
	f, _ := OpenFS(b.TempDir(), FSOptions{})
	data := make([]byte, 64<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := f.Put(context.Background(), "big", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
