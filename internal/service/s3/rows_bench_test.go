package s3

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
)

// BenchmarkPutVersion measures an unversioned put's write of a 4 KiB inline object: to a new key,
// and over an existing one.
func BenchmarkPutVersion(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b, storetest.Backends()[0].Config(b))
	svc, err := New(ctx, servicetest.DepsOn(b, st))
	if err != nil {
		b.Fatal(err)
	}
	body := bytes.Repeat([]byte("k"), 4<<10)
	put := func(b *testing.B, key string) {
		o := &object{Bucket: "bench", Key: key, LastModified: time.Now(), ETag: `"e"`, Size: int64(len(body)), Inline: body,
			Checksums: map[string]string{"CRC32": "AAAAAA=="}}
		if err := st.Write(ctx, func(tx *store.Tx) error { return svc.putVersion(tx, "", o) }); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("new", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			put(b, "new/"+strconv.Itoa(100000000+i*7919%1000003))
		}
	})
	b.Run("overwrite", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			put(b, "over/"+strconv.Itoa(i%1000))
		}
	})
}
