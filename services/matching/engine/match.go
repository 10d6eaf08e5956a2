package engine

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Strategy is how Match pairs the pool.
type Strategy uint8

// Strategies.
const (
	// Optimal maximises the total score under the capacities (and, with
	// MaximiseParticipation, the number of pairs first). The result is
	// certified optimal.
	Optimal Strategy = iota
	// Stable is deferred acceptance, mentees proposing: no mentor and
	// mentee who are not paired would both rather be paired together.
	Stable
)

// Options tune Match.
type Options struct {
	Strategy Strategy
	// MaximiseParticipation makes Optimal pair as many mentees as any
	// assignment can before it maximises the score. Stable ignores it.
	MaximiseParticipation bool
	// Progress, if set, is called with done ≤ total as the work advances.
	Progress func(done, total int)
}

// Pair is one mentor–mentee pair of a result.
type Pair struct {
	Mentor, Mentee int
	// Score is from 0 to 100.
	Score float64
}

// Reason says why a participant is left unmatched.
type Reason string

// Reasons a participant is left unmatched.
const (
	// ReasonNoEligiblePartner: every pair with the other side breaks a
	// hard rule; Detail counts the rules.
	ReasonNoEligiblePartner Reason = "no_eligible_partner"
	// ReasonBelowMinScore: the only pairs that break no other rule score
	// below the program's minimum.
	ReasonBelowMinScore Reason = "below_min_score"
	// ReasonPartnersTaken: every eligible partner is at capacity with
	// pairs that are better for the program as a whole.
	ReasonPartnersTaken Reason = "partners_taken"
	// ReasonNotChosen: an eligible partner had room, but pairing them
	// would not raise the total (a pair scoring 0), or, for a mentor,
	// there are fewer mentees than mentor places.
	ReasonNotChosen Reason = "not_chosen"
)

// Unmatched is a participant without a pair and the reason.
type Unmatched struct {
	Side Side
	// Index is into the model's mentees or mentors, by Side.
	Index  int
	Reason Reason
	Detail string
}

// Segment is the fairness view of one group of mentees.
type Segment struct {
	// Dimension is "department" or "seniority_band".
	Dimension, Name     string
	Mentees, Matched    int
	MeanScore, MinScore float64
}

// Metrics summarise a result.
type Metrics struct {
	Mentees, Mentors, Pairs int
	// Coverage is Pairs / Mentees (0 when there are no mentees).
	Coverage                        float64
	MeanScore, MinScore, TotalScore float64
	// Histogram counts pair scores by tenths: [0,10), [10,20), …, [90,100].
	Histogram [10]int
	// Segments are the mentees by department and by seniority band, sorted
	// by dimension then name.
	Segments []Segment
}

// Result is a matching of a model's pool.
type Result struct {
	// Pairs are sorted by mentee.
	Pairs     []Pair
	Unmatched []Unmatched
	Metrics   Metrics
	// Certified is true when Optimal proved its result optimal over every
	// pair; always false for Stable, which optimises nothing.
	Certified bool
}

// Match pairs the model's mentees with its mentors. It blocks for the whole
// computation, which is deterministic.
func Match(m *Model, o Options) (Result, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(int, int) {}
	}
	rows, cols := len(m.Mentees()), len(m.Mentors())
	// Progress in thousandths: scoring a tenth, the assignment most of it,
	// the explanation of the unmatched the rest.
	const total = 1000
	progress(0, total)
	costs := m.Costs(0)
	progress(100, total)
	caps := m.Capacities()
	var col []int32
	certified := false
	switch o.Strategy {
	case Optimal:
		a := Assignment{Rows: rows, Cols: cols, Cost: costs, Capacity: caps, Unassigned: ScoreScale}
		if o.MaximiseParticipation {
			a.Unassigned = MaxCardinalityPenalty(a)
		}
		sol, err := Solve(a, func(done, all int) { progress(100+800*done/max(all, 1), total) })
		if err != nil {
			return Result{}, err
		}
		col, certified = sol.Col, sol.Certified
	case Stable:
		col = deferredAcceptance(costs, rows, cols, caps)
	default:
		return Result{}, fmt.Errorf("unknown strategy %d", o.Strategy)
	}
	progress(900, total)
	r := Result{Certified: certified}
	load := make([]int32, cols)
	for i, j := range col {
		if j < 0 {
			continue
		}
		load[j]++
		r.Pairs = append(r.Pairs, Pair{Mentor: int(j), Mentee: i, Score: points(ScoreScale - costs[i*cols+int(j)])})
	}
	r.Unmatched = unmatched(m, costs, col, load)
	r.Metrics = metrics(m, r.Pairs)
	progress(total, total)
	return r, nil
}

func points(hundredths int32) float64 { return float64(hundredths) / 100 }

// deferredAcceptance is the mentee-proposing Gale–Shapley algorithm with
// mentor capacities. Both sides prefer lower costs, ties to the lower
// index; forbidden pairs are unacceptable to both.
func deferredAcceptance(costs []int32, rows, cols int, caps []int32) []int32 {
	prefs := make([][]int32, rows)
	for i := range rows {
		row := costs[i*cols : (i+1)*cols]
		var p []int32
		for j, c := range row {
			if c != Forbidden {
				p = append(p, int32(j))
			}
		}
		slices.SortStableFunc(p, func(a, b int32) int { return cmp.Compare(row[a], row[b]) })
		prefs[i] = p
	}
	// worse reports whether mentor j prefers mentee b to mentee a.
	worse := func(j int32, a, b int32) bool {
		ca, cb := costs[int(a)*cols+int(j)], costs[int(b)*cols+int(j)]
		return ca > cb || (ca == cb && a > b)
	}
	col := make([]int32, rows)
	next := make([]int, rows)
	held := make([][]int32, cols)
	queue := make([]int32, 0, rows)
	for i := range rows {
		col[i] = -1
		queue = append(queue, int32(i))
	}
	for len(queue) > 0 {
		i := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for next[i] < len(prefs[i]) {
			j := prefs[i][next[i]]
			next[i]++
			if int32(len(held[j])) < caps[j] {
				held[j] = append(held[j], i)
				col[i] = j
				break
			}
			w := 0 // the mentor's least preferred held mentee
			for k := range held[j] {
				if worse(j, held[j][k], held[j][w]) {
					w = k
				}
			}
			if out := held[j][w]; worse(j, out, i) {
				held[j][w], col[i], col[out] = i, j, -1
				queue = append(queue, out)
				break
			}
		}
	}
	return col
}

// unmatched explains every mentee and mentor left without a pair.
func unmatched(m *Model, costs []int32, col []int32, load []int32) []Unmatched {
	rows, cols := len(col), len(load)
	caps := m.Capacities()
	var out []Unmatched
	for i, j := range col {
		if j >= 0 {
			continue
		}
		eligible, room := 0, 0
		for c := range cols {
			if costs[i*cols+c] != Forbidden {
				eligible++
				if load[c] < caps[c] {
					room++
				}
			}
		}
		u := Unmatched{Side: SideMentee, Index: i}
		switch {
		case eligible == 0:
			u.Reason, u.Detail = ruleTally(cols, func(c int) PairScore { return m.Explain(c, i) }, "mentor")
		case room == 0:
			u.Reason = ReasonPartnersTaken
			u.Detail = fmt.Sprintf("all %d eligible mentors are at capacity with pairs that serve the program better", eligible)
		default:
			u.Reason = ReasonNotChosen
			u.Detail = fmt.Sprintf("%d eligible mentors have room, but no pair would raise the total score", room)
		}
		out = append(out, u)
	}
	for c, l := range load {
		if l > 0 {
			continue
		}
		eligible := 0
		for i := range rows {
			if costs[i*cols+c] != Forbidden {
				eligible++
			}
		}
		u := Unmatched{Side: SideMentor, Index: c}
		if eligible == 0 {
			u.Reason, u.Detail = ruleTally(rows, func(i int) PairScore { return m.Explain(c, i) }, "mentee")
		} else {
			u.Reason = ReasonNotChosen
			u.Detail = fmt.Sprintf("all %d eligible mentees are paired with mentors who suit them better", eligible)
		}
		out = append(out, u)
	}
	return out
}

// tallyLimit bounds how many pairs ruleTally explains for one person: an
// explanation costs about 10µs, and a pool can leave many people without
// any eligible partner.
const tallyLimit = 200

// ruleTally counts the hard rules broken by a person's pairs with the n
// people of the other side (at most tallyLimit of them) and names the
// reason: below the minimum score when that is all that stands in the way.
func ruleTally(n int, explain func(int) PairScore, other string) (Reason, string) {
	if n == 0 {
		return ReasonNoEligiblePartner, "there is no " + other + " in the pool"
	}
	counts := map[Rule]int{}
	onlyMinScore := 0
	seen := min(n, tallyLimit)
	for k := range seen {
		broken := explain(k).Broken
		if len(broken) == 1 && broken[0] == RuleMinScore {
			onlyMinScore++
		}
		for _, r := range broken {
			counts[r]++
		}
	}
	rules := make([]Rule, 0, len(counts))
	for r := range counts {
		rules = append(rules, r)
	}
	slices.SortFunc(rules, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(rules))
	for k, r := range rules {
		parts[k] = fmt.Sprintf("%s %d", r, counts[r])
	}
	detail := fmt.Sprintf("every %s is excluded by hard rules; of the %d examined: %s", other, seen, strings.Join(parts, ", "))
	if onlyMinScore > 0 {
		return ReasonBelowMinScore, fmt.Sprintf("%d %ss break no rule but score below the minimum; %s", onlyMinScore, other, detail)
	}
	return ReasonNoEligiblePartner, detail
}

// metrics summarises pairs, with the fairness view over the mentees.
func metrics(m *Model, pairs []Pair) Metrics {
	mentees := m.Mentees()
	mt := Metrics{Mentees: len(mentees), Mentors: len(m.Mentors()), Pairs: len(pairs)}
	if mt.Mentees > 0 {
		mt.Coverage = float64(len(pairs)) / float64(mt.Mentees)
	}
	type acc struct {
		mentees, matched int
		sum, low         float64
	}
	groups := map[[2]string]*acc{}
	group := func(dim, name string) *acc {
		k := [2]string{dim, name}
		g := groups[k]
		if g == nil {
			g = &acc{low: math.Inf(1)}
			groups[k] = g
		}
		return g
	}
	keys := func(p Profile) [2][2]string {
		dept := strings.TrimSpace(p.Department)
		if dept == "" {
			dept = "(none)"
		}
		return [2][2]string{{"department", dept}, {"seniority_band", SeniorityBand(p.Seniority)}}
	}
	for _, p := range mentees {
		for _, k := range keys(p) {
			group(k[0], k[1]).mentees++
		}
	}
	for n, p := range pairs {
		mt.TotalScore += p.Score
		if n == 0 || p.Score < mt.MinScore {
			mt.MinScore = p.Score
		}
		mt.Histogram[min(int(p.Score/10), 9)]++
		for _, k := range keys(mentees[p.Mentee]) {
			g := group(k[0], k[1])
			g.matched++
			g.sum += p.Score
			g.low = min(g.low, p.Score)
		}
	}
	if len(pairs) > 0 {
		mt.MeanScore = round2(mt.TotalScore / float64(len(pairs)))
	}
	mt.TotalScore = round2(mt.TotalScore)
	for k, g := range groups {
		s := Segment{Dimension: k[0], Name: k[1], Mentees: g.mentees, Matched: g.matched}
		if g.matched > 0 {
			s.MeanScore, s.MinScore = round2(g.sum/float64(g.matched)), g.low
		}
		mt.Segments = append(mt.Segments, s)
	}
	slices.SortFunc(mt.Segments, func(a, b Segment) int {
		return cmp.Or(cmp.Compare(a.Dimension, b.Dimension), cmp.Compare(a.Name, b.Name))
	})
	return mt
}

// SeniorityBand names the band of a seniority level: L1-3, L4-6, L7-9 or
// L10-12 (L0 for an unknown level).
func SeniorityBand(level int) string {
	if level <= 0 {
		return "L0"
	}
	lo := (level-1)/3*3 + 1
	return fmt.Sprintf("L%d-%d", lo, lo+2)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
