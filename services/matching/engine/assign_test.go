package engine

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// randomAssignment returns a seeded instance with some forbidden pairs and
// capacities from 0 to 3.
func randomAssignment(r *rand.Rand, rows, cols int, forbidden float64) Assignment {
	a := Assignment{Rows: rows, Cols: cols, Cost: make([]int32, rows*cols), Capacity: make([]int32, cols)}
	for i := range a.Cost {
		if r.Float64() < forbidden {
			a.Cost[i] = Forbidden
			continue
		}
		a.Cost[i] = int32(r.IntN(41) - 10) // negative costs too
	}
	for j := range a.Capacity {
		a.Capacity[j] = int32(r.IntN(4))
	}
	return a
}

// bruteForce returns the minimum of Σcost + Unassigned·(rows left out)
// over every feasible assignment.
func bruteForce(a Assignment) int64 {
	load := make([]int32, a.Cols)
	best := int64(1) << 62
	var walk func(i int, total int64)
	walk = func(i int, total int64) {
		if i == a.Rows {
			best = min(best, total)
			return
		}
		walk(i+1, total+a.Unassigned)
		for j := range a.Cols {
			c := a.Cost[i*a.Cols+j]
			if c == Forbidden || load[j] >= a.Capacity[j] {
				continue
			}
			load[j]++
			walk(i+1, total+int64(c))
			load[j]--
		}
	}
	walk(0, 0)
	return best
}

// objective is what Solve minimises, recomputed from its answer after
// checking that the answer is feasible.
func objective(t *testing.T, a Assignment, s Solution) int64 {
	t.Helper()
	require.Len(t, s.Col, a.Rows)
	load := make([]int32, a.Cols)
	total, assigned := int64(0), 0
	for i, j := range s.Col {
		if j < 0 {
			total += a.Unassigned
			continue
		}
		c := a.Cost[i*a.Cols+int(j)]
		require.NotEqual(t, int32(Forbidden), c, "row %d got a forbidden column", i)
		load[j]++
		total += int64(c)
		assigned++
	}
	for j, l := range load {
		require.LessOrEqual(t, l, a.Capacity[j], "column %d over capacity", j)
	}
	require.Equal(t, assigned, s.Assigned)
	return total
}

func TestSolveEqualsBruteForce(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 400 {
		rows, cols := 1+r.IntN(6), 1+r.IntN(4)
		a := randomAssignment(r, rows, cols, 0.25)
		switch n % 3 {
		case 0:
			a.Unassigned = MaxCardinalityPenalty(a)
		case 1:
			a.Unassigned = int64(r.IntN(30) - 5)
		default:
			a.Unassigned = 0
		}
		want := bruteForce(a)
		for _, k := range []int{1, 2, cols} { // narrow starts force widening rounds
			t.Run(fmt.Sprintf("%d_k%d", n, k), func(t *testing.T) {
				s, err := solve(a, k, nil)
				require.NoError(t, err)
				require.True(t, s.Certified)
				require.Equal(t, want, objective(t, a, s)+0)
			})
		}
	}
}

// TestSearchFromAnyStartDuals checks the search's invariants directly: over
// every pair, from arbitrary column duals (most columns then start as
// "holes", priced but empty, which fillHoles must settle), one search must
// end optimal with its duals a certificate, without widening or restarts.
func TestSearchFromAnyStartDuals(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 600 {
		rows, cols := 1+r.IntN(6), 1+r.IntN(4)
		a := randomAssignment(r, rows, cols, 0.25)
		a.Unassigned = []int64{MaxCardinalityPenalty(a), int64(r.IntN(30) - 5), 0}[n%3]
		start := make([]int64, cols)
		for j := range start {
			start[j] = -int64(r.IntN(60))
		}
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := newSolver(a)
			s.edges, s.start, s.progress = cheapest(a, a.Cols, Forbidden), start, func(int) {}
			s.solveFromScratch()
			_, ok := s.certify()
			require.True(t, ok, "duals are no certificate")
			require.Equal(t, bruteForce(a), objective(t, a, s.solution(true)))
		})
	}
}

func TestSolveMaxCardinalityMatchesLargestAssignment(t *testing.T) {
	t.Parallel()
	// Row 0 can only take column 0, which row 1 prefers by far: the largest
	// assignment gives column 0 to row 0 and column 1 to row 1.
	a := Assignment{Rows: 2, Cols: 2, Cost: []int32{
		5, Forbidden,
		0, 100,
	}}
	a.Unassigned = MaxCardinalityPenalty(a)
	s, err := Solve(a, nil)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 1}, s.Col)
	require.Equal(t, int64(105), s.Cost)
	// Without the penalty the cheapest choice leaves row 0 out.
	a.Unassigned = 50
	s, err = Solve(a, nil)
	require.NoError(t, err)
	require.Equal(t, []int32{-1, 0}, s.Col)
}

func TestSolveWidensAndStaysOptimalOnLargerInstances(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	widened := 0
	for _, tc := range []struct{ rows, cols int }{{60, 30}, {40, 50}, {100, 50}, {200, 100}} {
		a := randomAssignment(r, tc.rows, tc.cols, 0.1)
		for j := range a.Capacity {
			a.Capacity[j] = 2
		}
		a.Unassigned = MaxCardinalityPenalty(a)
		dense, err := solve(a, tc.cols, nil)
		require.NoError(t, err)
		require.True(t, dense.Certified)
		require.Equal(t, 1, dense.Rounds)
		sparse, err := solve(a, 1, nil)
		require.NoError(t, err)
		require.True(t, sparse.Certified)
		if sparse.Rounds > 1 {
			widened++
		}
		require.Equal(t, objective(t, a, dense), objective(t, a, sparse))
	}
	require.Positive(t, widened, "one candidate per row should not always suffice")
}

func TestSolveIsDeterministic(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	a := randomAssignment(r, 300, 150, 0.05)
	for j := range a.Capacity {
		a.Capacity[j] = 2
	}
	a.Unassigned = MaxCardinalityPenalty(a)
	first, err := Solve(a, nil)
	require.NoError(t, err)
	for range 3 {
		again, err := Solve(a, nil)
		require.NoError(t, err)
		require.Equal(t, first.Col, again.Col)
	}
}

func TestSolveReportsProgressToTheEnd(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	a := randomAssignment(r, 500, 300, 0)
	a.Unassigned = MaxCardinalityPenalty(a)
	last, calls := -1, 0
	_, err := Solve(a, func(done, total int) {
		require.GreaterOrEqual(t, done, last, "progress went backwards")
		require.LessOrEqual(t, done, total)
		last = done
		if done == total {
			calls++
		}
	})
	require.NoError(t, err)
	require.Positive(t, calls)
}

func TestSolveRejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a    Assignment
		want string
	}{
		{"negative size", Assignment{Rows: -1}, "must not be negative"},
		{"short cost", Assignment{Rows: 2, Cols: 2, Cost: []int32{1, 2, 3}}, "want rows×cols = 4"},
		{"capacity length", Assignment{Rows: 1, Cols: 2, Cost: []int32{1, 2}, Capacity: []int32{1}}, "one per column"},
		{"negative capacity", Assignment{Rows: 1, Cols: 1, Cost: []int32{1}, Capacity: []int32{-1}}, "negative"},
		{"overflowing penalty", Assignment{Rows: 1, Cols: 1, Cost: []int32{1}, Unassigned: 1 << 62}, "overflow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Solve(tc.a, nil)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestSolveEmpty(t *testing.T) {
	t.Parallel()
	s, err := Solve(Assignment{Rows: 3, Cols: 0, Unassigned: 7}, nil)
	require.NoError(t, err)
	require.Equal(t, []int32{-1, -1, -1}, s.Col)
	require.True(t, s.Certified)
}

// TestSolveWithABackgroundCost covers matrices where "not suitable" is a
// large finite cost that most pairs share (how a solver without forbidden
// pairs is fed): they are solved with those pairs left out, and the rows
// left over fill the places left over.
func TestSolveWithABackgroundCost(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	detected := 0
	for n := range 300 {
		rows, cols := 1+r.IntN(6), 1+r.IntN(4)
		a := Assignment{Rows: rows, Cols: cols, Cost: make([]int32, rows*cols), Capacity: make([]int32, cols)}
		places := 0
		for j := range a.Capacity {
			a.Capacity[j] = int32(1 + r.IntN(2))
			places += int(a.Capacity[j])
		}
		if places < rows {
			a.Capacity[0] += int32(rows - places)
		}
		for i := range a.Cost {
			a.Cost[i] = 1000
			if r.IntN(3) == 0 {
				a.Cost[i] = int32(r.IntN(50))
			}
		}
		a.Unassigned = MaxCardinalityPenalty(a)
		if _, ok := scanMatrix(a, 1, 1).background(a); ok {
			detected++
		}
		want := bruteForce(a)
		for _, k := range []int{1, cols} {
			t.Run(fmt.Sprintf("%d_k%d", n, k), func(t *testing.T) {
				s, err := solve(a, k, nil)
				require.NoError(t, err)
				require.True(t, s.Certified)
				require.Equal(t, rows, s.Assigned, "every row fits, so every row is placed")
				require.Equal(t, want, objective(t, a, s))
			})
		}
	}
	require.Greater(t, detected, 200, "most instances take the background path")
}

// TestSolveOnColumnDominatedCosts covers costs like scored ones, where the
// column (the mentor) decides most of a pair's cost: the solver detects
// it, adds priced candidates, and stays exact.
func TestSolveOnColumnDominatedCosts(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(13, 14))
	rows, cols := 300, 150
	a := Assignment{Rows: rows, Cols: cols, Cost: make([]int32, rows*cols), Capacity: make([]int32, cols)}
	strength := make([]int32, cols)
	for j := range strength {
		strength[j] = int32(r.IntN(5000))
		a.Capacity[j] = 2
	}
	for i := range rows {
		for j := range cols {
			a.Cost[i*cols+j] = strength[j] + int32(r.IntN(1000))
		}
	}
	a.Unassigned = MaxCardinalityPenalty(a)
	require.True(t, columnDominated(a))
	require.False(t, columnDominated(uniformAssignment(300, 150, 2, 1)))
	dense, err := solve(a, cols, nil)
	require.NoError(t, err)
	sparse, err := Solve(a, nil)
	require.NoError(t, err)
	require.True(t, sparse.Certified)
	require.Equal(t, objective(t, a, dense), objective(t, a, sparse))
}

// TestCertifyRechecksColumnsWhoseDualRose: after a full check, certify
// reads only what changed; a pair whose column's dual rose must be read
// again even though its row's did not.
func TestCertifyRechecksColumnsWhoseDualRose(t *testing.T) {
	t.Parallel()
	// Two rows, and 40 columns so that one column rising is not enough to
	// read every pair again; columns 2… cost 1,000 and stay empty.
	const cols = 40
	a := Assignment{Rows: 2, Cols: cols, Cost: make([]int32, 2*cols), Unassigned: 100}
	for j := range cols {
		a.Cost[j], a.Cost[cols+j] = 1000, 1000
	}
	a.Cost[0], a.Cost[1], a.Cost[cols], a.Cost[cols+1] = 1, 5, 20, 1
	s := newSolver(a)
	s.edges = cheapest(a, 1, Forbidden)
	s.rowCol[0], s.rowCol[1] = 0, 1
	s.colRows[0], s.colRows[1] = []int32{0}, []int32{1}
	s.u[0], s.u[1], s.v[0], s.v[1] = 6, 11, -5, -10
	_, ok := s.certify()
	require.True(t, ok)

	// Column 1's dual rises to 0 and its row's falls with it: the pair
	// (row 0, column 1), untouched by the search, now costs 5-6-0 < 0.
	s.u[1], s.v[1] = 1, 0
	violations, ok := s.certify()
	require.False(t, ok)
	require.Equal(t, [][]int32{{1}, nil}, violations)
}

// TestMaxCardinality: the matching that decides which columns are
// over-demanded is as large as any, and within capacity, from nothing or
// from the auction's partial assignment.
func TestMaxCardinality(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 300 {
		rows, cols := 1+r.IntN(7), 1+r.IntN(5)
		a := randomAssignment(r, rows, cols, 0.5)
		a.Unassigned = MaxCardinalityPenalty(a)
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := newSolver(a)
			s.edges = cheapest(a, a.Cols, Forbidden)
			var held []int32
			if n%2 == 1 {
				_, held = s.auctionPrices()
			}
			got := s.maxCardinality(held)
			load := make([]int32, cols)
			assigned := 0
			for i, j := range got {
				if j >= 0 {
					require.NotEqual(t, int32(Forbidden), a.Cost[i*cols+int(j)])
					load[j]++
					assigned++
				}
			}
			for j, l := range load {
				require.LessOrEqual(t, l, a.Capacity[j])
			}
			want, err := Solve(a, nil) // the penalty makes it a largest assignment
			require.NoError(t, err)
			require.Equal(t, want.Assigned, assigned)
		})
	}
}

// TestKSmallestAndScan checks the candidate choice against sorting: each
// row's k smallest values (ties to the first column from the row's
// rotation on), without offsets, with offsets in int32 and in int64 only,
// and below a limit, and each column's candidates (see scanMatrix), with
// many ties and forbidden pairs, for k from 0 to past the row's length;
// and the scan's tally of the costs.
func TestKSmallestAndScan(t *testing.T) {
	t.Run("kernels", testKSmallestAndScan)
	t.Run("Go kernels", func(t *testing.T) {
		withGoKernels(t)
		testKSmallestAndScan(t)
	})
}

func testKSmallestAndScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for trial := range 400 {
		rows, cols := 1+r.IntN(40), 1+r.IntN(120)
		spread := []int{6, 1000, 1 << 20}[r.IntN(3)]
		a := Assignment{Rows: rows, Cols: cols, Cost: make([]int32, rows*cols)}
		for i := range a.Cost {
			a.Cost[i] = int32(r.IntN(spread)) - 2
			if r.IntN(5) == 0 && trial%2 == 0 {
				a.Cost[i] = Forbidden
			}
		}
		k, kc := r.IntN(min(cols, 20)+3), 1+r.IntN(rows+2)
		sc := scanMatrix(a, k, kc)
		lo, top, count, forbidden := int32(math.MaxInt32), int32(math.MinInt32), 0, false
		for _, c := range a.Cost {
			switch {
			case c == Forbidden:
				forbidden = true
			case c > top:
				top, count = c, 1
			case c == top:
				count++
			}
			lo = min(lo, c)
		}
		require.Equal(t, forbidden, sc.forbidden, "trial %d: forbidden", trial)
		require.Equal(t, lo, sc.lo, "trial %d: smallest cost", trial)
		if !forbidden {
			require.Equal(t, top, sc.top, "trial %d: largest cost", trial)
			require.Equal(t, count, sc.count, "trial %d: how often the largest", trial)
		}
		sub := make([]int64, cols)
		for j := range sub {
			sub[j] = -int64(r.IntN(3 * spread))
		}
		var rs rowScan
		for i := range rows {
			row := a.Cost[i*cols : (i+1)*cols]
			rot := rotation(i, cols)
			for variant, off := range []offsets{{}, newOffsets(sub, -2, int32(spread)), {sub: sub}} {
				limit := int32(Forbidden)
				if variant > 0 && r.IntN(2) == 0 {
					limit = int32(r.IntN(spread))
				}
				val := func(j int) int64 {
					if off.sub == nil {
						return int64(row[j])
					}
					return int64(row[j]) - off.sub[j]
				}
				var order []int
				for r := range cols {
					if j := (r + rot) % cols; row[j] < limit {
						order = append(order, j)
					}
				}
				slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(val(x), val(y)) })
				want := append([]int{}, order[:min(k, len(order))]...)
				slices.Sort(want)
				got := make([]int, 0, len(want))
				cols, floor := kSmallest(row, k, limit, off, rot, &rs)
				for _, j := range cols {
					got = append(got, int(j))
				}
				require.Equal(t, want, got, "trial %d row %d variant %d: kSmallest", trial, i, variant)
				// The floor is at least the k-th smallest value and at
				// most any value left out (MaxInt64: none is).
				checkFloor := func(floor int64, what string) {
					if k == 0 || len(order) < k {
						require.Equal(t, int64(math.MaxInt64), floor, "trial %d row %d variant %d: %s", trial, i, variant, what)
						return
					}
					require.GreaterOrEqual(t, floor, val(order[k-1]), "trial %d row %d variant %d: %s", trial, i, variant, what)
					if len(order) > k {
						require.LessOrEqual(t, floor, val(order[k]), "trial %d row %d variant %d: %s", trial, i, variant, what)
					}
				}
				checkFloor(floor, "floor")
				if variant > 0 {
					continue
				}
				checkFloor(sc.floor[i], "scanMatrix's floor")
				got = got[:0]
				for _, j := range sc.rowCols[i] {
					got = append(got, int(j))
				}
				require.Equal(t, want, got, "trial %d row %d: scanMatrix", trial, i)
			}
		}
		// A column's candidates: the cheapest rows (the first of ties) of
		// its cheapest bands of rows, at least kc of them (or all), at
		// most 2kc, and no band left out is cheaper than one chosen.
		// (These rows make one worker, whose bands are exactly
		// columnBands·kc.)
		bands := min(columnBands*kc, rows)
		for j := range cols {
			var cheapest []int64 // per band with a value
			for b := range bands {
				best, found := int64(0), false
				for i := b * rows / bands; i < (b+1)*rows/bands; i++ {
					if c := a.Cost[i*cols+j]; c != Forbidden && (!found || pack(int64(c), i) < best) {
						best, found = pack(int64(c), i), true
					}
				}
				if found {
					cheapest = append(cheapest, best)
				}
			}
			got := sc.colKeys[j]
			require.GreaterOrEqual(t, len(got), min(kc, len(cheapest)), "trial %d column %d: how many", trial, j)
			require.LessOrEqual(t, len(got), 2*kc, "trial %d column %d: how many", trial, j)
			most := int64(math.MinInt64)
			for _, key := range got {
				require.Contains(t, cheapest, key, "trial %d column %d: a band's cheapest", trial, j)
				most = max(most, key>>24)
			}
			for _, key := range cheapest {
				if key>>24 < most {
					require.Contains(t, got, key, "trial %d column %d: a cheaper band left out", trial, j)
				}
			}
		}
	}
}

// TestCertifyByFloors: a row whose dual is within its bounds is certified
// from its candidates, except in the columns whose dual rose above its
// start, which certify must still read.
func TestCertifyByFloors(t *testing.T) {
	t.Parallel()
	const cols = 40
	a := Assignment{Rows: 2, Cols: cols, Cost: make([]int32, 2*cols), Unassigned: 1 << 20}
	for j := range 2 * cols {
		a.Cost[j] = 1000
	}
	a.Cost[0], a.Cost[1] = 10, 12 // row 0
	a.Cost[cols+1] = 1            // row 1
	s := newSolver(a)
	s.edges = cheapest(a, 1, Forbidden) // row 0: column 0; row 1: column 1
	s.start = make([]int64, cols)
	s.start[0], s.start[1] = -50, -100
	// Outside the candidates: row 0's costs are ≥ 10 and ≥ 60 at the
	// start duals; row 1's ≥ 1 and ≥ 101.
	s.floor, s.pfloor = []int64{10, 1}, []int64{60, 101}
	s.rowCol[0], s.rowCol[1], s.colRows[0], s.colRows[1] = 0, 1, []int32{0}, []int32{1}
	s.u[0], s.u[1], s.v[0], s.v[1] = 60, 101, -50, -100
	_, ok := s.certify()
	require.True(t, ok, "12-60+100 ≥ 0: nothing fails")

	// Column 1's dual rises to 0 (and row 1's falls): (row 0, column 1)
	// now costs 12-60-0 < 0, though row 0's dual is within its start
	// floor and column 1 is not among its candidates.
	s.u[1], s.v[1] = 1, 0
	s.checked.u = nil // read every row again
	violations, ok := s.certify()
	require.False(t, ok)
	require.Equal(t, [][]int32{{1}, nil}, violations)
}

// TestSolveStaysExactWithFloors: on column-dominated instances with a
// background cost, large enough that rows keep only some candidates (so
// the priced pass and the certificate's floors apply), the result equals
// a search over every pair.
func TestSolveStaysExactWithFloors(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(21, 22))
	for n := range 40 {
		rows, cols := 80+r.IntN(80), 70+r.IntN(60)
		a := Assignment{Rows: rows, Cols: cols, Cost: make([]int32, rows*cols), Capacity: make([]int32, cols)}
		strength := make([]int32, cols)
		for j := range strength {
			strength[j] = int32(r.IntN(3000))
			a.Capacity[j] = int32(1 + r.IntN(3))
		}
		background := n%2 == 0
		for i := range rows {
			for j := range cols {
				c := strength[j] + int32(r.IntN(500))
				if background && r.IntN(3) > 0 {
					c = 20000
				}
				a.Cost[i*cols+j] = c
			}
		}
		a.Unassigned = MaxCardinalityPenalty(a)
		dense, err := solve(a, cols, nil)
		require.NoError(t, err)
		sparse, err := Solve(a, nil)
		require.NoError(t, err)
		require.True(t, sparse.Certified, "instance %d", n)
		require.Equal(t, objective(t, a, dense), objective(t, a, sparse), "instance %d", n)
	}
}
