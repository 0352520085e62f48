package e2e

import (
	"flag"
	"os"
	"testing"
)

// defaultParallel is how many of this package's parallel tests run at once unless -parallel
// says otherwise. Most of an end-to-end test's time is spent waiting (for a server to start, a
// function to answer, a timer to fire), so more tests than cores keep the cores busy; the go
// command's default, GOMAXPROCS, leaves a two-core machine mostly idle here.
const defaultParallel = "4"

// TestMain sets the default parallelism.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		flag.Set("test.parallel", defaultParallel)
	}
	os.Exit(m.Run())
}
