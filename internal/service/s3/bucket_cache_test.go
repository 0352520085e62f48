package s3

import "testing"

func TestBucketCache(t *testing.T) {
	t.Run("a load is kept and served", func(t *testing.T) {
		c := &bucketCache{m: map[string]bucket{}}
		_, gen, ok := c.get("b")
		if ok {
			t.Fatal("empty cache hit")
		}
		c.put(bucket{Name: "b", Versioning: "Enabled"}, gen)
		if got, _, ok := c.get("b"); !ok || got.Versioning != "Enabled" {
			t.Fatalf("get = %+v, %v", got, ok)
		}
	})
	t.Run("a load that overlapped a committed change is not kept", func(t *testing.T) {
		c := &bucketCache{m: map[string]bucket{}}
		_, gen, _ := c.get("b")
		c.invalidate("b") // a write committed while the row was being read
		c.put(bucket{Name: "b"}, gen)
		if _, _, ok := c.get("b"); ok {
			t.Fatal("stale row kept")
		}
	})
	t.Run("invalidation drops the entry", func(t *testing.T) {
		c := &bucketCache{m: map[string]bucket{}}
		_, gen, _ := c.get("b")
		c.put(bucket{Name: "b"}, gen)
		c.invalidate("b")
		if _, _, ok := c.get("b"); ok {
			t.Fatal("invalidated row served")
		}
	})
}
