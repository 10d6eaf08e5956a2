package platform

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target (GOGC) of every Tandem
// server when the environment does not set GOGC. A service holds a few
// megabytes live, so Go's default of 100 collects several times a second
// under load, and a call that meets a collection waits: with 100 a quiet
// tenant's p99 through the gateway rose 1.3× while another tenant sent ten
// times its quota, with 400 it stayed within its baseline
// (docs/benchmarks.md). The chart sets GOMEMLIMIT from the container's
// memory limit, which bounds the heap whatever this allows.
const GCPercent = 400

// TuneGC sets the collector's target to GCPercent unless GOGC is set.
func TuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
}
