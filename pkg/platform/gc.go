package platform

import (
	"math"
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target (GOGC) of a Tandem server
// that runs under a memory limit (GOMEMLIMIT, which the chart sets to the
// container's limit) and whose environment does not set GOGC. A service
// holds a few megabytes live, so Go's default of 100 collects several
// times a second under load, and a call that meets a collection waits:
// with 100 a quiet tenant's p99 through the gateway rose 1.3× while
// another tenant sent ten times its quota, with 400 it stayed within its
// baseline (docs/benchmarks.md). The memory limit still bounds the heap.
const GCPercent = 400

// TuneGC sets the collector's target to GCPercent when a memory limit is
// in force and GOGC is not set. Without a limit it keeps Go's default, so
// that a large heap (a match run's matrix) cannot grow five times over.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	if debug.SetMemoryLimit(-1) == math.MaxInt64 {
		return
	}
	debug.SetGCPercent(GCPercent)
}
