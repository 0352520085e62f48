package s3

import "testing"

func newTestBucketCache() *bucketCache {
	return &bucketCache{m: map[string]bucket{}, pending: map[string]int{}}
}

func TestBucketCache(t *testing.T) {
	t.Run("a load is kept and served", func(t *testing.T) {
		c := newTestBucketCache()
		_, gen, ok := c.get("b")
		if ok {
			t.Fatal("empty cache hit")
		}
		c.put(bucket{Name: "b", Versioning: "Enabled"}, gen)
		if got, _, ok := c.get("b"); !ok || got.Versioning != "Enabled" {
			t.Fatalf("get = %+v, %v", got, ok)
		}
	})
	t.Run("a load that overlapped a change is not kept", func(t *testing.T) {
		c := newTestBucketCache()
		_, gen, _ := c.get("b")
		c.begin("b") // a write of the row while it was being read
		c.end("b")
		c.put(bucket{Name: "b"}, gen)
		if _, _, ok := c.get("b"); ok {
			t.Fatal("stale row kept")
		}
	})
	t.Run("a change drops the entry at once", func(t *testing.T) {
		c := newTestBucketCache()
		_, gen, _ := c.get("b")
		c.put(bucket{Name: "b"}, gen)
		c.begin("b")
		if _, _, ok := c.get("b"); ok {
			t.Fatal("row served while a write of it is pending")
		}
	})
	t.Run("nothing is kept while a change is pending", func(t *testing.T) {
		c := newTestBucketCache()
		c.begin("b")
		_, gen, _ := c.get("b") // a read that began after the write, before its commit
		c.put(bucket{Name: "b", Versioning: ""}, gen)
		if _, _, ok := c.get("b"); ok {
			t.Fatal("pre-commit row kept while the write is pending")
		}
		c.end("b")
		_, gen, _ = c.get("b")
		c.put(bucket{Name: "b", Versioning: "Enabled"}, gen)
		if got, _, ok := c.get("b"); !ok || got.Versioning != "Enabled" {
			t.Fatalf("after the batch ended: get = %+v, %v", got, ok)
		}
	})
}
