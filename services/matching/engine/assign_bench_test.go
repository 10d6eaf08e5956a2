package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// uniformAssignment is the benchmark's uniform instance: costs uniform in
// [0, 1e6), every mentor of capacity capacity.
func uniformAssignment(rows, cols int, capacity int32, seed uint64) Assignment {
	r := rand.New(rand.NewPCG(seed, seed))
	a := Assignment{Rows: rows, Cols: cols, Cost: make([]int32, rows*cols), Capacity: make([]int32, cols)}
	for i := range a.Cost {
		a.Cost[i] = int32(r.IntN(1_000_000))
	}
	for j := range a.Capacity {
		a.Capacity[j] = capacity
	}
	a.Unassigned = MaxCardinalityPenalty(a)
	return a
}

func BenchmarkSolve(b *testing.B) {
	for _, size := range []struct {
		rows, cols int
		capacity   int32
	}{{1000, 1000, 1}, {10000, 5000, 2}} {
		a := uniformAssignment(size.rows, size.cols, size.capacity, 1)
		b.Run(fmt.Sprintf("uniform_%dx%d_cap%d", size.rows, size.cols, size.capacity), func(b *testing.B) {
			for b.Loop() {
				s, err := Solve(a, nil)
				if err != nil || !s.Certified {
					b.Fatalf("err %v, certified %v", err, s.Certified)
				}
				b.ReportMetric(float64(s.Rounds), "rounds")
			}
		})
	}
}
