package scheduling_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ical "github.com/emersion/go-ical"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

// The feed is written with one iCalendar library and read back here with
// another (emersion/go-ical), so that these tests do not trust the writer.

var (
	feedNow     = time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC)
	feedCreated = time.Date(2027, 2, 1, 9, 30, 0, 0, time.UTC)
	feedUpdated = time.Date(2027, 2, 20, 17, 45, 10, 0, time.UTC)
)

// feedSession is a confirmed hour-long session starting at start.
func feedSession(id string, start time.Time) scheduling.Session {
	return scheduling.Session{
		ID:         id,
		MatchID:    "match-1",
		Start:      start,
		End:        start.Add(time.Hour),
		State:      scheduling.SessionConfirmed,
		Sequence:   1,
		CreateTime: feedCreated,
		UpdateTime: feedUpdated,
	}
}

// feedEvent is what a reader sees of one VEVENT.
type feedEvent struct {
	UID          string
	Sequence     int
	Status       ical.EventStatus
	Summary      string
	Location     string
	Description  string
	Start, End   time.Time
	Stamp        time.Time
	Created      time.Time
	LastModified time.Time
}

func TestRenderFeedCalendarProperties(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		timeZone string
		want     map[string]string
	}{
		{name: "with a time zone", timeZone: "Asia/Kathmandu", want: map[string]string{
			"VERSION": "2.0", "PRODID": "-//Tandem//Mentoring//EN", "CALSCALE": "GREGORIAN",
			"METHOD": "PUBLISH", "X-WR-CALNAME": "Tandem mentoring", "X-WR-TIMEZONE": "Asia/Kathmandu",
		}},
		{name: "time zone unknown", want: map[string]string{
			"VERSION": "2.0", "PRODID": "-//Tandem//Mentoring//EN", "CALSCALE": "GREGORIAN",
			"METHOD": "PUBLISH", "X-WR-CALNAME": "Tandem mentoring",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := renderFeed(t, scheduling.Feed{PersonID: "person-1", TimeZone: tt.timeZone, Now: feedNow})
			cal := parseFeed(t, out)
			got := map[string]string{}
			for name, props := range cal.Props {
				require.Len(t, props, 1, "property %s", name)
				text, err := props[0].Text()
				require.NoError(t, err)
				got[name] = text
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("calendar properties (-want +got):\n%s", diff)
			}
			require.Empty(t, cal.Events())
		})
	}
}

func TestRenderFeedEvents(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 3, 15, 14, 0, 0, 0, time.UTC)
	proposed := feedSession("s-proposed", start.Add(48*time.Hour))
	proposed.State = scheduling.SessionProposed
	proposed.Sequence = 0
	proposed.RoomID = "room-1"
	confirmed := feedSession("s-confirmed", start)
	confirmed.RoomID = "room-unknown"
	cancelled := feedSession("s-cancelled", start.Add(24*time.Hour))
	cancelled.State = scheduling.SessionCancelled
	cancelled.Sequence = 3
	cancelled.CancelReason = "Mentor is ill"
	cancelled.RescheduleReason = "Clash with a workshop"
	completed := feedSession("s-completed", start.Add(-7*24*time.Hour))
	completed.State = scheduling.SessionCompleted
	noShow := feedSession("s-no-show", start.Add(-14*24*time.Hour))
	noShow.State = scheduling.SessionNoShow
	noShow.CreateTime, noShow.UpdateTime = time.Time{}, time.Time{}

	out := renderFeed(t, scheduling.Feed{
		PersonID: "person-1",
		TimeZone: "Europe/Berlin",
		Sessions: []scheduling.Session{proposed, confirmed, cancelled, completed, noShow},
		Rooms: map[string]scheduling.Room{
			"room-1": {ID: "room-1", DisplayName: "Lovelace", Location: "Floor 3"},
		},
		Now: feedNow,
	})
	event := func(s scheduling.Session, status ical.EventStatus, summary string) feedEvent {
		return feedEvent{
			UID: s.ID + "@tandem", Sequence: s.Sequence, Status: status, Summary: summary,
			Start: s.Start, End: s.End, Stamp: feedNow, Created: s.CreateTime, LastModified: s.UpdateTime,
		}
	}
	wantProposed := event(proposed, ical.EventTentative, "Mentoring session (proposed)")
	wantProposed.Location = "Lovelace, Floor 3"
	wantCancelled := event(cancelled, ical.EventCancelled, "Mentoring session")
	wantCancelled.Description = "Cancelled: Mentor is ill\nRescheduled: Clash with a workshop"
	want := []feedEvent{ // in start order
		event(noShow, ical.EventConfirmed, "Mentoring session"),
		event(completed, ical.EventConfirmed, "Mentoring session"),
		event(confirmed, ical.EventConfirmed, "Mentoring session"),
		wantCancelled,
		wantProposed,
	}
	if diff := cmp.Diff(want, feedEvents(t, parseFeed(t, out))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	require.Contains(t, string(out), "\r\nSTATUS:CANCELLED\r\n")
}

func TestRenderFeedTimesAreExactInstants(t *testing.T) {
	t.Parallel()
	newYork, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	kathmandu, err := time.LoadLocation("Asia/Kathmandu")
	require.NoError(t, err)
	// Wall-clock times worked out by hand: New York is UTC-5 in winter and
	// UTC-4 from 14 March to 7 November 2027 (at 06:00 UTC that day 01:00
	// to 02:00 happens twice); Kathmandu is UTC+5:45 all year.
	tests := []struct {
		name                string
		start               time.Time
		rawStart, rawEnd    string
		newYork, kathmandu  string // local start
		newYorkEnd, kathEnd string // local end
	}{
		{
			name: "after the spring change", start: time.Date(2027, 3, 15, 14, 0, 0, 0, time.UTC),
			rawStart: "20270315T140000Z", rawEnd: "20270315T150000Z",
			newYork: "2027-03-15 10:00 -0400", newYorkEnd: "2027-03-15 11:00 -0400",
			kathmandu: "2027-03-15 19:45 +0545", kathEnd: "2027-03-15 20:45 +0545",
		},
		{
			name: "winter, the next day in Kathmandu", start: time.Date(2027, 1, 10, 18, 30, 0, 0, time.UTC),
			rawStart: "20270110T183000Z", rawEnd: "20270110T193000Z",
			newYork: "2027-01-10 13:30 -0500", newYorkEnd: "2027-01-10 14:30 -0500",
			kathmandu: "2027-01-11 00:15 +0545", kathEnd: "2027-01-11 01:15 +0545",
		},
		{
			name: "first 01:30 of the autumn change", start: time.Date(2027, 11, 7, 5, 30, 0, 0, time.UTC),
			rawStart: "20271107T053000Z", rawEnd: "20271107T063000Z",
			newYork: "2027-11-07 01:30 -0400", newYorkEnd: "2027-11-07 01:30 -0500",
			kathmandu: "2027-11-07 11:15 +0545", kathEnd: "2027-11-07 12:15 +0545",
		},
		{
			name: "given in another zone", start: time.Date(2027, 6, 1, 9, 0, 0, 0, kathmandu),
			rawStart: "20270601T031500Z", rawEnd: "20270601T041500Z",
			newYork: "2027-05-31 23:15 -0400", newYorkEnd: "2027-06-01 00:15 -0400",
			kathmandu: "2027-06-01 09:00 +0545", kathEnd: "2027-06-01 10:00 +0545",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := feedSession("s-1", tt.start)
			out := renderFeed(t, scheduling.Feed{PersonID: "p", TimeZone: "America/New_York", Sessions: []scheduling.Session{s}, Now: feedNow})
			events := parseFeed(t, out).Events()
			require.Len(t, events, 1)
			for name, raw := range map[string]string{"DTSTART": tt.rawStart, "DTEND": tt.rawEnd} {
				prop := events[0].Props.Get(name)
				require.NotNil(t, prop, name)
				require.Equal(t, raw, prop.Value, name)
				require.Empty(t, prop.Params, "%s has no TZID or VALUE parameter", name)
			}
			// A reader in any zone: the zone passed to the parser is only
			// for floating times, which the feed never writes.
			for _, readerZone := range []*time.Location{time.UTC, newYork, kathmandu} {
				start, err := events[0].DateTimeStart(readerZone)
				require.NoError(t, err)
				end, err := events[0].DateTimeEnd(readerZone)
				require.NoError(t, err)
				require.True(t, start.Equal(s.Start), "start %s, want %s", start, s.Start)
				require.True(t, end.Equal(s.End), "end %s, want %s", end, s.End)
				const layout = "2006-01-02 15:04 -0700"
				require.Equal(t, tt.newYork, start.In(newYork).Format(layout))
				require.Equal(t, tt.newYorkEnd, end.In(newYork).Format(layout))
				require.Equal(t, tt.kathmandu, start.In(kathmandu).Format(layout))
				require.Equal(t, tt.kathEnd, end.In(kathmandu).Format(layout))
			}
		})
	}
}

func TestRenderFeedRescheduleKeepsUID(t *testing.T) {
	t.Parallel()
	before := feedSession("s-42", time.Date(2027, 4, 5, 15, 0, 0, 0, time.UTC))
	after := before
	after.Start, after.End = before.Start.Add(26*time.Hour), before.End.Add(26*time.Hour)
	after.Sequence = before.Sequence + 1
	after.RescheduleReason = "Mentee travels"
	after.UpdateTime = feedNow

	first := feedEvents(t, parseFeed(t, renderFeed(t, scheduling.Feed{PersonID: "p", Sessions: []scheduling.Session{before}, Now: feedNow})))
	second := feedEvents(t, parseFeed(t, renderFeed(t, scheduling.Feed{PersonID: "p", Sessions: []scheduling.Session{after}, Now: feedNow.Add(time.Hour)})))
	require.Len(t, first, 1)
	require.Len(t, second, 1)
	require.Equal(t, "s-42@tandem", first[0].UID)
	require.Equal(t, first[0].UID, second[0].UID)
	require.Greater(t, second[0].Sequence, first[0].Sequence)
	require.True(t, second[0].Start.Equal(after.Start))
	require.True(t, second[0].End.Equal(after.End))
	require.Equal(t, "Rescheduled: Mentee travels", second[0].Description)
	require.Equal(t, ical.EventConfirmed, second[0].Status)
}

func TestRenderFeedEscapesText(t *testing.T) {
	t.Parallel()
	s := feedSession("s-1", time.Date(2027, 5, 3, 12, 0, 0, 0, time.UTC))
	s.State = scheduling.SessionCancelled
	s.CancelReason = "Moved, again; sorry\nSee you next week \\o/"
	s.RoomID = "room-1"
	out := renderFeed(t, scheduling.Feed{
		PersonID: "p", Sessions: []scheduling.Session{s}, Now: feedNow,
		Rooms: map[string]scheduling.Room{"room-1": {DisplayName: "Hopper; big room", Location: "Building A, floor 2"}},
	})
	raw := unfold(string(out))
	require.Contains(t, raw, "\r\nDESCRIPTION:Cancelled: Moved\\, again\\; sorry\\nSee you next week \\\\o/\r\n")
	require.Contains(t, raw, "\r\nLOCATION:Hopper\\; big room\\, Building A\\, floor 2\r\n")

	events := feedEvents(t, parseFeed(t, out))
	require.Len(t, events, 1)
	require.Equal(t, "Cancelled: "+s.CancelReason, events[0].Description)
	require.Equal(t, "Hopper; big room, Building A, floor 2", events[0].Location)
}

func TestRenderFeedCleansControlCharacters(t *testing.T) {
	t.Parallel()
	s := feedSession("s-1", time.Date(2027, 5, 3, 12, 0, 0, 0, time.UTC))
	s.RescheduleReason = "one\r\ntwo\rthree\x00\x1b[31m\ttab\x7f \xff"
	s.RoomID = "room-1"
	out := renderFeed(t, scheduling.Feed{
		PersonID: "p", Sessions: []scheduling.Session{s}, Now: feedNow,
		Rooms: map[string]scheduling.Room{"room-1": {DisplayName: "Room\r\nEND:VEVENT"}},
	})
	events := feedEvents(t, parseFeed(t, out))
	require.Len(t, events, 1)
	require.Equal(t, "Rescheduled: one\ntwo\nthree[31m\ttab \uFFFD", events[0].Description)
	require.Equal(t, "Room\nEND:VEVENT", events[0].Location)
}

func TestRenderFeedFoldsLongLines(t *testing.T) {
	t.Parallel()
	s := feedSession("s-1", time.Date(2027, 5, 3, 12, 0, 0, 0, time.UTC))
	s.State = scheduling.SessionCancelled
	s.CancelReason = strings.Repeat("Le café est fermé, désolé 🙂; ", 12) + strings.Repeat("x", 200)
	s.RoomID = "room-1"
	room := scheduling.Room{DisplayName: strings.Repeat("Ångström hall ", 10), Location: strings.Repeat("日本語", 40)}
	out := renderFeed(t, scheduling.Feed{
		PersonID: "p", Sessions: []scheduling.Session{s}, Now: feedNow,
		Rooms: map[string]scheduling.Room{"room-1": room},
	})
	require.Contains(t, string(out), "\r\n ", "long values are folded")
	events := feedEvents(t, parseFeed(t, out))
	require.Len(t, events, 1)
	require.Equal(t, "Cancelled: "+s.CancelReason, events[0].Description)
	require.Equal(t, room.DisplayName+", "+room.Location, events[0].Location)
}

func TestRenderFeedIsDeterministic(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 3, 15, 14, 0, 0, 0, time.UTC)
	// Two sessions at the same time (a person in two pairs): ties go by id.
	sessions := []scheduling.Session{
		feedSession("s-c", start.Add(time.Hour)), feedSession("s-b", start), feedSession("s-a", start),
	}
	rooms := map[string]scheduling.Room{"r1": {DisplayName: "One"}, "r2": {DisplayName: "Two"}, "r3": {DisplayName: "Three"}}
	for i := range sessions {
		sessions[i].RoomID = []string{"r1", "r2", "r3"}[i]
	}
	feed := scheduling.Feed{PersonID: "p", TimeZone: "UTC", Sessions: sessions, Rooms: rooms, Now: feedNow}
	first := renderFeed(t, feed)
	reversed := []scheduling.Session{sessions[2], sessions[1], sessions[0]}
	second := renderFeed(t, scheduling.Feed{PersonID: "p", TimeZone: "UTC", Sessions: reversed, Rooms: rooms, Now: feedNow})
	require.Equal(t, string(first), string(second))
	require.Equal(t, "s-c", sessions[0].ID, "the caller's slice is not reordered")

	var uids []string
	for _, e := range feedEvents(t, parseFeed(t, first)) {
		uids = append(uids, e.UID)
	}
	require.Equal(t, []string{"s-a@tandem", "s-b@tandem", "s-c@tandem"}, uids)
}

func TestRenderFeedRefusesBrokenInput(t *testing.T) {
	t.Parallel()
	good := feedSession("s-1", time.Date(2027, 3, 15, 14, 0, 0, 0, time.UTC))
	unknownState := good
	unknownState.State = 0
	backwards := good
	backwards.End = good.Start
	tests := []struct {
		name string
		feed scheduling.Feed
		want string
	}{
		{name: "no render time", feed: scheduling.Feed{PersonID: "p", Sessions: []scheduling.Session{good}}, want: "Now"},
		{name: "unknown time zone", feed: scheduling.Feed{PersonID: "p", TimeZone: "Mars/Olympus_Mons", Now: feedNow}, want: "time zone"},
		{name: "unknown state", feed: scheduling.Feed{PersonID: "p", Sessions: []scheduling.Session{unknownState}, Now: feedNow}, want: "unknown state"},
		{name: "ends at its start", feed: scheduling.Feed{PersonID: "p", Sessions: []scheduling.Session{backwards}, Now: feedNow}, want: "not after start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := scheduling.RenderFeed(tt.feed)
			require.ErrorContains(t, err, tt.want)
			require.Nil(t, out)
		})
	}
}

func FuzzRenderFeed(f *testing.F) {
	f.Add("Mentor is ill", "Clash, again; sorry", "Lovelace", "Floor 3")
	f.Add("", "", "", "")
	f.Add("line\r\nEND:VEVENT\r\nBEGIN:VEVENT", "\\n\\,\\;\\", "a\"b:c", "\x00\x7f\xff")
	f.Add(strings.Repeat("é🙂 ", 40), strings.Repeat("x", 300), strings.Repeat(" ", 80), strings.Repeat("<a>", 30))
	f.Fuzz(func(t *testing.T, cancelReason, rescheduleReason, roomName, roomLocation string) {
		start := time.Date(2027, 3, 15, 14, 0, 0, 0, time.UTC)
		cancelled := feedSession("s-1", start)
		cancelled.State = scheduling.SessionCancelled
		cancelled.CancelReason = cancelReason
		cancelled.RoomID = "room-1"
		rescheduled := feedSession("s-2", start.Add(time.Hour))
		rescheduled.RescheduleReason = rescheduleReason
		rescheduled.RoomID = "room-1"
		plain := feedSession("s-3", start.Add(2*time.Hour))
		sessions := []scheduling.Session{cancelled, rescheduled, plain}

		out := renderFeed(t, scheduling.Feed{
			PersonID: "p", TimeZone: "Asia/Kathmandu", Sessions: sessions, Now: feedNow,
			Rooms: map[string]scheduling.Room{"room-1": {ID: "room-1", DisplayName: roomName, Location: roomLocation}},
		})
		events := feedEvents(t, parseFeed(t, out))
		require.Len(t, events, len(sessions))
		for i, s := range sessions {
			require.Equal(t, s.ID+"@tandem", events[i].UID)
			require.True(t, events[i].Start.Equal(s.Start))
		}
		// Text that is already valid TEXT comes back exactly.
		if isPlainText(cancelReason) && cancelReason != "" {
			require.Equal(t, "Cancelled: "+cancelReason, events[0].Description)
		}
		if isPlainText(rescheduleReason) && rescheduleReason != "" {
			require.Equal(t, "Rescheduled: "+rescheduleReason, events[1].Description)
		}
		if isPlainText(roomName) && isPlainText(roomLocation) && roomName != "" && roomLocation != "" {
			require.Equal(t, roomName+", "+roomLocation, events[0].Location)
		}
	})
}

// renderFeed renders f and checks the octets on the wire: CRLF line ends
// only, no line over 75 octets, no UTF-8 character split by a fold.
func renderFeed(t *testing.T, f scheduling.Feed) []byte {
	t.Helper()
	out, err := scheduling.RenderFeed(f)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(out, []byte("BEGIN:VCALENDAR\r\n")), "starts with BEGIN:VCALENDAR")
	require.True(t, bytes.HasSuffix(out, []byte("\r\nEND:VCALENDAR\r\n")), "ends with END:VCALENDAR and CRLF")
	lines := strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n")
	for i, line := range lines {
		require.NotContains(t, line, "\n", "line %d has a bare LF", i)
		require.NotContains(t, line, "\r", "line %d has a bare CR", i)
		require.LessOrEqual(t, len(line), 75, "line %d is %d octets: %q", i, len(line), line)
		require.True(t, utf8.ValidString(line), "line %d splits a character: %q", i, line)
	}
	return out
}

// parseFeed reads exactly one calendar from out.
func parseFeed(t *testing.T, out []byte) *ical.Calendar {
	t.Helper()
	dec := ical.NewDecoder(bytes.NewReader(out))
	cal, err := dec.Decode()
	require.NoError(t, err)
	_, err = dec.Decode()
	require.ErrorIs(t, err, io.EOF, "nothing after the calendar")
	return cal
}

// feedEvents reads the calendar's events in order; each property it reads
// appears at most once.
func feedEvents(t *testing.T, cal *ical.Calendar) []feedEvent {
	t.Helper()
	require.Len(t, cal.Children, len(cal.Events()), "only VEVENTs")
	var events []feedEvent
	for _, e := range cal.Events() {
		require.Empty(t, e.Children, "no sub-components")
		text := func(name string) string {
			require.LessOrEqual(t, len(e.Props.Values(name)), 1, name)
			v, err := e.Props.Text(name)
			require.NoError(t, err, name)
			return v
		}
		instant := func(name string) time.Time {
			require.LessOrEqual(t, len(e.Props.Values(name)), 1, name)
			if e.Props.Get(name) == nil {
				return time.Time{}
			}
			v, err := e.Props.DateTime(name, nil)
			require.NoError(t, err, name)
			return v
		}
		sequence := e.Props.Get("SEQUENCE")
		require.NotNil(t, sequence)
		seq, err := sequence.Int()
		require.NoError(t, err)
		status, err := e.Status()
		require.NoError(t, err)
		events = append(events, feedEvent{
			UID:          text("UID"),
			Sequence:     seq,
			Status:       status,
			Summary:      text("SUMMARY"),
			Location:     text("LOCATION"),
			Description:  text("DESCRIPTION"),
			Start:        instant("DTSTART"),
			End:          instant("DTEND"),
			Stamp:        instant("DTSTAMP"),
			Created:      instant("CREATED"),
			LastModified: instant("LAST-MODIFIED"),
		})
	}
	return events
}

// unfold joins folded lines back, as a reader does first.
func unfold(s string) string {
	return strings.ReplaceAll(s, "\r\n ", "")
}

// isPlainText reports whether s needs no cleaning to be iCalendar TEXT:
// valid UTF-8 with no control character but tab and newline.
func isPlainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7F {
			return false
		}
	}
	return true
}
