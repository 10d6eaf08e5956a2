package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKernels checks each kernel (the assembly where the processor runs
// it) against its Go form, on lengths around the vector width and on
// values at the ends of int32, where a signed comparison or an overflow
// would show.
func TestKernels(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 5))
	values := func(n int) []int32 {
		x := make([]int32, n)
		for j := range x {
			switch r.IntN(8) {
			case 0:
				x[j] = math.MaxInt32
			case 1:
				x[j] = math.MinInt32 + int32(r.IntN(3))
			case 2:
				x[j] = int32(r.IntN(5))
			default:
				x[j] = int32(r.Uint32())
			}
		}
		return x
	}
	for trial := range 2000 {
		n := 8 * r.IntN(12)
		x := values(n)
		bs := 8 * (1 + r.IntN(3))
		n = n / bs * bs
		x = x[:n]
		off := make([]int32, n)
		for j := range off {
			off[j] = int32(r.IntN(1000)) - 500
			if x[j] != math.MaxInt32 {
				x[j] = max(min(x[j], math.MaxInt32-600), math.MinInt32+600) // no overflow below limit
			}
		}
		limit := []int32{math.MaxInt32, 3, 0, math.MinInt32}[r.IntN(4)]
		if n > 0 && r.IntN(4) == 0 {
			limit = x[r.IntN(n)]
		}
		t1 := []int32{2, 0, math.MaxInt32 - 1, math.MinInt32, int32(r.Uint32())}[r.IntN(5)]
		eq := []int32{math.MaxInt32, 2, t1}[r.IntN(3)]

		gotMins, wantMins := make([]int32, n/bs), make([]int32, n/bs)
		require.Equal(t, blockMinsGo(x, bs, wantMins), blockMinsFull(x, bs, gotMins), "trial %d: blockMins' largest", trial)
		require.Equal(t, wantMins, gotMins, "trial %d: blockMins", trial)
		blockMinsOffGo(x, off, limit, bs, wantMins)
		blockMinsOffFull(x, off, limit, bs, gotMins)
		require.Equal(t, wantMins, gotMins, "trial %d: blockMinsOff", trial)

		want, got := make([]int32, n), make([]int32, n)
		wn, wc := filterLEGo(x, t1, eq, want)
		gn, gc := filterLEFull(x, t1, eq, got)
		require.Equal(t, want[:wn], got[:gn], "trial %d: filterLE", trial)
		require.Equal(t, wc, gc, "trial %d: filterLE's count", trial)
		require.Equal(t, want[:filterLEOffGo(x, off, limit, t1, want)], got[:filterLEOffFull(x, off, limit, t1, got)], "trial %d: filterLEOff", trial)
		bound := values(n)
		most := r.IntN(n + 2)
		wantEQ, gotEQ := make([]int32, n+8), make([]int32, n+8)
		wn = filterEQGo(x, t1, most, wantEQ)
		gn = filterEQFull(x, t1, most, gotEQ)
		require.Equal(t, wantEQ[:wn], gotEQ[:gn], "trial %d: filterEQ", trial)
		short := x[:max(0, n-r.IntN(8))]
		var all []int32
		for j, c := range short {
			if c == t1 {
				all = append(all, int32(j))
			}
		}
		require.Equal(t, append([]int32{}, all[:min(most, len(all))]...), append([]int32{}, filterEQ(short, t1, most, nil)...), "trial %d: filterEQ's first ties", trial)
		a, b := slices.Clone(bound), slices.Clone(bound)
		ra, rb := values(n), values(n)
		copy(rb, ra)
		row := int32(r.Uint32())
		minIntoGo(a, ra, x, row)
		minIntoFull(b, rb, x, row)
		require.Equal(t, a, b, "trial %d: minInto", trial)
		require.Equal(t, ra, rb, "trial %d: minInto's rows", trial)
	}
}

// withGoKernels makes the kernels their Go forms until t ends. The tests
// that use it must not run in parallel.
func withGoKernels(t *testing.T) {
	b, bo, f, fo, m, fe := blockMinsFull, blockMinsOffFull, filterLEFull, filterLEOffFull, minIntoFull, filterEQFull
	t.Cleanup(func() {
		blockMinsFull, blockMinsOffFull, filterLEFull, filterLEOffFull, minIntoFull, filterEQFull = b, bo, f, fo, m, fe
	})
	blockMinsFull, blockMinsOffFull, filterLEFull = blockMinsGo, blockMinsOffGo, filterLEGo
	filterLEOffFull, minIntoFull, filterEQFull = filterLEOffGo, minIntoGo, filterEQGo
}
