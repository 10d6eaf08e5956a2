package engine_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/services/matching/engine"
)

// Vocabularies of the generated pools.
var (
	poolDepartments = []string{"Sales", "IT", "Finance", "HR", "Legal", "Marketing", "Operations",
		"Research", "Support", "Procurement", "Risk", "Strategy"}
	poolSkills = []string{"generative-ai", "prompting", "python", "sql", "excel", "data-viz", "cloud",
		"security", "agile", "ux", "automation", "machine-learning", "apis", "devops", "social-media",
		"no-code", "analytics", "privacy", "collaboration-tools", "video"}
	// poolZones include half- and quarter-hour offsets and both
	// hemispheres' daylight saving time.
	poolZones = []string{"Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
		"Australia/Adelaide", "America/St_Johns", "Asia/Tokyo", "Europe/Berlin", "America/Los_Angeles",
		"Australia/Lord_Howe"}
	poolLanguages = []string{"en", "en-GB", "de", "fr", "es", "hi", "ja", "pt-BR", "zh", "EN-us"}
	poolLocations = []string{"London", "Paris", "Berlin", "New York", "Mumbai", "Tokyo", "london "}
	poolComm      = []string{"", "direct", "reflective", "visual", "Direct"}
	poolWork      = []string{"", "planner", "explorer", "builder"}
	poolWords     = strings.Fields("learning growth curiosity technology future leadership data " +
		"innovation digital skills confidence mentoring network career teaching impact change " +
		"strategy customers automation creativity balance trust feedback culture diversity")
)

// scoringPool generates a realistic pool from a seed: mentors are juniors
// (seniority 1..6) and mentees seniors (4..10), as in a reverse program,
// with some preferences, avoid lists and reporting chains across sides.
func scoringPool(seed uint64, mentors, mentees int) ([]engine.Profile, []engine.Profile) {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	person := func(i int, mentor bool) engine.Profile {
		p := engine.Profile{
			Department:         pick(poolDepartments),
			TimeZone:           pick(poolZones),
			Location:           pick(poolLocations),
			Format:             engine.Format(r.IntN(4)),
			CommunicationStyle: pick(poolComm),
			WorkStyle:          pick(poolWork),
			Capacity:           1 + r.IntN(3),
		}
		for range 1 + r.IntN(3) {
			p.Languages = append(p.Languages, pick(poolLanguages))
		}
		if r.IntN(10) > 0 {
			var words []string
			for range 2 + r.IntN(5) {
				words = append(words, pick(poolWords))
			}
			p.Motivation = "I want " + strings.Join(words, ", ") + "."
		}
		if mentor {
			p.ID, p.PersonID = fmt.Sprintf("t%d", i), fmt.Sprintf("pt%d", i)
			p.Seniority = 1 + r.IntN(6)
			p.Competencies = map[string]int{}
			for range 2 + r.IntN(4) {
				p.Competencies[pick(poolSkills)] = 1 + r.IntN(5)
			}
		} else {
			p.ID, p.PersonID = fmt.Sprintf("e%d", i), fmt.Sprintf("pe%d", i)
			p.Seniority = 4 + r.IntN(7)
			for range 1 + r.IntN(3) {
				current := 1 + r.IntN(2)
				p.Wants = append(p.Wants, engine.Want{Skill: pick(poolSkills), Current: current, Target: current + 1 + r.IntN(3)})
			}
		}
		return p
	}
	ts, es := make([]engine.Profile, mentors), make([]engine.Profile, mentees)
	for i := range ts {
		ts[i] = person(i, true)
	}
	for i := range es {
		es[i] = person(i, false)
	}
	other := func(mentor bool) string {
		if mentor {
			return es[r.IntN(mentees)].PersonID
		}
		return ts[r.IntN(mentors)].PersonID
	}
	sparse := func(p *engine.Profile, mentor bool) {
		if r.IntN(20) == 0 {
			p.Prefer = append(p.Prefer, other(mentor))
		}
		if r.IntN(30) == 0 {
			p.Avoid = append(p.Avoid, other(mentor))
		}
		for range r.IntN(4) {
			p.Managers = append(p.Managers, other(r.IntN(2) == 0))
		}
	}
	for i := range ts {
		sparse(&ts[i], true)
	}
	for i := range es {
		sparse(&es[i], false)
	}
	return ts, es
}

// benchRules are a reverse program's rules with the default weights.
func benchRules(mentors, mentees []engine.Profile) engine.Rules {
	r := engine.Rules{
		Type: engine.Reverse,
		Weights: engine.Weights{CompetencyCoverage: 35, SeniorityGap: 15, CrossDepartment: 10,
			TimeZoneOverlap: 15, SharedLanguage: 10, FormatFit: 5, StyleComplement: 5, Motivation: 5, Preference: 5},
		ReportingChainDepth:   2,
		RequireSharedLanguage: true,
		MinPairScore:          20,
	}
	for i := 0; i < min(len(mentors), len(mentees)); i += 7 {
		r.PastPairs = append(r.PastPairs, [2]string{mentors[i].PersonID, mentees[i].PersonID})
	}
	return r
}

func BenchmarkCosts(b *testing.B) { benchmarkCosts(b, 10_000, 5_000) }

func BenchmarkCosts1k(b *testing.B) { benchmarkCosts(b, 1_000, 1_000) }

// benchmarkCosts fills the cost matrix with GOMAXPROCS workers (-cpu 2:
// two) and reports pairs per second and nanoseconds per pair.
func benchmarkCosts(b *testing.B, mentees, mentors int) {
	ts, es := scoringPool(1, mentors, mentees)
	m, err := engine.NewModel(benchRules(ts, es), ts, es)
	require.NoError(b, err)
	workers := runtime.GOMAXPROCS(0)
	var costs []int32
	for b.Loop() {
		costs = m.Costs(workers)
	}
	require.Len(b, costs, mentees*mentors)
	pairs := float64(mentees*mentors) * float64(b.N)
	b.ReportMetric(pairs/b.Elapsed().Seconds(), "pairs/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/pairs, "ns/pair")
}

// BenchmarkScoreOnePair, BenchmarkExplain and BenchmarkCandidates price the
// per-pair calls on the 10,000 × 5,000 pool, for callers that loop over
// them.
func BenchmarkScoreOnePair(b *testing.B) {
	m := benchModel(b)
	for i := 0; b.Loop(); i++ {
		m.Score(i%len(m.Mentors()), (i*7)%len(m.Mentees()))
	}
}

func BenchmarkExplain(b *testing.B) {
	m := benchModel(b)
	for i := 0; b.Loop(); i++ {
		m.Explain(i%len(m.Mentors()), (i*7)%len(m.Mentees()))
	}
}

func BenchmarkCandidates(b *testing.B) {
	m := benchModel(b)
	for _, side := range []engine.Side{engine.SideMentee, engine.SideMentor} {
		b.Run(fmt.Sprintf("side%d", side), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				m.Candidates(side, i%100, 10)
			}
		})
	}
}

// benchModel is the 10,000 × 5,000 benchmark pool.
func benchModel(b *testing.B) *engine.Model {
	ts, es := scoringPool(1, 5_000, 10_000)
	m, err := engine.NewModel(benchRules(ts, es), ts, es)
	require.NoError(b, err)
	return m
}
