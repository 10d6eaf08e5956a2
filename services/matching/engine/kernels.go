package engine

import (
	"math"
	"slices"
)

// The loops that read the whole cost matrix, written so that an assembly
// version can replace each on hardware with vector instructions
// (kernels_amd64.s). Each works on any length; the *Full forms, which the
// assembly replaces, take a length that is a multiple of 8 (and of bs).
// The Go forms here are the reference the assembly is tested against.

// valueOff is a cost's value with a column offset: c+off while c is
// below limit, else MaxInt32 (never a candidate). Callers make sure the
// sum cannot overflow.
func valueOff(c, off, limit int32) int32 {
	if c < limit {
		return c + off
	}
	return math.MaxInt32
}

// blockMins writes to mins the smallest value of each block of bs values
// of x (bs a multiple of 8; the last block may be shorter) and returns
// x's largest value (MinInt32 when x is empty).
func blockMins(x []int32, bs int, mins []int32) int32 {
	full := len(x) / bs * bs
	mx := int32(math.MinInt32)
	if full > 0 {
		mx = blockMinsFull(x[:full], bs, mins)
	}
	if full < len(x) {
		m := int32(math.MaxInt32)
		for _, c := range x[full:] {
			m, mx = min(m, c), max(mx, c)
		}
		mins[full/bs] = m
	}
	return mx
}

func blockMinsGo(x []int32, bs int, mins []int32) int32 {
	mx := int32(math.MinInt32)
	for b := 0; b < len(x); b += bs {
		m := int32(math.MaxInt32)
		for _, c := range x[b : b+bs] {
			m, mx = min(m, c), max(mx, c)
		}
		mins[b/bs] = m
	}
	return mx
}

// blockMinsOff is blockMins of the values valueOff(x[j], off[j], limit),
// without the largest.
func blockMinsOff(x, off []int32, limit int32, bs int, mins []int32) {
	full := len(x) / bs * bs
	if full > 0 {
		blockMinsOffFull(x[:full], off[:full], limit, bs, mins)
	}
	if full < len(x) {
		m := int32(math.MaxInt32)
		for j := full; j < len(x); j++ {
			m = min(m, valueOff(x[j], off[j], limit))
		}
		mins[full/bs] = m
	}
}

func blockMinsOffGo(x, off []int32, limit int32, bs int, mins []int32) {
	for b := 0; b < len(x); b += bs {
		m := int32(math.MaxInt32)
		for j := b; j < b+bs; j++ {
			m = min(m, valueOff(x[j], off[j], limit))
		}
		mins[b/bs] = m
	}
}

// filterLE appends to idx the indexes j with x[j] ≤ t, in order, and
// counts the x[j] equal to eq.
func filterLE(x []int32, t, eq int32, idx []int32) ([]int32, int) {
	full := len(x) &^ 7
	idx = grow(idx, len(x))
	n, count := 0, 0
	if full > 0 {
		n, count = filterLEFull(x[:full], t, eq, idx[:len(x)])
	}
	idx = idx[:n]
	for j := full; j < len(x); j++ {
		if x[j] <= t {
			idx = append(idx, int32(j))
		}
		if x[j] == eq {
			count++
		}
	}
	return idx, count
}

func filterLEGo(x []int32, t, eq int32, idx []int32) (n, count int) {
	for j, c := range x {
		if c <= t {
			idx[n] = int32(j)
			n++
		}
		if c == eq {
			count++
		}
	}
	return n, count
}

// filterLEOff appends to idx the indexes j with valueOff(x[j], off[j],
// limit) ≤ t, in order; t must be below MaxInt32.
func filterLEOff(x, off []int32, limit, t int32, idx []int32) []int32 {
	full := len(x) &^ 7
	idx = grow(idx, len(x))
	n := 0
	if full > 0 {
		n = filterLEOffFull(x[:full], off[:full], limit, t, idx[:len(x)])
	}
	idx = idx[:n]
	for j := full; j < len(x); j++ {
		if valueOff(x[j], off[j], limit) <= t {
			idx = append(idx, int32(j))
		}
	}
	return idx
}

func filterLEOffGo(x, off []int32, limit, t int32, idx []int32) (n int) {
	for j, c := range x {
		if valueOff(c, off[j], limit) <= t {
			idx[n] = int32(j)
			n++
		}
	}
	return n
}

// minInto lowers each of mins to x's value at its index where that is
// smaller, and sets the index's entry of rows to row there.
func minInto(mins, rows, x []int32, row int32) {
	full := len(x) &^ 7
	if full > 0 {
		minIntoFull(mins[:full], rows[:full], x[:full], row)
	}
	for j := full; j < len(x); j++ {
		if x[j] < mins[j] {
			mins[j], rows[j] = x[j], row
		}
	}
}

func minIntoGo(mins, rows, x []int32, row int32) {
	mins, rows = mins[:len(x)], rows[:len(x)]
	for j, c := range x {
		if c < mins[j] {
			mins[j], rows[j] = c, row
		}
	}
}

// grow returns idx emptied, with room for n.
func grow(idx []int32, n int) []int32 {
	if cap(idx) < n {
		return make([]int32, 0, n)
	}
	return idx[:0]
}

// filterEQ appends to idx the indexes j with x[j] == v, in order, and
// stops at most: the first ties of a value.
func filterEQ(x []int32, v int32, most int, idx []int32) []int32 {
	full := len(x) &^ 7
	from := len(idx)
	idx = slices.Grow(idx, len(x)+8)
	n := 0
	if full > 0 && most > 0 {
		n = filterEQFull(x[:full], v, most, idx[from:from+len(x)+8])
	}
	idx = idx[:from+min(n, most)]
	for j := full; j < len(x) && len(idx)-from < most; j++ {
		if x[j] == v {
			idx = append(idx, int32(j))
		}
	}
	return idx
}

// filterEQGo is filterEQ's Go form: it may find up to 7 more than most,
// as the vector form does (the caller drops them).
func filterEQGo(x []int32, v int32, most int, idx []int32) (n int) {
	for b := 0; b < len(x) && n < most; b += 8 {
		for j := b; j < b+8; j++ {
			if x[j] == v {
				idx[n] = int32(j)
				n++
			}
		}
	}
	return n
}
