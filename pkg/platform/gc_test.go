package platform

import (
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTuneGC(t *testing.T) {
	t.Setenv("GOGC", "") // restored when the test ends
	require.NoError(t, os.Unsetenv("GOGC"))
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))

	TuneGC()
	require.Equal(t, 100, debug.SetGCPercent(100), "no memory limit: Go's default stays")

	debug.SetMemoryLimit(768 << 20)
	TuneGC()
	require.Equal(t, GCPercent, debug.SetGCPercent(100), "under a memory limit")

	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	TuneGC()
	require.Equal(t, 50, debug.SetGCPercent(100), "GOGC set: left alone")
}
