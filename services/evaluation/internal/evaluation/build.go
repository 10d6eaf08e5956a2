package evaluation

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// The dimensions segments group people by.
const (
	dimensionDepartment    = "department"
	dimensionSeniorityBand = "seniority_band"
)

// BuildReport computes a program's report from its data, as of the newest
// time in it (see Report.AsOf). It is pure and deterministic: no clock, no
// I/O, and the result does not depend on the order of d's slices or map.
// Rates, means and the NPS are rounded to 4 decimal places
// (math.Round(x*1e4)/1e4) so that JSON and CSV exports are stable.
//
// Without any time in d the report is empty: AsOf zero, Suppressed, no
// segments and no weeks.
func BuildReport(d ProgramData) Report {
	r := Report{ProgramID: d.ProgramID, Suppressed: true}
	first, last := dataSpan(d)
	if last.IsZero() {
		return r
	}
	r.AsOf = last
	x := indexReportData(d)

	// The program is computed at the end of every week, the last one capped
	// at AsOf, which makes the last week's figures the program's.
	var starts, ends []time.Time
	for start := mondayOf(first); !start.After(last); start = start.Add(7 * 24 * time.Hour) {
		end := start.Add(7*24*time.Hour - time.Microsecond)
		if end.After(last) {
			end = last
		}
		starts, ends = append(starts, start), append(ends, end)
	}
	suppressed, figures := x.figuresAt(reportGroup{}, x.people, ends)
	for i, start := range starts {
		r.Weeks = append(r.Weeks, Week{Start: start, Suppressed: suppressed[i], Figures: figures[i]})
	}
	r.Suppressed, r.Figures = suppressed[len(ends)-1], figures[len(ends)-1]
	r.Segments = x.segments(last)
	return r
}

// SeniorityBand names the band of a seniority level as the matching service
// does: "L1-3", "L4-6", "L7-9", "L10-12", and "L0" when the level is unknown.
func SeniorityBand(level int) string {
	if level <= 0 {
		return "L0"
	}
	lo := (level-1)/3*3 + 1
	return fmt.Sprintf("L%d-%d", lo, lo+2)
}

// reportData is a program's data indexed once by person and by pair, so
// that the figures of a group read only that group's records.
type reportData struct {
	people []*reportPerson // every person with a participant, by id
}

// reportPerson is a person of the program with the records that count for
// the groups they are in.
type reportPerson struct {
	id string
	// segmented when the person is known and not erased; department and
	// band are then the values of their segments.
	segmented     bool
	department    string
	band          string
	terminateTime time.Time
	participants  []reportParticipant // by id
	pairs         []*reportPair       // the person is a side of, by match id
	ratings       []reportAnswer      // the ratings the person gave
	pulse         []reportAnswer      // Recommend answers, newest first (submit time, then id)
	uplifts       []reportUplift      // POST − PRE of the person's skills
}

// reportParticipant is a participant with the pairs it is a side of.
type reportParticipant struct {
	Participant
	pairs []*reportPair
}

// reportPair is a match with the times its sessions and goals count from.
type reportPair struct {
	match Match
	// mentor and mentee are nil when the side is not a person of the program.
	mentor, mentee *reportPerson
	held           []time.Time // completion times of its sessions
	goalsCreated   []time.Time // creation times of its goals
	goalsCompleted []time.Time // the later of creation and completion
}

// reportAnswer is a rating or a pulse response's Recommend on a pair.
type reportAnswer struct {
	id         string // of the pulse response, which orders those given at one time
	pair       *reportPair
	value      int
	submitTime time.Time
}

// reportUplift is one (participant, skill) with PRE and POST levels; it
// counts from the later of the two.
type reportUplift struct {
	delta int
	time  time.Time
}

// reportGroup is a group of the program's people: the whole program when
// dimension is empty, otherwise a segment.
type reportGroup struct {
	dimension, value string
}

// has reports whether p is a person of the group.
func (g reportGroup) has(p *reportPerson) bool {
	switch {
	case p == nil:
		return false
	case g.dimension == "":
		return true
	case !p.segmented:
		return false
	case g.dimension == dimensionDepartment:
		return p.department == g.value
	default:
		return p.band == g.value
	}
}

// indexReportData sorts and links d's records once. Records of people
// without a participant, and answers on unknown pairs, belong to no group
// and are left out.
func indexReportData(d ProgramData) *reportData {
	x := &reportData{}
	byPerson := map[string]*reportPerson{}
	participants := slices.Clone(d.Participants)
	slices.SortFunc(participants, func(a, b Participant) int { return strings.Compare(a.ID, b.ID) })
	for _, pt := range participants {
		p := byPerson[pt.PersonID]
		if p == nil {
			p = &reportPerson{id: pt.PersonID}
			if person, ok := d.People[pt.PersonID]; ok {
				p.segmented = !person.Erased
				p.department = person.Department
				p.band = SeniorityBand(person.Seniority)
				p.terminateTime = person.TerminateTime
			}
			byPerson[pt.PersonID] = p
			x.people = append(x.people, p)
		}
		p.participants = append(p.participants, reportParticipant{Participant: pt})
	}
	slices.SortFunc(x.people, func(a, b *reportPerson) int { return strings.Compare(a.id, b.id) })
	byParticipant := map[string]*reportParticipant{}
	for _, p := range x.people {
		for i := range p.participants {
			byParticipant[p.participants[i].ID] = &p.participants[i]
		}
	}

	byMatch := map[string]*reportPair{}
	matches := slices.Clone(d.Matches)
	slices.SortFunc(matches, func(a, b Match) int { return strings.Compare(a.ID, b.ID) })
	for _, m := range matches {
		pr := &reportPair{match: m, mentor: byPerson[m.MentorPersonID], mentee: byPerson[m.MenteePersonID]}
		byMatch[m.ID] = pr
		if pr.mentor != nil {
			pr.mentor.pairs = append(pr.mentor.pairs, pr)
		}
		if pr.mentee != nil && pr.mentee != pr.mentor {
			pr.mentee.pairs = append(pr.mentee.pairs, pr)
		}
		for _, id := range []string{m.MentorParticipantID, m.MenteeParticipantID} {
			if pt := byParticipant[id]; pt != nil {
				pt.pairs = append(pt.pairs, pr)
			}
		}
	}

	for _, s := range d.Sessions {
		if pr := byMatch[s.MatchID]; pr != nil && !s.CompleteTime.IsZero() {
			pr.held = append(pr.held, s.CompleteTime)
		}
	}
	for _, g := range d.Goals {
		pr := byMatch[g.MatchID]
		if pr == nil || g.CreateTime.IsZero() {
			continue
		}
		pr.goalsCreated = append(pr.goalsCreated, g.CreateTime)
		if !g.CompleteTime.IsZero() {
			pr.goalsCompleted = append(pr.goalsCompleted, later(g.CreateTime, g.CompleteTime))
		}
	}
	for _, f := range d.Feedback {
		if p, pr := byPerson[f.AuthorPersonID], byMatch[f.MatchID]; p != nil && pr != nil {
			p.ratings = append(p.ratings, reportAnswer{pair: pr, value: f.Rating, submitTime: f.SubmitTime})
		}
	}
	for _, r := range d.Pulse {
		if p, pr := byPerson[r.PersonID], byMatch[r.MatchID]; p != nil && pr != nil {
			p.pulse = append(p.pulse, reportAnswer{id: r.ID, pair: pr, value: r.Recommend, submitTime: r.SubmitTime})
		}
	}
	for _, p := range x.people {
		slices.SortFunc(p.pulse, func(a, b reportAnswer) int {
			return cmp.Or(b.submitTime.Compare(a.submitTime), strings.Compare(b.id, a.id))
		})
	}
	indexUplifts(d.Assessments, byPerson)
	return x
}

// indexUplifts gives each person the (participant, skill) uplifts of their
// self-assessments: the skills with both a PRE and a POST level. When a
// participant has two assessments of one phase the newer one is used.
func indexUplifts(assessments []SelfAssessment, byPerson map[string]*reportPerson) {
	type key struct{ person, participant string }
	type phases struct{ pre, post *SelfAssessment }
	byKey := map[key]*phases{}
	var keys []key
	for i := range assessments {
		a := &assessments[i]
		if byPerson[a.PersonID] == nil {
			continue
		}
		k := key{a.PersonID, a.ParticipantID}
		ph := byKey[k]
		if ph == nil {
			ph = &phases{}
			byKey[k] = ph
			keys = append(keys, k)
		}
		var slot **SelfAssessment
		switch a.Phase {
		case PhasePre:
			slot = &ph.pre
		case PhasePost:
			slot = &ph.post
		default:
			continue
		}
		if *slot == nil || a.SubmitTime.After((*slot).SubmitTime) {
			*slot = a
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(strings.Compare(a.person, b.person), strings.Compare(a.participant, b.participant))
	})
	for _, k := range keys {
		ph := byKey[k]
		if ph.pre == nil || ph.post == nil {
			continue
		}
		post := map[string]SkillLevel{}
		for _, l := range ph.post.Levels {
			post[l.SkillID] = l
		}
		p := byPerson[k.person]
		for _, pre := range ph.pre.Levels {
			l, ok := post[pre.SkillID]
			if !ok || pre.SubmitTime.IsZero() || l.SubmitTime.IsZero() {
				continue
			}
			p.uplifts = append(p.uplifts, reportUplift{delta: l.Level - pre.Level, time: later(pre.SubmitTime, l.SubmitTime)})
		}
	}
}

// segments returns the figures of every department and seniority band of
// the program's people at t, by dimension then value.
func (x *reportData) segments(t time.Time) []Segment {
	members := map[reportGroup][]*reportPerson{}
	for _, p := range x.people {
		if !p.segmented {
			continue
		}
		for _, g := range []reportGroup{{dimensionDepartment, p.department}, {dimensionSeniorityBand, p.band}} {
			members[g] = append(members[g], p)
		}
	}
	groups := make([]reportGroup, 0, len(members))
	for g := range members {
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b reportGroup) int {
		return cmp.Or(strings.Compare(a.dimension, b.dimension), strings.Compare(a.value, b.value))
	})
	segments := make([]Segment, 0, len(groups))
	for _, g := range groups {
		suppressed, figures := x.figuresAt(g, members[g], []time.Time{t})
		segments = append(segments, Segment{Dimension: g.dimension, Value: g.value, Suppressed: suppressed[0], Figures: figures[0]})
	}
	return segments
}

// The counts that figures are computed from, as indices of a tally.
const (
	tallyPeople = iota
	tallyRetained
	tallyMentors
	tallyMentees
	tallyWithdrawn
	tallyMatched
	tallyPairs
	tallyHeld
	tallyRatings
	tallyRatingSum
	tallyAuthors
	tallyRespondents
	tallyPromoters
	tallyDetractors
	tallyGoals
	tallyGoalsCompleted
	tallyAssessed
	tallyUpliftSum
	tallyUplifts
	tallySize
)

// figuresAt computes the figures of group g, whose people are members (in
// id order), at each of the ascending times, and whether the group is
// suppressed at each (its Figures are then zero).
//
// Every record counts during an interval of time: a pair from its accept
// to its decline time, a session of it from its completion while the pair
// counts, a participant as enrolled from its enrol to its withdraw time,
// and so on. So rather than looking at every record at every time, each
// record adds to the times inside its interval, as a span of their
// indices, with a difference array: one pass over the group's records
// whatever the number of times. Each pair is counted once, at its mentor
// when the mentor is in the group and otherwise at its mentee, and match
// scores are summed in match id order so that no float depends on the
// input's order.
func (x *reportData) figuresAt(g reportGroup, members []*reportPerson, times []time.Time) ([]bool, []Figures) {
	tl := timeline(times)
	all := len(times)
	diff := make([][tallySize]int, all+1)
	add := func(tally int, s span, w int) {
		if s.lo < s.hi {
			diff[s.lo][tally] += w
			diff[s.hi][tally] -= w
		}
	}
	scoreSums := make([]float64, all)
	var matched, rated, answered spanSet
	for _, p := range members {
		firstEnrol := all
		for _, pt := range p.participants {
			enrolled := tl.between(pt.EnrolTime, pt.WithdrawTime)
			firstEnrol = min(firstEnrol, tl.index(pt.EnrolTime))
			add(tallyWithdrawn, tl.between(pt.WithdrawTime, time.Time{}), 1)
			switch pt.Role {
			case RoleMentor:
				add(tallyMentors, enrolled, 1)
			case RoleMentee:
				add(tallyMentees, enrolled, 1)
			}
			matched = matched[:0]
			for _, pr := range pt.pairs {
				matched.add(enrolled.and(tl.counts(pr)), func(s span) { add(tallyMatched, s, 1) })
			}
		}
		add(tallyPeople, span{firstEnrol, all}, 1)
		add(tallyRetained, span{firstEnrol, tl.index(p.terminateTime)}, 1)

		for _, pr := range p.pairs {
			if pr.mentor != p && g.has(pr.mentor) {
				continue // counted at the mentor
			}
			counts := tl.counts(pr)
			add(tallyPairs, counts, 1)
			for i := counts.lo; i < counts.hi; i++ {
				scoreSums[i] += pr.match.Score
			}
			for _, t := range pr.held {
				add(tallyHeld, counts.and(tl.between(t, time.Time{})), 1)
			}
			for _, t := range pr.goalsCreated {
				add(tallyGoals, counts.and(tl.between(t, time.Time{})), 1)
			}
			for _, t := range pr.goalsCompleted {
				add(tallyGoalsCompleted, counts.and(tl.between(t, time.Time{})), 1)
			}
		}

		rated = rated[:0]
		for _, r := range p.ratings {
			if !g.has(r.pair.mentor) && !g.has(r.pair.mentee) {
				continue
			}
			given := tl.counts(r.pair).and(tl.between(r.submitTime, time.Time{}))
			add(tallyRatings, given, 1)
			add(tallyRatingSum, given, r.value)
			rated.add(given, func(s span) { add(tallyAuthors, s, 1) })
		}

		// Newest first, each response is the person's answer wherever no
		// newer one counts.
		answered = answered[:0]
		for _, r := range p.pulse {
			if !g.has(r.pair.mentor) && !g.has(r.pair.mentee) {
				continue
			}
			given := tl.counts(r.pair).and(tl.between(r.submitTime, time.Time{}))
			answered.add(given, func(s span) {
				add(tallyRespondents, s, 1)
				if r.value >= 9 {
					add(tallyPromoters, s, 1)
				} else if r.value <= 6 {
					add(tallyDetractors, s, 1)
				}
			})
		}

		firstUplift := all
		for _, u := range p.uplifts {
			from := tl.between(u.time, time.Time{})
			add(tallyUpliftSum, from, u.delta)
			add(tallyUplifts, from, 1)
			firstUplift = min(firstUplift, from.lo)
		}
		add(tallyAssessed, span{firstUplift, all}, 1)
	}

	suppressed := make([]bool, all)
	figures := make([]Figures, all)
	var c [tallySize]int
	for i := range all {
		for k := range c {
			c[k] += diff[i][k]
		}
		suppressed[i], figures[i] = figuresOf(c, scoreSums[i])
	}
	return suppressed, figures
}

// figuresOf turns a group's counts at one time into its figures, and
// reports whether the group is suppressed then.
func figuresOf(c [tallySize]int, scoreSum float64) (bool, Figures) {
	if c[tallyPeople] < MinGroupSize {
		return true, Figures{}
	}
	f := Figures{
		People:             c[tallyPeople],
		EnrolledMentors:    c[tallyMentors],
		EnrolledMentees:    c[tallyMentees],
		Withdrawn:          c[tallyWithdrawn],
		Matched:            c[tallyMatched],
		MatchRate:          ratio(c[tallyMatched], c[tallyMentors]+c[tallyMentees]),
		Pairs:              c[tallyPairs],
		SessionsHeld:       c[tallyHeld],
		SessionsPerPair:    ratio(c[tallyHeld], c[tallyPairs]),
		Ratings:            c[tallyRatings],
		NPSRespondents:     c[tallyRespondents],
		Goals:              c[tallyGoals],
		GoalsCompleted:     c[tallyGoalsCompleted],
		GoalCompletionRate: ratio(c[tallyGoalsCompleted], c[tallyGoals]),
		AssessedPeople:     c[tallyAssessed],
		RetentionRate:      ratio(c[tallyRetained], c[tallyPeople]),
	}
	if f.Pairs > 0 {
		f.MeanMatchScore = roundFigure(scoreSum / float64(f.Pairs))
	}
	if c[tallyAuthors] >= MinGroupSize {
		f.MeanRating = new(ratio(c[tallyRatingSum], f.Ratings))
	}
	if f.NPSRespondents >= MinGroupSize {
		f.NPS = new(roundFigure(100 * float64(c[tallyPromoters]-c[tallyDetractors]) / float64(f.NPSRespondents)))
	}
	if f.AssessedPeople >= MinGroupSize {
		f.MeanUplift = new(ratio(c[tallyUpliftSum], c[tallyUplifts]))
	}
	return false, f
}

// timeline is the ascending times a group's figures are computed at.
type timeline []time.Time

// index returns the index of the first time at or after t: the first time
// something that happened at t counts at. It is len(tl) when t is zero
// (never) or after every time.
func (tl timeline) index(t time.Time) int {
	if t.IsZero() {
		return len(tl)
	}
	return sort.Search(len(tl), func(i int) bool { return !tl[i].Before(t) })
}

// between returns the span of times at or after from and before until,
// where a zero from never comes and a zero until never ends it.
func (tl timeline) between(from, until time.Time) span {
	return span{tl.index(from), tl.index(until)}
}

// counts returns the span of times the pair counts at (see Match.Counts).
func (tl timeline) counts(pr *reportPair) span {
	return tl.between(pr.match.AcceptTime, pr.match.DeclineTime)
}

// span is the indices lo to hi−1 of a timeline; empty when lo ≥ hi.
type span struct{ lo, hi int }

// and returns the indices both spans hold.
func (s span) and(o span) span { return span{max(s.lo, o.lo), min(s.hi, o.hi)} }

// spanSet is a set of a timeline's indices, kept as sorted, disjoint,
// non-empty spans.
type spanSet []span

// add adds s to the set and calls added with every part of s that was not
// in it yet, in order.
func (set *spanSet) add(s span, added func(span)) {
	if s.lo >= s.hi {
		return
	}
	next := s.lo
	for _, in := range *set {
		if in.hi <= next || in.lo >= s.hi {
			continue
		}
		if in.lo > next {
			added(span{next, in.lo})
		}
		next = in.hi
	}
	if next < s.hi {
		added(span{next, s.hi})
	}

	*set = append(*set, s)
	slices.SortFunc(*set, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	merged := (*set)[:1]
	for _, in := range (*set)[1:] {
		if last := &merged[len(merged)-1]; in.lo <= last.hi {
			last.hi = max(last.hi, in.hi)
		} else {
			merged = append(merged, in)
		}
	}
	*set = merged
}

// dataSpan returns the earliest and the newest non-zero time of d's records
// and projections, in UTC; both are zero without any. Session start and end
// times are left out: they are planned times and may lie in the future.
func dataSpan(d ProgramData) (first, last time.Time) {
	see := func(ts ...time.Time) {
		for _, t := range ts {
			if t.IsZero() {
				continue
			}
			if first.IsZero() || t.Before(first) {
				first = t
			}
			if last.IsZero() || t.After(last) {
				last = t
			}
		}
	}
	for _, p := range d.People {
		see(p.EventTime, p.TerminateTime)
	}
	for _, p := range d.Participants {
		see(p.EnrolTime, p.WithdrawTime, p.EventTime)
	}
	for _, m := range d.Matches {
		see(m.ProposeTime, m.AcceptTime, m.ActivateTime, m.DeclineTime, m.EndTime, m.EventTime)
	}
	for _, s := range d.Sessions {
		see(s.CompleteTime, s.CancelTime, s.EventTime)
	}
	for _, g := range d.Goals {
		see(g.CreateTime, g.UpdateTime, g.CompleteTime)
		for _, m := range g.Milestones {
			see(m.DoneTime)
		}
	}
	for _, f := range d.Feedback {
		see(f.SubmitTime)
	}
	for _, r := range d.Pulse {
		see(r.SubmitTime)
	}
	for _, a := range d.Assessments {
		see(a.SubmitTime)
		for _, l := range a.Levels {
			see(l.SubmitTime)
		}
	}
	return first.UTC(), last.UTC()
}

// mondayOf returns the Monday 00:00 UTC that starts t's week.
func mondayOf(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -(int(day.Weekday())+6)%7)
}

// ratio returns n / d rounded, 0 when d is 0.
func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return roundFigure(float64(n) / float64(d))
}

// roundFigure rounds a rate, mean or NPS to 4 decimal places.
func roundFigure(x float64) float64 { return math.Round(x*1e4) / 1e4 }
