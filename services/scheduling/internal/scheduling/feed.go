package scheduling

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// What every feed says about itself and its events.
const (
	feedProductID = "-//Tandem//Mentoring//EN"
	feedName      = "Tandem mentoring"
	feedUIDSuffix = "@tandem"
	feedSummary   = "Mentoring session"
)

// Feed is one person's calendar: the sessions they take part in, rendered
// by RenderFeed for calendar apps that subscribe to the person's feed
// address.
type Feed struct {
	PersonID string
	// TimeZone is the person's IANA zone, "" if unknown. It is only a
	// display hint (X-WR-TIMEZONE): event times are UTC instants.
	TimeZone string
	// Sessions are the person's sessions in any state; cancelled ones stay
	// in the feed so that subscribers remove them from their calendars.
	Sessions []Session
	// Rooms maps a room id to its room, for the events' LOCATION.
	Rooms map[string]Room
	// Now is when the feed is rendered: every event's DTSTAMP.
	Now time.Time
}

// RenderFeed writes f as an RFC 5545 VCALENDAR: CRLF line endings, lines
// folded at 75 octets, TEXT values escaped. It does not block. The same
// Feed always gives the same bytes.
//
// The calendar has VERSION:2.0, PRODID:-//Tandem//Mentoring//EN, CALSCALE:GREGORIAN,
// METHOD:PUBLISH, X-WR-CALNAME:Tandem mentoring and, when f.TimeZone is set,
// X-WR-TIMEZONE. Then one VEVENT per session, in start order (ties by id):
//   - UID "<session id>@tandem", the same through every change, and
//     SEQUENCE Session.Sequence, so that a subscriber replaces its copy of a
//     rescheduled or cancelled session instead of adding another;
//   - DTSTAMP f.Now, CREATED Session.CreateTime and LAST-MODIFIED
//     Session.UpdateTime (each left out when zero);
//   - DTSTART and DTEND in UTC form (20270315T140000Z). A UTC time names
//     one instant, so every reader shows the session at the exact moment,
//     converted to its own zone, with no VTIMEZONE to ship and no risk
//     that the reader's rules for a zone differ from ours. iCalendar has no
//     unit below the second: finer parts of the times are dropped;
//   - SUMMARY "Mentoring session", with " (proposed)" while PROPOSED;
//   - STATUS TENTATIVE for PROPOSED, CONFIRMED for CONFIRMED, COMPLETED and
//     NO_SHOW (the meeting was held or booked; iCalendar has no other
//     words for it), CANCELLED for CANCELLED;
//   - LOCATION "room name, room location" when the session's room is in
//     f.Rooms;
//   - DESCRIPTION "Cancelled: <reason>" and/or "Rescheduled: <reason>",
//     one a line, when those reasons are set.
//
// Free text (ids, reasons, room names) is made valid TEXT first: invalid
// UTF-8 becomes U+FFFD, CR and CRLF become a newline, other control
// characters but tab are dropped.
//
// It returns an error, and no feed, when f.Now is zero, f.TimeZone is not
// an IANA zone, or a session has an unknown state or does not end after
// it starts: those are bugs of the caller, not of one event.
func RenderFeed(f Feed) ([]byte, error) {
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("calendar feed of person %s: %w", f.PersonID, err)
	}
	sessions := slices.Clone(f.Sessions)
	slices.SortStableFunc(sessions, func(a, b Session) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.ID, b.ID))
	})

	cal := ics.NewCalendar()
	cal.SetProductId(feedProductID)
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetXWRCalName(feedName)
	if f.TimeZone != "" {
		cal.SetXWRTimezone(f.TimeZone)
	}
	for _, s := range sessions {
		addEvent(cal, s, f.Rooms, f.Now)
	}

	var b bytes.Buffer
	if err := cal.SerializeTo(&b, ics.WithNewLineWindows); err != nil {
		return nil, fmt.Errorf("calendar feed of person %s: %w", f.PersonID, err)
	}
	return b.Bytes(), nil
}

// validate checks what RenderFeed cannot write.
func (f Feed) validate() error {
	if f.Now.IsZero() {
		return errors.New("no render time (Now)")
	}
	if f.TimeZone != "" {
		if reason := validTimeZone(f.TimeZone); reason != "" {
			return fmt.Errorf("time zone: %s", reason)
		}
	}
	for _, s := range f.Sessions {
		if _, ok := eventStatus(s.State); !ok {
			return fmt.Errorf("session %s: unknown state %d", s.ID, s.State)
		}
		if !s.End.After(s.Start) {
			return fmt.Errorf("session %s: end %s is not after start %s", s.ID, s.End, s.Start)
		}
	}
	return nil
}

// addEvent appends session s to cal as a VEVENT; s is valid.
func addEvent(cal *ics.Calendar, s Session, rooms map[string]Room, now time.Time) {
	e := cal.AddEvent(feedText(s.ID) + feedUIDSuffix)
	e.SetSequence(s.Sequence)
	e.SetDtStampTime(now)
	if !s.CreateTime.IsZero() {
		e.SetCreatedTime(s.CreateTime)
	}
	if !s.UpdateTime.IsZero() {
		e.SetLastModifiedAt(s.UpdateTime)
	}
	e.SetStartAt(s.Start)
	e.SetEndAt(s.End)
	summary := feedSummary
	if s.State == SessionProposed {
		summary += " (proposed)"
	}
	e.SetSummary(summary)
	status, _ := eventStatus(s.State)
	e.SetStatus(status)
	if room, ok := rooms[s.RoomID]; ok && s.RoomID != "" {
		if location := roomLocation(room); location != "" {
			e.SetLocation(location)
		}
	}
	if description := eventDescription(s); description != "" {
		e.SetDescription(description)
	}
}

// eventStatus is the VEVENT STATUS of a session state; false when the
// state is unknown.
func eventStatus(state SessionState) (ics.ObjectStatus, bool) {
	switch state {
	case SessionProposed:
		return ics.ObjectStatusTentative, true
	case SessionConfirmed, SessionCompleted, SessionNoShow:
		return ics.ObjectStatusConfirmed, true
	case SessionCancelled:
		return ics.ObjectStatusCancelled, true
	default:
		return "", false
	}
}

// roomLocation is "name, location", or whichever of the two is set.
func roomLocation(r Room) string {
	var parts []string
	for _, p := range []string{feedText(r.DisplayName), feedText(r.Location)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// eventDescription gives the reasons of a session's changes, one a line.
func eventDescription(s Session) string {
	var lines []string
	if s.CancelReason != "" {
		lines = append(lines, "Cancelled: "+feedText(s.CancelReason))
	}
	if s.RescheduleReason != "" {
		lines = append(lines, "Rescheduled: "+feedText(s.RescheduleReason))
	}
	return strings.Join(lines, "\n")
}

// feedText makes s valid iCalendar TEXT before the writer escapes it:
// RFC 5545 allows no control character but tab in TEXT and marks a line
// break only as an escaped newline, so invalid UTF-8 becomes U+FFFD, CRLF
// and CR become a newline, and other controls are dropped.
func feedText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || (r >= 0x20 && r != 0x7F) {
			return r
		}
		return -1
	}, s)
}
