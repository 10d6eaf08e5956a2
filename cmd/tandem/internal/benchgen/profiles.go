package benchgen

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/tandem-oss/tandem/services/matching/engine"
)

// Vocabularies of the synthetic pools: a company of a dozen departments in
// ten time zones, with a reverse-mentoring program's digital skills.
var (
	poolDepartments = []string{"Sales", "IT", "Finance", "HR", "Legal", "Marketing", "Operations",
		"Research", "Support", "Procurement", "Risk", "Strategy"}
	poolSkills = []string{"generative-ai", "prompting", "python", "sql", "excel", "data-viz", "cloud",
		"security", "agile", "ux", "automation", "machine-learning", "apis", "devops", "social-media",
		"no-code", "analytics", "privacy", "collaboration-tools", "video"}
	poolZones = []string{"Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York",
		"America/Chicago", "America/Los_Angeles", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
		"Australia/Sydney"}
	poolLanguages = []string{"de", "fr", "es", "hi", "ja", "pt-BR", "zh"}
	poolLocations = []string{"London", "Berlin", "Paris", "New York", "Chicago", "Mumbai", "Singapore", "Tokyo"}
	poolComm      = []string{"", "direct", "reflective", "visual"}
	poolWork      = []string{"", "planner", "explorer", "builder"}
	poolWords     = strings.Fields("learning growth curiosity technology future leadership data " +
		"innovation digital skills confidence mentoring network career teaching impact change " +
		"strategy customers automation creativity balance trust feedback culture diversity")
)

// Pool returns a seeded synthetic reverse-mentoring program: mentors are
// juniors (seniority 1 to 6) who teach two to five skills, mentees seniors
// (4 to 10) who want one to three; most people speak English; a few have
// managers on the other side, preferences, avoid lists or a past pair. The
// rules are those of a program left at the matching service's default
// configuration: its weights, reporting chain depth 2, a shared language
// required. Capacity is left to the caller.
func Pool(mentors, mentees int, seed uint64) (engine.Rules, []engine.Profile, []engine.Profile) {
	rng := rand.New(rand.NewPCG(seed, 0x706f6f6c)) // "pool"
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	person := func(id string) engine.Profile {
		p := engine.Profile{
			ID:                 id,
			PersonID:           "person-" + id,
			Department:         pick(poolDepartments),
			TimeZone:           pick(poolZones),
			Location:           pick(poolLocations),
			Format:             engine.Format(rng.IntN(4)),
			CommunicationStyle: pick(poolComm),
			WorkStyle:          pick(poolWork),
		}
		if rng.IntN(10) > 0 {
			p.Languages = append(p.Languages, "en")
		}
		for range rng.IntN(3) {
			p.Languages = append(p.Languages, pick(poolLanguages))
		}
		if rng.IntN(10) > 0 {
			words := make([]string, 2+rng.IntN(5))
			for w := range words {
				words[w] = pick(poolWords)
			}
			p.Motivation = "I want " + strings.Join(words, ", ") + "."
		}
		return p
	}
	ors := make([]engine.Profile, mentors)
	for j := range ors {
		p := person(fmt.Sprintf("mentor-%d", j))
		p.Seniority = 1 + rng.IntN(6)
		p.Competencies = map[string]int{}
		for range 2 + rng.IntN(4) {
			p.Competencies[pick(poolSkills)] = 1 + rng.IntN(5)
		}
		ors[j] = p
	}
	ees := make([]engine.Profile, mentees)
	for i := range ees {
		p := person(fmt.Sprintf("mentee-%d", i))
		p.Seniority = 4 + rng.IntN(7)
		for range 1 + rng.IntN(3) {
			current := 1 + rng.IntN(2)
			p.Wants = append(p.Wants, engine.Want{Skill: pick(poolSkills), Current: current, Target: current + 1 + rng.IntN(3)})
		}
		ees[i] = p
	}

	// Sparse relations across the two sides.
	otherSide := func(mentor bool) string {
		if mentor {
			return ees[rng.IntN(mentees)].PersonID
		}
		return ors[rng.IntN(mentors)].PersonID
	}
	relate := func(p *engine.Profile, mentor bool) {
		if rng.IntN(20) == 0 {
			p.Prefer = append(p.Prefer, otherSide(mentor))
		}
		if rng.IntN(30) == 0 {
			p.Avoid = append(p.Avoid, otherSide(mentor))
		}
		for range rng.IntN(4) {
			p.Managers = append(p.Managers, otherSide(mentor))
		}
	}
	for j := range ors {
		relate(&ors[j], true)
	}
	for i := range ees {
		relate(&ees[i], false)
	}

	rules := engine.Rules{
		Type: engine.Reverse,
		Weights: engine.Weights{CompetencyCoverage: 30, SeniorityGap: 15, CrossDepartment: 10,
			TimeZoneOverlap: 15, SharedLanguage: 10, FormatFit: 5, StyleComplement: 5, Motivation: 5, Preference: 5},
		ReportingChainDepth:   2,
		RequireSharedLanguage: true,
	}
	for i := 0; i < min(mentors, mentees); i += 7 {
		rules.PastPairs = append(rules.PastPairs, [2]string{ors[i].PersonID, ees[i].PersonID})
	}
	return rules, ors, ees
}

// Scored returns the mentees×mentors cost matrix of Pool(mentors, mentees,
// seed) as the matching engine scores it: engine.ScoreScale − score, or
// engine.Forbidden for a pair that breaks a hard rule (in a reverse
// program most pairs do: the mentor must be the junior and know a wanted
// skill at the mentee's target level). Scoring runs on two workers.
func Scored(mentees, mentors int, seed uint64) (Matrix, error) {
	return ScoredAs(engine.Reverse, mentees, mentors, seed)
}

// ScoredAs is Scored with the pool scored as a program of type typ: as a
// classic program the seniority rule and the proficiency rule do not
// apply, so only the few pairs that break a sparse rule (reporting chain,
// avoid list, past pair, no shared language) are forbidden.
func ScoredAs(typ engine.ProgramType, mentees, mentors int, seed uint64) (Matrix, error) {
	rules, ors, ees := Pool(mentors, mentees, seed)
	rules.Type = typ
	model, err := engine.NewModel(rules, ors, ees)
	if err != nil {
		return Matrix{}, fmt.Errorf("synthetic pool: %w", err)
	}
	return Matrix{Rows: mentees, Cols: mentors, Cost: model.Costs(2)}, nil
}
