package engine_test

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the time-zone tests must not depend on the machine

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/matching/engine"
)

// factorOrder is the order Explain lists the factors in.
var factorOrder = []string{"competency_coverage", "seniority_gap", "cross_department", "time_zone_overlap",
	"shared_language", "format_fit", "style_complement", "motivation", "preference"}

// onlyWeight returns weights with everything on one factor.
func onlyWeight(t *testing.T, factor string) engine.Weights {
	t.Helper()
	var w engine.Weights
	fields := map[string]*float64{
		"competency_coverage": &w.CompetencyCoverage, "seniority_gap": &w.SeniorityGap,
		"cross_department": &w.CrossDepartment, "time_zone_overlap": &w.TimeZoneOverlap,
		"shared_language": &w.SharedLanguage, "format_fit": &w.FormatFit,
		"style_complement": &w.StyleComplement, "motivation": &w.Motivation, "preference": &w.Preference,
	}
	f, ok := fields[factor]
	require.True(t, ok, factor)
	*f = 40
	return w
}

// scorePair builds a one-mentor, one-mentee model and returns its only
// pair, after checking that Score, Explain and Costs agree on it.
func scorePair(t *testing.T, r engine.Rules, mentor, mentee engine.Profile) (int32, bool, engine.PairScore) {
	t.Helper()
	m, err := engine.NewModel(r, []engine.Profile{mentor}, []engine.Profile{mentee})
	require.NoError(t, err)
	score, allowed := m.Score(0, 0)
	ps := m.Explain(0, 0)
	require.Equal(t, float64(score)/100, ps.Score)
	require.Equal(t, allowed, ps.Allowed())
	want := engine.ScoreScale - score
	if !allowed {
		want = engine.Forbidden
	}
	require.Equal(t, []int32{want}, m.Costs(1))
	return score, allowed, ps
}

// factorCase is one pair scored on one factor.
type factorCase struct {
	name           string
	rules          func(*engine.Rules)
	mentor, mentee engine.Profile
	value          float64 // hand-computed
	score          int32   // value×10000, rounded half up
	explanation    string
}

// runFactorCases checks each case's factor value, score and explanation
// with all the weight on factor.
func runFactorCases(t *testing.T, factor string, cases []factorCase) {
	t.Helper()
	index := slices.Index(factorOrder, factor)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := engine.Rules{Type: engine.Classic, Weights: onlyWeight(t, factor)}
			if tc.rules != nil {
				tc.rules(&r)
			}
			if tc.mentor.PersonID == "" {
				tc.mentor.PersonID = "mentor"
			}
			if tc.mentee.PersonID == "" {
				tc.mentee.PersonID = "mentee"
			}
			score, _, ps := scorePair(t, r, tc.mentor, tc.mentee)
			got := ps.Factors[index]
			require.Equal(t, factor, got.Name)
			require.InDelta(t, tc.value, got.Value, 1e-12)
			require.Equal(t, tc.score, score)
			require.Equal(t, tc.explanation, got.Explanation)
			require.InDelta(t, 40.0, got.Weight, 0)
		})
	}
}

func TestCompetencyCoverage(t *testing.T) {
	t.Parallel()
	want := func(skill string, target int) engine.Want {
		return engine.Want{Skill: skill, Current: 1, Target: target}
	}
	nine := make([]engine.Want, 9)
	for i := range nine {
		nine[i] = want(fmt.Sprintf("skill%d", i), 2)
	}
	runFactorCases(t, "competency_coverage", []factorCase{
		{name: "first want met, second partly, first counts double",
			mentor: engine.Profile{Competencies: map[string]int{"generative-ai": 4, "Excel": 2}},
			mentee: engine.Profile{Wants: []engine.Want{want("generative-ai", 4), want("excel", 3)}},
			value:  (2*1.0 + 2.0/3) / 3, score: 8889,
			explanation: "teaches generative-ai at level 4 (target 4); excel 2 of target 3"},
		{name: "first want missed, second met",
			mentor: engine.Profile{Competencies: map[string]int{"sql": 5}},
			mentee: engine.Profile{Wants: []engine.Want{want("python", 4), want("SQL ", 2)}},
			value:  1.0 / 3, score: 3333,
			explanation: "no python (target 4); SQL at level 5 (target 2)"},
		{name: "a level above the target counts as the target",
			mentor: engine.Profile{Competencies: map[string]int{"ai": 5}},
			mentee: engine.Profile{Wants: []engine.Want{want("ai", 3)}},
			value:  1, score: 10000, explanation: "teaches ai at level 5 (target 3)"},
		{name: "partial single want",
			mentor: engine.Profile{Competencies: map[string]int{"ai": 1}},
			mentee: engine.Profile{Wants: []engine.Want{want("ai", 4)}},
			value:  0.25, score: 2500, explanation: "teaches ai 1 of target 4"},
		{name: "no wants is neutral",
			mentor: engine.Profile{Competencies: map[string]int{"ai": 5}},
			value:  0.5, score: 5000, explanation: "mentee lists no development areas (neutral)"},
		{name: "only the first eight wants count",
			mentor: engine.Profile{Competencies: map[string]int{"skill0": 2, "skill1": 2, "skill2": 2, "skill3": 2,
				"skill4": 2, "skill5": 2, "skill6": 2, "skill7": 2}},
			mentee: engine.Profile{Wants: nine},
			value:  1, score: 10000,
			explanation: "teaches skill0 at level 2 (target 2); skill1 at level 2 (target 2); skill2 at level 2 (target 2); " +
				"skill3 at level 2 (target 2); skill4 at level 2 (target 2); skill5 at level 2 (target 2); " +
				"skill6 at level 2 (target 2); skill7 at level 2 (target 2); only the first 8 of 9 wants count"},
	})
}

func TestSeniorityGap(t *testing.T) {
	t.Parallel()
	program := func(p engine.ProgramType) func(*engine.Rules) { return func(r *engine.Rules) { r.Type = p } }
	pair := func(name string, p engine.ProgramType, mentor, mentee int, value float64, text string) factorCase {
		return factorCase{name: name, rules: program(p), mentor: engine.Profile{Seniority: mentor},
			mentee: engine.Profile{Seniority: mentee}, value: value, score: int32(value * 10000), explanation: text}
	}
	runFactorCases(t, "seniority_gap", []factorCase{
		pair("reverse gap 1", engine.Reverse, 2, 3, 0.25, "mentor 1 level less senior (reverse program)"),
		pair("reverse gap 3", engine.Reverse, 2, 5, 0.75, "mentor 3 levels less senior (reverse program)"),
		pair("reverse gap 8 caps at 4", engine.Reverse, 1, 9, 1, "mentor 8 levels less senior (reverse program)"),
		pair("reverse same level", engine.Reverse, 4, 4, 0, "same seniority (a reverse program needs a less senior mentor)"),
		pair("reverse mentor above", engine.Reverse, 6, 4, 0, "mentor 2 levels more senior (a reverse program needs a less senior mentor)"),
		pair("classic gap 1", engine.Classic, 5, 4, 1, "mentor 1 level more senior (classic program)"),
		pair("classic gap 3", engine.Classic, 7, 4, 1, "mentor 3 levels more senior (classic program)"),
		pair("classic gap 4", engine.Classic, 8, 4, 0.75, "mentor 4 levels more senior (classic program; more than 3 counts less)"),
		pair("classic gap 5", engine.Classic, 9, 4, 0.5, "mentor 5 levels more senior (classic program; more than 3 counts less)"),
		pair("classic gap 6", engine.Classic, 10, 4, 0.25, "mentor 6 levels more senior (classic program; more than 3 counts less)"),
		pair("classic gap 10 floors", engine.Classic, 14, 4, 0.25, "mentor 10 levels more senior (classic program; more than 3 counts less)"),
		pair("classic same level", engine.Classic, 4, 4, 0, "same seniority (classic program)"),
		pair("classic mentor below", engine.Classic, 3, 4, 0, "mentor 1 level less senior (classic program)"),
		pair("peer same level", engine.Peer, 5, 5, 1, "same seniority (peer program)"),
		pair("peer 2 apart", engine.Peer, 7, 5, 0.5, "2 levels apart (peer program)"),
		pair("peer 3 apart other way", engine.Peer, 2, 5, 0.25, "3 levels apart (peer program)"),
		pair("peer 12 apart", engine.Peer, 1, 13, 0, "12 levels apart (peer program)"),
	})
}

func TestCrossDepartment(t *testing.T) {
	t.Parallel()
	runFactorCases(t, "cross_department", []factorCase{
		{name: "different", mentor: engine.Profile{Department: "Sales"}, mentee: engine.Profile{Department: "IT"},
			value: 1, score: 10000, explanation: "different departments (Sales, IT)"},
		{name: "same, ignoring case and spaces", mentor: engine.Profile{Department: "Sales "}, mentee: engine.Profile{Department: "sales"},
			value: 0, score: 0, explanation: "same department (Sales)"},
		{name: "unknown", mentor: engine.Profile{Department: "Sales"},
			value: 0, score: 0, explanation: "department unknown"},
	})
}

func TestTimeZoneOverlap(t *testing.T) {
	t.Parallel()
	on := func(day string) func(*engine.Rules) {
		at, err := time.Parse(time.DateOnly, day)
		require.NoError(t, err)
		return func(r *engine.Rules) { r.At = at }
	}
	zones := func(a, b string) (engine.Profile, engine.Profile) {
		return engine.Profile{TimeZone: a}, engine.Profile{TimeZone: b}
	}
	london, newYork := zones("Europe/London", "America/New_York")
	kathmandu, london2 := zones("Asia/Kathmandu", "Europe/London")
	kolkata, kathmandu2 := zones("Asia/Kolkata", "Asia/Kathmandu")
	tokyo, sydney := zones("Asia/Tokyo", "Australia/Sydney")
	auckland, losAngeles := zones("Pacific/Auckland", "America/Los_Angeles")
	lordHowe, kolkata2 := zones("Australia/Lord_Howe", "Asia/Kolkata")
	stJohns, london3 := zones("America/St_Johns", "Europe/London")
	london4, tokyo2 := zones("Europe/London", "Asia/Tokyo")
	mars, utc := zones("Mars/Olympus_Mons", "")
	runFactorCases(t, "time_zone_overlap", []factorCase{
		{name: "London and New York in January (default date)", mentor: london, mentee: newYork,
			value: 3.0 / 8, score: 3750, explanation: "3.0 h of shared working hours (Europe/London, America/New_York)"},
		{name: "London and New York on 2026-03-15: New York on EDT, London still on GMT", rules: on("2026-03-15"),
			mentor: london, mentee: newYork,
			value: 4.0 / 8, score: 5000, explanation: "4.0 h of shared working hours (Europe/London, America/New_York)"},
		{name: "London and New York in July: both on summer time", rules: on("2026-07-01"),
			mentor: london, mentee: newYork,
			value: 3.0 / 8, score: 3750, explanation: "3.0 h of shared working hours (Europe/London, America/New_York)"},
		{name: "Kathmandu +5:45 and London: half a hundredth rounds up", mentor: kathmandu, mentee: london2,
			value: 2.25 / 8, score: 2813, explanation: "2.25 h of shared working hours (Asia/Kathmandu, Europe/London)"},
		{name: "Kolkata +5:30 and Kathmandu +5:45", mentor: kolkata, mentee: kathmandu2,
			value: 7.75 / 8, score: 9688, explanation: "7.75 h of shared working hours (Asia/Kolkata, Asia/Kathmandu)"},
		{name: "Sydney's day crosses midnight UTC", mentor: tokyo, mentee: sydney,
			value: 6.0 / 8, score: 7500, explanation: "6.0 h of shared working hours (Asia/Tokyo, Australia/Sydney)"},
		{name: "Auckland and Los Angeles, 21 hours apart, overlap across the date line", mentor: auckland, mentee: losAngeles,
			value: 5.0 / 8, score: 6250, explanation: "5.0 h of shared working hours (Pacific/Auckland, America/Los_Angeles)"},
		{name: "Lord Howe on its half-hour summer time", mentor: lordHowe, mentee: kolkata2,
			value: 2.5 / 8, score: 3125, explanation: "2.5 h of shared working hours (Australia/Lord_Howe, Asia/Kolkata)"},
		{name: "Lord Howe in winter", rules: on("2026-07-01"), mentor: lordHowe, mentee: kolkata2,
			value: 3.0 / 8, score: 3750, explanation: "3.0 h of shared working hours (Australia/Lord_Howe, Asia/Kolkata)"},
		{name: "St John's -3:30", mentor: stJohns, mentee: london3,
			value: 4.5 / 8, score: 5625, explanation: "4.5 h of shared working hours (America/St_Johns, Europe/London)"},
		{name: "no overlap", mentor: london4, mentee: tokyo2,
			value: 0, score: 0, explanation: "0.0 h of shared working hours (Europe/London, Asia/Tokyo)"},
		{name: "unknown zone counts as UTC", mentor: mars, mentee: utc,
			value: 1, score: 10000,
			explanation: `8.0 h of shared working hours (Mars/Olympus_Mons, UTC); unknown time zone "Mars/Olympus_Mons" taken as UTC`},
	})
}

func TestSharedLanguage(t *testing.T) {
	t.Parallel()
	speaks := func(languages ...string) engine.Profile { return engine.Profile{Languages: languages} }
	runFactorCases(t, "shared_language", []factorCase{
		{name: "primary tag, any case", mentor: speaks("en-GB"), mentee: speaks("EN", "de"),
			value: 1, score: 10000, explanation: "share en"},
		{name: "underscore region", mentor: speaks("pt_BR", "fr"), mentee: speaks("fr-CA", "pt"),
			value: 1, score: 10000, explanation: "share pt, fr"},
		{name: "none in common", mentor: speaks("de"), mentee: speaks("fr", "es"),
			value: 0, score: 0, explanation: "no common language (mentor: de; mentee: fr, es)"},
		{name: "none listed", mentee: speaks("en"),
			value: 0, score: 0, explanation: "no common language (mentor: none; mentee: en)"},
	})
}

func TestFormatFit(t *testing.T) {
	t.Parallel()
	program := func(f engine.Format) func(*engine.Rules) { return func(r *engine.Rules) { r.ProgramFormat = f } }
	meets := func(f engine.Format, location string) engine.Profile {
		return engine.Profile{Format: f, Location: location}
	}
	runFactorCases(t, "format_fit", []factorCase{
		{name: "both remote", mentor: meets(engine.FormatRemote, ""), mentee: meets(engine.FormatRemote, ""),
			value: 1, score: 10000, explanation: "both prefer remote"},
		{name: "one without preference", mentor: meets(engine.FormatAny, ""), mentee: meets(engine.FormatRemote, ""),
			value: 1, score: 10000, explanation: "mentee prefers remote; mentor has no preference"},
		{name: "hybrid and remote", mentor: meets(engine.FormatHybrid, ""), mentee: meets(engine.FormatRemote, ""),
			value: 0.75, score: 7500, explanation: "mentor prefers hybrid, mentee remote"},
		{name: "in-person and hybrid", mentor: meets(engine.FormatInPerson, "Paris"), mentee: meets(engine.FormatHybrid, ""),
			value: 0.75, score: 7500, explanation: "mentor prefers in-person, mentee hybrid"},
		{name: "in-person and remote", mentor: meets(engine.FormatInPerson, "Paris"), mentee: meets(engine.FormatRemote, ""),
			value: 0.25, score: 2500, explanation: "mentor prefers in-person, mentee remote"},
		{name: "in person in different places", mentor: meets(engine.FormatInPerson, "London"), mentee: meets(engine.FormatInPerson, "Paris"),
			value: 0, score: 0, explanation: "in-person but London vs Paris"},
		{name: "in person in one place, any case", mentor: meets(engine.FormatInPerson, "London"), mentee: meets(engine.FormatInPerson, " london"),
			value: 1, score: 10000, explanation: "both prefer in-person"},
		{name: "in person, one location unknown", mentor: meets(engine.FormatInPerson, "London"), mentee: meets(engine.FormatInPerson, ""),
			value: 1, score: 10000, explanation: "both prefer in-person"},
		{name: "program format decides for both", rules: program(engine.FormatInPerson),
			mentor: meets(engine.FormatAny, "London"), mentee: meets(engine.FormatAny, "Paris"),
			value: 0, score: 0, explanation: "in-person but London vs Paris (program format)"},
		{name: "program format against a preference", rules: program(engine.FormatInPerson),
			mentor: meets(engine.FormatAny, "London"), mentee: meets(engine.FormatRemote, ""),
			value: 0.25, score: 2500, explanation: "mentor prefers in-person, mentee remote (program format)"},
		{name: "no preference anywhere", mentor: meets(engine.FormatAny, "London"), mentee: meets(engine.FormatAny, "Paris"),
			value: 1, score: 10000, explanation: "no format preference"},
	})
}

func TestStyleComplement(t *testing.T) {
	t.Parallel()
	style := func(communication, work string) engine.Profile {
		return engine.Profile{CommunicationStyle: communication, WorkStyle: work}
	}
	runFactorCases(t, "style_complement", []factorCase{
		{name: "same communication, different work", mentor: style("direct", "planner"), mentee: style("Direct", "explorer"),
			value: 1, score: 10000, explanation: "same communication style (direct); complementary work styles (planner, explorer)"},
		{name: "different communication, same work", mentor: style("direct", "planner"), mentee: style("visual", "planner"),
			value: 0, score: 0, explanation: "different communication styles (direct, visual); same work style (planner)"},
		{name: "same both", mentor: style("visual", "planner"), mentee: style("visual", "PLANNER"),
			value: 0.5, score: 5000, explanation: "same communication style (visual); same work style (planner)"},
		{name: "communication unknown", mentor: style("", "planner"), mentee: style("visual", "builder"),
			value: 0.75, score: 7500, explanation: "communication style unknown; complementary work styles (planner, builder)"},
		{name: "work unknown", mentor: style("direct", "planner"), mentee: style("visual", ""),
			value: 0.25, score: 2500, explanation: "different communication styles (direct, visual); work style unknown"},
		{name: "nothing known", value: 0.5, score: 5000, explanation: "communication style unknown; work style unknown"},
	})
}

func TestMotivation(t *testing.T) {
	t.Parallel()
	says := func(text string) engine.Profile { return engine.Profile{Motivation: text} }
	runFactorCases(t, "motivation", []factorCase{
		{name: "two of five words", mentor: says("I love learning about data!"), mentee: says("Learning: data science."),
			value: 0.4, score: 4000, explanation: "shared motivation words: data, learning (similarity 0.40)"},
		{name: "same words", mentor: says("Growth, growth and curiosity"), mentee: says("curiosity GROWTH"),
			value: 1, score: 10000, explanation: "shared motivation words: curiosity, growth (similarity 1.00)"},
		{name: "nothing shared", mentor: says("growth"), mentee: says("science"),
			value: 0, score: 0, explanation: "no shared motivation words (similarity 0.00)"},
		{name: "short words only count as empty", mentor: says("I am ok to go"), mentee: says("growth"),
			value: 0.5, score: 5000, explanation: "no motivation text to compare (neutral)"},
		{name: "empty mentee", mentor: says("growth"),
			value: 0.5, score: 5000, explanation: "no motivation text to compare (neutral)"},
	})
}

func TestPreference(t *testing.T) {
	t.Parallel()
	prefers := func(id string, ids ...string) engine.Profile { return engine.Profile{PersonID: id, Prefer: ids} }
	runFactorCases(t, "preference", []factorCase{
		{name: "both", mentor: prefers("a", "x", "b"), mentee: prefers("b", "a"),
			value: 1, score: 10000, explanation: "both prefer each other"},
		{name: "mentor only", mentor: prefers("a", "b"), mentee: prefers("b", "c"),
			value: 0.75, score: 7500, explanation: "mentor prefers this mentee"},
		{name: "mentee only", mentor: prefers("a"), mentee: prefers("b", "a"),
			value: 0.75, score: 7500, explanation: "mentee prefers this mentor"},
		{name: "neither", mentor: prefers("a", "c"), mentee: prefers("b", "d"),
			value: 0, score: 0, explanation: "no stated preference"},
	})
}

func TestExplainListsEveryFactorInOrderWithItsWeight(t *testing.T) {
	t.Parallel()
	w := engine.Weights{CompetencyCoverage: 1, SeniorityGap: 2, CrossDepartment: 3, TimeZoneOverlap: 4,
		SharedLanguage: 5, FormatFit: 6, StyleComplement: 7, Motivation: 8, Preference: 9.5}
	_, _, ps := scorePair(t, engine.Rules{Weights: w}, engine.Profile{PersonID: "a"}, engine.Profile{PersonID: "b"})
	var names []string
	var weights []float64
	for _, f := range ps.Factors {
		names = append(names, f.Name)
		weights = append(weights, f.Weight)
		require.NotEmpty(t, f.Explanation, f.Name)
	}
	require.Equal(t, factorOrder, names)
	require.Equal(t, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9.5}, weights)
}

func TestHardRules(t *testing.T) {
	t.Parallel()
	// A reverse pair that breaks nothing: a junior who knows generative
	// AI, a senior who wants it, one language.
	mentor := func() engine.Profile {
		return engine.Profile{PersonID: "junior", Seniority: 2, Languages: []string{"en"},
			Competencies: map[string]int{"generative-ai": 4}, Managers: []string{"m1", "m2", "m3"}}
	}
	mentee := func() engine.Profile {
		return engine.Profile{PersonID: "senior", Seniority: 7, Languages: []string{"en-GB"},
			Wants: []engine.Want{{Skill: "generative-ai", Current: 1, Target: 3}}, Managers: []string{"n1", "n2", "n3"}}
	}
	rules := func() engine.Rules {
		return engine.Rules{Type: engine.Reverse, ReportingChainDepth: 2, RequireSharedLanguage: true,
			Weights: engine.Weights{CompetencyCoverage: 50, SeniorityGap: 20, SharedLanguage: 30}}
	}
	// The clean pair: every weighted factor is 1 (target reached, a gap of
	// 5 levels capped at 4, a shared language).
	const clean = 10000
	for _, tc := range []struct {
		name   string
		change func(r *engine.Rules, mentor, mentee *engine.Profile)
		broken []engine.Rule
	}{
		{name: "clean pair", change: func(*engine.Rules, *engine.Profile, *engine.Profile) {}},
		{name: "same person", change: func(_ *engine.Rules, a, b *engine.Profile) { b.PersonID = a.PersonID },
			broken: []engine.Rule{engine.RuleSamePerson}},
		{name: "reverse: mentor as senior", change: func(_ *engine.Rules, a, b *engine.Profile) { a.Seniority = b.Seniority },
			broken: []engine.Rule{engine.RuleReverseSeniority}},
		{name: "reverse: mentor more senior", change: func(_ *engine.Rules, a, _ *engine.Profile) { a.Seniority = 9 },
			broken: []engine.Rule{engine.RuleReverseSeniority}},
		{name: "reverse: below the target", change: func(_ *engine.Rules, a, _ *engine.Profile) { a.Competencies["generative-ai"] = 2 },
			broken: []engine.Rule{engine.RuleProficiency}},
		{name: "reverse: one reached want of two is enough", change: func(_ *engine.Rules, _, b *engine.Profile) {
			b.Wants = append([]engine.Want{{Skill: "python", Target: 4}}, b.Wants...)
		}},
		{name: "reverse: a mentee without wants", change: func(_ *engine.Rules, _, b *engine.Profile) { b.Wants = nil },
			broken: []engine.Rule{engine.RuleProficiency}},
		{name: "classic: neither reverse rule applies", change: func(r *engine.Rules, a, _ *engine.Profile) {
			r.Type = engine.Classic
			a.Seniority, a.Competencies = 9, nil
		}},
		{name: "mentor manages the mentee's manager", change: func(_ *engine.Rules, a, b *engine.Profile) { b.Managers[1] = a.PersonID },
			broken: []engine.Rule{engine.RuleReportingChain}},
		{name: "mentee is the mentor's direct manager", change: func(_ *engine.Rules, a, b *engine.Profile) { a.Managers[0] = b.PersonID },
			broken: []engine.Rule{engine.RuleReportingChain}},
		{name: "beyond the chain depth", change: func(_ *engine.Rules, a, b *engine.Profile) { b.Managers[2] = a.PersonID }},
		{name: "depth 0 disables the chain rule", change: func(r *engine.Rules, a, b *engine.Profile) {
			r.ReportingChainDepth = 0
			b.Managers[0] = a.PersonID
		}},
		{name: "mentee avoids the mentor", change: func(_ *engine.Rules, a, b *engine.Profile) { b.Avoid = []string{"x", a.PersonID} },
			broken: []engine.Rule{engine.RuleAvoid}},
		{name: "mentor avoids the mentee", change: func(_ *engine.Rules, a, b *engine.Profile) { a.Avoid = []string{b.PersonID} },
			broken: []engine.Rule{engine.RuleAvoid}},
		{name: "no common language", change: func(_ *engine.Rules, a, _ *engine.Profile) { a.Languages = []string{"de"} },
			broken: []engine.Rule{engine.RuleSharedLanguage}},
		{name: "no common language allowed", change: func(r *engine.Rules, a, _ *engine.Profile) {
			r.RequireSharedLanguage = false
			a.Languages = []string{"de"}
		}},
		{name: "past pair", change: func(r *engine.Rules, a, b *engine.Profile) {
			r.PastPairs = [][2]string{{"x", "y"}, {a.PersonID, b.PersonID}}
		}, broken: []engine.Rule{engine.RulePastPair}},
		{name: "past pair the other way round is another pair", change: func(r *engine.Rules, a, b *engine.Profile) {
			r.PastPairs = [][2]string{{b.PersonID, a.PersonID}}
		}},
		{name: "below the minimum score", change: func(r *engine.Rules, _ *engine.Profile, b *engine.Profile) {
			b.Languages = []string{"de"}
			r.RequireSharedLanguage = false
			r.MinPairScore = 70.01
		}, broken: []engine.Rule{engine.RuleMinScore}},
		{name: "exactly the minimum score", change: func(r *engine.Rules, _ *engine.Profile, b *engine.Profile) {
			b.Languages = []string{"de"}
			r.RequireSharedLanguage = false
			r.MinPairScore = 70
		}},
		{name: "several at once, in rule order", change: func(r *engine.Rules, a, b *engine.Profile) {
			b.PersonID = a.PersonID
			a.Avoid = []string{a.PersonID}
			a.Seniority = 9
			a.Languages = nil
			r.MinPairScore = 100
		}, broken: []engine.Rule{engine.RuleSamePerson, engine.RuleReverseSeniority, engine.RuleAvoid,
			engine.RuleSharedLanguage, engine.RuleMinScore}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, a, b := rules(), mentor(), mentee()
			tc.change(&r, &a, &b)
			score, allowed, ps := scorePair(t, r, a, b)
			require.Equal(t, tc.broken, ps.Broken)
			require.Equal(t, len(tc.broken) == 0, allowed)
			if tc.name == "clean pair" {
				require.Equal(t, int32(clean), score)
			}
		})
	}
}

func TestNewModelRejectsBadRules(t *testing.T) {
	t.Parallel()
	valid := func() engine.Rules {
		return engine.Rules{Type: engine.Reverse, Weights: engine.Weights{CompetencyCoverage: 35, Motivation: 5}}
	}
	for _, tc := range []struct {
		name    string
		change  func(*engine.Rules)
		mentors []engine.Profile
		message string // the whole error text
	}{
		{name: "negative weight", change: func(r *engine.Rules) { r.Weights.Motivation = -1 },
			message: "invalid argument: weights.motivation: must be between 0 and 100"},
		{name: "weight above 100", change: func(r *engine.Rules) { r.Weights.CrossDepartment = 100.5 },
			message: "invalid argument: weights.cross_department: must be between 0 and 100"},
		{name: "NaN weight", change: func(r *engine.Rules) { r.Weights.TimeZoneOverlap = math.NaN() },
			message: "invalid argument: weights.time_zone_overlap: must be between 0 and 100"},
		{name: "infinite weight", change: func(r *engine.Rules) { r.Weights.Preference = math.Inf(1) },
			message: "invalid argument: weights.preference: must be between 0 and 100"},
		{name: "all weights zero", change: func(r *engine.Rules) { r.Weights = engine.Weights{} },
			message: "invalid argument: weights: at least one weight must be 0.01 or more"},
		{name: "weights too small to count", change: func(r *engine.Rules) { r.Weights = engine.Weights{SeniorityGap: 0.001} },
			message: "invalid argument: weights: at least one weight must be 0.01 or more"},
		{name: "minimum score below 0", change: func(r *engine.Rules) { r.MinPairScore = -0.5 },
			message: "invalid argument: min_pair_score: must be between 0 and 100"},
		{name: "minimum score above 100", change: func(r *engine.Rules) { r.MinPairScore = 100.01 },
			message: "invalid argument: min_pair_score: must be between 0 and 100"},
		{name: "NaN minimum score", change: func(r *engine.Rules) { r.MinPairScore = math.NaN() },
			message: "invalid argument: min_pair_score: must be between 0 and 100"},
		{name: "negative chain depth", change: func(r *engine.Rules) { r.ReportingChainDepth = -1 },
			message: "invalid argument: reporting_chain_depth: must not be negative"},
		{name: "unknown program type", change: func(r *engine.Rules) { r.Type = 7 },
			message: "invalid argument: type: must be classic, reverse or peer"},
		{name: "unknown program format", change: func(r *engine.Rules) { r.ProgramFormat = 9 },
			message: "invalid argument: program_format: must be any, in-person, remote or hybrid"},
		{name: "unknown profile format", change: func(*engine.Rules) {},
			mentors: []engine.Profile{{}, {Format: 4}},
			message: "invalid argument: mentors[1].format: must be any, in-person, remote or hybrid"},
		{name: "every violation at once", change: func(r *engine.Rules) {
			r.Weights.Motivation, r.MinPairScore, r.ReportingChainDepth = 101, 200, -2
		}, message: "invalid argument: weights.motivation: must be between 0 and 100; " +
			"reporting_chain_depth: must not be negative; min_pair_score: must be between 0 and 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := valid()
			tc.change(&r)
			m, err := engine.NewModel(r, tc.mentors, nil)
			require.Nil(t, m)
			require.ErrorIs(t, err, apperr.ErrInvalid)
			require.EqualError(t, err, tc.message)
		})
	}
	t.Run("limits are valid", func(t *testing.T) {
		t.Parallel()
		r := valid()
		r.Weights.Preference, r.MinPairScore, r.ReportingChainDepth = 100, 100, 0
		_, err := engine.NewModel(r, nil, nil)
		require.NoError(t, err)
	})
}

func TestModelAccessors(t *testing.T) {
	t.Parallel()
	mentors := []engine.Profile{{ID: "t0", Capacity: 0}, {ID: "t1", Capacity: 3}, {ID: "t2", Capacity: -2}}
	mentees := []engine.Profile{{ID: "e0"}}
	r := engine.Rules{Weights: engine.Weights{Preference: 1}}
	m, err := engine.NewModel(r, mentors, mentees)
	require.NoError(t, err)
	require.Equal(t, []int32{1, 3, 1}, m.Capacities())
	require.Equal(t, mentors, m.Mentors())
	require.Equal(t, mentees, m.Mentees())
	require.Equal(t, time.Date(2026, time.January, 15, 0, 0, 0, 0, time.UTC), m.Rules().At)
	mentors[0].ID = "changed"
	require.Equal(t, "t0", m.Mentors()[0].ID, "the model keeps its own slice")
}

// propertyModels are random pools under a range of rules, with extra
// sparse-rule traffic: shared person ids, past pairs, chains that point
// across the sides, and more than 64 languages.
func propertyModels(t *testing.T) map[string]*engine.Model {
	t.Helper()
	models := map[string]*engine.Model{}
	add := func(name string, seed uint64, mentors, mentees int, change func(*engine.Rules, []engine.Profile, []engine.Profile)) {
		ts, es := scoringPool(seed, mentors, mentees)
		r := rand.New(rand.NewPCG(seed, 99))
		for range mentees / 4 {
			e, t := r.IntN(mentees), r.IntN(mentors)
			switch r.IntN(5) {
			case 0:
				es[e].PersonID = ts[t].PersonID
			case 1:
				es[e].Managers = append([]string{ts[t].PersonID}, es[e].Managers...)
			case 2:
				ts[t].Managers = append([]string{es[e].PersonID}, ts[t].Managers...)
			case 3:
				ts[t].Prefer = append(ts[t].Prefer, es[e].PersonID)
				es[e].Prefer = append(es[e].Prefer, ts[t].PersonID)
			default:
				es[e].Avoid = append(es[e].Avoid, ts[t].PersonID)
			}
		}
		rules := benchRules(ts, es)
		change(&rules, ts, es)
		m, err := engine.NewModel(rules, ts, es)
		require.NoError(t, err)
		models[name] = m
	}
	add("reverse", 1, 45, 70, func(*engine.Rules, []engine.Profile, []engine.Profile) {})
	add("classic, odd weights, in-person program", 2, 50, 40, func(r *engine.Rules, _, _ []engine.Profile) {
		r.Type, r.ProgramFormat, r.RequireSharedLanguage = engine.Classic, engine.FormatInPerson, false
		r.Weights = engine.Weights{CompetencyCoverage: 12.34, SeniorityGap: 0.01, CrossDepartment: 99.99,
			TimeZoneOverlap: 7, SharedLanguage: 3.5, FormatFit: 100, StyleComplement: 33.33, Motivation: 66.67, Preference: 42}
		r.MinPairScore, r.ReportingChainDepth = 0, 1
		r.At = time.Date(2026, time.March, 15, 0, 0, 0, 0, time.UTC)
	})
	add("peer, deep chains, high minimum", 3, 60, 60, func(r *engine.Rules, _, _ []engine.Profile) {
		r.Type, r.ReportingChainDepth, r.MinPairScore = engine.Peer, 10, 55.5
		r.At = time.Date(2026, time.July, 1, 0, 0, 0, 0, time.UTC)
	})
	add("more than 64 languages", 4, 50, 50, func(r *engine.Rules, ts, es []engine.Profile) {
		r.Type = engine.Classic
		rng := rand.New(rand.NewPCG(4, 4))
		for _, people := range [][]engine.Profile{ts, es} {
			for i := range people {
				people[i].Languages = nil
				for range 1 + rng.IntN(2) {
					people[i].Languages = append(people[i].Languages, fmt.Sprintf("x%02d-XY", rng.IntN(80)))
				}
			}
		}
	})
	return models
}

func TestExplainAgreesWithScore(t *testing.T) {
	t.Parallel()
	for name, m := range propertyModels(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := m.Rules().Weights
			weights := []float64{w.CompetencyCoverage, w.SeniorityGap, w.CrossDepartment, w.TimeZoneOverlap,
				w.SharedLanguage, w.FormatFit, w.StyleComplement, w.Motivation, w.Preference}
			broken := map[engine.Rule]int{}
			for e := range m.Mentees() {
				for tr := range m.Mentors() {
					score, allowed := m.Score(tr, e)
					ps := m.Explain(tr, e)
					require.Equal(t, float64(score)/100, ps.Score, "mentor %d mentee %d", tr, e)
					require.Equal(t, allowed, ps.Allowed(), "mentor %d mentee %d: %v", tr, e, ps.Broken)
					require.Equal(t, tr, ps.Mentor)
					require.Equal(t, e, ps.Mentee)
					var sum, total float64
					for i, f := range ps.Factors {
						require.Equal(t, factorOrder[i], f.Name)
						require.GreaterOrEqual(t, f.Value, 0.0)
						require.LessOrEqual(t, f.Value, 1.0)
						sum += weights[i] * f.Value
						total += weights[i]
					}
					require.InDelta(t, sum/total*100, ps.Score, 0.005+1e-9, "mentor %d mentee %d", tr, e)
					for _, rule := range ps.Broken {
						broken[rule]++
					}
				}
			}
			t.Logf("broken rules: %v", broken)
		})
	}
}

func TestCostsAgreeWithScore(t *testing.T) {
	t.Parallel()
	for name, m := range propertyModels(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			one := m.Costs(1)
			cols := len(m.Mentors())
			require.Len(t, one, len(m.Mentees())*cols)
			forbidden := 0
			for e := range m.Mentees() {
				for tr := range m.Mentors() {
					score, allowed := m.Score(tr, e)
					want := engine.ScoreScale - score
					if !allowed {
						want = engine.Forbidden
						forbidden++
					}
					require.Equal(t, want, one[e*cols+tr], "mentor %d mentee %d", tr, e)
				}
			}
			require.Positive(t, forbidden)
			require.Less(t, forbidden, len(one))
			for _, workers := range []int{2, 3, 0} {
				require.Equal(t, one, m.Costs(workers), "workers %d", workers)
			}
		})
	}
}

func TestCandidatesEqualBruteForce(t *testing.T) {
	t.Parallel()
	for name, m := range propertyModels(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			brute := func(side engine.Side, index int) []engine.Candidate {
				var all []engine.Candidate
				others := len(m.Mentors())
				if side == engine.SideMentor {
					others = len(m.Mentees())
				}
				for other := range others {
					tr, e := other, index
					if side == engine.SideMentor {
						tr, e = index, other
					}
					if score, ok := m.Score(tr, e); ok {
						all = append(all, engine.Candidate{Index: other, Score: float64(score) / 100})
					}
				}
				slices.SortStableFunc(all, func(a, b engine.Candidate) int { return cmp.Compare(b.Score, a.Score) })
				return all
			}
			for _, side := range []engine.Side{engine.SideMentee, engine.SideMentor} {
				size := len(m.Mentees())
				if side == engine.SideMentor {
					size = len(m.Mentors())
				}
				for index := range size {
					all := brute(side, index)
					for _, k := range []int{-1, 0, 1, 3, 10, 1000} {
						got := m.Candidates(side, index, k)
						want := all[:min(max(k, 0), len(all))]
						require.Equal(t, len(want), len(got), "side %d index %d k %d", side, index, k)
						if len(want) > 0 {
							require.Equal(t, want, got, "side %d index %d k %d", side, index, k)
						}
					}
				}
			}
		})
	}
}

func TestCostsOfAnEmptyPool(t *testing.T) {
	t.Parallel()
	m, err := engine.NewModel(engine.Rules{Weights: engine.Weights{Preference: 1}}, nil, []engine.Profile{{}})
	require.NoError(t, err)
	require.Empty(t, m.Costs(2))
	require.Empty(t, m.Candidates(engine.SideMentee, 0, 5))
}

func TestErrorsAreInvalidArgument(t *testing.T) {
	t.Parallel()
	_, err := engine.NewModel(engine.Rules{}, nil, nil)
	var invalid *apperr.InvalidError
	require.True(t, errors.As(err, &invalid))
	require.Equal(t, []apperr.FieldViolation{{Field: "weights", Reason: "at least one weight must be 0.01 or more"}}, invalid.Violations)
}
