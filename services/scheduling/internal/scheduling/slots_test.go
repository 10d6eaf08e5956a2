package scheduling

// These tests are inside the package so that they can check the pair's free
// time (rules 1–3 of SuggestSlots) to the exact instant, not only through
// the slots that come out of it.

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// utc parses "2006-01-02 15:04" as UTC.
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse("2006-01-02 15:04", s)
	require.NoError(t, err)
	return at
}

// span returns [from, to), both "2006-01-02 15:04" UTC.
func span(t *testing.T, from, to string) Interval {
	t.Helper()
	return Interval{utc(t, from), utc(t, to)}
}

// win returns a weekly window.
func win(day Weekday, start, end string) Window {
	return Window{Day: day, Start: start, End: end}
}

// weekdays returns the window on Monday to Friday.
func weekdays(start, end string) []Window {
	var ws []Window
	for day := Monday; day <= Friday; day++ {
		ws = append(ws, win(day, start, end))
	}
	return ws
}

// everyDay returns the window on every day of the week.
func everyDay(start, end string) []Window {
	var ws []Window
	for day := Monday; day <= Sunday; day++ {
		ws = append(ws, win(day, start, end))
	}
	return ws
}

// freeTime returns the pair's free time for q (rule 3).
func freeTime(t *testing.T, q SlotQuery) []Interval {
	t.Helper()
	mentor, ok := newSide(q.Mentor, q.span())
	require.True(t, ok, "mentor's zone")
	mentee, ok := newSide(q.Mentee, q.span())
	require.True(t, ok, "mentee's zone")
	return pairFreeTime(mentor, mentee, q.Busy, q.span())
}

// slotView is a slot as a person reads it, for readable diffs.
type slotView struct {
	Start, End               string // UTC
	MentorLocal, MenteeLocal string // with the offset
	Score                    int
	Reasons                  []string
}

func viewSlots(slots []Slot) []slotView {
	var views []slotView
	for _, s := range slots {
		views = append(views, slotView{
			Start:       s.Start.Format("2006-01-02 15:04Z07:00"),
			End:         s.End.Format("2006-01-02 15:04Z07:00"),
			MentorLocal: s.MentorLocal.Format("2006-01-02 15:04 -07:00"),
			MenteeLocal: s.MenteeLocal.Format("2006-01-02 15:04 -07:00"),
			Score:       s.Score,
			Reasons:     s.Reasons,
		})
	}
	return views
}

// starts returns the slots' starts, "2006-01-02 15:04" UTC.
func starts(slots []Slot) []string {
	var ss []string
	for _, s := range slots {
		ss = append(ss, s.Start.UTC().Format("2006-01-02 15:04"))
	}
	return ss
}

// In 2027 the United States start summer time on 14 March and end it on
// 7 November, the European Union on 28 March and 31 October. A New York
// mentor free 09:00–12:00 and a London mentee free 14:00–17:00 on weekdays
// share three hours while both keep the same kind of time:
//
//	winter: New York -05:00, 09:00–12:00 = 14:00–17:00Z; London +00:00, 14:00–17:00Z
//	summer: New York -04:00, 09:00–12:00 = 13:00–16:00Z; London +01:00, 13:00–16:00Z
//
// and two hours in the weeks in between, when New York is on summer time
// and London is not: New York 13:00–16:00Z, London 14:00–17:00Z, shared
// 14:00–16:00Z (10:00–12:00 in New York, 14:00–16:00 in London).
func TestFreeTimeWhenDaylightSavingDatesDiffer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		from string // UTC; one week is searched
		want [][2]string
	}{
		{name: "both on winter time", from: "2027-03-01 00:00", want: [][2]string{
			{"2027-03-01 14:00", "2027-03-01 17:00"},
			{"2027-03-02 14:00", "2027-03-02 17:00"},
			{"2027-03-03 14:00", "2027-03-03 17:00"},
			{"2027-03-04 14:00", "2027-03-04 17:00"},
			{"2027-03-05 14:00", "2027-03-05 17:00"},
		}},
		{name: "the week New York moves to summer time", from: "2027-03-10 00:00", want: [][2]string{
			{"2027-03-10 14:00", "2027-03-10 17:00"}, // Wednesday
			{"2027-03-11 14:00", "2027-03-11 17:00"},
			{"2027-03-12 14:00", "2027-03-12 17:00"},
			{"2027-03-15 14:00", "2027-03-15 16:00"}, // Monday after 14 March
			{"2027-03-16 14:00", "2027-03-16 16:00"},
		}},
		{name: "New York on summer time, London not yet", from: "2027-03-22 00:00", want: [][2]string{
			{"2027-03-22 14:00", "2027-03-22 16:00"},
			{"2027-03-23 14:00", "2027-03-23 16:00"},
			{"2027-03-24 14:00", "2027-03-24 16:00"},
			{"2027-03-25 14:00", "2027-03-25 16:00"},
			{"2027-03-26 14:00", "2027-03-26 16:00"},
		}},
		{name: "both on summer time", from: "2027-04-05 00:00", want: [][2]string{
			{"2027-04-05 13:00", "2027-04-05 16:00"},
			{"2027-04-06 13:00", "2027-04-06 16:00"},
			{"2027-04-07 13:00", "2027-04-07 16:00"},
			{"2027-04-08 13:00", "2027-04-08 16:00"},
			{"2027-04-09 13:00", "2027-04-09 16:00"},
		}},
		{name: "the week London moves back to winter time", from: "2027-10-28 00:00", want: [][2]string{
			{"2027-10-28 13:00", "2027-10-28 16:00"}, // Thursday
			{"2027-10-29 13:00", "2027-10-29 16:00"},
			{"2027-11-01 14:00", "2027-11-01 16:00"}, // Monday after 31 October
			{"2027-11-02 14:00", "2027-11-02 16:00"},
			{"2027-11-03 14:00", "2027-11-03 16:00"},
		}},
		{name: "New York still on summer time, London on winter time", from: "2027-11-01 00:00", want: [][2]string{
			{"2027-11-01 14:00", "2027-11-01 16:00"},
			{"2027-11-02 14:00", "2027-11-02 16:00"},
			{"2027-11-03 14:00", "2027-11-03 16:00"},
			{"2027-11-04 14:00", "2027-11-04 16:00"},
			{"2027-11-05 14:00", "2027-11-05 16:00"},
		}},
		{name: "both back on winter time", from: "2027-11-08 00:00", want: [][2]string{
			{"2027-11-08 14:00", "2027-11-08 17:00"},
			{"2027-11-09 14:00", "2027-11-09 17:00"},
			{"2027-11-10 14:00", "2027-11-10 17:00"},
			{"2027-11-11 14:00", "2027-11-11 17:00"},
			{"2027-11-12 14:00", "2027-11-12 17:00"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var want []Interval
			for _, w := range tt.want {
				want = append(want, span(t, w[0], w[1]))
			}
			got := freeTime(t, SlotQuery{
				Mentor: Availability{TimeZone: "America/New_York", Windows: weekdays("09:00", "12:00")},
				Mentee: Availability{TimeZone: "Europe/London", Windows: weekdays("14:00", "17:00")},
				From:   utc(t, tt.from),
				Weeks:  1,
			})
			require.Empty(t, cmp.Diff(want, got), "free time (-want +got)")
		})
	}
}

// A window covers the instants whose local time is in it: a start in a
// spring-forward gap acts as the first instant after the gap, and the hour
// repeated at a fall-back is covered twice. The other person is free all
// day in UTC, so the free time is the window's own time.
func TestFreeTimeAcrossDaylightSavingChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		zone   string
		window Window
		from   string // UTC; one week is searched
		want   [][2]string
	}{
		// New York, Sunday 14 March 2027: 02:00 EST (07:00Z) becomes 03:00 EDT.
		{
			name: "New York window across the gap is an hour short", zone: "America/New_York",
			window: win(Sunday, "01:00", "04:00"), from: "2027-03-14 00:00",
			// 01:00 EST = 06:00Z; 04:00 EDT = 08:00Z.
			want: [][2]string{{"2027-03-14 06:00", "2027-03-14 08:00"}},
		},
		{
			name: "New York window inside the gap is empty", zone: "America/New_York",
			window: win(Sunday, "02:00", "03:00"), from: "2027-03-14 00:00",
		},
		{
			name: "New York window starting in the gap starts after it", zone: "America/New_York",
			window: win(Sunday, "02:30", "05:00"), from: "2027-03-14 00:00",
			// 03:00 EDT = 07:00Z, the first instant after the gap; 05:00 EDT = 09:00Z.
			want: [][2]string{{"2027-03-14 07:00", "2027-03-14 09:00"}},
		},
		// New York, Sunday 7 November 2027: 02:00 EDT (06:00Z) becomes 01:00 EST.
		{
			name: "New York window across the repeated hour is an hour long", zone: "America/New_York",
			window: win(Sunday, "00:00", "03:00"), from: "2027-11-07 00:00",
			// 00:00 EDT = 04:00Z; 03:00 EST = 08:00Z.
			want: [][2]string{{"2027-11-07 04:00", "2027-11-07 08:00"}},
		},
		{
			name: "New York repeated hour is covered twice", zone: "America/New_York",
			window: win(Sunday, "01:00", "02:00"), from: "2027-11-07 00:00",
			// 01:00–02:00 EDT = 05:00–06:00Z, then 01:00–02:00 EST = 06:00–07:00Z.
			want: [][2]string{{"2027-11-07 05:00", "2027-11-07 07:00"}},
		},
		{
			name: "New York half of the repeated hour is two half hours", zone: "America/New_York",
			window: win(Sunday, "01:00", "01:30"), from: "2027-11-07 00:00",
			want: [][2]string{{"2027-11-07 05:00", "2027-11-07 05:30"}, {"2027-11-07 06:00", "2027-11-07 06:30"}},
		},
		{
			name: "New York window ending after the repeated hour skips its first half hour the second time", zone: "America/New_York",
			window: win(Sunday, "01:30", "03:00"), from: "2027-11-07 00:00",
			// 01:30–02:00 EDT = 05:30–06:00Z; 01:30 EST = 06:30Z to 03:00 EST = 08:00Z.
			want: [][2]string{{"2027-11-07 05:30", "2027-11-07 06:00"}, {"2027-11-07 06:30", "2027-11-07 08:00"}},
		},
		// Lord Howe Island: +11:00 in summer, +10:30 in winter. Sunday
		// 4 April 2027 02:00 (15:00Z) becomes 01:30; Sunday 3 October 2027
		// 02:00 (15:30Z) becomes 02:30.
		{
			name: "Lord Howe summer time", zone: "Australia/Lord_Howe",
			window: win(Sunday, "01:00", "03:00"), from: "2027-03-27 00:00",
			// 01:00 +11 on the 28th = 14:00Z on the 27th.
			want: [][2]string{{"2027-03-27 14:00", "2027-03-27 16:00"}},
		},
		{
			name: "Lord Howe window across the repeated half hour", zone: "Australia/Lord_Howe",
			window: win(Sunday, "01:00", "03:00"), from: "2027-04-03 00:00",
			// 01:00 +11 = 14:00Z; 03:00 +10:30 = 16:30Z.
			want: [][2]string{{"2027-04-03 14:00", "2027-04-03 16:30"}},
		},
		{
			name: "Lord Howe repeated half hour is covered twice", zone: "Australia/Lord_Howe",
			window: win(Sunday, "01:30", "02:00"), from: "2027-04-03 00:00",
			// 01:30–02:00 +11 = 14:30–15:00Z, then 01:30–02:00 +10:30 = 15:00–15:30Z.
			want: [][2]string{{"2027-04-03 14:30", "2027-04-03 15:30"}},
		},
		{
			name: "Lord Howe winter time", zone: "Australia/Lord_Howe",
			window: win(Sunday, "01:00", "03:00"), from: "2027-09-25 00:00",
			// 01:00 +10:30 on the 26th = 14:30Z on the 25th.
			want: [][2]string{{"2027-09-25 14:30", "2027-09-25 16:30"}},
		},
		{
			name: "Lord Howe window across the gap", zone: "Australia/Lord_Howe",
			window: win(Sunday, "01:00", "03:00"), from: "2027-10-02 00:00",
			// 01:00 +10:30 = 14:30Z; 03:00 +11 = 16:00Z.
			want: [][2]string{{"2027-10-02 14:30", "2027-10-02 16:00"}},
		},
		{
			name: "Lord Howe window inside the gap is empty", zone: "Australia/Lord_Howe",
			window: win(Sunday, "02:00", "02:30"), from: "2027-10-02 00:00",
		},
		{
			name: "Lord Howe window starting in the gap starts after it", zone: "Australia/Lord_Howe",
			window: win(Sunday, "02:15", "03:00"), from: "2027-10-02 00:00",
			// 02:30 +11 = 15:30Z; 03:00 +11 = 16:00Z.
			want: [][2]string{{"2027-10-02 15:30", "2027-10-02 16:00"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var want []Interval
			for _, w := range tt.want {
				want = append(want, span(t, w[0], w[1]))
			}
			got := freeTime(t, SlotQuery{
				Mentor: Availability{TimeZone: tt.zone, Windows: []Window{tt.window}},
				Mentee: Availability{TimeZone: "UTC", Windows: everyDay("00:00", EndOfDay)},
				From:   utc(t, tt.from),
				Weeks:  1,
			})
			require.Empty(t, cmp.Diff(want, got), "free time (-want +got)")
		})
	}
}

func TestFreeTimeRemovesExceptionsAndBusyTime(t *testing.T) {
	t.Parallel()
	mondays := func(start, end string) Availability {
		return Availability{TimeZone: "UTC", Windows: []Window{win(Monday, start, end)}}
	}
	tests := []struct {
		name           string
		mentor, mentee Availability
		busy           []Interval
		from           string // UTC
		weeks          int
		want           []Interval
	}{
		{
			name:   "shared time only",
			mentor: mondays("09:00", "17:00"), mentee: mondays("08:00", "16:00"),
			from: "2027-01-04 00:00", weeks: 1,
			want: []Interval{span(t, "2027-01-04 09:00", "2027-01-04 16:00")},
		},
		{
			name: "exceptions of either person and busy time",
			mentor: func() Availability {
				a := mondays("09:00", "17:00")
				a.Exceptions = []Exception{{Start: utc(t, "2027-01-04 10:00"), End: utc(t, "2027-01-04 11:00"), Reason: "dentist"}}
				return a
			}(),
			mentee: func() Availability {
				a := mondays("08:00", "16:00")
				a.Exceptions = []Exception{
					{Start: utc(t, "2027-01-04 12:00"), End: utc(t, "2027-01-04 12:30")},
					// All of the second Monday, given in another zone.
					{Start: utc(t, "2027-01-11 00:00").In(time.FixedZone("+01", 3600)), End: utc(t, "2027-01-12 00:00")},
				}
				return a
			}(),
			busy: []Interval{
				span(t, "2027-01-04 08:00", "2027-01-04 09:30"),
				span(t, "2027-01-04 14:00", "2027-01-04 14:30"),
				span(t, "2027-01-04 15:00", "2027-01-04 15:15"),
			},
			from: "2027-01-04 00:00", weeks: 2,
			// 09:00–16:00 less mentor 10:00–11:00, mentee 12:00–12:30 and
			// the busy times.
			want: []Interval{
				span(t, "2027-01-04 09:30", "2027-01-04 10:00"),
				span(t, "2027-01-04 11:00", "2027-01-04 12:00"),
				span(t, "2027-01-04 12:30", "2027-01-04 14:00"),
				span(t, "2027-01-04 14:30", "2027-01-04 15:00"),
				span(t, "2027-01-04 15:15", "2027-01-04 16:00"),
			},
		},
		{
			name:   "clipped to the weeks asked for",
			mentor: mondays("09:00", "17:00"), mentee: mondays("09:00", "17:00"),
			from: "2027-01-04 12:00", weeks: 1, // to 2027-01-11 12:00
			want: []Interval{
				span(t, "2027-01-04 12:00", "2027-01-04 17:00"),
				span(t, "2027-01-11 09:00", "2027-01-11 12:00"),
			},
		},
		{
			name:   "working hours when there are no windows",
			mentor: Availability{TimeZone: "UTC", WorkingHours: []Window{win(Monday, "09:00", "17:00")}},
			mentee: mondays("16:00", "18:00"),
			from:   "2027-01-04 00:00", weeks: 1,
			want: []Interval{span(t, "2027-01-04 16:00", "2027-01-04 17:00")},
		},
		{
			name:   "windows rather than working hours",
			mentor: Availability{TimeZone: "UTC", Windows: []Window{win(Monday, "09:00", "10:00")}, WorkingHours: []Window{win(Monday, "09:00", "17:00")}},
			mentee: mondays("09:00", "17:00"),
			from:   "2027-01-04 00:00", weeks: 1,
			want: []Interval{span(t, "2027-01-04 09:00", "2027-01-04 10:00")},
		},
		{
			name:   "touching windows and the next midnight",
			mentor: Availability{TimeZone: "UTC", Windows: []Window{win(Monday, "22:00", EndOfDay), win(Tuesday, "00:00", "01:00")}},
			mentee: Availability{TimeZone: "UTC", Windows: everyDay("00:00", EndOfDay)},
			from:   "2027-01-04 00:00", weeks: 1,
			want: []Interval{span(t, "2027-01-04 22:00", "2027-01-05 01:00")},
		},
		{
			name:   "nobody free",
			mentor: Availability{TimeZone: "UTC"}, mentee: mondays("09:00", "17:00"),
			from: "2027-01-04 00:00", weeks: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := freeTime(t, SlotQuery{Mentor: tt.mentor, Mentee: tt.mentee, Busy: tt.busy, From: utc(t, tt.from), Weeks: tt.weeks})
			require.Empty(t, cmp.Diff(tt.want, got), "free time (-want +got)")
		})
	}
}

// Slots start on UTC quarter hours, which in +05:30 and +05:45 zones are
// quarter hours too, every 30 minutes from the first of a free interval.
func TestSuggestSlotsLocalTimes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		mentor, mentee Availability
		from           string // UTC; one week
		duration       time.Duration
		want           []slotView
	}{
		{
			// Kolkata (+05:30) 18:15–21:00 = 12:45–15:30Z; London (+00:00
			// in January) 12:00–16:00Z. Hour-long candidates start at 12:45,
			// 13:15, 13:45 and 14:15Z; 12:45 and 13:45 are the first two
			// that do not overlap, and the mentee's day is then full.
			name:   "Kolkata and London",
			mentor: Availability{TimeZone: "Asia/Kolkata", Windows: []Window{win(Monday, "18:15", "21:00")}},
			mentee: Availability{TimeZone: "Europe/London", Windows: []Window{win(Monday, "12:00", "16:00")}},
			from:   "2027-01-04 00:00", duration: time.Hour,
			want: []slotView{
				{Start: "2027-01-04 12:45Z", End: "2027-01-04 13:45Z", MentorLocal: "2027-01-04 18:15 +05:30", MenteeLocal: "2027-01-04 12:45 +00:00"},
				{Start: "2027-01-04 13:45Z", End: "2027-01-04 14:45Z", MentorLocal: "2027-01-04 19:15 +05:30", MenteeLocal: "2027-01-04 13:45 +00:00"},
			},
		},
		{
			// Kathmandu (+05:45) 19:00–22:00 = 13:15–16:15Z; New York
			// (-05:00 in January) 08:00–12:00 = 13:00–17:00Z.
			name:   "Kathmandu and New York",
			mentor: Availability{TimeZone: "Asia/Kathmandu", Windows: []Window{win(Tuesday, "19:00", "22:00")}},
			mentee: Availability{TimeZone: "America/New_York", Windows: []Window{win(Tuesday, "08:00", "12:00")}},
			from:   "2027-01-04 00:00", duration: 45 * time.Minute,
			want: []slotView{
				{Start: "2027-01-05 13:15Z", End: "2027-01-05 14:00Z", MentorLocal: "2027-01-05 19:00 +05:45", MenteeLocal: "2027-01-05 08:15 -05:00"},
				{Start: "2027-01-05 14:15Z", End: "2027-01-05 15:00Z", MentorLocal: "2027-01-05 20:00 +05:45", MenteeLocal: "2027-01-05 09:15 -05:00"},
			},
		},
		{
			// 01:00 EST to 04:00 EDT on 14 March is two hours: one slot.
			name:   "New York window across the spring-forward gap",
			mentor: Availability{TimeZone: "America/New_York", Windows: []Window{win(Sunday, "01:00", "04:00")}},
			mentee: Availability{TimeZone: "Europe/London", Windows: everyDay("00:00", EndOfDay)},
			from:   "2027-03-14 00:00", duration: 2 * time.Hour,
			want: []slotView{
				{Start: "2027-03-14 06:00Z", End: "2027-03-14 08:00Z", MentorLocal: "2027-03-14 01:00 -05:00", MenteeLocal: "2027-03-14 06:00 +00:00"},
			},
		},
		{
			// Lord Howe 01:00–03:00 on 4 April 2027 is 14:00–16:30Z: of the
			// 2.5 hours, two-hour slots fit at 14:00 and 14:30Z, which
			// overlap; 14:30Z is 01:30 +11:00 while 15:00Z is 01:30 +10:30.
			name:   "Lord Howe window across the repeated half hour",
			mentor: Availability{TimeZone: "Australia/Lord_Howe", Windows: []Window{win(Sunday, "01:00", "03:00")}},
			mentee: Availability{TimeZone: "UTC", Windows: everyDay("00:00", EndOfDay)},
			from:   "2027-04-03 00:00", duration: 2 * time.Hour,
			want: []slotView{
				{Start: "2027-04-03 14:00Z", End: "2027-04-03 16:00Z", MentorLocal: "2027-04-04 01:00 +11:00", MenteeLocal: "2027-04-03 14:00 +00:00"},
			},
		},
		{
			// The free time starts at 10:10Z: the first quarter hour is 10:15.
			name:   "first quarter hour of the free time",
			mentor: Availability{TimeZone: "UTC", Windows: []Window{win(Monday, "10:10", "12:00")}},
			mentee: Availability{TimeZone: "UTC", Windows: []Window{win(Monday, "09:00", "12:00")}},
			from:   "2027-01-04 00:00", duration: 30 * time.Minute,
			want: []slotView{
				{Start: "2027-01-04 10:15Z", End: "2027-01-04 10:45Z", MentorLocal: "2027-01-04 10:15 +00:00", MenteeLocal: "2027-01-04 10:15 +00:00"},
				{Start: "2027-01-04 10:45Z", End: "2027-01-04 11:15Z", MentorLocal: "2027-01-04 10:45 +00:00", MenteeLocal: "2027-01-04 10:45 +00:00"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := SuggestSlots(SlotQuery{Mentor: tt.mentor, Mentee: tt.mentee, From: utc(t, tt.from), Weeks: 1, Duration: tt.duration, Limit: 10})
			require.Empty(t, cmp.Diff(tt.want, viewSlots(got)), "slots (-want +got)")
			for _, s := range got {
				require.Equal(t, time.UTC, s.Start.Location())
				require.Equal(t, time.UTC, s.End.Location())
			}
		})
	}
}

func TestSuggestSlotsRanking(t *testing.T) {
	t.Parallel()
	// Everything in UTC, Monday 4 to Saturday 9 January 2027; each day but
	// Saturday has one shared hour, 09:00–10:00, so one candidate.
	pref := func(day Weekday, start, end string) Window {
		w := win(day, start, end)
		w.Preferred = true
		return w
	}
	mentor := Availability{
		TimeZone: "UTC",
		Windows: []Window{
			pref(Monday, "09:00", "10:00"),
			win(Tuesday, "09:00", "10:00"),
			win(Wednesday, "09:00", "10:00"),
			pref(Thursday, "09:00", "10:00"),
			win(Friday, "09:00", "10:00"),
			// Saturday: only the slot at 09:00 lies wholly in the preferred part.
			pref(Saturday, "09:00", "10:00"), win(Saturday, "10:00", "11:00"),
		},
		WorkingHours: []Window{win(Monday, "08:00", "17:00"), win(Tuesday, "08:00", "17:00"), win(Friday, "08:00", "17:00")},
	}
	mentee := Availability{
		TimeZone: "UTC",
		Windows: []Window{
			pref(Monday, "09:00", "10:00"),
			pref(Tuesday, "09:00", "10:00"),
			win(Wednesday, "09:00", "10:00"),
			win(Thursday, "09:00", "10:00"),
			win(Friday, "09:00", "10:00"),
			win(Saturday, "09:00", "11:00"),
		},
		WorkingHours: []Window{win(Monday, "09:00", "10:00"), win(Friday, "09:00", "12:00")},
	}
	got := SuggestSlots(SlotQuery{Mentor: mentor, Mentee: mentee, From: utc(t, "2027-01-04 00:00"), Weeks: 1, Duration: time.Hour, Limit: 10})
	// Scores: Monday 2+2+1+1 = 6; Tuesday mentee preferred 2 + mentor
	// working 1 = 3; Thursday mentor preferred 2; Friday both working
	// 1+1 = 2; Saturday 09:00 mentor preferred 2, 09:30 and 10:00 nothing;
	// Wednesday nothing. Ties go by start; Saturday 09:30 overlaps 09:00.
	want := []slotView{
		{Start: "2027-01-04 09:00Z", End: "2027-01-04 10:00Z", Score: 6, Reasons: []string{"in both people's preferred windows", "in both people's working hours"}},
		{Start: "2027-01-05 09:00Z", End: "2027-01-05 10:00Z", Score: 3, Reasons: []string{"in the mentee's preferred windows", "in the mentor's working hours"}},
		{Start: "2027-01-07 09:00Z", End: "2027-01-07 10:00Z", Score: 2, Reasons: []string{"in the mentor's preferred windows"}},
		{Start: "2027-01-08 09:00Z", End: "2027-01-08 10:00Z", Score: 2, Reasons: []string{"in both people's working hours"}},
		{Start: "2027-01-09 09:00Z", End: "2027-01-09 10:00Z", Score: 2, Reasons: []string{"in the mentor's preferred windows"}},
		{Start: "2027-01-06 09:00Z", End: "2027-01-06 10:00Z"},
		{Start: "2027-01-09 10:00Z", End: "2027-01-09 11:00Z"},
	}
	views := viewSlots(got)
	for i := range views {
		views[i].MentorLocal, views[i].MenteeLocal = "", ""
	}
	require.Empty(t, cmp.Diff(want, views), "slots (-want +got)")
}

func TestSuggestSlotsSelection(t *testing.T) {
	t.Parallel()
	allWeek := Availability{TimeZone: "UTC", Windows: everyDay("09:00", "17:00")}
	tests := []struct {
		name  string
		query SlotQuery // but From
		from  string    // UTC
		want  []string  // starts, UTC
	}{
		{
			// Hour-long slots 30 minutes apart overlap their neighbours:
			// 09:00 and 10:00 each day, then the day is full.
			name:  "two a day, not overlapping",
			query: SlotQuery{Mentor: allWeek, Mentee: allWeek, Weeks: 1, Duration: time.Hour, Limit: 100},
			from:  "2027-01-04 00:00",
			want: []string{
				"2027-01-04 09:00", "2027-01-04 10:00", "2027-01-05 09:00", "2027-01-05 10:00",
				"2027-01-06 09:00", "2027-01-06 10:00", "2027-01-07 09:00", "2027-01-07 10:00",
				"2027-01-08 09:00", "2027-01-08 10:00", "2027-01-09 09:00", "2027-01-09 10:00",
				"2027-01-10 09:00", "2027-01-10 10:00",
			},
		},
		{
			name:  "limit",
			query: SlotQuery{Mentor: allWeek, Mentee: allWeek, Weeks: 1, Duration: time.Hour, Limit: 3},
			from:  "2027-01-04 00:00",
			want:  []string{"2027-01-04 09:00", "2027-01-04 10:00", "2027-01-05 09:00"},
		},
		{
			name:  "half-hour slots touch",
			query: SlotQuery{Mentor: allWeek, Mentee: allWeek, Weeks: 1, Duration: 30 * time.Minute, Limit: 2},
			from:  "2027-01-04 00:00",
			want:  []string{"2027-01-04 09:00", "2027-01-04 09:30"},
		},
		{
			// Tokyo's Monday 4 January is 3 January 15:00Z to 4 January
			// 15:00Z: two UTC dates, one day of the mentee's.
			name: "days are the mentee's",
			query: SlotQuery{
				Mentor: Availability{TimeZone: "UTC", Windows: everyDay("00:00", EndOfDay)},
				Mentee: Availability{TimeZone: "Asia/Tokyo", Windows: []Window{win(Monday, "00:00", EndOfDay)}},
				Weeks:  1, Duration: time.Hour, Limit: 10,
			},
			from: "2027-01-03 00:00", // a Sunday
			want: []string{"2027-01-03 15:00", "2027-01-03 16:00"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := tt.query
			q.From = utc(t, tt.from)
			require.Empty(t, cmp.Diff(tt.want, starts(SuggestSlots(q))), "slot starts (-want +got)")
		})
	}
}

func TestSuggestSlotsNone(t *testing.T) {
	t.Parallel()
	valid := func() SlotQuery {
		a := Availability{TimeZone: "UTC", Windows: everyDay("09:00", "17:00")}
		return SlotQuery{Mentor: a, Mentee: a, From: utc(t, "2027-01-04 00:00"), Weeks: 1, Duration: time.Hour, Limit: 5}
	}
	require.Len(t, SuggestSlots(valid()), 5, "the valid query the cases break")
	tests := []struct {
		name  string
		spoil func(*SlotQuery)
	}{
		{"mentor without windows or working hours", func(q *SlotQuery) { q.Mentor.Windows = nil }},
		{"mentee without windows or working hours", func(q *SlotQuery) { q.Mentee.Windows = nil }},
		{"no shared time", func(q *SlotQuery) { q.Mentee.Windows = everyDay("17:00", "20:00") }},
		{"shared time shorter than the slot", func(q *SlotQuery) { q.Mentee.Windows = everyDay("16:15", "20:00") }},
		{"busy all the time", func(q *SlotQuery) { q.Busy = []Interval{{q.From, q.From.AddDate(0, 0, 7)}} }},
		{"empty time zone", func(q *SlotQuery) { q.Mentor.TimeZone = "" }},
		{"server's zone", func(q *SlotQuery) { q.Mentee.TimeZone = "Local" }},
		{"unknown time zone", func(q *SlotQuery) { q.Mentee.TimeZone = "Mars/Olympus_Mons" }},
		{"no weeks", func(q *SlotQuery) { q.Weeks = 0 }},
		{"no limit", func(q *SlotQuery) { q.Limit = 0 }},
		{"no duration", func(q *SlotQuery) { q.Duration = 0 }},
		{"duration off the quarter hours", func(q *SlotQuery) { q.Duration = 50 * time.Minute }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := valid()
			tt.spoil(&q)
			require.Empty(t, SuggestSlots(q))
		})
	}
}

// TestSuggestSlotsProperties checks random queries against the rules,
// read back from the slots alone: each one-minute step of a slot (and its
// last nanosecond) is, in each person's zone, inside a meeting window of
// that day, outside the person's exceptions and outside busy time; the
// score is recomputed the same way; slots are disjoint, ordered as taken,
// and at most two a mentee's day. Window edges are whole minutes and 2027
// offsets whole minutes, so checking each minute is checking every instant.
func TestSuggestSlotsProperties(t *testing.T) {
	t.Parallel()
	zones := []string{
		"UTC", "America/New_York", "Europe/London", "Asia/Kolkata", "Asia/Kathmandu",
		"Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago", // Santiago changes at midnight
	}
	// Weeks with daylight-saving changes in some of the zones, and one without.
	froms := []string{
		"2027-01-10 00:00", "2027-03-10 06:00", "2027-03-25 12:00", "2027-04-01 07:10",
		"2027-09-02 00:00", "2027-09-22 13:00", "2027-10-28 00:00", "2027-11-04 05:00",
	}
	rng := rand.New(rand.NewPCG(2027, 3))
	total := 0
	for i := range 400 {
		q := SlotQuery{
			Mentor:   randomAvailability(rng, zones),
			Mentee:   randomAvailability(rng, zones),
			From:     utc(t, froms[rng.IntN(len(froms))]),
			Weeks:    1 + rng.IntN(3),
			Duration: time.Duration(1+rng.IntN(8)) * slotAlignment,
			Limit:    1 + rng.IntN(30),
		}
		q.Mentor.Exceptions = randomExceptions(rng, q)
		q.Mentee.Exceptions = randomExceptions(rng, q)
		for range rng.IntN(6) {
			start := q.From.Add(time.Duration(rng.IntN(q.Weeks*7*24*60)) * time.Minute)
			q.Busy = append(q.Busy, Interval{start, start.Add(time.Duration(1+rng.IntN(240)) * time.Minute)})
		}
		slots := SuggestSlots(q)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			checkSlots(t, q, slots)
			require.Empty(t, cmp.Diff(slots, SuggestSlots(q)), "a second call (-first +second)")
		})
		total += len(slots)
	}
	require.Greater(t, total, 500, "slots over all the queries: the random queries share too little time to test anything")
}

// randomAvailability returns up to two windows a day, with random edges to
// the minute, in a zone of zones.
func randomAvailability(rng *rand.Rand, zones []string) Availability {
	windows := func() []Window {
		var ws []Window
		for day := Monday; day <= Sunday; day++ {
			n := rng.IntN(3)
			edges := make(map[int]bool)
			for len(edges) < 2*n {
				edges[rng.IntN(24*60+1)] = true
			}
			var sorted []int
			for m := range 24*60 + 1 {
				if edges[m] {
					sorted = append(sorted, m)
				}
			}
			for k := 0; k < len(sorted); k += 2 {
				ws = append(ws, Window{Day: day, Start: clock(sorted[k]), End: clock(sorted[k+1]), Preferred: rng.IntN(2) == 0})
			}
		}
		return ws
	}
	a := Availability{TimeZone: zones[rng.IntN(len(zones))]}
	if rng.IntN(5) > 0 {
		a.Windows = windows()
	}
	if rng.IntN(2) == 0 {
		a.WorkingHours = windows()
	}
	return a
}

// randomExceptions returns up to two exceptions of up to two days in or
// near q's weeks.
func randomExceptions(rng *rand.Rand, q SlotQuery) []Exception {
	var es []Exception
	for range rng.IntN(3) {
		start := q.From.Add(time.Duration(rng.IntN((q.Weeks*7+2)*24*60)-24*60) * time.Minute)
		es = append(es, Exception{Start: start, End: start.Add(time.Duration(1+rng.IntN(2*24*60)) * time.Minute)})
	}
	return es
}

// clock formats minutes after midnight as "HH:MM".
func clock(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

func checkSlots(t *testing.T, q SlotQuery, slots []Slot) {
	t.Helper()
	people := []struct {
		role string
		a    Availability
		loc  *time.Location
	}{{role: "mentor", a: q.Mentor}, {role: "mentee", a: q.Mentee}}
	for i := range people {
		loc, err := time.LoadLocation(people[i].a.TimeZone)
		require.NoError(t, err)
		people[i].loc = loc
	}
	end := q.From.Add(time.Duration(q.Weeks) * 7 * 24 * time.Hour)
	perMenteeDay := map[string]int{}
	require.LessOrEqual(t, len(slots), q.Limit)
	for k, s := range slots {
		require.Equal(t, time.UTC, s.Start.Location(), "slot %d", k)
		require.Equal(t, q.Duration, s.End.Sub(s.Start), "slot %d", k)
		require.Equal(t, s.Start, s.Start.Truncate(slotAlignment), "slot %d starts on a UTC quarter hour", k)
		require.False(t, s.Start.Before(q.From), "slot %d starts before From", k)
		require.False(t, s.End.After(end), "slot %d ends after the weeks asked for", k)
		require.True(t, s.MentorLocal.Equal(s.Start), "slot %d MentorLocal", k)
		require.Equal(t, q.Mentor.TimeZone, s.MentorLocal.Location().String(), "slot %d MentorLocal", k)
		require.True(t, s.MenteeLocal.Equal(s.Start), "slot %d MenteeLocal", k)
		require.Equal(t, q.Mentee.TimeZone, s.MenteeLocal.Location().String(), "slot %d MenteeLocal", k)

		samples := []time.Time{s.End.Add(-time.Nanosecond)}
		for at := s.Start; at.Before(s.End); at = at.Add(time.Minute) {
			samples = append(samples, at)
		}
		slot := Interval{s.Start, s.End}
		score := 0
		for _, p := range people {
			windows := p.a.Windows
			if len(windows) == 0 {
				windows = p.a.WorkingHours
			}
			var preferred []Window
			for _, w := range windows {
				if w.Preferred {
					preferred = append(preferred, w)
				}
			}
			allPreferred, allWorking := true, len(p.a.WorkingHours) > 0
			for _, at := range samples {
				local := at.In(p.loc)
				require.True(t, inWindows(windows, local), "slot %d at %s is outside the %s's windows", k, local, p.role)
				allPreferred = allPreferred && inWindows(preferred, local)
				allWorking = allWorking && inWindows(p.a.WorkingHours, local)
			}
			if allPreferred {
				score += 2
			}
			if allWorking {
				score++
			}
			for _, e := range p.a.Exceptions {
				require.False(t, slot.Overlaps(Interval{e.Start, e.End}), "slot %d overlaps a %s's exception", k, p.role)
			}
		}
		require.Equal(t, score, s.Score, "slot %d score", k)
		require.Equal(t, s.Score == 0, len(s.Reasons) == 0, "slot %d reasons %q", k, s.Reasons)
		for _, b := range q.Busy {
			require.False(t, slot.Overlaps(b), "slot %d overlaps busy time", k)
		}
		for j := range k {
			require.False(t, slot.Overlaps(Interval{slots[j].Start, slots[j].End}), "slots %d and %d overlap", j, k)
		}
		if k > 0 {
			prev := slots[k-1]
			require.True(t, prev.Score > s.Score || prev.Score == s.Score && prev.Start.Before(s.Start),
				"slot %d (score %d, %s) after slot %d (score %d, %s)", k, s.Score, s.Start, k-1, prev.Score, prev.Start)
		}
		day := s.MenteeLocal.Format(time.DateOnly)
		perMenteeDay[day]++
		require.LessOrEqual(t, perMenteeDay[day], 2, "slots on the mentee's %s", day)
	}
}

// inWindows reports whether a local time is in one of the windows.
func inWindows(ws []Window, local time.Time) bool {
	minute := local.Hour()*60 + local.Minute()
	for _, w := range ws {
		start, _ := parseClock(w.Start, false)
		end, _ := parseClock(w.End, true)
		if w.Day == isoWeekday(local) && start <= minute && minute < end {
			return true
		}
	}
	return false
}
