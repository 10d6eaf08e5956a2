package benchgen

import (
	"math"
	"math/rand/v2"

	"github.com/tandem-oss/tandem/services/matching/engine"
)

// Uniform returns a rows×cols matrix of costs drawn uniformly from
// [0, maxCost) with a generator seeded by seed: the textbook random
// instance, with no structure for a solver to exploit.
func Uniform(rows, cols int, maxCost int32, seed uint64) Matrix {
	rng := rand.New(rand.NewPCG(seed, 0x756e69666f726d)) // "uniform"
	cost := make([]int32, rows*cols)
	for i := range cost {
		cost[i] = rng.Int32N(maxCost)
	}
	return Matrix{Rows: rows, Cols: cols, Cost: cost}
}

// ReplaceForbidden turns every engine.Forbidden cell of m into a finite
// cost of ten times the largest finite one (at least 1, at most
// MaxInt32−1), in place, and returns that cost and how many cells it
// replaced. scipy has no forbidden cells (it rejects a row of infinities),
// so both solvers are given the matrix after this: the same finite problem.
func ReplaceForbidden(m Matrix) (replacement int32, replaced int) {
	var maxFinite int64
	for _, c := range m.Cost {
		if c != engine.Forbidden && int64(c) > maxFinite {
			maxFinite = int64(c)
		}
	}
	big := min(max(10*maxFinite, 1), math.MaxInt32-1)
	for i, c := range m.Cost {
		if c == engine.Forbidden {
			m.Cost[i] = int32(big)
			replaced++
		}
	}
	return int32(big), replaced
}
