package apigateway

import (
	"context"
	"testing"

	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/store"
)

func TestDeployedCacheForgetsOnCommittedWrites(t *testing.T) {
	d := servicetest.Deps(t)
	var c deployedCache
	c.watch(d.Store)
	loads := 0
	load := func() (*Api, scope, error) { loads++; return &Api{Name: new(string)}, scope{"1", "r"}, nil }
	for range 2 {
		if _, err := c.api("abcdefghij", load); err != nil {
			t.Fatal(err)
		}
	}
	if loads != 1 {
		t.Fatalf("loaded %d times, want once", loads)
	}
	write := func(apiID string) {
		t.Helper()
		if err := d.Store.Write(context.Background(), func(tx *store.Tx) error { changed(tx, apiID); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	write("otherapi00")
	c.api("abcdefghij", load)
	if loads != 1 {
		t.Fatal("a write to another API dropped the entry")
	}
	write("abcdefghij")
	c.api("abcdefghij", load)
	if loads != 2 {
		t.Fatal("a committed write to the API left its entry")
	}
	// A read that a write overtakes is answered but not kept.
	c.api("racingapi0", func() (*Api, scope, error) { write("racingapi0"); return nil, scope{}, nil })
	c.mu.Lock()
	_, kept := c.apis["racingapi0"]
	c.mu.Unlock()
	if kept {
		t.Fatal("kept a read that raced a write")
	}
	// Stage names that are not there are remembered only up to a bound.
	e, _ := c.api("abcdefghij", load)
	for i := range 2 * maxMissedStages {
		c.stage(e, string(rune('a'+i%26))+string(rune('a'+i/26)), func() (*cachedStage, error) { return nil, nil })
	}
	if len(e.stages) > maxMissedStages {
		t.Fatalf("remembered %d missing stages", len(e.stages))
	}
}
