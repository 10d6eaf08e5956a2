package engine_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/services/matching/engine"
)

// smallPool returns a seeded random pool small enough for brute force,
// with enough variety that some pairs break hard rules.
func smallPool(r *rand.Rand, mentors, mentees int) ([]engine.Profile, []engine.Profile) {
	depts := []string{"IT", "Sales", "HR"}
	zones := []string{"Europe/London", "America/New_York", "Asia/Kolkata"}
	langs := []string{"en", "fr", "de"}
	skills := []string{"ai", "excel", "social"}
	person := func(id string) engine.Profile {
		p := engine.Profile{
			ID: "p-" + id, PersonID: id,
			Seniority:    1 + r.IntN(10),
			Department:   depts[r.IntN(len(depts))],
			TimeZone:     zones[r.IntN(len(zones))],
			Languages:    []string{langs[r.IntN(len(langs))]},
			Competencies: map[string]int{},
			Capacity:     1 + r.IntN(2),
		}
		for _, s := range skills {
			if r.IntN(2) == 0 {
				p.Competencies[s] = 1 + r.IntN(5)
			}
		}
		p.Wants = []engine.Want{{Skill: skills[r.IntN(len(skills))], Current: 1, Target: 2 + r.IntN(4)}}
		return p
	}
	var ms, es []engine.Profile
	for k := range mentors {
		ms = append(ms, person(fmt.Sprintf("m%d", k)))
	}
	for k := range mentees {
		es = append(es, person(fmt.Sprintf("e%d", k)))
	}
	if mentees > 0 && mentors > 0 && r.IntN(3) == 0 {
		es[0].Avoid = []string{ms[0].PersonID}
	}
	return ms, es
}

func smallRules(r *rand.Rand) engine.Rules {
	return engine.Rules{
		Type: engine.ProgramType(r.IntN(3)),
		Weights: engine.Weights{
			CompetencyCoverage: 40, SeniorityGap: 20, CrossDepartment: 10, TimeZoneOverlap: 15,
			SharedLanguage: 10, FormatFit: 5,
		},
		ReportingChainDepth:   2,
		RequireSharedLanguage: r.IntN(2) == 0,
		MinPairScore:          float64(r.IntN(40)),
	}
}

// bestByBruteForce returns the best (pairs, total score in hundredths) over
// every feasible matching: the largest total, or with participation first
// the most pairs and then the largest total.
func bestByBruteForce(m *engine.Model, participation bool) (int, int64) {
	mentors, mentees := len(m.Mentors()), len(m.Mentees())
	caps := m.Capacities()
	load := make([]int32, mentors)
	bestPairs, bestTotal := 0, int64(-1)
	var walk func(e, pairs int, total int64)
	walk = func(e, pairs int, total int64) {
		if e == mentees {
			better := total > bestTotal
			if participation {
				better = pairs > bestPairs || (pairs == bestPairs && total > bestTotal)
			}
			if better {
				bestPairs, bestTotal = pairs, total
			}
			return
		}
		walk(e+1, pairs, total)
		for t := range mentors {
			s, ok := m.Score(t, e)
			if !ok || load[t] >= caps[t] {
				continue
			}
			load[t]++
			walk(e+1, pairs+1, total+int64(s))
			load[t]--
		}
	}
	walk(0, 0, 0)
	return bestPairs, bestTotal
}

// checkFeasible fails unless every pair breaks no hard rule and no mentor
// is over capacity; it returns the total score in hundredths.
func checkFeasible(t *testing.T, m *engine.Model, res engine.Result) int64 {
	t.Helper()
	load := map[int]int32{}
	seen := map[int]bool{}
	total := int64(0)
	for _, p := range res.Pairs {
		require.False(t, seen[p.Mentee], "mentee %d paired twice", p.Mentee)
		seen[p.Mentee] = true
		ps := m.Explain(p.Mentor, p.Mentee)
		require.Empty(t, ps.Broken, "pair %+v breaks a hard rule", p)
		require.InDelta(t, ps.Score, p.Score, 1e-9)
		load[p.Mentor]++
		s, _ := m.Score(p.Mentor, p.Mentee)
		total += int64(s)
	}
	for mentor, l := range load {
		require.LessOrEqual(t, l, m.Capacities()[mentor], "mentor %d over capacity", mentor)
	}
	require.Equal(t, len(m.Mentees())-len(res.Pairs), countSide(res.Unmatched, engine.SideMentee))
	return total
}

func countSide(us []engine.Unmatched, side engine.Side) int {
	n := 0
	for _, u := range us {
		if u.Side == side {
			n++
		}
	}
	return n
}

func TestOptimalEqualsBruteForceAndBreaksNoRule(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	for n := range 300 {
		mentors, mentees := smallPool(r, 1+r.IntN(3), 1+r.IntN(5))
		rules := smallRules(r)
		m, err := engine.NewModel(rules, mentors, mentees)
		require.NoError(t, err)
		for _, participation := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d_participation_%v", n, participation), func(t *testing.T) {
				res, err := engine.Match(m, engine.Options{Strategy: engine.Optimal, MaximiseParticipation: participation})
				require.NoError(t, err)
				require.True(t, res.Certified)
				total := checkFeasible(t, m, res)
				wantPairs, wantTotal := bestByBruteForce(m, participation)
				require.Equal(t, wantTotal, total, "total score")
				if participation {
					require.Equal(t, wantPairs, len(res.Pairs), "pairs")
				}
			})
		}
	}
}

func TestStableHasNoBlockingPair(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(21, 22))
	for n := range 200 {
		mentors, mentees := smallPool(r, 1+r.IntN(6), 1+r.IntN(12))
		m, err := engine.NewModel(smallRules(r), mentors, mentees)
		require.NoError(t, err)
		res, err := engine.Match(m, engine.Options{Strategy: engine.Stable})
		require.NoError(t, err)
		checkFeasible(t, m, res)
		require.False(t, res.Certified)

		mentorOf := map[int]int{}
		held := map[int][]int{}
		for _, p := range res.Pairs {
			mentorOf[p.Mentee] = p.Mentor
			held[p.Mentor] = append(held[p.Mentor], p.Mentee)
		}
		// prefers reports whether someone scoring a with one partner
		// prefers b with another: higher score, ties to the lower index.
		prefers := func(sa int32, ia int, sb int32, ib int) bool { return sb > sa || (sb == sa && ib < ia) }
		for e := range mentees {
			for t2 := range mentors {
				s, ok := m.Score(t2, e)
				if !ok {
					continue
				}
				if cur, paired := mentorOf[e]; paired {
					if cur == t2 {
						continue
					}
					sc, _ := m.Score(cur, e)
					if !prefers(sc, cur, s, t2) {
						continue // the mentee is happier as it is
					}
				}
				if len(held[t2]) < int(m.Capacities()[t2]) {
					t.Fatalf("case %d: mentee %d and mentor %d (with room) block", n, e, t2)
				}
				for _, other := range held[t2] {
					so, _ := m.Score(t2, other)
					if prefers(so, other, s, e) {
						t.Fatalf("case %d: mentee %d and mentor %d (would drop %d) block", n, e, t2, other)
					}
				}
			}
		}
	}
}

func TestMatchIsDeterministic(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(31, 32))
	mentors, mentees := smallPool(r, 60, 100)
	m, err := engine.NewModel(smallRules(r), mentors, mentees)
	require.NoError(t, err)
	for _, s := range []engine.Strategy{engine.Optimal, engine.Stable} {
		first, err := engine.Match(m, engine.Options{Strategy: s})
		require.NoError(t, err)
		again, err := engine.Match(m, engine.Options{Strategy: s})
		require.NoError(t, err)
		require.Empty(t, cmp.Diff(first, again))
	}
}

func TestMatchExplainsTheUnmatched(t *testing.T) {
	t.Parallel()
	base := func(id string, seniority int) engine.Profile {
		return engine.Profile{
			ID: "p-" + id, PersonID: id, Seniority: seniority, Languages: []string{"en"},
			Competencies: map[string]int{"ai": 5}, Wants: []engine.Want{{Skill: "ai", Current: 1, Target: 4}},
			Capacity: 1,
		}
	}
	rules := engine.Rules{Type: engine.Reverse, Weights: engine.Weights{CompetencyCoverage: 1}}
	mentors := []engine.Profile{base("m1", 2)}
	mentees := []engine.Profile{
		base("e1", 9), // takes the only mentor
		base("e2", 8), // eligible, but the mentor is taken
		base("e3", 1), // more junior than the mentor: reverse rule
	}
	m, err := engine.NewModel(rules, mentors, mentees)
	require.NoError(t, err)
	res, err := engine.Match(m, engine.Options{Strategy: engine.Optimal})
	require.NoError(t, err)
	require.Len(t, res.Pairs, 1)
	reasons := map[int]engine.Reason{}
	for _, u := range res.Unmatched {
		require.Equal(t, engine.SideMentee, u.Side)
		reasons[u.Index] = u.Reason
		if u.Index == 2 {
			require.Contains(t, u.Detail, string(engine.RuleReverseSeniority))
		}
	}
	// e1 and e2 tie on score, so either may get the mentor; the other is
	// left out because the mentor is taken.
	require.Equal(t, engine.ReasonPartnersTaken, reasons[1-res.Pairs[0].Mentee])
	require.Equal(t, engine.ReasonNoEligiblePartner, reasons[2])

	// A classic program (no proficiency rule) whose minimum only a full
	// coverage reaches: the mentor covers 3 of the target 5.
	rules.Type, rules.MinPairScore = engine.Classic, 99.5
	mentees[0].Wants[0].Target = 5
	mentors[0].Competencies["ai"] = 3
	m, err = engine.NewModel(rules, mentors, mentees[:1])
	require.NoError(t, err)
	res, err = engine.Match(m, engine.Options{Strategy: engine.Optimal})
	require.NoError(t, err)
	require.Empty(t, res.Pairs)
	require.Len(t, res.Unmatched, 2)
	require.Equal(t, engine.ReasonBelowMinScore, res.Unmatched[0].Reason)
	require.Equal(t, engine.SideMentor, res.Unmatched[1].Side)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	p := func(id, dept string, seniority int, ai int) engine.Profile {
		return engine.Profile{
			ID: "p-" + id, PersonID: id, Department: dept, Seniority: seniority,
			Competencies: map[string]int{"ai": ai}, Wants: []engine.Want{{Skill: "ai", Current: 1, Target: 4}},
			Capacity: 1,
		}
	}
	// Only competency coverage counts: a mentor at level L scores
	// min(L,4)/4 × 100 with any mentee.
	rules := engine.Rules{Type: engine.Classic, Weights: engine.Weights{CompetencyCoverage: 1}}
	mentors := []engine.Profile{p("m1", "IT", 9, 4), p("m2", "IT", 9, 1)}
	mentees := []engine.Profile{p("e1", "Sales", 2, 0), p("e2", "HR", 5, 0), p("e3", "Sales", 3, 0)}
	m, err := engine.NewModel(rules, mentors, mentees)
	require.NoError(t, err)
	res, err := engine.Match(m, engine.Options{Strategy: engine.Optimal})
	require.NoError(t, err)
	// Scores 100 and 25; the third mentee is left out.
	got := res.Metrics
	require.Equal(t, 3, got.Mentees)
	require.Equal(t, 2, got.Mentors)
	require.Equal(t, 2, got.Pairs)
	require.InDelta(t, 2.0/3, got.Coverage, 1e-12)
	require.InDelta(t, 125.0, got.TotalScore, 1e-9)
	require.InDelta(t, 62.5, got.MeanScore, 1e-9)
	require.InDelta(t, 25.0, got.MinScore, 1e-9)
	require.Equal(t, [10]int{0, 0, 1, 0, 0, 0, 0, 0, 0, 1}, got.Histogram)
	var names []string
	for _, s := range got.Segments {
		names = append(names, s.Dimension+"/"+s.Name)
		require.Equal(t, map[string]int{"HR": 1, "Sales": 2, "L1-3": 2, "L4-6": 1}[s.Name], s.Mentees, s.Name)
	}
	require.Equal(t, []string{"department/HR", "department/Sales", "seniority_band/L1-3", "seniority_band/L4-6"}, names)
}

func TestSeniorityBand(t *testing.T) {
	t.Parallel()
	for level, want := range map[int]string{0: "L0", 1: "L1-3", 3: "L1-3", 4: "L4-6", 9: "L7-9", 10: "L10-12", 12: "L10-12"} {
		require.Equal(t, want, engine.SeniorityBand(level), "level %d", level)
	}
}

func TestMatchReportsProgress(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(41, 42))
	mentors, mentees := smallPool(r, 50, 80)
	m, err := engine.NewModel(smallRules(r), mentors, mentees)
	require.NoError(t, err)
	last := -1
	_, err = engine.Match(m, engine.Options{Progress: func(done, total int) {
		require.GreaterOrEqual(t, done, last)
		require.LessOrEqual(t, done, total)
		last = done
	}})
	require.NoError(t, err)
	require.Equal(t, 1000, last)
}
