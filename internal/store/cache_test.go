package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/kiri-run/kiri/internal/store"
)

func TestCache(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.Name, func(t *testing.T) {
			st := open(t, b.Config(t))
			c := store.NewCache[string, int](st, 2)
			if st.Dialect() != "sqlite" {
				if c != nil {
					t.Fatal("a cache over a store other nodes write")
				}
				c.Put("a", 1, 0) // a nil cache keeps nothing and does not fail
				if _, _, ok := c.Get("a"); ok {
					t.Fatal("a nil cache served a row")
				}
				return
			}
			ctx := context.Background()
			get := func(k string) (int, bool) { v, _, ok := c.Get(k); return v, ok }

			_, gen, _ := c.Get("a")
			c.Put("a", 1, gen)
			if v, ok := get("a"); !ok || v != 1 {
				t.Fatalf("a load was not kept: %d %v", v, ok)
			}

			// A change drops the entry at once and keeps loads out until its batch ends.
			_, stale, _ := c.Get("a")
			var during bool
			err := st.Write(ctx, func(tx *store.Tx) error {
				c.Changed(tx, "a")
				_, during = get("a")
				_, gen, _ := c.Get("a")
				c.Put("a", 2, gen) // a read racing the write
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if during {
				t.Error("the row was served while a write of it was pending")
			}
			if _, ok := get("a"); ok {
				t.Error("a load made during the write was kept")
			}
			c.Put("a", 1, stale)
			if _, ok := get("a"); ok {
				t.Error("a load that overlapped a change was kept")
			}

			// A failed write ends its batch too.
			_ = st.Write(ctx, func(tx *store.Tx) error { c.Changed(tx, "b"); return errors.New("no") })
			_, gen, _ = c.Get("b")
			c.Put("b", 3, gen)
			if v, ok := get("b"); !ok || v != 3 {
				t.Errorf("after a failed write the row is not kept: %d %v", v, ok)
			}

			// Past its limit the cache starts over.
			_, gen, _ = c.Get("c")
			c.Put("a", 1, gen)
			c.Put("c", 4, gen)
			if _, ok := get("b"); ok {
				t.Error("the cache grew past its limit")
			}
		})
	}
}
