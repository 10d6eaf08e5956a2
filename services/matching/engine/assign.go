package engine

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"
)

// Forbidden is the cost that marks a pair as not allowed.
const Forbidden = math.MaxInt32

// Assignment is a capacitated assignment problem: assign each row (mentee)
// to at most one column (mentor), each column taking at most its capacity,
// minimising the total cost plus Unassigned for every row left out.
type Assignment struct {
	Rows, Cols int
	// Cost is Rows×Cols, row-major; Forbidden marks a pair not allowed.
	Cost []int32
	// Capacity is per column; nil means 1 each.
	Capacity []int32
	// Unassigned is the cost of leaving a row unassigned. With a value
	// from MaxCardinalityPenalty the solver assigns as many rows as any
	// assignment can, and only then minimises cost.
	Unassigned int64
}

// Solution is an optimal assignment.
type Solution struct {
	// Col is the column of each row, -1 when unassigned.
	Col []int32
	// Cost is the sum of the assigned pairs' costs (without Unassigned).
	Cost     int64
	Assigned int
	// Certified reports that the solver proved optimality over every pair
	// of the matrix: its dual solution is feasible for all of them, not
	// just for the candidates it searched.
	Certified bool
	// Rounds is how many times the candidate set was widened before the
	// certificate held; Edges is the size of the final candidate set.
	Rounds int
	Edges  int
}

// maxCols bounds the columns so that a column index packs into 24 bits.
const maxCols = 1<<24 - 1

// maxAbsCost bounds |Unassigned| so that no sum can overflow int64.
const maxAbsCost = 1 << 62

// MaxCardinalityPenalty returns an Unassigned cost so large that one more
// assigned row always beats any saving in cost: the solver then finds the
// cheapest among the largest assignments, as scipy's linear_sum_assignment
// does.
func MaxCardinalityPenalty(a Assignment) int64 {
	lo, hi := int64(math.MaxInt32), int64(math.MinInt32)
	for _, c := range a.Cost {
		if c == Forbidden {
			continue
		}
		lo = min(lo, int64(c))
		hi = max(hi, int64(c))
	}
	if lo > hi {
		return 1
	}
	// One more pair adds at most hi and every other pair can get at most
	// hi-lo dearer, so (hi-lo)·rows + |hi| + 1 outweighs any rearrangement.
	return (hi-lo)*int64(a.Rows) + max(hi, -hi) + 1
}

// validate checks the problem's shape and that no sum can overflow.
func (a Assignment) validate() error {
	switch {
	case a.Rows < 0 || a.Cols < 0:
		return fmt.Errorf("rows and cols must not be negative (got %d×%d)", a.Rows, a.Cols)
	case len(a.Cost) != a.Rows*a.Cols:
		return fmt.Errorf("cost has %d entries, want rows×cols = %d", len(a.Cost), a.Rows*a.Cols)
	case a.Cols > maxCols:
		return fmt.Errorf("at most %d columns (got %d)", maxCols, a.Cols)
	case a.Capacity != nil && len(a.Capacity) != a.Cols:
		return fmt.Errorf("capacity has %d entries, want one per column (%d)", len(a.Capacity), a.Cols)
	}
	for j, c := range a.Capacity {
		if c < 0 {
			return fmt.Errorf("capacity of column %d is negative", j)
		}
	}
	if a.Unassigned > maxAbsCost/int64(a.Rows+1) || a.Unassigned < -maxAbsCost/int64(a.Rows+1) {
		return errors.New("unassigned cost too large: the totals would overflow")
	}
	return nil
}

// Solve returns a minimum-cost assignment, calling progress (which may be
// nil) as rows get placed. It searches a sparse set of candidate pairs
// (each row's cheapest columns), then checks the dual solution against
// every pair of the matrix; pairs that violate it join the candidates and
// the search resumes, so the result is optimal for the whole matrix and
// Certified says so. It blocks for the whole computation.
func Solve(a Assignment, progress func(done, total int)) (Solution, error) {
	return solve(a, initialCandidates(a), progress)
}

// solve is Solve starting from each row's k cheapest columns.
func solve(a Assignment, k int, progress func(done, total int)) (Solution, error) {
	if err := a.validate(); err != nil {
		return Solution{}, err
	}
	if progress == nil {
		progress = func(int, int) {}
	}
	// A matrix whose most common cost is also its largest, with room for
	// every row and no forbidden pair, is solved with those pairs left out
	// and "unassigned" costing that much: the rows left over then fill
	// the places left over at exactly that cost (see fillBackground).
	dominated := k < a.Cols && columnDominated(a)
	kc := 0
	if dominated {
		kc = columnCandidates
	}
	sc := scanMatrix(a, k, kc)
	background, hasBackground := sc.background(a)
	limit := int32(Forbidden)
	if hasBackground {
		a.Unassigned, limit = int64(background), background
	}
	s := newSolver(a)
	s.limit, s.k, s.floor, s.lo, s.hi = limit, k, sc.floor, sc.lo, sc.top
	s.edges = sc.edges(a, limit)
	if dominated {
		s.addPricedCandidates()
	}
	total := a.Rows + a.Rows/10 // placing rows, then certifying (about a tenth)
	s.progress = func(done int) { progress(min(done, total), total) }
	s.solveFromScratch()
	certified := false
	for round := 1; ; round++ {
		violations, ok := s.certify()
		if ok {
			certified = true
			s.rounds = round
			break
		}
		if s.exact {
			// Cannot happen: a search from scratch over every pair is
			// exact and its duals are the certificate. Report it rather
			// than loop.
			s.rounds = round
			break
		}
		if round == maxRounds-1 || s.edges.dense() {
			// Enough widening: search every pair.
			s.edges = cheapest(a, a.Cols, limit)
			s.exact = true
			s.solveFromScratch()
			continue
		}
		// Violations that widening cannot answer (a row's own duals are
		// off) need a search from scratch.
		if s.widen(violations) == 0 {
			s.solveFromScratch()
		} else {
			s.reseat(violations)
		}
	}
	if hasBackground {
		s.fillBackground()
	}
	progress(total, total)
	return s.solution(certified), nil
}

// maxRounds bounds the widen-and-resume loop: its last round searches every
// pair, which always certifies.
const maxRounds = 6

// columnCandidates is how many of its cheapest rows each column adds to
// the candidates of column-dominated costs.
const columnCandidates = 8

// initialCandidates picks how many of its cheapest columns each row starts
// with: enough that the optimum nearly always lies inside, few enough that
// the search stays sparse.
func initialCandidates(a Assignment) int {
	k := 16
	if a.Cols <= 64 {
		k = a.Cols
	}
	return min(k, a.Cols)
}

// edgeSet holds each row's candidate columns, kept sorted by column, with
// their costs beside them so that a search never touches the matrix.
type edgeSet struct {
	cols  [][]int32
	costs [][]int32
	all   int // columns per row when dense
}

// setRow stores row i's candidates and copies their costs from a, into
// memory from rs.
func (e edgeSet) setRow(a Assignment, i int, cols []int32, rs *rowScan) {
	costs := rs.take(len(cols))[:len(cols)]
	row := a.Cost[i*a.Cols : (i+1)*a.Cols]
	for k, j := range cols {
		costs[k] = row[j]
	}
	e.cols[i], e.costs[i] = cols, costs
}

func (e edgeSet) dense() bool {
	for _, c := range e.cols {
		if len(c) < e.all {
			return false
		}
	}
	return true
}

func (e edgeSet) size() int {
	n := 0
	for _, c := range e.cols {
		n += len(c)
	}
	return n
}

// cheapest returns each row's k cheapest allowed columns, rows in parallel.
func cheapest(a Assignment, k int, limit int32) edgeSet {
	e := edgeSet{cols: make([][]int32, a.Rows), costs: make([][]int32, a.Rows), all: a.Cols}
	parallelRows(a.Rows, a.Rows*a.Cols, func(i int, rs *rowScan) {
		row := a.Cost[i*a.Cols : (i+1)*a.Cols]
		cols, _ := kSmallest(row, k, limit, offsets{}, rotation(i, a.Cols), rs)
		e.setRow(a, i, cols, rs)
	})
	return e
}

// offsets are column offsets subtracted from the costs (sub), and the
// same negated as int32 (add), nil when a sum could overflow int32: then
// the slower int64 loops read the row.
type offsets struct {
	sub []int64
	add []int32
}

// newOffsets makes the offsets sub for costs from lo to hi.
func newOffsets(sub []int64, lo, hi int32) offsets {
	o := offsets{sub: sub}
	if len(sub) == 0 {
		return o
	}
	least, most := -slices.Max(sub), -slices.Min(sub)
	if lo > hi || int64(lo)+least <= math.MinInt32 || int64(hi)+most >= math.MaxInt32 {
		return o
	}
	o.add = make([]int32, len(sub))
	for j, x := range sub {
		o.add[j] = int32(-x)
	}
	return o
}

// rowScan is kSmallest's buffers, reused between calls, and what it learnt
// of the last row it read without offsets: its smallest and largest cost
// (Forbidden included) and how often the largest occurs.
type rowScan struct {
	mins    []int32
	idx     []int32
	keys    []int64
	arena   []int32 // see take
	lo, hi  int32
	hiCount int
}

// take returns an empty slice with room for n, carved from a shared
// backing array: the many short candidate lists cost one allocation per
// arenaChunk values, not one each.
func (rs *rowScan) take(n int) []int32 {
	if len(rs.arena)+n > cap(rs.arena) {
		rs.arena = make([]int32, 0, max(n, arenaChunk))
	}
	from := len(rs.arena)
	rs.arena = rs.arena[:from+n]
	return rs.arena[from : from : from+n]
}

const arenaChunk = 1 << 14

// kSmallest returns the columns of the k smallest values of
// row[j]-off.sub[j] (no offsets: 0) among costs below limit, sorted by
// column. Ties go to the first column from rot on, cyclically: rows
// rotated differently spread their ties over all columns instead of all
// choosing the first few, which matters when many pairs cost the same.
// floor is the k-th smallest value (MaxInt64 when fewer are below limit):
// no column left out is below it.
//
// It reads the row twice rather than keep a heap of the best so far: a
// first pass takes the minimum of each of about 2k blocks, and any value
// that k of those minima are at most bounds the k-th smallest value from
// above (k blocks hold a value that large or smaller; countedBound finds
// one), so the second pass collects the few values up to it, about 1.4k
// on random costs, and a selection keeps the k smallest. Both passes are
// vector kernels (kernels.go).
func kSmallest(row []int32, k int, limit int32, off offsets, rot int, rs *rowScan) (cols []int32, floor int64) {
	n := len(row)
	floor = math.MaxInt64
	plain := off.sub == nil
	if limit == math.MinInt32 { // no cost is below it
		return nil, floor
	}
	bs := 8
	if k > 0 {
		bs = max(8, n/(2*k)&^7)
	}
	rs.mins = slices.Grow(rs.mins[:0], n/bs+1)[:(n+bs-1)/bs]
	mins := rs.mins
	switch {
	case plain:
		rs.hi = blockMins(row, bs, mins)
		rs.lo = math.MaxInt32
		for b, m := range mins {
			rs.lo = min(rs.lo, m)
			if m >= limit {
				mins[b] = math.MaxInt32 // no value in the block
			}
		}
	case off.add != nil:
		blockMinsOff(row, off.add, limit, bs, mins)
	default:
		for b := range mins {
			m := int64(math.MaxInt64)
			for j := b * bs; j < min((b+1)*bs, n); j++ {
				if c := row[j]; c < limit {
					m = min(m, int64(c)-off.sub[j])
				}
			}
			mins[b] = int32(max(min(m, math.MaxInt32), math.MinInt32)) // clamped, as a bound only
			if m > math.MaxInt32 && m != math.MaxInt64 {
				mins[b] = math.MaxInt32 - 1
			}
		}
	}
	if k <= 0 {
		if plain {
			rs.hiCount = 0
			for _, c := range row {
				if c == rs.hi {
					rs.hiCount++
				}
			}
		}
		return nil, floor
	}
	// No fewer than k values are at most bound: k block minima are.
	// MaxInt32: fewer than k blocks hold a value, so every value is
	// collected.
	bound := int32(math.MaxInt32)
	if len(mins) >= k {
		bound = countedBound(mins, k)
	}
	// Collect the values up to bound.
	var top int64 // the largest value collected
	switch {
	case plain:
		// The values below t, then, if they are fewer than k, the first
		// ties at t in rotated order: a row of ties (the background)
		// would otherwise collect all of them.
		t := min(bound, limit-1)
		top = int64(t)
		rs.idx, rs.hiCount = filterLE(row, max(t, math.MinInt32+1)-1, rs.hi, rs.idx)
		if t == math.MinInt32 {
			rs.idx = rs.idx[:0] // nothing is below t
		}
		if need := k - len(rs.idx); need > 0 {
			from := len(rs.idx)
			rs.idx = filterEQ(row[rot:], t, need, rs.idx)
			for x := from; x < len(rs.idx); x++ {
				rs.idx[x] += int32(rot)
			}
			if got := len(rs.idx) - from; got < need {
				rs.idx = filterEQ(row[:rot], t, need-got, rs.idx)
			}
			insertionSort(rs.idx)
		}
	case off.add != nil:
		t := min(bound, math.MaxInt32-1)
		rs.idx = filterLEOff(row, off.add, limit, t, rs.idx)
		top = int64(t)
	default:
		top = math.MaxInt64
		if bound < math.MaxInt32-1 {
			top = int64(bound)
		}
		rs.idx = rs.idx[:0]
		for j, c := range row {
			if c < limit && int64(c)-off.sub[j] <= top {
				rs.idx = append(rs.idx, int32(j))
			}
		}
	}
	// Their keys in rotated order, the columns from rot on first, with at
	// most k of the ties at top (a row of ties would otherwise keep all).
	idx := rs.idx
	split, _ := slices.BinarySearch(idx, int32(rot))
	keys, ties := rs.keys[:0], 0
	for seg, part := range [2][]int32{idx[split:], idx[:split]} {
		if seg == 1 {
			split = len(keys)
		}
		for _, j := range part {
			val := int64(row[j])
			if !plain {
				val -= off.sub[j]
			}
			if val == top {
				if ties == k {
					continue
				}
				ties++
			}
			keys = append(keys, pack(val, int(j)-rot+seg*n))
		}
	}
	// Keep the k smallest, in column order: the second segment's first.
	// Values clamped by pack only ever lower the floor, which stays a
	// bound. (keys gets room for the selection's copy.)
	keys = slices.Grow(keys, len(keys))
	last := int64(math.MaxInt64)
	if len(keys) >= k {
		last = nthSmallest(append(keys[len(keys):], keys...), k-1)
		floor = last >> 24
	}
	cols = rs.take(min(k, len(keys)))
	for _, part := range [2][]int64{keys[split:], keys[:split]} {
		for _, key := range part {
			if key <= last {
				cols = append(cols, int32((unpackCol(key)+rot)%n))
			}
		}
	}
	rs.keys = keys
	return cols, floor
}

// insertionSort sorts a short or nearly sorted x.
func insertionSort[T cmp.Ordered](x []T) {
	for i := 1; i < len(x); i++ {
		for j := i; j > 0 && x[j] < x[j-1]; j-- {
			x[j], x[j-1] = x[j-1], x[j]
		}
	}
}

// countedBound returns a value that at least k of x are at most, and not
// many more (a quarter more, or x's k-th smallest itself): a bisection
// of the values' range that counts instead of moving values, which costs
// a few short branch-free loops where a selection would mispredict.
func countedBound(x []int32, k int) int32 {
	lo, hi := int64(math.MaxInt32), int64(math.MinInt32)
	for _, v := range x {
		lo, hi = min(lo, int64(v)), max(hi, int64(v))
	}
	// count(≤ hi) ≥ k, count(< lo) < k.
	for lo < hi {
		mid := lo + (hi-lo)/2
		n := 0
		for _, v := range x {
			if int64(v) <= mid {
				n++
			}
		}
		if n < k {
			lo = mid + 1
			continue
		}
		hi = mid
		if 4*n <= 5*k {
			break
		}
	}
	return int32(hi)
}

// nthSmallest returns the n-th smallest of x (from 0), reordering x: a
// quickselect with the median of three as pivot and a Lomuto partition
// that moves every value instead of branching on it.
func nthSmallest(x []int64, n int) int64 {
	lo, hi := 0, len(x) // x[lo:hi] holds the n-th smallest
	for hi-lo > 12 {
		a, b, c := x[lo], x[lo+(hi-lo)/2], x[hi-1]
		pivot := max(min(a, b), min(max(a, b), c)) // median of three
		// Lomuto: x[lo:store] < pivot ≤ x[store:i].
		store := lo
		for i := lo; i < hi; i++ {
			v := x[i]
			x[i] = x[store]
			x[store] = v
			if v < pivot {
				store++
			}
		}
		if n < store {
			hi = store
			continue
		}
		// x[store:hi] ≥ pivot: put the pivots first, done if n is one.
		eq := store
		for i := store; i < hi; i++ {
			v := x[i]
			x[i] = x[eq]
			x[eq] = v
			if v == pivot {
				eq++
			}
		}
		if n < eq {
			return pivot
		}
		lo = eq
	}
	insertionSort(x[lo:hi]) // the rest
	return x[n]
}

// pack orders (value, column) pairs in one int64: value in the high bits,
// column in the low 24 bits. Values beyond ±2^38 are clamped, which can
// only make a candidate choice worse, never a result wrong: the
// certificate covers every pair.
func pack(val int64, col int) int64 {
	const lim = 1 << 38
	val = max(min(val, lim-1), -lim)
	return val<<24 | int64(col)
}

func unpackCol(key int64) int { return int(key & (1<<24 - 1)) }

// rotation is row i's deterministic starting column for ties.
func rotation(i, cols int) int {
	if cols == 0 {
		return 0
	}
	return int(uint64(i) * 2654435761 % uint64(cols))
}

// workersFor is how many goroutines a pass touching cells pairs gets: one
// per parallelCells, at most GOMAXPROCS. Waking a second one costs tens of
// microseconds at every pass, more than it saves on a small matrix (1k×1k
// solves 15 % faster on one), while the 10k passes split well.
func workersFor(cells int) int {
	return min(runtime.GOMAXPROCS(0), max(cells/parallelCells, 1))
}

const parallelCells = 1 << 21

// parallelRows calls f for every row of a pass touching cells pairs, on
// workersFor(cells) goroutines, each with its own buffers for kSmallest.
func parallelRows(rows, cells int, f func(i int, rs *rowScan)) {
	workers := workersFor(cells)
	inParallel(workers, func(w int) {
		var rs rowScan
		for i := w; i < rows; i += workers {
			f(i, &rs)
		}
	})
}

// Markers in solver.rowCol besides a column index.
const (
	free       = -1 // not placed yet
	unassigned = -2 // placed on its "unassigned" option
)

// solver runs successive shortest augmenting paths (the Hungarian method
// in Jonker–Volgenant form) over the candidate pairs, with the column
// capacities handled natively and every row's "unassigned" option as a
// private column of cost Unassigned. Duals: rows u, columns v, reduced
// cost c-u-v ≥ 0 on every candidate pair, 0 on assigned ones; v ≤ 0, and 0
// on columns with room; u ≤ Unassigned, equal when unassigned.
type solver struct {
	a        Assignment
	cap      []int32
	edges    edgeSet
	u, v     []int64
	rowCol   []int32
	colRows  [][]int32
	progress func(done int)
	placed   int
	rounds   int
	exact    bool    // searched every pair from scratch
	limit    int32   // costs from here on are left out of the search
	lo, hi   int32   // the smallest and the largest allowed cost
	k        int     // candidates per row to start with
	start    []int64 // column duals a search starts from (nil: zero)
	// floor is, per row, a cost no pair outside its candidates is below
	// (MaxInt64: every allowed pair is a candidate); nil: unknown. With
	// v ≤ 0, a pair outside has c-v ≥ floor, which spares a row whose
	// u ≤ floor the certificate's pass over the matrix.
	floor []int64
	// pfloor is, per row, a reduced cost at the starting duals (c-start)
	// that no pair outside its candidates with a cost below limit is
	// below; nil: unknown. A pair outside, in a column whose dual did not
	// rise above its start, then has c-v ≥ c-start ≥ pfloor.
	pfloor []int64
	// checked holds the duals of the last certify and the rows that failed
	// it; u is nil when every pair needs checking again.
	checked struct {
		u, v   []int64
		failed []bool
	}

	// fillHole's state of the rows, reset after every search.
	rdist       []int64
	rdone       []bool
	rpred       []int32 // column the row would move into
	rowsReached []int32

	// Dijkstra state, reset after every search.
	dist     []int64
	pred     []int32 // row that reached the column
	done     []bool
	touched  []int32
	rowsSeen []int32
	rowDist  []int64
	pq       radixHeap
}

func newSolver(a Assignment) *solver {
	s := &solver{
		a: a, cap: capacities(a), limit: Forbidden, lo: math.MinInt32, hi: math.MaxInt32,
		u: make([]int64, a.Rows), v: make([]int64, a.Cols),
		rowCol: make([]int32, a.Rows), colRows: make([][]int32, a.Cols),
		dist: make([]int64, a.Cols), pred: make([]int32, a.Cols), done: make([]bool, a.Cols),
	}
	for j := range s.dist {
		s.dist[j] = math.MaxInt64
	}
	return s
}

func (s *solver) cost(i int, j int32) int64 { return int64(s.a.Cost[i*s.a.Cols+int(j)]) }

// solveFromScratch forgets every assignment and places all rows, with the
// column duals starting at s.start (zero when nil).
func (s *solver) solveFromScratch() {
	s.checked.u = nil
	clear(s.v)
	copy(s.v, s.start)
	for j := range s.colRows {
		s.colRows[j] = s.colRows[j][:0]
	}
	s.placed = 0
	// Greedy start: with v = 0 each row's cheapest candidate is tight, so
	// a row whose cheapest column has room takes it at no search cost.
	for i := range s.rowCol {
		s.rowCol[i] = free
		best, bestCol := s.a.Unassigned, int32(-1)
		costs, v := s.edges.costs[i], s.v
		for k, j := range s.edges.cols[i] {
			c := int64(costs[k]) - v[j]
			if c < best {
				bestCol = j
			}
			best = min(best, c)
		}
		s.u[i] = best
		switch {
		case bestCol < 0:
			s.rowCol[i] = unassigned
		case int32(len(s.colRows[bestCol])) < s.cap[bestCol]:
			s.rowCol[i] = bestCol
			s.colRows[bestCol] = append(s.colRows[bestCol], int32(i))
		default:
			continue
		}
		s.placed++
	}
	s.reduceRows()
	s.progress(s.placed)
	s.placeFree()
	s.fillHoles()
}

// reductionPasses is how often reduceRows sweeps the free rows; on square
// uniform instances the count of rows left for the search stops falling
// after about eight.
const reductionPasses = 8

// reduceRows is Jonker and Volgenant's augmenting row reduction, limited to
// columns of capacity 1: a free row whose cheapest column is held takes it
// anyway when it prefers it strictly, lowering the column's dual by the
// margin to its second choice, and the row it displaces takes its turn.
// It settles most rows of a square problem without a search. Columns of
// larger capacity are left alone: lowering their dual would loosen the
// pairs of every row they hold.
func (s *solver) reduceRows() {
	U := s.a.Unassigned
	for range reductionPasses {
		budget := 10 * s.a.Rows // bounds the displacement chains of one pass
		for start := range s.rowCol {
			i := int32(start)
			for s.rowCol[i] == free && budget > 0 {
				budget--
				u1, u2, j1 := U, U, int32(-1)
				costs, v := s.edges.costs[i], s.v
				for k, j := range s.edges.cols[i] {
					h := int64(costs[k]) - v[j]
					if h < u1 { // the best two without branches, as in the auction
						j1 = j
					}
					u1, u2 = min(u1, h), min(u2, max(h, u1))
				}
				if j1 < 0 { // leaving it out is at least as cheap
					s.u[i], s.rowCol[i] = U, unassigned
					s.placed++
					break
				}
				if int32(len(s.colRows[j1])) < s.cap[j1] {
					s.u[i], s.rowCol[i] = u1, j1
					s.colRows[j1] = append(s.colRows[j1], i)
					s.placed++
					break
				}
				if s.cap[j1] != 1 || u1 == u2 {
					break
				}
				out := s.colRows[j1][0]
				s.v[j1] -= u2 - u1
				s.u[i], s.rowCol[i], s.colRows[j1][0] = u2, j1, i
				s.rowCol[out] = free
				i = out
			}
		}
	}
}

// placeFree augments from every free row in index order.
func (s *solver) placeFree() {
	step := max(s.a.Rows/100, 1)
	for i := range s.rowCol {
		if s.rowCol[i] != free {
			continue
		}
		s.augment(int32(i))
		s.placed++
		if s.placed%step == 0 {
			s.progress(s.placed)
		}
	}
}

// augment places the free row root along a shortest augmenting path in
// reduced costs and updates the duals so that they stay feasible. The path
// ends at a column with room or at a row's "unassigned" option (the root's
// own, at the latest).
func (s *solver) augment(root int32) {
	U := s.a.Unassigned
	// The root's dual must keep its candidate pairs' reduced costs ≥ 0.
	ur := U
	for k, j := range s.edges.cols[root] {
		ur = min(ur, int64(s.edges.costs[root][k])-s.v[j])
	}
	s.u[root] = ur

	sink, sinkRow := int32(-1), int32(-1)
	best := int64(math.MaxInt64)
	if d := s.scan(root, 0); d < best {
		best, sinkRow = d, root
	}
	for s.pq.size > 0 {
		top := s.pq.pop()
		j := top.col
		if s.done[j] || top.d != s.dist[j] {
			continue
		}
		if top.d >= best {
			break
		}
		s.done[j] = true
		if int32(len(s.colRows[j])) < s.cap[j] {
			best, sink, sinkRow = top.d, j, -1
			break
		}
		for _, r := range s.colRows[j] {
			if d := s.scan(r, top.d); d < best {
				best, sinkRow = d, r
			}
		}
	}

	// Dual update: everything settled closer than the sink moves by the
	// difference, which keeps the tree tight and all reduced costs ≥ 0.
	for k, r := range s.rowsSeen {
		s.u[r] += best - s.rowDist[k]
	}
	for _, j := range s.touched {
		if s.done[j] && j != sink {
			s.v[j] -= best - s.dist[j]
		}
	}

	// Flip the path, from the sink back to the root.
	col := sink
	if sinkRow >= 0 {
		col = s.rowCol[sinkRow]
		s.removeFromCol(sinkRow, col)
		s.rowCol[sinkRow] = unassigned
		if sinkRow == root {
			col = -1
		}
	}
	for col >= 0 {
		r := s.pred[col]
		prev := s.rowCol[r]
		s.rowCol[r] = col
		s.colRows[col] = append(s.colRows[col], r)
		if r == root {
			break
		}
		s.removeFromCol(r, prev)
		col = prev
	}

	s.resetSearch()
}

// resetSearch clears the Dijkstra state for the next search.
func (s *solver) resetSearch() {
	for _, j := range s.touched {
		s.dist[j] = math.MaxInt64
		s.done[j] = false
	}
	s.touched, s.rowsSeen, s.rowDist = s.touched[:0], s.rowsSeen[:0], s.rowDist[:0]
	s.pq.reset()
}

// scan settles row r at distance d: it relaxes r's candidate columns and
// returns the distance at which r's "unassigned" option ends a path.
func (s *solver) scan(r int32, d int64) int64 {
	s.rowsSeen = append(s.rowsSeen, r)
	s.rowDist = append(s.rowDist, d)
	ui := s.u[r]
	costs := s.edges.costs[r]
	dist, done, v := s.dist, s.done, s.v
	for k, j := range s.edges.cols[r] {
		if done[j] {
			continue
		}
		nd := d + int64(costs[k]) - ui - v[j]
		if nd < dist[j] {
			if dist[j] == math.MaxInt64 {
				s.touched = append(s.touched, j)
			}
			dist[j] = nd
			s.pred[j] = r
			s.pq.push(colDist{nd, j})
		}
	}
	return d + s.a.Unassigned - ui
}

func (s *solver) removeFromCol(r, col int32) {
	if col < 0 {
		return
	}
	rows := s.colRows[col]
	for k, x := range rows {
		if x == r {
			rows[k] = rows[len(rows)-1]
			s.colRows[col] = rows[:len(rows)-1]
			return
		}
	}
}

// certify checks the duals against every pair of the matrix. It returns,
// per row, the columns whose reduced cost is negative (nil when none) and
// whether the whole certificate holds. A pair that passed the last check
// can only fail now if its row's or its column's dual rose since, so after
// a first check of every pair it reads just those rows and columns (and
// the rows that failed), unless so many columns rose that reading every
// pair is cheaper.
func (s *solver) certify() (violations [][]int32, ok bool) {
	U := s.a.Unassigned
	ok = true
	vMax := int64(math.MinInt64)
	for j, rows := range s.colRows {
		vMax = max(vMax, s.v[j])
		if s.v[j] > 0 || (s.v[j] < 0 && int32(len(rows)) < s.cap[j]) {
			ok = false
		}
	}
	useFloor := s.floor != nil && vMax <= 0
	// The columns whose dual rose above its start, checked one by one
	// where pfloor stands for the others; nil when pfloor does not apply
	// or too many rose.
	var risen []int32
	usePFloor := useFloor && s.pfloor != nil
	if usePFloor {
		for j, v := range s.v {
			if v > s.start[j] {
				risen = append(risen, int32(j))
			}
		}
		usePFloor = len(risen) <= s.a.Cols/4
	}
	var rose []int32 // columns whose dual rose since the last check
	all := s.checked.u == nil
	if !all {
		for j, v := range s.v {
			if v > s.checked.v[j] {
				rose = append(rose, int32(j))
			}
		}
		all = len(rose) > s.a.Cols/16
	}
	off := newOffsets(s.v, s.lo, s.hi) // for the rows read in full
	violations = make([][]int32, s.a.Rows)
	var mu sync.Mutex
	parallelRows(s.a.Rows, s.a.Rows*s.a.Cols, func(i int, rs *rowScan) {
		ui := s.u[i]
		rowOK := ui <= U
		switch c := s.rowCol[i]; {
		case c == unassigned:
			rowOK = rowOK && ui == U
		case c >= 0:
			rowOK = rowOK && s.cost(i, c)-ui-s.v[c] == 0
		default:
			rowOK = false
		}
		row := s.a.Cost[i*s.a.Cols : (i+1)*s.a.Cols]
		var bad []int32
		fails := func(j int32) bool { c := row[j]; return c != Forbidden && int64(c)-s.v[j] < ui }
		readAll := all || ui > s.checked.u[i] || s.checked.failed[i]
		switch {
		case readAll && useFloor && (ui <= s.floor[i] || usePFloor && ui <= s.pfloor[i]):
			// Outside the candidates c-v ≥ c ≥ floor, and c-v ≥ c-start
			// ≥ pfloor in a column whose dual did not rise: only the
			// candidates and, unless u ≤ floor, the risen columns can
			// fail. (Costs from limit on are never below u ≤ U = limit.)
			for k, j := range s.edges.cols[i] {
				if int64(s.edges.costs[i][k])-s.v[j] < ui {
					bad = append(bad, j)
				}
			}
			if ui > s.floor[i] {
				for _, j := range risen {
					if fails(j) && !slices.Contains(bad, j) {
						bad = append(bad, j)
					}
				}
			}
		case readAll && off.add != nil:
			// c-v < u is c+(-v) ≤ u-1, a kernel's filter.
			if ui > math.MinInt32 {
				rs.idx = filterLEOff(row, off.add, Forbidden, int32(min(ui-1, math.MaxInt32-1)), rs.idx)
				bad = append(bad, rs.idx...)
			}
		case readAll:
			for j, c := range row {
				if c != Forbidden && int64(c)-s.v[j] < ui {
					bad = append(bad, int32(j))
				}
			}
		default:
			for _, j := range rose {
				if fails(j) {
					bad = append(bad, j)
				}
			}
		}
		if len(bad) > 0 || !rowOK {
			violations[i] = bad
			mu.Lock()
			ok = false
			mu.Unlock()
		}
	})
	if s.checked.u == nil {
		s.checked.u, s.checked.v, s.checked.failed = make([]int64, s.a.Rows), make([]int64, s.a.Cols), make([]bool, s.a.Rows)
	}
	copy(s.checked.u, s.u)
	copy(s.checked.v, s.v)
	for i, bad := range violations {
		s.checked.failed[i] = bad != nil
	}
	return violations, ok
}

// widen adds each violating row's violating columns (at most a bounded
// number, the most negative first) to its candidates and returns how many
// it added.
func (s *solver) widen(violations [][]int32) (added int) {
	const most = 64
	var rs rowScan
	for i, bad := range violations {
		if len(bad) == 0 {
			continue
		}
		if s.limit != Forbidden || len(bad) > most {
			row := s.a.Cost[i*s.a.Cols : (i+1)*s.a.Cols]
			bad, _ = kSmallest(row, most, s.limit, offsets{sub: s.v}, rotation(i, s.a.Cols), &rs)
		}
		before := len(s.edges.cols[i])
		s.edges.setRow(s.a, i, mergeSorted(s.edges.cols[i], bad, &rs), &rs)
		added += len(s.edges.cols[i]) - before
	}
	return added
}

// reseat frees the rows whose candidates grew and places them again
// along shortest paths that may end anywhere, then fills the places they
// left (fillHoles): the duals stay feasible and tight throughout.
func (s *solver) reseat(violations [][]int32) {
	for i, bad := range violations {
		if bad != nil {
			s.release(int32(i))
		}
	}
	s.placeFree()
	s.fillHoles()
}

// release takes row i off its column or its "unassigned" option.
func (s *solver) release(i int32) {
	if c := s.rowCol[i]; c >= 0 {
		s.removeFromCol(i, c)
	}
	s.rowCol[i] = free
	s.placed--
}

// fillHoles restores the one dual condition that a search does not keep
// by itself: a column with room must have v = 0 (a lower v says its places
// are worth having, and an empty one contradicts that). Each such "hole"
// is filled along a shortest path or given v = 0 (fillHole).
func (s *solver) fillHoles() {
	var rev reverseEdges
	for j := range s.colRows {
		if s.v[j] >= 0 || int32(len(s.colRows[j])) >= s.cap[j] {
			continue
		}
		if rev.rows == nil {
			rev = s.reverse()
		}
		for s.v[j] < 0 && int32(len(s.colRows[j])) < s.cap[j] {
			s.fillHole(int32(j), rev)
		}
	}
}

// reverseEdges lists, per column, the rows that have it as a candidate and
// the pairs' costs.
type reverseEdges struct {
	rows  [][]int32
	costs [][]int32
}

func (s *solver) reverse() reverseEdges {
	start := make([]int, s.a.Cols+1)
	for _, cols := range s.edges.cols {
		for _, j := range cols {
			start[j+1]++
		}
	}
	for j := range s.a.Cols {
		start[j+1] += start[j]
	}
	rows, costs := make([]int32, start[s.a.Cols]), make([]int32, start[s.a.Cols])
	next := start[:s.a.Cols:s.a.Cols]
	for i, cols := range s.edges.cols {
		for k, j := range cols {
			rows[next[j]], costs[next[j]] = int32(i), s.edges.costs[i][k]
			next[j]++
		}
	}
	// next[j] is now where column j+1 starts.
	rev := reverseEdges{rows: make([][]int32, s.a.Cols), costs: make([][]int32, s.a.Cols)}
	from := 0
	for j, to := range next {
		rev.rows[j], rev.costs[j] = rows[from:to:to], costs[from:to:to]
		from = to
	}
	return rev
}

// fillHole is augment's mirror image for column j with room and v < 0: a
// shortest path search in reduced costs from j backwards, over the rows
// that could move into a column and the columns they would leave. It
// ends at the cheapest of: raising some reached column's v to 0 and
// leaving the hole there (j itself included), or a row on its
// "unassigned" option moving in. Rows along the path each move one
// column on, and the duals move as in augment, so they stay feasible and
// tight and the hole is gone.
func (s *solver) fillHole(j int32, rev reverseEdges) {
	if s.rdist == nil {
		s.rdist, s.rdone, s.rpred = make([]int64, s.a.Rows), make([]bool, s.a.Rows), make([]int32, s.a.Rows)
		for i := range s.rdist {
			s.rdist[i] = math.MaxInt64
		}
	}
	best, endCol, endRow := -s.v[j], j, int32(-1)
	s.dist[j], s.done[j] = 0, true
	s.touched = append(s.touched, j)
	s.relaxInto(j, 0, rev)
	for s.pq.size > 0 {
		top := s.pq.pop()
		i := top.col // a row here
		if s.rdone[i] || top.d != s.rdist[i] {
			continue
		}
		if top.d >= best {
			break
		}
		s.rdone[i] = true
		y := s.rowCol[i]
		if y == unassigned { // its u is Unassigned: moving in costs nothing more
			best, endCol, endRow = top.d, -1, i
			break
		}
		if s.done[y] {
			continue
		}
		s.dist[y], s.done[y], s.pred[y] = top.d, true, i
		s.touched = append(s.touched, y)
		if e := top.d - s.v[y]; e < best {
			best, endCol, endRow = e, y, -1
		}
		s.relaxInto(y, top.d, rev)
	}

	// A row moves with its column, so that its pair stays tight: the
	// column's other occupants may be farther away, or not reached.
	for _, x := range s.touched {
		if delta := best - s.dist[x]; s.done[x] && delta > 0 {
			s.v[x] += delta
			for _, r := range s.colRows[x] {
				s.u[r] -= delta
			}
		}
	}

	// Move the rows, from the end back to j.
	col := endCol
	if endRow >= 0 {
		col = s.rpred[endRow]
		s.rowCol[endRow] = col
		s.colRows[col] = append(s.colRows[col], endRow)
	}
	for col != j {
		r := s.pred[col]
		into := s.rpred[r]
		s.removeFromCol(r, col)
		s.rowCol[r] = into
		s.colRows[into] = append(s.colRows[into], r)
		col = into
	}

	for _, r := range s.rowsReached {
		s.rdist[r], s.rdone[r] = math.MaxInt64, false
	}
	s.rowsReached = s.rowsReached[:0]
	s.resetSearch()
}

// relaxInto relaxes, at distance d from the hole, every row that could
// move into column x.
func (s *solver) relaxInto(x int32, d int64, rev reverseEdges) {
	vx := s.v[x]
	for k, i := range rev.rows[x] {
		if s.rdone[i] || s.rowCol[i] == x {
			continue
		}
		nd := d + int64(rev.costs[x][k]) - s.u[i] - vx
		if nd < s.rdist[i] {
			if s.rdist[i] == math.MaxInt64 {
				s.rowsReached = append(s.rowsReached, i)
			}
			s.rdist[i], s.rpred[i] = nd, x
			s.pq.push(colDist{nd, i})
		}
	}
}

// columnDominated reports whether the costs depend on the column far more
// than chance would make them: whether the column means of a sample of
// rows spread one and a half times what independent costs would give
// (uniform costs measure about 1.1, scored ones 1.8 to 3).
// Scored matrices are (a mentor strong in demanded skills suits nearly
// everyone); uniform ones are not, and skip the column candidates and the
// priced ones that only column-dominated costs need. A cost so common in
// the sample that it is likely the background (see background) is left
// out, as the search leaves it out.
func columnDominated(a Assignment) bool {
	sample := min(a.Rows, 64)
	if sample < 2 || a.Cols < 2 {
		return false
	}
	top, topCount, cells := int32(math.MinInt32), 0, 0
	for k := range sample {
		i := k * (a.Rows / sample)
		for _, c := range a.Cost[i*a.Cols : (i+1)*a.Cols] {
			switch {
			case c == Forbidden:
			case c > top:
				top, topCount = c, 1
			case c == top:
				topCount++
			}
			cells++
		}
	}
	limit := int32(Forbidden)
	if topCount >= cells/20 {
		limit = top
	}
	sum := make([]float64, a.Cols)
	count := make([]float64, a.Cols)
	var all, allSq, n float64
	for k := range sample {
		i := k * (a.Rows / sample)
		for j, c := range a.Cost[i*a.Cols : (i+1)*a.Cols] {
			if c >= limit {
				continue
			}
			x := float64(c)
			sum[j] += x
			count[j]++
			all += x
			allSq += x * x
			n++
		}
	}
	if n < 2 {
		return false
	}
	mean := all / n
	variance := allSq/n - mean*mean
	var spread, cols, perCol float64
	for j := range sum {
		if count[j] == 0 {
			continue
		}
		d := sum[j]/count[j] - mean
		spread += d * d
		perCol += count[j]
		cols++
	}
	if cols < 2 || variance <= 0 {
		return false
	}
	// Independent costs: a column mean over m cells varies by variance/m.
	return spread/cols > 1.5*variance/(perCol/cols)
}

// matrixScan is what the pass over the matrix learns: each row's k
// cheapest allowed columns, each column's candidate rows (see
// scanMatrix), the smallest and the largest cost with how often the
// largest occurs. Costs of the background (see background) may be among
// them until edges leaves them out.
type matrixScan struct {
	rowCols [][]int32 // per row, sorted
	floor   []int64   // per row, its k-th smallest cost (MaxInt64 with fewer)
	colKeys [][]int64 // per column, packed (cost, row); nil when rows would not pack
	lo, top int32     // the smallest and the largest allowed cost
	count   int       // how many pairs cost top
	// forbidden reports a forbidden pair somewhere.
	forbidden bool
}

// scanMatrix makes the matrixScan in one pass, rows in parallel. Rows are
// taken in bands of consecutive rows, columnBands·kc of them when the
// columns' candidates are wanted: per band and column the pass keeps the
// band's cheapest row, and a column's candidates are the cheapest rows of
// its cheapest bands, kc to 2kc of them. That is nearly its kc cheapest
// rows (two of them seldom share a band) for a comparison per pair;
// candidates need not be exact, the certificate covers every pair.
func scanMatrix(a Assignment, k, kc int) matrixScan {
	sc := matrixScan{rowCols: make([][]int32, a.Rows), floor: make([]int64, a.Rows), lo: math.MaxInt32, top: math.MinInt32}
	workers := workersFor(a.Rows * a.Cols)
	bands := 0
	if a.Rows < maxCols && kc > 0 {
		bands = min(columnBands*kc, a.Rows)
	}
	chunks := max(bands, workers)
	chunkRows := func(b int) (int, int) { return b * a.Rows / chunks, (b + 1) * a.Rows / chunks }
	// Per band, each column's smallest cost in it and the row of it.
	var bandMin, bandRow []int32
	if bands > 0 {
		bandMin, bandRow = make([]int32, chunks*a.Cols), make([]int32, chunks*a.Cols)
		for x := range bandMin {
			bandMin[x] = Forbidden
		}
	}
	parts := make([]matrixScan, workers) // each worker's tally
	inParallel(workers, func(w int) {
		part := matrixScan{lo: math.MaxInt32, top: math.MinInt32}
		var rs rowScan
		for b := w; b < chunks; b += workers {
			lo, hi := chunkRows(b)
			for i := lo; i < hi; i++ {
				row := a.Cost[i*a.Cols : (i+1)*a.Cols]
				sc.rowCols[i], sc.floor[i] = kSmallest(row, k, Forbidden, offsets{}, rotation(i, a.Cols), &rs)
				part.tally(row, &rs)
				if bandMin != nil {
					minInto(bandMin[b*a.Cols:(b+1)*a.Cols], bandRow[b*a.Cols:(b+1)*a.Cols], row, int32(i))
				}
			}
		}
		parts[w] = part
	})
	for _, part := range parts {
		sc.lo = min(sc.lo, part.lo)
		switch {
		case part.top > sc.top:
			sc.top, sc.count = part.top, part.count
		case part.top == sc.top:
			sc.count += part.count
		}
		sc.forbidden = sc.forbidden || part.forbidden
	}
	if bands == 0 {
		return sc
	}
	// Each column's candidates: the cheapest rows of its cheapest bands,
	// those with a cost up to a bound kc of them are within (a quarter
	// more may be), or, when more than 2kc tie at it, those below it and
	// the first ties.
	sc.colKeys = make([][]int64, a.Cols)
	all := make([]int64, chunks*a.Cols)
	inParallel(workers, func(w int) {
		mins := make([]int32, chunks)
		for j := w; j < a.Cols; j += workers {
			nb := 0 // bands with a value
			for b := range chunks {
				if c := bandMin[b*a.Cols+j]; c != Forbidden {
					mins[nb] = c
					nb++
				}
			}
			bound, within := int32(Forbidden-1), nb
			if nb > kc {
				bound, within = countedBound(mins[:nb], kc), 0
				for _, c := range mins[:nb] {
					if c <= bound {
						within++
					}
				}
			}
			keys := all[j*chunks : j*chunks : (j+1)*chunks]
			for b := range chunks {
				if c := bandMin[b*a.Cols+j]; c < bound || c == bound && (within <= 2*kc || len(keys) < kc) {
					keys = append(keys, pack(int64(c), int(bandRow[b*a.Cols+j])))
				}
			}
			sc.colKeys[j] = keys
		}
	})
	return sc
}

// columnBands is how many bands of rows per column candidate the scan
// keeps a cheapest row of: more bands, fewer of a column's cheapest rows
// lost to sharing one.
const columnBands = 4

// inParallel calls f(w) for each of workers on its own goroutine (one
// worker: on this one) and waits.
func inParallel(workers int, f func(w int)) {
	if workers == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(w)
		}()
	}
	wg.Wait()
}

// tally counts row, which kSmallest just read into rs, into the smallest
// and the largest allowed cost and how often the largest occurs, and
// notes a forbidden pair.
func (sc *matrixScan) tally(row []int32, rs *rowScan) {
	sc.lo = min(sc.lo, rs.lo)
	hi, count := rs.hi, rs.hiCount
	if hi == Forbidden {
		sc.forbidden = true
		hi, count = math.MinInt32, 0
		for _, c := range row {
			switch {
			case c == Forbidden || c < hi:
			case c > hi:
				hi, count = c, 1
			default:
				count++
			}
		}
	}
	switch {
	case hi > sc.top:
		sc.top, sc.count = hi, count
	case hi == sc.top:
		sc.count += count
	}
}

// background reports the matrix's largest cost when it is also so common
// (a twentieth of the pairs or more) that it acts as a default: a matrix
// where "not suitable" was written as a large finite cost, as for a
// solver without forbidden pairs. It applies only when no pair is
// forbidden, every row fits in the capacity and leaving a row out costs
// more.
func (sc matrixScan) background(a Assignment) (int32, bool) {
	if a.Rows == 0 || a.Cols == 0 || sc.forbidden {
		return 0, false
	}
	places := int64(0)
	for _, c := range capacities(a) {
		places += int64(c)
	}
	if int64(a.Rows) > places || sc.count < len(a.Cost)/20 || a.Unassigned <= int64(sc.top) {
		return 0, false
	}
	return sc.top, true
}

// edges returns the candidates: each row's cheapest columns and, where the
// scan kept them (column-dominated costs), each column's cheapest rows, all
// with costs below limit; rows in parallel. Without the columns' side a
// column that is no row's favourite (the least wanted mentor) would be
// nobody's candidate, and the search would never learn that some row
// could take it cheaply.
func (sc matrixScan) edges(a Assignment, limit int32) edgeSet {
	// Each row's columns from the columns' side, in column order, counted
	// first so that they share one array.
	start := make([]int, a.Rows+1)
	for _, keys := range sc.colKeys {
		for _, key := range keys {
			if key>>24 < int64(limit) {
				start[unpackCol(key)+1]++
			}
		}
	}
	for i := range a.Rows {
		start[i+1] += start[i]
	}
	extra := make([]int32, start[a.Rows])
	next := slices.Clone(start)
	for j, keys := range sc.colKeys {
		for _, key := range keys {
			if key>>24 < int64(limit) {
				i := unpackCol(key)
				extra[next[i]] = int32(j)
				next[i]++
			}
		}
	}
	e := edgeSet{cols: make([][]int32, a.Rows), costs: make([][]int32, a.Rows), all: a.Cols}
	parallelRows(a.Rows, a.Rows*64, func(i int, rs *rowScan) { // a few dozen candidates a row
		cols := sc.rowCols[i]
		kept := cols[:0]
		for _, j := range cols {
			if a.Cost[i*a.Cols+int(j)] < limit {
				kept = append(kept, j)
			}
		}
		if more := extra[start[i]:start[i+1]]; len(more) > 0 {
			kept = mergeSorted(kept, more, rs)
		}
		e.setRow(a, i, kept, rs)
	})
	return e
}

// Bounds of the price estimate: bids per row, and the least a bid raises a
// price by (Bertsekas' ε; a large one settles the auction in few bids, and
// the prices only have to be roughly right).
const (
	auctionBids = 10
	auctionStep = 64
)

// addPricedCandidates adds to each row its k cheapest columns at prices
// that reflect demand. Scored costs are dominated by the column (a strong
// mentor suits nearly everyone), so every row's cheapest columns are the
// same contested few, and the optimum puts most rows elsewhere. A short
// auction over the candidates (a column of capacity c is c places) prices
// the contested columns up; the columns each row should fall back on then
// come in. The prices, less the over-demanded columns' shift, are also the
// search's starting column duals (s.start). Neither choice can make a
// result wrong: the search is exact, and the certificate covers every pair.
func (s *solver) addPricedCandidates() {
	if s.edges.dense() || s.a.Rows == 0 {
		return
	}
	price, held := s.auctionPrices()
	s.start = make([]int64, s.a.Cols)
	for j, p := range price {
		s.start[j] = -p
	}
	s.shiftOverDemanded(held)

	// The cheapest columns at the starting duals: the auction's prices,
	// with the over-demanded columns dearer still.
	s.pfloor = make([]int64, s.a.Rows)
	off := newOffsets(s.start, s.lo, min(s.hi, s.limit-1))
	parallelRows(s.a.Rows, s.a.Rows*s.a.Cols, func(i int, rs *rowScan) {
		row := s.a.Cost[i*s.a.Cols : (i+1)*s.a.Cols]
		more, floor := kSmallest(row, s.k, s.limit, off, rotation(i, s.a.Cols), rs)
		s.pfloor[i] = floor
		s.edges.setRow(s.a, i, mergeSorted(s.edges.cols[i], more, rs), rs)
	})
}

// auctionPrices runs a bounded forward auction of the rows over their
// candidates and returns the price of entering each column (the lowest
// price among its places, 0 while one is free) and the column each row
// holds a place of at the end (-1: none).
func (s *solver) auctionPrices() (entry []int64, held []int32) {
	start := make([]int32, s.a.Cols+1)
	for j, c := range s.cap {
		start[j+1] = start[j] + c
	}
	places := start[s.a.Cols]
	price := make([]int64, places)
	holder := make([]int32, places)
	for p := range holder {
		holder[p] = -1
	}
	// Per column: its place with the lowest price, that price, and the
	// lowest price among its other places, kept up to date as prices rise
	// so that a bid reads them directly. "None" is never, a price so high
	// (2^62, above any Unassigned) that no sum with it wins or overflows,
	// so the bid's loop needs no branch for it.
	const never = math.MaxInt64 / 2
	low := make([]int64, s.a.Cols)
	second := make([]int64, s.a.Cols)
	lowPlace := make([]int32, s.a.Cols)
	update := func(j int32) {
		best, next := start[j], int64(never)
		for p := start[j] + 1; p < start[j+1]; p++ {
			if price[p] < price[best] {
				best, next = p, price[best]
			} else {
				next = min(next, price[p])
			}
		}
		low[j], second[j], lowPlace[j] = price[best], next, best
	}
	for j := range s.a.Cols {
		if s.cap[j] == 0 {
			low[j], second[j] = never, never
			continue
		}
		update(int32(j))
	}
	U := s.a.Unassigned
	queue := make([]int32, s.a.Rows)
	for i := range queue {
		queue[i] = int32(i)
	}
	for bids := auctionBids * s.a.Rows; len(queue) > 0 && bids > 0; bids-- {
		i := queue[0]
		queue = queue[1:]
		h1, h2, best := U, U, int32(-1)
		costs := s.edges.costs[i]
		for k, j := range s.edges.cols[i] {
			// The best two so far, without branches: which column is
			// best is anyone's guess, and a mispredicted branch costs
			// more than the arithmetic.
			c := int64(costs[k])
			h := c + low[j]
			if h < h1 {
				best = j
			}
			h1, h2 = min(h1, h), min(h2, max(h, h1))
			h2 = min(h2, max(h1, c+second[j])) // the column's next place competes too
		}
		if best < 0 {
			continue // leaving the row out is cheapest
		}
		p := lowPlace[best]
		price[p] += h2 - h1 + auctionStep
		update(best)
		if out := holder[p]; out >= 0 {
			queue = append(queue, out)
		}
		holder[p] = i
	}
	entry = make([]int64, s.a.Cols)
	held = make([]int32, s.a.Rows)
	for i := range held {
		held[i] = -1
	}
	for j := range entry {
		if s.cap[j] > 0 {
			entry[j] = low[j]
		}
		for _, i := range holder[start[j]:start[j+1]] {
			if i >= 0 {
				held[i] = int32(j)
			}
		}
	}
	return entry, held
}

// fillBackground puts the rows the search left out into the places left
// over, in index order. Each such pair costs exactly the background: a
// cheaper one would have been in the search, which left the row out only
// because no allowed pair beat leaving it out. The duals stay a
// certificate for the whole matrix: a row left out has u equal to the
// background, a column with room has v = 0, so each filled pair is tight,
// and every background pair has reduced cost background-u-v ≥ 0.
func (s *solver) fillBackground() {
	j := 0
	for i, c := range s.rowCol {
		if c != unassigned {
			continue
		}
		for int32(len(s.colRows[j])) >= s.cap[j] {
			j++
		}
		s.rowCol[i] = int32(j)
		s.colRows[j] = append(s.colRows[j], int32(i))
	}
}

func capacities(a Assignment) []int32 {
	if a.Capacity != nil {
		return a.Capacity
	}
	c := make([]int32, a.Cols)
	for j := range c {
		c[j] = 1
	}
	return c
}

func (s *solver) solution(certified bool) Solution {
	sol := Solution{Col: make([]int32, s.a.Rows), Certified: certified, Rounds: s.rounds, Edges: s.edges.size()}
	for i, c := range s.rowCol {
		if c < 0 {
			sol.Col[i] = -1
			continue
		}
		sol.Col[i] = c
		sol.Cost += s.cost(i, c)
		sol.Assigned++
	}
	return sol
}

// mergeSorted returns the union of two sorted lists, in memory from rs.
func mergeSorted(a, b []int32, rs *rowScan) []int32 {
	out := rs.take(len(a) + len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

type colDist struct {
	d   int64
	col int32
}

// radixHeap is a monotone priority queue of columns (or rows) by
// distance: a push is never below the last pop, as in Dijkstra's search
// over non-negative reduced costs. Bucket b holds the entries whose
// distance first differs from the last pop's in bit b-1 (bucket 0: equal
// to it), so a push is an append, and a pop redistributes one bucket only
// when the equal ones run out. Ties leave in a fixed order, so searches
// stay deterministic.
type radixHeap struct {
	last    int64
	size    int
	buckets [65][]colDist
}

func (h *radixHeap) push(x colDist) {
	b := bits.Len64(uint64(x.d ^ h.last))
	h.buckets[b] = append(h.buckets[b], x)
	h.size++
}

// pop removes and returns an entry of the least distance; the heap must
// not be empty.
func (h *radixHeap) pop() colDist {
	if len(h.buckets[0]) == 0 {
		i := 1
		for len(h.buckets[i]) == 0 {
			i++
		}
		m := h.buckets[i][0].d
		for _, x := range h.buckets[i][1:] {
			m = min(m, x.d)
		}
		h.last = m
		for _, x := range h.buckets[i] {
			b := bits.Len64(uint64(x.d ^ m))
			h.buckets[b] = append(h.buckets[b], x)
		}
		h.buckets[i] = h.buckets[i][:0]
	}
	b0 := h.buckets[0]
	x := b0[len(b0)-1]
	h.buckets[0] = b0[:len(b0)-1]
	h.size--
	return x
}

// reset empties the heap for a search from distance 0.
func (h *radixHeap) reset() {
	for b := range h.buckets {
		h.buckets[b] = h.buckets[b][:0]
	}
	h.last, h.size = 0, 0
}

// shiftOverDemanded lowers the starting duals of the over-demanded columns
// by one amount, chosen so that as many of their rows as a maximum matching
// of the candidates must leave out start on their "unassigned" option:
// those whose best option is dearest. The over-demanded columns are those
// reached by alternating paths from the rows such a matching leaves out
// (the Dulmage–Mendelsohn decomposition); their rows compete for fewer
// places than they are. Without the shift, each row the optimum leaves
// out is found by a search that settles the whole over-demanded part and
// leaves it flat in reduced costs for the next one; with it, most start
// where they end, and the few wrong guesses are put right by ordinary
// searches and fillHoles (scored 10k: 1.31M row scans fall to 0.33M).
func (s *solver) shiftOverDemanded(held []int32) {
	rowCol := s.maxCardinality(held)
	colRows := make([][]int32, s.a.Cols)
	inRows := make([]bool, s.a.Rows)
	inCols := make([]bool, s.a.Cols)
	var queue []int32
	for i, j := range rowCol {
		if j >= 0 {
			colRows[j] = append(colRows[j], int32(i))
		} else {
			inRows[i] = true
			queue = append(queue, int32(i))
		}
	}
	deficit := len(queue)
	if deficit == 0 {
		return
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range s.edges.cols[i] {
			if inCols[j] {
				continue
			}
			inCols[j] = true
			for _, r := range colRows[j] {
				if !inRows[r] {
					inRows[r] = true
					queue = append(queue, r)
				}
			}
		}
	}
	var best []int64 // each over-demanded row's cheapest option at the start duals
	for i, in := range inRows {
		if !in {
			continue
		}
		m := s.a.Unassigned
		for k, j := range s.edges.cols[i] {
			m = min(m, int64(s.edges.costs[i][k])-s.start[j])
		}
		best = append(best, m)
	}
	slices.Sort(best)
	delta := s.a.Unassigned - best[len(best)-deficit]
	if delta <= 0 {
		return
	}
	for j, in := range inCols {
		if in {
			s.start[j] -= delta
		}
	}
}

// maxCardinality returns a maximum-cardinality assignment of the rows to
// their candidate columns within capacity (Hopcroft–Karp), -1 for a row
// left out. It starts from held (nil: nothing), a partial assignment
// within capacity such as the auction's, which leaves it few rows to
// place.
func (s *solver) maxCardinality(held []int32) []int32 {
	rowCol := make([]int32, s.a.Rows)
	load := make([]int32, s.a.Cols)
	colRows := make([][]int32, s.a.Cols)
	for i := range rowCol {
		rowCol[i] = -1
		if held != nil && held[i] >= 0 {
			j := held[i]
			rowCol[i] = j
			load[j]++
			colRows[j] = append(colRows[j], int32(i))
		}
	}
	for i := range rowCol {
		if rowCol[i] >= 0 {
			continue
		}
		for _, j := range s.edges.cols[i] {
			if load[j] < s.cap[j] {
				rowCol[i] = j
				load[j]++
				colRows[j] = append(colRows[j], int32(i))
				break
			}
		}
	}
	level := make([]int32, s.a.Rows)
	next := make([]int32, s.a.Rows)
	for {
		// Levels of the rows on alternating paths from the free ones.
		var queue []int32
		for i := range level {
			level[i] = -1
			if rowCol[i] < 0 {
				level[i] = 0
				queue = append(queue, int32(i))
			}
		}
		found := false
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			for _, j := range s.edges.cols[i] {
				if load[j] < s.cap[j] {
					found = true
					continue
				}
				for _, r := range colRows[j] {
					if level[r] < 0 {
						level[r] = level[i] + 1
						queue = append(queue, r)
					}
				}
			}
		}
		if !found {
			return rowCol
		}
		// Vertex-disjoint augmenting paths along the levels.
		clear(next)
		var dfs func(i int32) bool
		dfs = func(i int32) bool {
			cols := s.edges.cols[i]
			for ; next[i] < int32(len(cols)); next[i]++ {
				j := cols[next[i]]
				if load[j] < s.cap[j] {
					load[j]++
					colRows[j] = append(colRows[j], i)
					rowCol[i] = j
					return true
				}
				for k, r := range colRows[j] {
					if level[r] == level[i]+1 && dfs(r) {
						colRows[j][k] = i
						rowCol[i] = j
						return true
					}
				}
			}
			level[i] = -1 // a dead end for the rest of this phase
			return false
		}
		grew := false
		for i := range rowCol {
			if rowCol[i] < 0 && level[i] == 0 && dfs(int32(i)) {
				grew = true
			}
		}
		if !grew {
			return rowCol
		}
	}
}
