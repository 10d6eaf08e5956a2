package engine

import (
	"math/rand/v2"
	"testing"
)

// exactRound is round's definition in integers: Σ weight×value points p
// over the total weight (in hundredths) to hundredths of a point, half up.
func exactRound(p, totalWeight int64) int32 {
	d := totalWeight * valueScale
	return int32((2*ScoreScale*p + d) / (2 * d))
}

// checkRound compares round with exactRound at p and its neighbours.
func checkRound(t *testing.T, p, totalWeight int64) {
	scale := ScoreScale / float64(totalWeight*valueScale)
	for _, q := range []int64{p - 1, p, p + 1} {
		if q < 0 || q > totalWeight*valueScale {
			continue
		}
		if got, want := round(q, scale), exactRound(q, totalWeight); got != want {
			t.Fatalf("round(%d) with total weight %d = %d, want %d", q, totalWeight, got, want)
		}
	}
}

// checkEveryBoundary checks round on both sides of every point where the
// rounded score steps up, p = (2k-1)·d/20000 for k = 1..ScoreScale. Both
// functions are monotone in p, so this proves them equal for every p of
// this total weight.
func checkEveryBoundary(t *testing.T, totalWeight int64) {
	d := totalWeight * valueScale
	for k := int64(1); k <= ScoreScale; k++ {
		checkRound(t, (2*k-1)*d/(2*ScoreScale), totalWeight)
	}
	checkRound(t, 0, totalWeight)
	checkRound(t, d, totalWeight)
}

func TestRoundIsExactHalfUp(t *testing.T) {
	t.Parallel()
	// Total weights in hundredths, from 0.01 to 900 (9 factors × 100).
	for _, total := range []int64{1, 2, 3, 7, 9, 100, 333, 900, 8999, 9000, 12345, 89999, 90000} {
		checkEveryBoundary(t, total)
	}
	r := rand.New(rand.NewPCG(7, 7))
	for range 300 {
		checkEveryBoundary(t, 1+r.Int64N(90000))
	}
}

func FuzzRoundHalfUp(f *testing.F) {
	f.Add(int64(1), int64(75600))
	f.Add(int64(90000), int64(6804000000))
	f.Add(int64(9), int64(0))
	f.Fuzz(func(t *testing.T, total, p int64) {
		total = 1 + (total%90000+90000)%90000
		p = (p%(total*valueScale+1) + total*valueScale + 1) % (total*valueScale + 1)
		checkRound(t, p, total)
	})
}
