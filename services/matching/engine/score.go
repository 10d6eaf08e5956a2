package engine

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// ScoreScale is the top score: scores are integers in hundredths of a
// point, from 0 to ScoreScale (= 100.00 points).
const ScoreScale = 10000

// Rule names a hard rule a pair breaks.
type Rule string

// Hard rules, in the order PairScore.Broken lists them.
const (
	// RuleSamePerson: mentor and mentee are one person.
	RuleSamePerson Rule = "same_person"
	// RuleReverseSeniority: reverse program, and the mentor is not less
	// senior than the mentee.
	RuleReverseSeniority Rule = "reverse_seniority"
	// RuleProficiency: reverse program, and the mentor is below the
	// mentee's target in every wanted skill (or the mentee wants none).
	RuleProficiency Rule = "proficiency"
	// RuleReportingChain: one is within ReportingChainDepth levels above
	// the other.
	RuleReportingChain Rule = "reporting_chain"
	// RuleAvoid: either lists the other's person id in Avoid.
	RuleAvoid Rule = "avoid_list"
	// RuleSharedLanguage: RequireSharedLanguage and no common language.
	RuleSharedLanguage Rule = "shared_language"
	// RulePastPair: the pair is in Rules.PastPairs.
	RulePastPair Rule = "past_pair"
	// RuleMinScore: the score is below Rules.MinPairScore.
	RuleMinScore Rule = "min_pair_score"
)

// Factor is one scoring factor of a pair.
type Factor struct {
	// Name is the factor's snake_case name, as in the scoring config.
	Name string
	// Value is from 0 to 1.
	Value float64
	// Weight is the configured weight of the factor.
	Weight float64
	// Explanation is a short sentence for people.
	Explanation string
}

// PairScore is a pair's score with its reasons.
type PairScore struct {
	// Mentor and Mentee are indexes into the model's mentors and mentees.
	Mentor, Mentee int
	// Score is from 0 to 100, in hundredths exactly as Model.Score.
	Score float64
	// Factors are all nine factors, always in the same order.
	Factors []Factor
	// Broken are the hard rules the pair breaks; empty when it is allowed.
	Broken []Rule
}

// Allowed reports whether the pair breaks no hard rule.
func (p PairScore) Allowed() bool { return len(p.Broken) == 0 }

// Side is one side of the matching.
type Side uint8

// The two sides.
const (
	SideMentee Side = iota
	SideMentor
)

// Candidate is a possible partner and the pair's score (0 to 100).
type Candidate struct {
	Index int
	Score float64
}

// Fixed-point arithmetic. A factor value v in 0..1 is held as the integer
// v×valueScale, exactly for every value the factors produce except the
// motivation factor's Jaccard ratio (rounded once): 151200 is divisible by
// t×(n+1) for every target t ≤ 5 and up to maxWants wants (competency), by
// 480 (minutes of a working day) and by 4 (quarters). Weights count in
// hundredths. A pair's score is then round(Σ wᵢvᵢ × ScoreScale / (Σ wᵢ ×
// valueScale)), computed the same way by Score, Explain and Costs.
const (
	valueScale  = 151200
	weightScale = 100
	// maxWants is how many of a mentee's wants count, most important first.
	maxWants = 8
	// maxLevel is the top competency level; targets are 1..maxLevel.
	maxLevel = 5
	// workdayMinutes is the length of the 09:00-17:00 working day.
	workdayMinutes = 8 * 60
	workdayStart   = 9 * 60
	dayMinutes     = 24 * 60
	// rareLanguage is the language bit shared by the languages beyond the
	// 63 most common ones; pairs that share only it are checked exactly.
	rareLanguage = uint64(1) << 63
	// roundBias rounds half up, with 2⁻³⁶ to absorb the floating-point
	// error of scale×p: see round.
	roundBias = 0.5 + 1.0/(1<<36)
	// rowsPerTask is how many mentee rows a Costs worker takes at once.
	rowsPerTask = 8
)

// defaultAt is the date used when Rules.At is zero.
var defaultAt = time.Date(2026, time.January, 15, 0, 0, 0, 0, time.UTC)

// factor indexes, in the order Explain lists the factors.
const (
	fCompetency = iota
	fSeniority
	fDepartment
	fTimeZone
	fLanguage
	fFormat
	fStyle
	fMotivation
	fPreference
	numFactors
)

// factorNames are the factors' names, indexed like the weights.
var factorNames = [numFactors]string{
	"competency_coverage", "seniority_gap", "cross_department", "time_zone_overlap",
	"shared_language", "format_fit", "style_complement", "motivation", "preference",
}

// list returns the weights in factor order.
func (w Weights) list() [numFactors]float64 {
	return [numFactors]float64{
		w.CompetencyCoverage, w.SeniorityGap, w.CrossDepartment, w.TimeZoneOverlap,
		w.SharedLanguage, w.FormatFit, w.StyleComplement, w.Motivation, w.Preference,
	}
}

// Model is a pool of mentors and mentees compiled for scoring. It is
// read-only after NewModel and safe for concurrent use.
type Model struct {
	rules   Rules
	mentors []Profile
	mentees []Profile

	weight   [numFactors]int64 // in hundredths
	scale    float64           // ScoreScale / (Σ weight × valueScale)
	minScore int32             // hundredths; lower scores break RuleMinScore

	// Compiled mentees: the fast path reads only these.
	menteeC    []person
	menteeRare [][]string    // languages behind rareLanguage, per mentee
	wants      []wantRow     // per mentee
	exceptions [][]exception // per mentee, sorted by mentor

	// Compiled mentors, one slice per field so that each pass of the row
	// loop streams only what it needs.
	mentorClassA     []uint32 // index into classesA
	mentorClassB     []uint32 // index into classesB
	mentorSeniority  []uint32 // index into seniorities
	mentorLanguages  []uint64
	mentorMotivation []uint64
	mentorWords      []uint8 // bits set in mentorMotivation
	mentorRare       [][]string
	rareMentors      []int32 // mentors with a rare language, ascending
	// levels are the mentors' levels in each wanted skill, skill-major:
	// levels[skill*len(mentors)+mentor].
	levels []uint8
	// classesA are the mentors' distinct (zone, department) pairs,
	// classesB their distinct (communication, work, format class) triples:
	// a row scores each class once, then each mentor by a look-up.
	classesA [][2]uint32
	classesB [][3]uint32

	// offsets are the distinct UTC offsets (minutes), by person.zone;
	// seniorities the mentors' distinct seniority levels.
	offsets     []int32
	seniorities []int32
	// Number of distinct ids, 0 (unknown) included.
	departments, communications, works, formatClasses int

	// Weighted value tables: a factor's share of Σ weight×value.
	format        [16]int64 // resolved formats (mentor<<2 | mentee)
	motivation    [65 * 65]int64
	competencyNil int64 // a mentee without wants
	motivationNil int64 // an empty motivation text
	department    int64
	language      int64
	minuteOverlap int64
	quarterStyle  int64
	preferOne     int64
	preferBoth    int64

	zones map[string]zone // by trimmed IANA name
}

// person is a profile compiled for the fast path: small ids (0 = unknown)
// instead of strings, bitmasks instead of sets.
type person struct {
	languages     uint64
	motivation    uint64
	seniority     int32
	zone          uint32 // index into Model.offsets
	department    uint32
	communication uint32
	work          uint32
	// formatClass is the resolved format (0..3), or 3 + the location id
	// when the person meets in person at a known location.
	formatClass uint32
}

// formatOf is the resolved format of a format class.
func formatOf(class uint32) Format {
	if class > 3 {
		return FormatInPerson
	}
	return Format(class)
}

// wantRow is a mentee's wants compiled: gain[j][level] is want j's share of
// Σ weight×value when the mentor is at that level of its skill; keep[j]
// [level] clears notMetBit when that level reaches the want's target.
type wantRow struct {
	n     int
	skill [maxWants]uint32
	gain  [maxWants][8]int64
	keep  [maxWants][8]int64
}

// exception marks a pair touched by the sparse rules and preferences.
type exception struct {
	mentor int32
	flags  uint8
}

// exception flags.
const (
	exSamePerson uint8 = 1 << iota
	exReportingChain
	exAvoid
	exPastPair
	exPreferredByMentor
	exPreferredByMentee
	exForbidden = exSamePerson | exReportingChain | exAvoid | exPastPair
)

// zone is a time zone resolved on Rules.At.
type zone struct {
	offset int32 // minutes east of UTC
	known  bool
}

// NewModel validates the rules and compiles the profiles. Errors wrap
// apperr.ErrInvalid and name the field ("weights.motivation: must be
// between 0 and 100"). The model keeps the profiles: callers must not
// change them afterwards.
func NewModel(r Rules, mentors, mentees []Profile) (*Model, error) {
	if err := validate(r, mentors, mentees); err != nil {
		return nil, err
	}
	if r.At.IsZero() {
		r.At = defaultAt
	}
	m := &Model{rules: r, mentors: slices.Clone(mentors), mentees: slices.Clone(mentees)}
	m.compileWeights()
	m.compileZones()
	m.compilePeople()
	m.compileWants()
	m.compileExceptions()
	return m, nil
}

// validate checks the rules and the profiles' formats.
func validate(r Rules, mentors, mentees []Profile) error {
	var vs apperr.Violations
	if r.Type != Classic && r.Type != Reverse && r.Type != Peer {
		vs.Add("type", "must be classic, reverse or peer")
	}
	var total int64
	allValid := true
	for i, w := range r.Weights.list() {
		if math.IsNaN(w) || w < 0 || w > 100 {
			vs.Add("weights."+factorNames[i], "must be between 0 and 100")
			allValid = false
			continue
		}
		total += int64(math.Round(w * weightScale))
	}
	if allValid && total == 0 {
		vs.Add("weights", "at least one weight must be 0.01 or more")
	}
	if r.ReportingChainDepth < 0 {
		vs.Add("reporting_chain_depth", "must not be negative")
	}
	if math.IsNaN(r.MinPairScore) || r.MinPairScore < 0 || r.MinPairScore > 100 {
		vs.Add("min_pair_score", "must be between 0 and 100")
	}
	if r.ProgramFormat > FormatHybrid {
		vs.Add("program_format", "must be any, in-person, remote or hybrid")
	}
	for i, p := range mentors {
		if p.Format > FormatHybrid {
			vs.Add(fmt.Sprintf("mentors[%d].format", i), "must be any, in-person, remote or hybrid")
		}
	}
	for i, p := range mentees {
		if p.Format > FormatHybrid {
			vs.Add(fmt.Sprintf("mentees[%d].format", i), "must be any, in-person, remote or hybrid")
		}
	}
	return vs.Err()
}

// compileWeights fixes the weights in hundredths, the rounding scale, the
// minimum score and the weighted value tables.
func (m *Model) compileWeights() {
	var total int64
	for i, w := range m.rules.Weights.list() {
		m.weight[i] = int64(math.Round(w * weightScale))
		total += m.weight[i]
	}
	m.scale = ScoreScale / float64(total*valueScale)
	m.minScore = minScoreHundredths(m.rules.MinPairScore)

	w := m.weight
	for a := range Format(4) {
		for b := range Format(4) {
			m.format[a<<2|b] = w[fFormat] * formatValue(a, b)
		}
	}
	for inter := 0; inter <= 64; inter++ {
		for union := inter; union <= 64; union++ {
			m.motivation[inter*65+union] = w[fMotivation] * jaccardValue(inter, union)
		}
	}
	m.competencyNil = w[fCompetency] * valueScale / 2
	m.motivationNil = w[fMotivation] * valueScale / 2
	m.department = w[fDepartment] * valueScale
	m.language = w[fLanguage] * valueScale
	m.minuteOverlap = w[fTimeZone] * valueScale / workdayMinutes
	m.quarterStyle = w[fStyle] * valueScale / 4
	m.preferOne = w[fPreference] * valueScale * 3 / 4
	m.preferBoth = w[fPreference] * valueScale
}

// minScoreHundredths is the lowest allowed score in hundredths: the
// smallest integer not below MinPairScore×100, forgiving float noise such
// as 0.57×100 = 56.99999999999999.
func minScoreHundredths(minimum float64) int32 {
	t := minimum * 100
	if r := math.Round(t); math.Abs(t-r) < 1e-6 {
		return int32(r)
	}
	return int32(math.Ceil(t))
}

// compileZones loads each distinct time zone once and fixes its UTC offset
// at noon of Rules.At's date. Unknown zones, and "Local", which would
// depend on the machine, count as UTC.
func (m *Model) compileZones() {
	m.zones = make(map[string]zone)
	y, mo, d := m.rules.At.Date()
	for _, people := range [][]Profile{m.mentors, m.mentees} {
		for _, p := range people {
			name := strings.TrimSpace(p.TimeZone)
			if _, ok := m.zones[name]; ok {
				continue
			}
			if name == "" {
				m.zones[name] = zone{known: true}
				continue
			}
			loc, err := time.LoadLocation(name)
			if err != nil || name == "Local" {
				m.zones[name] = zone{}
				continue
			}
			_, offset := time.Date(y, mo, d, 12, 0, 0, 0, loc).Zone()
			m.zones[name] = zone{offset: int32(offset / 60), known: true}
		}
	}
}

// compilePeople turns both sides' strings into ids and bitmasks.
func (m *Model) compilePeople() {
	departments, locations := interner{}, interner{}
	communication, work := interner{}, interner{}
	zoneOf := map[int32]uint32{}
	languageBit, rare := m.languageBits()
	compile := func(p Profile) (person, []string) {
		offset := m.zones[strings.TrimSpace(p.TimeZone)].offset
		if _, ok := zoneOf[offset]; !ok {
			zoneOf[offset] = uint32(len(m.offsets))
			m.offsets = append(m.offsets, offset)
		}
		c := person{
			seniority:     int32(p.Seniority),
			zone:          zoneOf[offset],
			department:    departments.id(p.Department),
			communication: communication.id(p.CommunicationStyle),
			work:          work.id(p.WorkStyle),
			formatClass:   uint32(m.resolveFormat(p.Format)),
			motivation:    motivationMask(motivationWords(p.Motivation)),
		}
		if c.formatClass == uint32(FormatInPerson) {
			if at := locations.id(p.Location); at != 0 {
				c.formatClass = 3 + at
			}
		}
		var rareTags []string
		for _, tag := range languageTags(p.Languages) {
			c.languages |= languageBit[tag]
			if rare[tag] {
				rareTags = append(rareTags, tag)
			}
		}
		return c, rareTags
	}
	n := len(m.mentors)
	m.mentorClassA, m.mentorClassB = make([]uint32, n), make([]uint32, n)
	m.mentorSeniority = make([]uint32, n)
	seniorityID := map[int32]uint32{}
	m.mentorLanguages, m.mentorMotivation = make([]uint64, n), make([]uint64, n)
	m.mentorWords = make([]uint8, n)
	m.mentorRare = make([][]string, n)
	classA, classB := map[[2]uint32]uint32{}, map[[3]uint32]uint32{}
	for i, p := range m.mentors {
		c, rareTags := compile(p)
		a := [2]uint32{c.zone, c.department}
		if _, ok := classA[a]; !ok {
			classA[a] = uint32(len(m.classesA))
			m.classesA = append(m.classesA, a)
		}
		b := [3]uint32{c.communication, c.work, c.formatClass}
		if _, ok := classB[b]; !ok {
			classB[b] = uint32(len(m.classesB))
			m.classesB = append(m.classesB, b)
		}
		m.mentorClassA[i], m.mentorClassB[i] = classA[a], classB[b]
		if _, ok := seniorityID[c.seniority]; !ok {
			seniorityID[c.seniority] = uint32(len(m.seniorities))
			m.seniorities = append(m.seniorities, c.seniority)
		}
		m.mentorSeniority[i] = seniorityID[c.seniority]
		m.mentorLanguages[i], m.mentorMotivation[i] = c.languages, c.motivation
		m.mentorWords[i] = uint8(bits.OnesCount64(c.motivation))
		m.mentorRare[i] = rareTags
		if len(rareTags) > 0 {
			m.rareMentors = append(m.rareMentors, int32(i))
		}
	}
	m.menteeC = make([]person, len(m.mentees))
	m.menteeRare = make([][]string, len(m.mentees))
	for i, p := range m.mentees {
		m.menteeC[i], m.menteeRare[i] = compile(p)
	}
	m.departments = len(departments) + 1
	m.communications = len(communication) + 1
	m.works = len(work) + 1
	m.formatClasses = len(locations) + 4
}

// languageBits gives each language a bit, the most common first. When
// there are more than 64, the rarest share the top bit and are marked rare.
func (m *Model) languageBits() (map[string]uint64, map[string]bool) {
	count := map[string]int{}
	for _, people := range [][]Profile{m.mentors, m.mentees} {
		for _, p := range people {
			for _, tag := range languageTags(p.Languages) {
				count[tag]++
			}
		}
	}
	tags := make([]string, 0, len(count))
	for tag := range count {
		tags = append(tags, tag)
	}
	slices.SortFunc(tags, func(a, b string) int {
		return cmp.Or(cmp.Compare(count[b], count[a]), strings.Compare(a, b))
	})
	bit, rare := make(map[string]uint64, len(tags)), map[string]bool{}
	for i, tag := range tags {
		switch {
		case len(tags) <= 64:
			bit[tag] = 1 << i
		case i < 63:
			bit[tag] = 1 << i
		default:
			bit[tag] = rareLanguage
			rare[tag] = true
		}
	}
	return bit, rare
}

// compileWants gives each wanted skill an id, stores each mentor's level in
// it and each mentee's weighted gain per mentor level.
func (m *Model) compileWants() {
	skillID := map[string]uint32{}
	for _, p := range m.mentees {
		for _, w := range firstWants(p) {
			if _, ok := skillID[key(w.Skill)]; !ok {
				skillID[key(w.Skill)] = uint32(len(skillID))
			}
		}
	}
	n := len(m.mentors)
	m.levels = make([]uint8, len(skillID)*n)
	for i, p := range m.mentors {
		for skill, level := range p.Competencies {
			if id, ok := skillID[key(skill)]; ok {
				at := int(id)*n + i
				m.levels[at] = max(m.levels[at], uint8(clamp(level, 0, maxLevel)))
			}
		}
	}
	m.wants = make([]wantRow, len(m.mentees))
	for i, p := range m.mentees {
		wants := firstWants(p)
		row := &m.wants[i]
		row.n = len(wants)
		for j, w := range wants {
			row.skill[j] = skillID[key(w.Skill)]
			for level := 0; level <= maxLevel; level++ {
				row.gain[j][level] = m.weight[fCompetency] * wantValue(j, len(wants), level, w.Target)
				row.keep[j][level] = -1
				if level >= clamp(w.Target, 1, maxLevel) {
					row.keep[j][level] = ^notMetBit
				}
			}
		}
	}
}

// compileExceptions turns the sparse rules and preferences into a short
// sorted list per mentee, so the dense loop never looks at lists or ids.
func (m *Model) compileExceptions() {
	mentorsOf, menteesOf := byPerson(m.mentors), byPerson(m.mentees)
	flags := make([]map[int32]uint8, len(m.mentees))
	mark := func(mentee, mentor int32, f uint8) {
		if flags[mentee] == nil {
			flags[mentee] = map[int32]uint8{}
		}
		flags[mentee][mentor] |= f
	}
	depth := m.rules.ReportingChainDepth
	for e, p := range m.mentees {
		e := int32(e)
		for _, t := range mentorsOf[p.PersonID] {
			mark(e, t, exSamePerson)
		}
		for _, manager := range p.Managers[:min(depth, len(p.Managers))] {
			for _, t := range mentorsOf[manager] {
				mark(e, t, exReportingChain)
			}
		}
		for _, id := range p.Avoid {
			for _, t := range mentorsOf[id] {
				mark(e, t, exAvoid)
			}
		}
		for _, id := range p.Prefer {
			for _, t := range mentorsOf[id] {
				mark(e, t, exPreferredByMentee)
			}
		}
	}
	for t, p := range m.mentors {
		t := int32(t)
		for _, manager := range p.Managers[:min(depth, len(p.Managers))] {
			for _, e := range menteesOf[manager] {
				mark(e, t, exReportingChain)
			}
		}
		for _, id := range p.Avoid {
			for _, e := range menteesOf[id] {
				mark(e, t, exAvoid)
			}
		}
		for _, id := range p.Prefer {
			for _, e := range menteesOf[id] {
				mark(e, t, exPreferredByMentor)
			}
		}
	}
	for _, pair := range m.rules.PastPairs {
		for _, t := range mentorsOf[pair[0]] {
			for _, e := range menteesOf[pair[1]] {
				mark(e, t, exPastPair)
			}
		}
	}
	m.exceptions = make([][]exception, len(m.mentees))
	for e, f := range flags {
		list := make([]exception, 0, len(f))
		for t, fl := range f {
			list = append(list, exception{mentor: t, flags: fl})
		}
		slices.SortFunc(list, func(a, b exception) int { return cmp.Compare(a.mentor, b.mentor) })
		m.exceptions[e] = list
	}
}

// Rules returns the model's rules, with At set to the date used.
func (m *Model) Rules() Rules { return m.rules }

// Mentors returns the mentors; callers must not change them.
func (m *Model) Mentors() []Profile { return m.mentors }

// Mentees returns the mentees; callers must not change them.
func (m *Model) Mentees() []Profile { return m.mentees }

// Capacities returns each mentor's capacity, at least 1.
func (m *Model) Capacities() []int32 {
	c := make([]int32, len(m.mentors))
	for i, p := range m.mentors {
		c[i] = int32(max(p.Capacity, 1))
	}
	return c
}

// Score returns the pair's score in hundredths (0..ScoreScale) and whether
// it breaks no hard rule. It panics if an index is out of range.
func (m *Model) Score(mentor, mentee int) (score int32, allowed bool) {
	var cell [1]int32
	var sc rowScratch
	m.row(mentee, mentor, mentor+1, cell[:], &sc, false)
	if cell[0] < 0 {
		return ^cell[0], false
	}
	return cell[0], true
}

// Costs returns the cost matrix of the pool for Solve: len(mentees) rows
// of len(mentors) columns, row-major by mentee, each cell ScoreScale minus
// the score, or Forbidden. It fills rows on workers goroutines (fewer than
// 1: GOMAXPROCS) and blocks until done; the result does not depend on
// workers.
func (m *Model) Costs(workers int) []int32 {
	cols, rows := len(m.mentors), len(m.mentees)
	costs := make([]int32, rows*cols)
	if cols == 0 || rows == 0 {
		return costs
	}
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, rows) {
		wg.Go(func() {
			var sc rowScratch
			for {
				first := int(next.Add(rowsPerTask)) - rowsPerTask
				if first >= rows {
					return
				}
				for e := first; e < min(first+rowsPerTask, rows); e++ {
					m.row(e, 0, cols, costs[e*cols:(e+1)*cols], &sc, true)
				}
			}
		})
	}
	wg.Wait()
	return costs
}

// Candidates returns the top k allowed partners of mentee or mentor index,
// by score descending, ties by index ascending; all of them when fewer
// than k are allowed, none when k ≤ 0. It panics if index is out of range.
func (m *Model) Candidates(side Side, index, k int) []Candidate {
	if k <= 0 {
		return nil
	}
	type cell struct {
		index int
		score int32
	}
	var allowed []cell
	var sc rowScratch
	switch side {
	case SideMentee:
		row := make([]int32, len(m.mentors))
		m.row(index, 0, len(row), row, &sc, false)
		for t, s := range row {
			if s >= 0 {
				allowed = append(allowed, cell{t, s})
			}
		}
	case SideMentor:
		var one [1]int32
		for e := range m.mentees {
			m.row(e, index, index+1, one[:], &sc, false)
			if one[0] >= 0 {
				allowed = append(allowed, cell{e, one[0]})
			}
		}
	}
	slices.SortFunc(allowed, func(a, b cell) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.index, b.index))
	})
	top := make([]Candidate, min(k, len(allowed)))
	for i := range top {
		top[i] = Candidate{Index: allowed[i].index, Score: float64(allowed[i].score) / 100}
	}
	return top
}

// rowScratch is the working memory of row, reused from row to row.
type rowScratch struct {
	tables []int64 // the mentee's value tables by mentor class
	acc    []int64 // per mentor: points, notMetBit and badBit counts
}

// Bits of a row accumulator above the points (Σ weight×value < 2³⁴): in a
// reverse program it starts with notMetBit, which each want whose target
// the mentor reaches clears; each dense hard rule broken adds badBit
// (reverse seniority, shared language: at most twice) and the exceptions
// OR it in. A pair breaks a rule when anything from notMetBit up is set.
const (
	notMetBit  = int64(1) << 56
	badBit     = int64(1) << 58
	pointsMask = notMetBit - 1
)

// rowChunk is how many mentors the passes of row take at a time, so that
// the accumulators stay in the L1 cache from pass to pass.
const rowChunk = 1024

// row scores mentee e against mentors lo..hi-1 into out. With cost set a
// cell is ScoreScale minus the score, or Forbidden; otherwise it is the
// score when the pair is allowed, its bitwise complement (negative) when
// not. It is the fast path behind Score, Costs and Candidates.
//
// It runs in passes over an accumulator per mentor, each a small function
// with a short loop, few live values and no unpredictable branch: the
// factors that depend on one categorical value per side come from tables
// built for this mentee and indexed by the mentor's class; broken rules
// and reached targets are counted in high bits of the accumulator;
// conditions are arithmetic or selects. The sparse rules and preferences
// come from the mentee's exception list, applied after the dense passes.
func (m *Model) row(e, lo, hi int, out []int32, sc *rowScratch, cost bool) {
	me := &m.menteeC[e]
	tables := len(m.offsets) + m.departments + m.communications + m.works + m.formatClasses +
		len(m.classesA) + len(m.classesB) + len(m.seniorities)
	sc.tables = slices.Grow(sc.tables[:0], tables)[:tables]
	chunk := min(rowChunk, hi-lo)
	sc.acc = slices.Grow(sc.acc[:0], chunk)[:chunk]
	var reverse, requireLanguage int64
	if m.rules.Type == Reverse {
		reverse = 1
	}
	if m.rules.RequireSharedLanguage {
		requireLanguage = 1
	}
	classA, classB, seniority := m.classTables(me, sc.tables, lo, hi, reverse)
	wants := &m.wants[e]
	base := reverse * notMetBit
	if wants.n == 0 {
		base += m.competencyNil
	}
	ex := m.exceptions[e]
	x, _ := slices.BinarySearchFunc(ex, lo, func(a exception, t int) int { return cmp.Compare(int(a.mentor), t) })
	mentors := len(m.mentors)

	for start := lo; start < hi; start += rowChunk {
		end := min(start+rowChunk, hi)
		acc := sc.acc[:end-start]
		addClasses(acc, base, classA, classB, seniority,
			m.mentorClassA[start:end], m.mentorClassB[start:end], m.mentorSeniority[start:end])
		addLanguage(acc, m.mentorLanguages[start:end], me.languages, m.language, requireLanguage*badBit)
		if len(m.menteeRare[e]) > 0 {
			m.fixRareLanguages(e, start, end, acc, requireLanguage)
		}
		addMotivation(acc, m.mentorMotivation[start:end], m.mentorWords[start:end], me.motivation,
			&m.motivation, m.motivationNil)
		for j, s := range wants.skill[:wants.n] {
			addWant(acc, m.levels[int(s)*mentors+start:int(s)*mentors+end], &wants.gain[j], &wants.keep[j])
		}
		for ; x < len(ex) && int(ex[x].mentor) < end; x++ {
			i, f := int(ex[x].mentor)-start, ex[x].flags
			if f&exForbidden != 0 {
				acc[i] |= badBit
			}
			switch f & (exPreferredByMentor | exPreferredByMentee) {
			case exPreferredByMentor | exPreferredByMentee:
				acc[i] += m.preferBoth
			case exPreferredByMentor, exPreferredByMentee:
				acc[i] += m.preferOne
			}
		}
		m.finish(out[start-lo:end-lo], acc, cost)
	}
}

// addClasses starts the accumulators: base (notMetBit in a reverse
// program, plus the competency value of a mentee without wants) plus the
// mentee's values for each mentor's classes: zone and department, style
// and format, seniority.
//
// Inlined into row, its loop would share the registers with row's own
// values and spill; as a call it makes BenchmarkCosts1k about 15% faster.
//
//go:noinline
func addClasses(acc []int64, base int64, classA, classB, seniority []int64, ofA, ofB, ofSeniority []uint32) {
	ofA = ofA[:len(acc)]
	ofB, ofSeniority = ofB[:len(ofA)], ofSeniority[:len(ofA)]
	for i, a := range ofA {
		acc[i] = base + classA[a] + classB[ofB[i]] + seniority[ofSeniority[i]]
	}
}

// addLanguage adds language when the mentor shares a language bit with
// the mentee's mask me, else unshared (badBit when a common language is
// required).
func addLanguage(acc []int64, languages []uint64, me uint64, language, unshared int64) {
	languages = languages[:len(acc)]
	for i, l := range languages {
		common := l & me
		v := unshared
		if common != 0 {
			v = language
		}
		acc[i] += v
	}
}

// addMotivation adds the weighted Jaccard similarity of each mentor's
// word mask with the mentee's mask me, or empty when either is empty.
func addMotivation(acc []int64, masks []uint64, words []uint8, me uint64, jaccard *[65 * 65]int64, empty int64) {
	if me == 0 {
		for i := range acc {
			acc[i] += empty
		}
		return
	}
	meWords := bits.OnesCount64(me)
	masks = masks[:len(acc)]
	words = words[:len(masks)]
	for i, mask := range masks {
		inter := bits.OnesCount64(mask & me)
		// jaccard[inter*65+union], union = words + meWords - inter
		v := jaccard[inter*64+int(words[i])+meWords]
		if mask == 0 {
			v = empty
		}
		acc[i] += v
	}
}

// addWant adds one want's gain by each mentor's level in its skill, and
// clears notMetBit where the level reaches the target.
func addWant(acc []int64, levels []uint8, gain, keep *[8]int64) {
	levels = levels[:len(acc)]
	for i, level := range levels {
		acc[i] = (acc[i] + gain[level&7]) & keep[level&7]
	}
}

// finish rounds each accumulator to a score, applies the hard rules
// marked in it and the minimum score, and writes the cells.
func (m *Model) finish(out []int32, acc []int64, cost bool) {
	scale, minScore := m.scale, m.minScore
	out = out[:len(acc)]
	for i, a := range acc {
		s := round(a&pointsMask, scale)
		bad := a >> 56
		if s < minScore {
			bad = 1
		}
		v := s
		if cost {
			v = ScoreScale - s
			if bad != 0 {
				v = Forbidden
			}
		} else if bad != 0 {
			v = ^s
		}
		out[i] = v
	}
}

// fixRareLanguages corrects pass 2 for mentors whose only common bit with
// mentee e is the one the rare languages share: they count as sharing a
// language only if they do.
func (m *Model) fixRareLanguages(e, lo, hi int, acc []int64, requireLanguage int64) {
	first, _ := slices.BinarySearch(m.rareMentors, int32(lo))
	for _, t := range m.rareMentors[first:] {
		if int(t) >= hi {
			return
		}
		if m.mentorLanguages[t]&m.menteeC[e].languages == rareLanguage && !intersects(m.mentorRare[t], m.menteeRare[e]) {
			acc[int(t)-lo] += requireLanguage*badBit - m.language
		}
	}
}

// classTables fills buf with mentee me's weighted values by mentor class:
// time zone plus department (classes A), style plus format (classes B),
// seniority (with badBit when reverse and the mentor is not less senior).
// For a few mentors (Score) it fills only their classes.
func (m *Model) classTables(me *person, buf []int64, lo, hi int, reverse int64) (classA, classB, seniority []int64) {
	zone, buf := m.zoneRow(me, buf)
	department, buf := m.departmentRow(me, buf)
	communication, buf := m.communicationRow(me, buf)
	work, buf := m.workRow(me, buf)
	format, buf := m.formatRow(me, buf)
	classA, buf = buf[:len(m.classesA)], buf[len(m.classesA):]
	classB, buf = buf[:len(m.classesB)], buf[len(m.classesB):]
	seniority = buf[:len(m.seniorities)]
	fillA := func(c uint32) { k := m.classesA[c]; classA[c] = zone[k[0]] + department[k[1]] }
	fillB := func(c uint32) { k := m.classesB[c]; classB[c] = communication[k[0]] + work[k[1]] + format[k[2]] }
	fillSeniority := func(id uint32) {
		d := int(m.seniorities[id]) - int(me.seniority)
		seniority[id] = m.weight[fSeniority] * seniorityValue(m.rules.Type, d)
		if d >= 0 {
			seniority[id] += reverse * badBit
		}
	}
	if 4*(hi-lo) < len(classA)+len(classB)+len(seniority) {
		for t := lo; t < hi; t++ {
			fillA(m.mentorClassA[t])
			fillB(m.mentorClassB[t])
			fillSeniority(m.mentorSeniority[t])
		}
		return classA, classB, seniority
	}
	for c := range classA {
		fillA(uint32(c))
	}
	for c := range classB {
		fillB(uint32(c))
	}
	for id := range seniority {
		fillSeniority(uint32(id))
	}
	return classA, classB, seniority
}

// zoneRow is the weighted time-zone overlap of mentee me with each zone
// offset: 8 hours less the distance of the offsets around the clock.
func (m *Model) zoneRow(me *person, buf []int64) (row, rest []int64) {
	row, rest = buf[:len(m.offsets)], buf[len(m.offsets):]
	for z, offset := range m.offsets {
		gap := abs(int(offset-m.offsets[me.zone])) % dayMinutes
		gap = min(gap, dayMinutes-gap)
		row[z] = int64(max(workdayMinutes-gap, 0)) * m.minuteOverlap
	}
	return row, rest
}

// departmentRow is the weighted cross_department value by department id.
func (m *Model) departmentRow(me *person, buf []int64) (row, rest []int64) {
	row, rest = buf[:m.departments], buf[m.departments:]
	for id := range row {
		row[id] = 0
		if me.department != 0 && id != 0 && uint32(id) != me.department {
			row[id] = m.department
		}
	}
	return row, rest
}

// communicationRow is the communication half of style_complement by id:
// same 1, different 0, unknown ½ (in quarters of the factor).
func (m *Model) communicationRow(me *person, buf []int64) (row, rest []int64) {
	row, rest = buf[:m.communications], buf[m.communications:]
	for id := range row {
		switch {
		case me.communication == 0 || id == 0:
			row[id] = m.quarterStyle
		case uint32(id) == me.communication:
			row[id] = 2 * m.quarterStyle
		default:
			row[id] = 0
		}
	}
	return row, rest
}

// workRow is the work-style half of style_complement by id: different 1,
// same 0, unknown ½ (in quarters of the factor).
func (m *Model) workRow(me *person, buf []int64) (row, rest []int64) {
	row, rest = buf[:m.works], buf[m.works:]
	for id := range row {
		switch {
		case me.work == 0 || id == 0:
			row[id] = m.quarterStyle
		case uint32(id) == me.work:
			row[id] = 0
		default:
			row[id] = 2 * m.quarterStyle
		}
	}
	return row, rest
}

// formatRow is the weighted format_fit by format class: 0 when both meet
// in person at different known locations.
func (m *Model) formatRow(me *person, buf []int64) (row, rest []int64) {
	row, rest = buf[:m.formatClasses], buf[m.formatClasses:]
	for class := range row {
		c := uint32(class)
		if c > 3 && me.formatClass > 3 && c != me.formatClass {
			row[class] = 0
			continue
		}
		row[class] = m.format[formatOf(c)<<2|formatOf(me.formatClass)]
	}
	return row, rest
}

// round turns Σ weight×value into a score in hundredths, rounding half up:
// floor(p×scale + ½). With p < 2⁵³ exact in a float64, p×scale is within
// 10⁴×2⁻⁵² < 2⁻³⁸ of the true quotient, which is either a multiple of ½
// or at least 1/(2 Σweight×valueScale) > 2⁻³⁵ away from one; roundBias
// adds 2⁻³⁶ so exact halves round up and nothing else moves.
func round(p int64, scale float64) int32 {
	return int32(float64(p)*scale + roundBias)
}

// Explain scores the pair the readable way, straight from the profiles,
// and gives each factor and broken rule. Its score equals Score's. It
// panics if an index is out of range.
func (m *Model) Explain(mentor, mentee int) PairScore {
	a, b := m.mentors[mentor], m.mentees[mentee]
	var values [numFactors]int64
	var texts [numFactors]string
	values[fCompetency], texts[fCompetency] = explainCompetency(a, b)
	values[fSeniority], texts[fSeniority] = explainSeniority(m.rules.Type, a, b)
	values[fDepartment], texts[fDepartment] = explainDepartment(a, b)
	values[fTimeZone], texts[fTimeZone] = m.explainTimeZone(a, b)
	values[fLanguage], texts[fLanguage] = explainLanguage(a, b)
	values[fFormat], texts[fFormat] = m.explainFormat(a, b)
	values[fStyle], texts[fStyle] = explainStyle(a, b)
	values[fMotivation], texts[fMotivation] = explainMotivation(a, b)
	values[fPreference], texts[fPreference] = explainPreference(a, b)

	weights := m.rules.Weights.list()
	ps := PairScore{Mentor: mentor, Mentee: mentee, Factors: make([]Factor, numFactors)}
	var p int64
	for i := range values {
		p += m.weight[i] * values[i]
		ps.Factors[i] = Factor{
			Name:        factorNames[i],
			Value:       float64(values[i]) / valueScale,
			Weight:      weights[i],
			Explanation: texts[i],
		}
	}
	score := round(p, m.scale)
	ps.Score = float64(score) / 100
	ps.Broken = m.brokenRules(a, b, values[fLanguage] > 0, score)
	return ps
}

// brokenRules lists the hard rules the pair breaks, in the order of the
// Rule constants.
func (m *Model) brokenRules(a, b Profile, sharedLanguage bool, score int32) []Rule {
	var broken []Rule
	if a.PersonID != "" && a.PersonID == b.PersonID {
		broken = append(broken, RuleSamePerson)
	}
	if m.rules.Type == Reverse {
		if a.Seniority >= b.Seniority {
			broken = append(broken, RuleReverseSeniority)
		}
		proficient := false
		for _, w := range firstWants(b) {
			proficient = proficient || level(a, w.Skill) >= clamp(w.Target, 1, maxLevel)
		}
		if !proficient {
			broken = append(broken, RuleProficiency)
		}
	}
	depth := m.rules.ReportingChainDepth
	if manages(a, b, depth) || manages(b, a, depth) {
		broken = append(broken, RuleReportingChain)
	}
	if lists(a.Avoid, b.PersonID) || lists(b.Avoid, a.PersonID) {
		broken = append(broken, RuleAvoid)
	}
	if m.rules.RequireSharedLanguage && !sharedLanguage {
		broken = append(broken, RuleSharedLanguage)
	}
	if a.PersonID != "" && b.PersonID != "" && slices.Contains(m.rules.PastPairs, [2]string{a.PersonID, b.PersonID}) {
		broken = append(broken, RulePastPair)
	}
	if score < m.minScore {
		broken = append(broken, RuleMinScore)
	}
	return broken
}

// manages reports whether boss is among the first depth managers of p.
func manages(boss, p Profile, depth int) bool {
	return lists(p.Managers[:min(depth, len(p.Managers))], boss.PersonID)
}

// lists reports whether the person ids include id (never an empty one).
func lists(ids []string, id string) bool {
	return id != "" && slices.Contains(ids, id)
}

// explainCompetency: the mean over the mentee's wants of min(level,
// target)/target, the first want counting double.
func explainCompetency(a, b Profile) (int64, string) {
	wants := firstWants(b)
	if len(wants) == 0 {
		return valueScale / 2, "mentee lists no development areas (neutral)"
	}
	var v int64
	parts := make([]string, len(wants))
	for j, w := range wants {
		lv, target := level(a, w.Skill), clamp(w.Target, 1, maxLevel)
		v += wantValue(j, len(wants), lv, w.Target)
		name := strings.TrimSpace(w.Skill)
		switch {
		case lv >= target:
			parts[j] = fmt.Sprintf("%s at level %d (target %d)", name, lv, target)
		case lv > 0:
			parts[j] = fmt.Sprintf("%s %d of target %d", name, lv, target)
		default:
			parts[j] = fmt.Sprintf("no %s (target %d)", name, target)
		}
	}
	text := strings.Join(parts, "; ")
	if level(a, wants[0].Skill) > 0 {
		text = "teaches " + text
	}
	if len(b.Wants) > maxWants {
		text += fmt.Sprintf("; only the first %d of %d wants count", maxWants, len(b.Wants))
	}
	return v, text
}

// wantValue is want j's share of the competency value (of n wants) when the
// mentor is at level lv: weight×min(lv, target)/target/(n+1), the first
// want weighing 2, the others 1. It is exact: t×(n+1) divides valueScale.
func wantValue(j, n, lv, target int) int64 {
	target = clamp(target, 1, maxLevel)
	weight := int64(1)
	if j == 0 {
		weight = 2
	}
	return valueScale * weight * int64(min(clamp(lv, 0, maxLevel), target)) / int64(target*(n+1))
}

// level is the mentor's level (0..5) in skill, matched case-insensitively.
func level(p Profile, skill string) int {
	best := 0
	for name, lv := range p.Competencies {
		if key(name) == key(skill) {
			best = max(best, clamp(lv, 0, maxLevel))
		}
	}
	return best
}

// firstWants are the wants that count.
func firstWants(p Profile) []Want {
	return p.Wants[:min(len(p.Wants), maxWants)]
}

// explainSeniority scores the seniority difference by program type.
func explainSeniority(t ProgramType, a, b Profile) (int64, string) {
	d := a.Seniority - b.Seniority
	v := seniorityValue(t, d)
	switch t {
	case Reverse:
		switch {
		case d < 0:
			return v, fmt.Sprintf("mentor %s less senior (reverse program)", plural(-d, "level"))
		case d == 0:
			return v, "same seniority (a reverse program needs a less senior mentor)"
		default:
			return v, fmt.Sprintf("mentor %s more senior (a reverse program needs a less senior mentor)", plural(d, "level"))
		}
	case Classic:
		switch {
		case d > 3:
			return v, fmt.Sprintf("mentor %s more senior (classic program; more than 3 counts less)", plural(d, "level"))
		case d > 0:
			return v, fmt.Sprintf("mentor %s more senior (classic program)", plural(d, "level"))
		case d == 0:
			return v, "same seniority (classic program)"
		default:
			return v, fmt.Sprintf("mentor %s less senior (classic program)", plural(-d, "level"))
		}
	default:
		if d == 0 {
			return v, "same seniority (peer program)"
		}
		return v, fmt.Sprintf("%s apart (peer program)", plural(abs(d), "level"))
	}
}

// seniorityValue is the seniority factor when the mentor is d levels above
// the mentee (below when d < 0).
func seniorityValue(t ProgramType, d int) int64 {
	const q = valueScale / 4
	switch t {
	case Reverse:
		if d >= 0 {
			return 0
		}
		return int64(min(-d, 4)) * q
	case Classic:
		switch {
		case d <= 0:
			return 0
		case d <= 3:
			return valueScale
		default:
			return max(valueScale-int64(d-3)*q, q)
		}
	default:
		return max(valueScale-int64(abs(d))*q, 0)
	}
}

// explainDepartment: 1 when both departments are known and differ.
func explainDepartment(a, b Profile) (int64, string) {
	da, db := strings.TrimSpace(a.Department), strings.TrimSpace(b.Department)
	switch {
	case da == "" || db == "":
		return 0, "department unknown"
	case key(da) == key(db):
		return 0, fmt.Sprintf("same department (%s)", da)
	default:
		return valueScale, fmt.Sprintf("different departments (%s, %s)", da, db)
	}
}

// explainTimeZone: the overlap of the two 09:00-17:00 working days, as
// times of day in UTC, over 8 hours. A day that crosses midnight in UTC
// (Sydney's is 22:00-06:00) is split in two.
func (m *Model) explainTimeZone(a, b Profile) (int64, string) {
	za, zb := strings.TrimSpace(a.TimeZone), strings.TrimSpace(b.TimeZone)
	minutes := 0
	for _, x := range workdayInUTC(m.zones[za].offset) {
		for _, y := range workdayInUTC(m.zones[zb].offset) {
			minutes += max(0, min(x[1], y[1])-max(x[0], y[0]))
		}
	}
	text := fmt.Sprintf("%s h of shared working hours (%s, %s)", hours(minutes), zoneLabel(za), zoneLabel(zb))
	for _, z := range []string{za, zb} {
		if !m.zones[z].known {
			text += fmt.Sprintf("; unknown time zone %q taken as UTC", z)
			if za == zb {
				break
			}
		}
	}
	return int64(minutes) * valueScale / workdayMinutes, text
}

// workdayInUTC is the working day of a zone offset as one or two
// [start, end) minute ranges of the UTC day.
func workdayInUTC(offset int32) [][2]int {
	start := ((workdayStart-int(offset))%dayMinutes + dayMinutes) % dayMinutes
	end := start + workdayMinutes
	if end <= dayMinutes {
		return [][2]int{{start, end}}
	}
	return [][2]int{{start, dayMinutes}, {0, end - dayMinutes}}
}

// hours formats minutes as hours with one decimal, two when needed.
func hours(minutes int) string {
	if minutes%6 == 0 {
		return strconv.FormatFloat(float64(minutes)/60, 'f', 1, 64)
	}
	return strconv.FormatFloat(float64(minutes)/60, 'f', 2, 64)
}

// zoneLabel names a zone, UTC when empty.
func zoneLabel(z string) string {
	if z == "" {
		return "UTC"
	}
	return z
}

// explainLanguage: 1 when they share a primary language tag.
func explainLanguage(a, b Profile) (int64, string) {
	la, lb := languageTags(a.Languages), languageTags(b.Languages)
	var common []string
	for _, tag := range la {
		if slices.Contains(lb, tag) {
			common = append(common, tag)
		}
	}
	if len(common) > 0 {
		return valueScale, "share " + strings.Join(common, ", ")
	}
	return 0, fmt.Sprintf("no common language (mentor: %s; mentee: %s)", listOrNone(la), listOrNone(lb))
}

// listOrNone joins tags, "none" when there are none.
func listOrNone(tags []string) string {
	if len(tags) == 0 {
		return "none"
	}
	return strings.Join(tags, ", ")
}

// explainFormat compares the formats each person ends up with.
func (m *Model) explainFormat(a, b Profile) (int64, string) {
	fa, fb := m.resolveFormat(a.Format), m.resolveFormat(b.Format)
	note := ""
	if m.rules.ProgramFormat != FormatAny && (a.Format == FormatAny || b.Format == FormatAny) {
		note = " (program format)"
	}
	v := formatValue(fa, fb)
	la, lb := strings.TrimSpace(a.Location), strings.TrimSpace(b.Location)
	switch {
	case fa == FormatAny && fb == FormatAny:
		return v, "no format preference"
	case fa == FormatAny:
		return v, fmt.Sprintf("mentee prefers %s%s; mentor has no preference", formatName(fb), note)
	case fb == FormatAny:
		return v, fmt.Sprintf("mentor prefers %s%s; mentee has no preference", formatName(fa), note)
	case fa == FormatInPerson && fb == FormatInPerson && la != "" && lb != "" && key(la) != key(lb):
		return 0, fmt.Sprintf("in-person but %s vs %s%s", la, lb, note)
	case fa == fb:
		return v, fmt.Sprintf("both prefer %s%s", formatName(fa), note)
	default:
		return v, fmt.Sprintf("mentor prefers %s, mentee %s%s", formatName(fa), formatName(fb), note)
	}
}

// resolveFormat applies the program's format to a person without a
// preference.
func (m *Model) resolveFormat(f Format) Format {
	if f == FormatAny {
		return m.rules.ProgramFormat
	}
	return f
}

// formatValue is format_fit before the location check.
func formatValue(a, b Format) int64 {
	switch {
	case a == FormatAny || b == FormatAny || a == b:
		return valueScale
	case a == FormatHybrid || b == FormatHybrid:
		return valueScale * 3 / 4
	default:
		return valueScale / 4
	}
}

// formatName names a format for explanations.
func formatName(f Format) string {
	switch f {
	case FormatInPerson:
		return "in-person"
	case FormatRemote:
		return "remote"
	case FormatHybrid:
		return "hybrid"
	default:
		return "any format"
	}
}

// explainStyle: half for a shared communication style, half for
// different work styles (complementary); an unknown style gives its half
// 0.5.
func explainStyle(a, b Profile) (int64, string) {
	var v int64
	var parts []string
	ca, cb := strings.TrimSpace(a.CommunicationStyle), strings.TrimSpace(b.CommunicationStyle)
	switch {
	case ca == "" || cb == "":
		v += valueScale / 4
		parts = append(parts, "communication style unknown")
	case key(ca) == key(cb):
		v += valueScale / 2
		parts = append(parts, fmt.Sprintf("same communication style (%s)", ca))
	default:
		parts = append(parts, fmt.Sprintf("different communication styles (%s, %s)", ca, cb))
	}
	wa, wb := strings.TrimSpace(a.WorkStyle), strings.TrimSpace(b.WorkStyle)
	switch {
	case wa == "" || wb == "":
		v += valueScale / 4
		parts = append(parts, "work style unknown")
	case key(wa) == key(wb):
		parts = append(parts, fmt.Sprintf("same work style (%s)", wa))
	default:
		v += valueScale / 2
		parts = append(parts, fmt.Sprintf("complementary work styles (%s, %s)", wa, wb))
	}
	return v, strings.Join(parts, "; ")
}

// explainMotivation: Jaccard similarity of the motivation words, from the
// same 64-bit word masks as the fast path (so two words may share a bit).
func explainMotivation(a, b Profile) (int64, string) {
	wa, wb := motivationWords(a.Motivation), motivationWords(b.Motivation)
	if len(wa) == 0 || len(wb) == 0 {
		return valueScale / 2, "no motivation text to compare (neutral)"
	}
	ma, mb := motivationMask(wa), motivationMask(wb)
	v := jaccardValue(bits.OnesCount64(ma&mb), bits.OnesCount64(ma|mb))
	var shared []string
	for _, w := range wa {
		if slices.Contains(wb, w) {
			shared = append(shared, w)
		}
	}
	similarity := strconv.FormatFloat(float64(v)/valueScale, 'f', 2, 64)
	if len(shared) == 0 {
		return v, "no shared motivation words (similarity " + similarity + ")"
	}
	if len(shared) > 5 {
		shared = append(shared[:5], "…")
	}
	return v, fmt.Sprintf("shared motivation words: %s (similarity %s)", strings.Join(shared, ", "), similarity)
}

// jaccardValue is round(inter/union) in value units, half up.
func jaccardValue(inter, union int) int64 {
	if union == 0 {
		return 0
	}
	return (2*valueScale*int64(inter) + int64(union)) / (2 * int64(union))
}

// motivationWords are the distinct lower-case words of at least four
// letters, sorted.
func motivationWords(text string) []string {
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if utf8.RuneCountInString(w) >= 4 {
			words = append(words, w)
		}
	}
	slices.Sort(words)
	return slices.Compact(words)
}

// motivationMask sets one bit per word, chosen by the word's FNV-1a hash.
func motivationMask(words []string) uint64 {
	var mask uint64
	for _, w := range words {
		h := uint64(14695981039346656037)
		for i := 0; i < len(w); i++ {
			h ^= uint64(w[i])
			h *= 1099511628211
		}
		mask |= 1 << (h >> 58)
	}
	return mask
}

// explainPreference: 1 when both list each other in Prefer, 0.75 when one
// does.
func explainPreference(a, b Profile) (int64, string) {
	byMentor, byMentee := lists(a.Prefer, b.PersonID), lists(b.Prefer, a.PersonID)
	switch {
	case byMentor && byMentee:
		return valueScale, "both prefer each other"
	case byMentor:
		return valueScale * 3 / 4, "mentor prefers this mentee"
	case byMentee:
		return valueScale * 3 / 4, "mentee prefers this mentor"
	default:
		return 0, "no stated preference"
	}
}

// languageTags are the distinct lower-case primary tags ("en-GB" → "en"),
// in the order given.
func languageTags(languages []string) []string {
	var tags []string
	for _, l := range languages {
		tag, _, _ := strings.Cut(key(l), "-")
		tag, _, _ = strings.Cut(tag, "_")
		if tag != "" && !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	return tags
}

// intersects reports whether two short lists share an element.
func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// byPerson indexes participants by person id, skipping empty ids.
func byPerson(people []Profile) map[string][]int32 {
	index := make(map[string][]int32, len(people))
	for i, p := range people {
		if p.PersonID != "" {
			index[p.PersonID] = append(index[p.PersonID], int32(i))
		}
	}
	return index
}

// interner numbers normalised strings from 1; the empty string is 0.
type interner map[string]uint32

// id returns s's number, adding it when new.
func (in interner) id(s string) uint32 {
	k := key(s)
	if k == "" {
		return 0
	}
	if id, ok := in[k]; ok {
		return id
	}
	id := uint32(len(in) + 1)
	in[k] = id
	return id
}

// key normalises a name for comparison: trimmed and lower-case.
func key(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// plural formats a count with its noun.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// clamp bounds v to lo..hi.
func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }

// abs is |v|.
func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
