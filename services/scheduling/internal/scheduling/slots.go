package scheduling

import (
	"cmp"
	"slices"
	"sort"
	"time"
)

const (
	// slotAlignment is what every slot start is a multiple of in UTC. Every
	// zone's offset is a multiple of it, so a slot also starts on a quarter
	// hour in every zone, Asia/Kathmandu (+05:45) included.
	slotAlignment = 15 * time.Minute
	// slotStep is the distance between the candidate starts of a free
	// interval.
	slotStep = 30 * time.Minute
	// maxSlotsPerMenteeDay spreads suggestions over the mentee's days.
	maxSlotsPerMenteeDay = 2
)

// SlotQuery asks for meeting times of a pair.
type SlotQuery struct {
	// Mentor and Mentee each need a valid IANA TimeZone.
	Mentor, Mentee Availability
	// Busy are booked sessions of either person, to avoid.
	Busy []Interval
	// From is where to start looking.
	From time.Time
	// Weeks is how far ahead to look: [From, From + Weeks*7*24h).
	Weeks int
	// Duration is the slot length, a positive multiple of 15 minutes.
	Duration time.Duration
	// Limit is the most slots to return.
	Limit int
}

// span is the absolute time the query looks at, in UTC.
func (q SlotQuery) span() Interval {
	from := q.From.UTC()
	return Interval{from, from.Add(time.Duration(q.Weeks) * 7 * 24 * time.Hour)}
}

// Slot is a suggested meeting time.
type Slot struct {
	Start, End time.Time // UTC
	// Score ranks the slot; SuggestSlots says what earns points.
	Score int
	// Reasons say in words what earned the points, such as "in both
	// people's preferred windows"; nil for a score of 0.
	Reasons []string
	// MentorLocal and MenteeLocal are Start in each person's zone.
	MentorLocal, MenteeLocal time.Time
}

// SuggestSlots returns up to q.Limit meeting times of the pair, best first.
// It is deterministic and does no I/O. The rules:
//
//  1. A person's meeting windows are Windows, or WorkingHours when Windows
//     is empty. A person with neither has no availability: no slots.
//  2. A window is wall-clock time in the person's zone on every date of its
//     weekday ("24:00" is the next midnight), so it keeps its local hours
//     across daylight-saving changes. Exactly, it covers the instants whose
//     local date and time fall in [Start, End). Hence a start or end in a
//     spring-forward gap (a local time that does not exist) acts as the
//     first instant after the gap, and local times that happen twice at a
//     fall-back are covered both times: 01:00–01:30 on that night is two
//     separate half hours, 00:00–03:00 is four hours.
//  3. A person's free time is their windows minus their Exceptions; the
//     pair's is the intersection of both, minus every Busy interval,
//     within [From, From + Weeks weeks).
//  4. Candidate slots of Duration start at instants that are multiples of
//     15 minutes in UTC (a quarter hour in every zone), every 30 minutes
//     from the first such instant of each free interval, and lie wholly in
//     that interval.
//  5. Score: +2 for each person whose preferred windows hold the whole
//     slot, +1 for each person whose WorkingHours (when set) hold it;
//     touching windows count as one. Reasons say which points were earned.
//  6. Candidates are ordered by score, highest first, then by start, and
//     taken greedily: one that overlaps a slot already taken, or that starts
//     on a date (in the mentee's zone) that already has 2 slots, is
//     skipped; taking stops at Limit. Slots are returned in that order.
//
// A query with Weeks or Limit below 1, a Duration that is not a positive
// multiple of 15 minutes, or a time zone that is not a valid IANA name
// yields no slots: the caller validates the query first.
func SuggestSlots(q SlotQuery) []Slot {
	if q.Weeks < 1 || q.Limit < 1 || q.Duration <= 0 || q.Duration%slotAlignment != 0 {
		return nil
	}
	span := q.span()
	mentor, mentorOK := newSide(q.Mentor, span)
	mentee, menteeOK := newSide(q.Mentee, span)
	if !mentorOK || !menteeOK {
		return nil
	}
	free := pairFreeTime(mentor, mentee, q.Busy, span)
	return pickSlots(candidateSlots(free, q.Duration, mentor, mentee), q.Limit)
}

// side is one person of a query, their availability laid out as absolute
// time over the query's span. Every interval list is normalized.
type side struct {
	loc *time.Location
	// free is the meeting windows minus the exceptions.
	free []Interval
	// preferred and working rank slots: the preferred meeting windows and
	// the working hours.
	preferred, working []Interval
}

// newSide lays a out over span; it reports false when a's time zone is not
// a valid IANA name.
func newSide(a Availability, span Interval) (side, bool) {
	if validTimeZone(a.TimeZone) != "" {
		return side{}, false
	}
	loc, err := time.LoadLocation(a.TimeZone)
	if err != nil {
		return side{}, false
	}
	windows := a.Windows
	if len(windows) == 0 {
		windows = a.WorkingHours
	}
	var preferred []Window
	for _, w := range windows {
		if w.Preferred {
			preferred = append(preferred, w)
		}
	}
	exceptions := make([]Interval, 0, len(a.Exceptions))
	for _, e := range a.Exceptions {
		exceptions = append(exceptions, Interval{e.Start, e.End})
	}
	return side{
		loc:       loc,
		free:      subtract(windowTime(windows, loc, span), normalize(exceptions)),
		preferred: windowTime(preferred, loc, span),
		working:   windowTime(a.WorkingHours, loc, span),
	}, true
}

// pairFreeTime is rule 3: when both people are free and not busy, within
// span.
func pairFreeTime(mentor, mentee side, busy []Interval, span Interval) []Interval {
	free := subtract(intersect(mentor.free, mentee.free), normalize(busy))
	return intersect(free, []Interval{span})
}

// windowTime returns the instants the weekly windows cover in loc, on every
// local date that can touch span and a day more on each side.
//
// It never asks time.Date for a local time, whose choice in a gap or a
// repeated hour is unspecified. Within one of the zone's periods of
// constant offset, local time is the instant plus the offset, so a window
// on a date covers, in each period, the instants (window - offset) that
// fall inside that period: those are exactly the instants whose local time
// round-trips into the window. A gap belongs to no period and a repeated
// hour to two.
func windowTime(ws []Window, loc *time.Location, span Interval) []Interval {
	if len(ws) == 0 {
		return nil
	}
	first := civilDate(span.Start.In(loc)).AddDate(0, 0, -1)
	last := civilDate(span.End.In(loc)).AddDate(0, 0, 1)
	// Zone offsets are well within a day, so every instant of those dates
	// lies less than a day outside their wall-clock range.
	periods := zonePeriods(loc, Interval{first.Add(-24 * time.Hour), last.Add(48 * time.Hour)})
	var covered []Interval
	for date := first; !date.After(last); date = date.AddDate(0, 0, 1) {
		for _, w := range ws {
			start, startOK := parseClock(w.Start, false)
			end, endOK := parseClock(w.End, true)
			// Stored windows are valid; a window that does not parse covers
			// nothing rather than guessing.
			if w.Day != isoWeekday(date) || !startOK || !endOK {
				continue
			}
			wallStart := date.Add(time.Duration(start) * time.Minute)
			wallEnd := date.Add(time.Duration(end) * time.Minute)
			for _, p := range periods {
				instants := Interval{wallStart.Add(-p.offset), wallEnd.Add(-p.offset)}
				covered = append(covered, intersect([]Interval{instants}, []Interval{p.Interval})...)
			}
		}
	}
	return normalize(covered)
}

// zonePeriod is a span of time over which a zone keeps one UTC offset.
type zonePeriod struct {
	Interval
	offset time.Duration
}

// zonePeriods splits span into loc's periods of constant offset.
func zonePeriods(loc *time.Location, span Interval) []zonePeriod {
	var periods []zonePeriod
	for start := span.Start; start.Before(span.End); {
		local := start.In(loc)
		_, offsetSeconds := local.Zone()
		_, end := local.ZoneBounds()
		// A zero end means the offset never changes again.
		if end.IsZero() || end.After(span.End) {
			end = span.End
		}
		end = end.UTC()
		periods = append(periods, zonePeriod{Interval{start, end}, time.Duration(offsetSeconds) * time.Second})
		start = end
	}
	return periods
}

// candidateSlots is rules 4 and 5: the scored candidates of the free time,
// in time order.
func candidateSlots(free []Interval, d time.Duration, mentor, mentee side) []Slot {
	var slots []Slot
	for _, iv := range free {
		// Truncate counts from the zero time, a UTC midnight, so this is
		// the first UTC quarter hour at or after the interval's start.
		start := iv.Start.Truncate(slotAlignment)
		if start.Before(iv.Start) {
			start = start.Add(slotAlignment)
		}
		for ; !start.Add(d).After(iv.End); start = start.Add(slotStep) {
			slots = append(slots, scoredSlot(Interval{start, start.Add(d)}, mentor, mentee))
		}
	}
	return slots
}

// scoredSlot returns the slot at iv with its score and reasons.
func scoredSlot(iv Interval, mentor, mentee side) Slot {
	s := Slot{
		Start:       iv.Start,
		End:         iv.End,
		MentorLocal: iv.Start.In(mentor.loc),
		MenteeLocal: iv.Start.In(mentee.loc),
	}
	ranks := []struct {
		mentor, mentee bool
		points         int
		what           string
	}{
		{covers(mentor.preferred, iv), covers(mentee.preferred, iv), 2, "preferred windows"},
		{covers(mentor.working, iv), covers(mentee.working, iv), 1, "working hours"},
	}
	for _, r := range ranks {
		switch {
		case r.mentor && r.mentee:
			s.Score += 2 * r.points
			s.Reasons = append(s.Reasons, "in both people's "+r.what)
		case r.mentor:
			s.Score += r.points
			s.Reasons = append(s.Reasons, "in the mentor's "+r.what)
		case r.mentee:
			s.Score += r.points
			s.Reasons = append(s.Reasons, "in the mentee's "+r.what)
		}
	}
	return s
}

// pickSlots is rule 6. It reorders candidates.
func pickSlots(candidates []Slot, limit int) []Slot {
	slices.SortFunc(candidates, func(a, b Slot) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), a.Start.Compare(b.Start))
	})
	var taken []Slot
	perMenteeDay := map[time.Time]int{}
	for _, c := range candidates {
		if len(taken) == limit {
			break
		}
		day := civilDate(c.MenteeLocal)
		if perMenteeDay[day] == maxSlotsPerMenteeDay || overlapsAny(taken, c) {
			continue
		}
		taken = append(taken, c)
		perMenteeDay[day]++
	}
	return taken
}

// overlapsAny reports whether c overlaps one of the slots.
func overlapsAny(slots []Slot, c Slot) bool {
	for _, s := range slots {
		if (Interval{s.Start, s.End}).Overlaps(Interval{c.Start, c.End}) {
			return true
		}
	}
	return false
}

// civilDate returns t's date in t's location as midnight UTC: a plain date
// that adds days without daylight-saving surprises and is safe as a map
// key.
func civilDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// isoWeekday returns the ISO day of the week of t.
func isoWeekday(t time.Time) Weekday {
	if t.Weekday() == time.Sunday {
		return Sunday
	}
	return Weekday(t.Weekday())
}

// normalize returns the intervals in UTC, sorted, with empty ones dropped
// and those that overlap or touch merged. The other interval helpers take
// and return normalized lists.
func normalize(ivs []Interval) []Interval {
	sorted := make([]Interval, 0, len(ivs))
	for _, iv := range ivs {
		if iv.Start.Before(iv.End) {
			sorted = append(sorted, Interval{iv.Start.UTC(), iv.End.UTC()})
		}
	}
	slices.SortFunc(sorted, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	var merged []Interval
	for _, iv := range sorted {
		if n := len(merged); n > 0 && !iv.Start.After(merged[n-1].End) {
			merged[n-1].End = later(merged[n-1].End, iv.End)
			continue
		}
		merged = append(merged, iv)
	}
	return merged
}

// intersect returns the time in both a and b.
func intersect(a, b []Interval) []Interval {
	var both []Interval
	for i, j := 0, 0; i < len(a) && j < len(b); {
		start, end := later(a[i].Start, b[j].Start), earlier(a[i].End, b[j].End)
		if start.Before(end) {
			both = append(both, Interval{start, end})
		}
		if a[i].End.Before(b[j].End) {
			i++
		} else {
			j++
		}
	}
	return both
}

// subtract returns the time in a and not in b.
func subtract(a, b []Interval) []Interval {
	var rest []Interval
	j := 0
	for _, iv := range a {
		// a is sorted: what of b ends before iv starts is before the rest
		// of a too.
		for j < len(b) && !b[j].End.After(iv.Start) {
			j++
		}
		start := iv.Start
		for k := j; k < len(b) && b[k].Start.Before(iv.End); k++ {
			if start.Before(b[k].Start) {
				rest = append(rest, Interval{start, b[k].Start})
			}
			start = later(start, b[k].End)
		}
		if start.Before(iv.End) {
			rest = append(rest, Interval{start, iv.End})
		}
	}
	return rest
}

// covers reports whether the intervals hold all of iv.
func covers(ivs []Interval, iv Interval) bool {
	i := sort.Search(len(ivs), func(i int) bool { return ivs[i].End.After(iv.Start) })
	return i < len(ivs) && !ivs[i].Start.After(iv.Start) && !ivs[i].End.Before(iv.End)
}

// later returns the later of two instants.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// earlier returns the earlier of two instants.
func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
