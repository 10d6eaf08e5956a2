package scheduling

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Bounds of a session: its length, and how far ahead one may be booked.
const (
	MinSessionLength = 15 * time.Minute
	MaxSessionLength = 8 * time.Hour
	MaxBookingAhead  = 2 * 366 * 24 * time.Hour
)

// Event names of session changes (the <event> of tandem.session.<event>).
const (
	EventConfirmed   = "confirmed"
	EventRescheduled = "rescheduled"
	EventCancelled   = "cancelled"
	EventCompleted   = "completed"
	EventNoShow      = "no_show"
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func (st SessionState) String() string {
	switch st {
	case SessionProposed:
		return "proposed"
	case SessionConfirmed:
		return "confirmed"
	case SessionCancelled:
		return "cancelled"
	case SessionCompleted:
		return "completed"
	case SessionNoShow:
		return "no-show"
	}
	return fmt.Sprintf("state %d", int(st))
}

func (st MatchState) String() string {
	switch st {
	case MatchProposed:
		return "proposed"
	case MatchAccepted:
		return "accepted"
	case MatchDeclined:
		return "declined"
	case MatchActive:
		return "active"
	case MatchEnded:
		return "ended"
	}
	return fmt.Sprintf("state %d", int(st))
}

// bookableMatch returns a match sessions may be booked for. personID, when
// not empty, must be one side of it.
func (s *Service) bookableMatch(ctx context.Context, tenant, matchID, personID string) (Match, error) {
	if strings.TrimSpace(matchID) == "" {
		return Match{}, apperr.Invalid("match_id", "must not be empty")
	}
	m, err := s.store.Match(ctx, tenant, matchID)
	if errors.Is(err, apperr.ErrNotFound) {
		return Match{}, fmt.Errorf("match %s is not known to the scheduling service (yet): %w", matchID, apperr.ErrNotFound)
	}
	if err != nil {
		return Match{}, err
	}
	if !m.State.Bookable() {
		return Match{}, fmt.Errorf("match %s is %s; sessions are booked for accepted or active matches: %w", matchID, m.State, apperr.ErrFailedPrecondition)
	}
	if personID != "" && personID != m.MentorPersonID && personID != m.MenteePersonID {
		return Match{}, apperr.Invalid("person_id", "must be the person id of the match's mentor or mentee")
	}
	return m, nil
}

// checkTimes validates a session's proposed time.
func (s *Service) checkTimes(start, end time.Time, startField, endField string) error {
	var vs apperr.Violations
	now := s.now()
	switch {
	case start.IsZero():
		vs.Add(startField, "must be set")
	case !start.After(now):
		vs.Add(startField, "must be in the future")
	case start.Sub(now) > MaxBookingAhead:
		vs.Add(startField, "must be within two years")
	}
	switch {
	case end.IsZero():
		vs.Add(endField, "must be set")
	case !start.IsZero() && end.Sub(start) < MinSessionLength:
		vs.Add(endField, fmt.Sprintf("must be at least %v after %s", MinSessionLength, startField))
	case !start.IsZero() && end.Sub(start) > MaxSessionLength:
		vs.Add(endField, fmt.Sprintf("must be at most %v after %s", MaxSessionLength, startField))
	}
	return vs.Err()
}

// checkRoom returns an InvalidArgument error unless roomID is empty or a
// room of the tenant.
func (s *Service) checkRoom(ctx context.Context, tenant, roomID string) error {
	if roomID == "" {
		return nil
	}
	_, err := s.store.Room(ctx, tenant, roomID)
	if errors.Is(err, apperr.ErrNotFound) {
		return apperr.Invalid("room_id", fmt.Sprintf("no room %q", roomID))
	}
	return err
}

// reminderPlan returns the reminders of a session at its current time:
// one per offset, except those already due (a session booked three hours
// ahead gets no 24-hour reminder).
func (s *Service) reminderPlan(sess Session) []Reminder {
	now := s.now()
	var out []Reminder
	for _, off := range s.offsets {
		due := sess.Start.Add(-off)
		if due.After(now) {
			out = append(out, Reminder{SessionID: sess.ID, Offset: off, Due: due})
		}
	}
	return out
}

// wakeReminders tells RunReminders that a booking changed.
func (s *Service) wakeReminders() {
	select {
	case s.reminders <- struct{}{}:
	default:
	}
}

// NewSession is a request to propose one meeting.
type NewSession struct {
	MatchID, PersonID string
	Start, End        time.Time
	RoomID            string
}

// CreateSession proposes one meeting of a match by one side of it.
func (s *Service) CreateSession(ctx context.Context, tenant string, req NewSession) (Session, error) {
	m, err := s.bookableMatch(ctx, tenant, req.MatchID, req.PersonID)
	if err != nil {
		return Session{}, err
	}
	if err := s.checkTimes(req.Start, req.End, "start_time", "end_time"); err != nil {
		return Session{}, err
	}
	if err := s.checkRoom(ctx, tenant, req.RoomID); err != nil {
		return Session{}, err
	}
	sess := s.newSession(m, req.PersonID, req.Start, req.End, req.RoomID)
	if err := s.store.CreateSessions(ctx, tenant, nil, []Session{sess}, s.reminderPlan(sess)); err != nil {
		return Session{}, err
	}
	s.wakeReminders()
	return sess, nil
}

func (s *Service) newSession(m Match, proposer string, start, end time.Time, roomID string) Session {
	now := s.now()
	return Session{
		ID: newID(), MatchID: m.ID, Start: start.UTC().Truncate(time.Microsecond), End: end.UTC().Truncate(time.Microsecond),
		State: SessionProposed, RoomID: roomID, MentorPersonID: m.MentorPersonID, MenteePersonID: m.MenteePersonID,
		ProposedBy: proposer, CreateTime: now, UpdateTime: now,
	}
}

// NewSeries is a request to propose a meeting series.
type NewSeries struct {
	MatchID, PersonID string
	// Cadence 0 means the program's meeting cadence.
	Cadence     Cadence
	FirstStart  time.Time
	Duration    time.Duration
	Occurrences int
	RoomID      string
}

// MaxOccurrences bounds a series.
const MaxOccurrences = 52

// CreateSeries proposes a meeting series: Occurrences sessions at the
// cadence, all booked together or none. Later meetings keep the first
// one's wall-clock time in the proposer's time zone (UTC when the proposer
// has set no availability), so a weekly 09:00 stays at 09:00 across a
// daylight-saving change. A monthly series meets on the same day of the
// month, or on the month's last day when it is shorter.
func (s *Service) CreateSeries(ctx context.Context, tenant string, req NewSeries) (Series, error) {
	m, err := s.bookableMatch(ctx, tenant, req.MatchID, req.PersonID)
	if err != nil {
		return Series{}, err
	}
	var vs apperr.Violations
	if req.Cadence < 0 || req.Cadence > Monthly {
		vs.Add("cadence", "must be weekly, biweekly or monthly")
	}
	if req.Occurrences < 1 || req.Occurrences > MaxOccurrences {
		vs.Add("occurrences", fmt.Sprintf("must be from 1 to %d", MaxOccurrences))
	}
	if req.Duration < MinSessionLength || req.Duration > MaxSessionLength {
		vs.Add("duration_minutes", fmt.Sprintf("must be from %d to %d", int(MinSessionLength.Minutes()), int(MaxSessionLength.Minutes())))
	}
	if err := vs.Err(); err != nil {
		return Series{}, err
	}
	if err := s.checkTimes(req.FirstStart, req.FirstStart.Add(req.Duration), "first_start_time", "duration_minutes"); err != nil {
		return Series{}, err
	}
	if err := s.checkRoom(ctx, tenant, req.RoomID); err != nil {
		return Series{}, err
	}
	cadence := req.Cadence
	if cadence == 0 {
		p, err := s.store.Program(ctx, tenant, m.ProgramID)
		if err != nil && !errors.Is(err, apperr.ErrNotFound) {
			return Series{}, err
		}
		if cadence = p.Cadence; cadence == 0 {
			return Series{}, apperr.Invalid("cadence", "must be set: the program sets no meeting cadence")
		}
	}
	loc := time.UTC
	if a, err := s.store.Availability(ctx, tenant, req.PersonID); err == nil && a.TimeZone != "" {
		if l, err := time.LoadLocation(a.TimeZone); err == nil {
			loc = l
		}
	} else if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return Series{}, err
	}
	series := Series{ID: newID(), MatchID: m.ID, Cadence: cadence, CreateTime: s.now()}
	var reminders []Reminder
	for k := range req.Occurrences {
		start := Occurrence(req.FirstStart, loc, cadence, k)
		sess := s.newSession(m, req.PersonID, start, start.Add(req.Duration), req.RoomID)
		sess.SeriesID = series.ID
		series.Sessions = append(series.Sessions, sess)
		reminders = append(reminders, s.reminderPlan(sess)...)
	}
	if err := s.store.CreateSessions(ctx, tenant, &series, series.Sessions, reminders); err != nil {
		return Series{}, err
	}
	s.wakeReminders()
	return series, nil
}

// Occurrence returns the start of the k-th meeting (k = 0 is first) of a
// series at cadence whose first meeting starts at first, keeping first's
// wall-clock time in loc. A wall-clock time that a daylight-saving change
// skips on that date moves forward by the length of the gap.
func Occurrence(first time.Time, loc *time.Location, cadence Cadence, k int) time.Time {
	local := first.In(loc)
	y, mo, d := local.Date()
	switch cadence {
	case Weekly:
		d += 7 * k
	case Biweekly:
		d += 14 * k
	case Monthly:
		mo += time.Month(k)
		// Clamp to the last day of the target month.
		last := time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC).Day()
		d = min(d, last)
	}
	return wallClock(y, mo, d, local.Hour(), local.Minute(), loc)
}

// wallClock returns the instant of a local date and time in loc. A local
// time inside a spring-forward gap does not exist; it is taken as that many
// minutes after the gap's start, which is the instant the clock would show
// had it not jumped (so 02:30 in a 02:00–03:00 gap is 03:30).
func wallClock(y int, mo time.Month, d, hh, mm int, loc *time.Location) time.Time {
	t := time.Date(y, mo, d, hh, mm, 0, 0, loc)
	wantY, wantMo, wantD := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC).Date()
	ly, lmo, ld := t.In(loc).Date()
	if ly == wantY && lmo == wantMo && ld == wantD && t.In(loc).Hour() == hh && t.In(loc).Minute() == mm {
		return t.UTC()
	}
	// In a gap: count from midnight in the offset in force before it.
	midnight := time.Date(wantY, wantMo, wantD, 0, 0, 0, 0, loc)
	_, before := midnight.Zone()
	return time.Date(wantY, wantMo, wantD, hh, mm, 0, 0, time.FixedZone("", before)).UTC()
}

// Match returns the projection of one match: the API's object rules read
// its program and people.
func (s *Service) Match(ctx context.Context, tenant, id string) (Match, error) {
	if strings.TrimSpace(id) == "" {
		return Match{}, apperr.Invalid("match_id", "must not be empty")
	}
	return s.store.Match(ctx, tenant, id)
}

// Session returns one session.
func (s *Service) Session(ctx context.Context, tenant, id string) (Session, error) {
	if strings.TrimSpace(id) == "" {
		return Session{}, apperr.Invalid("id", "must not be empty")
	}
	return s.store.Session(ctx, tenant, id)
}

// ListSessions lists sessions as f says (Limit 1 to 1000).
func (s *Service) ListSessions(ctx context.Context, tenant string, f SessionFilter) ([]Session, error) {
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return nil, apperr.Invalid("end_time", "must be after start_time")
	}
	return s.store.ListSessions(ctx, tenant, f)
}

// sideOf returns the session's person personID must be, or an error.
func sideOf(sess Session, personID string) error {
	if personID != sess.MentorPersonID && personID != sess.MenteePersonID {
		return apperr.Invalid("person_id", "must be the person id of the session's mentor or mentee")
	}
	return nil
}

// update applies fn to sessions of one match through the store, waking the
// reminder loop after.
func (s *Service) update(ctx context.Context, tenant string, ids []string, fn func(*Session) (SessionChange, error)) ([]Session, error) {
	out, err := s.store.UpdateSessions(ctx, tenant, ids, fn)
	if err != nil {
		return nil, err
	}
	s.wakeReminders()
	return out, nil
}

// ConfirmSession confirms a proposed session as the side that did not
// propose it; wholeSeries also confirms every other future proposed
// session of its series that this person did not propose.
func (s *Service) ConfirmSession(ctx context.Context, tenant, id, personID string, wholeSeries bool) (Session, error) {
	sess, err := s.Session(ctx, tenant, id)
	if err != nil {
		return Session{}, err
	}
	if err := sideOf(sess, personID); err != nil {
		return Session{}, err
	}
	ids := []string{id}
	if wholeSeries && sess.SeriesID != "" {
		all, err := s.store.SeriesSessions(ctx, tenant, sess.SeriesID)
		if err != nil {
			return Session{}, err
		}
		now := s.now()
		for _, o := range all {
			if o.ID != id && o.State == SessionProposed && o.ProposedBy != personID && o.Start.After(now) {
				ids = append(ids, o.ID)
			}
		}
	}
	now := s.now()
	out, err := s.update(ctx, tenant, ids, func(x *Session) (SessionChange, error) {
		switch {
		case x.State != SessionProposed:
			return SessionChange{}, fmt.Errorf("session %s is %s; only a proposed session can be confirmed: %w", x.ID, x.State, apperr.ErrFailedPrecondition)
		case x.ProposedBy == personID:
			return SessionChange{}, fmt.Errorf("session %s was proposed by this person; the other side confirms it: %w", x.ID, apperr.ErrFailedPrecondition)
		case !x.Start.After(now):
			return SessionChange{}, fmt.Errorf("session %s has already started: %w", x.ID, apperr.ErrFailedPrecondition)
		}
		x.State = SessionConfirmed
		return s.changed(x, SessionChange{Event: EventConfirmed}), nil
	})
	if err != nil {
		return Session{}, err
	}
	return out[0], nil
}

// changed bumps a changed session's sequence and update time.
func (s *Service) changed(x *Session, c SessionChange) SessionChange {
	x.Sequence++
	x.UpdateTime = s.now()
	return c
}

// Reschedule is a request to move a session.
type Reschedule struct {
	ID, PersonID string
	Start, End   time.Time
	Reason       string
	// RoomID, when not empty, is the room for the new time.
	RoomID string
}

// RescheduleSession moves a booked session. It becomes PROPOSED by the
// person who moved it, for the other side to confirm; its reminders are
// planned again for the new time.
func (s *Service) RescheduleSession(ctx context.Context, tenant string, req Reschedule) (Session, error) {
	if strings.TrimSpace(req.Reason) == "" {
		return Session{}, apperr.Invalid("reason", "must say why the session moves")
	}
	if err := s.checkTimes(req.Start, req.End, "start_time", "end_time"); err != nil {
		return Session{}, err
	}
	if err := s.checkRoom(ctx, tenant, req.RoomID); err != nil {
		return Session{}, err
	}
	sess, err := s.Session(ctx, tenant, req.ID)
	if err != nil {
		return Session{}, err
	}
	if err := sideOf(sess, req.PersonID); err != nil {
		return Session{}, err
	}
	out, err := s.update(ctx, tenant, []string{req.ID}, func(x *Session) (SessionChange, error) {
		if !x.State.Booked() {
			return SessionChange{}, fmt.Errorf("session %s is %s; only a proposed or confirmed session can be rescheduled: %w", x.ID, x.State, apperr.ErrFailedPrecondition)
		}
		change := SessionChange{Event: EventRescheduled, PreviousStart: x.Start, PreviousEnd: x.End, ResetReminders: true}
		x.Start, x.End = req.Start.UTC().Truncate(time.Microsecond), req.End.UTC().Truncate(time.Microsecond)
		if req.RoomID != "" {
			x.RoomID = req.RoomID
		}
		x.State, x.ProposedBy, x.RescheduleReason = SessionProposed, req.PersonID, req.Reason
		change.Reminders = s.reminderPlan(*x)
		return s.changed(x, change), nil
	})
	if err != nil {
		return Session{}, err
	}
	return out[0], nil
}

// CancelSession cancels a booked session with a reason, by one side of the
// pair or (personID empty) by a program manager.
func (s *Service) CancelSession(ctx context.Context, tenant, id, personID, reason string) (Session, error) {
	if strings.TrimSpace(reason) == "" {
		return Session{}, apperr.Invalid("reason", "must say why the session is cancelled")
	}
	sess, err := s.Session(ctx, tenant, id)
	if err != nil {
		return Session{}, err
	}
	if personID != "" {
		if err := sideOf(sess, personID); err != nil {
			return Session{}, err
		}
	}
	out, err := s.update(ctx, tenant, []string{id}, func(x *Session) (SessionChange, error) {
		if !x.State.Booked() {
			return SessionChange{}, fmt.Errorf("session %s is %s; only a proposed or confirmed session can be cancelled: %w", x.ID, x.State, apperr.ErrFailedPrecondition)
		}
		x.State, x.CancelReason, x.CancelledBy = SessionCancelled, reason, personID
		return s.changed(x, SessionChange{Event: EventCancelled}), nil
	})
	if err != nil {
		return Session{}, err
	}
	return out[0], nil
}

// CompleteSession records that a confirmed session took place; it must
// have started.
func (s *Service) CompleteSession(ctx context.Context, tenant, id string) (Session, error) {
	return s.settle(ctx, tenant, id, func(x *Session) SessionChange {
		x.State = SessionCompleted
		return SessionChange{Event: EventCompleted}
	})
}

// MarkNoShow records that a confirmed session did not take place because
// absentPersonID did not come; it must have started.
func (s *Service) MarkNoShow(ctx context.Context, tenant, id, absentPersonID string) (Session, error) {
	sess, err := s.Session(ctx, tenant, id)
	if err != nil {
		return Session{}, err
	}
	if absentPersonID != sess.MentorPersonID && absentPersonID != sess.MenteePersonID {
		return Session{}, apperr.Invalid("absent_person_id", "must be the person id of the session's mentor or mentee")
	}
	return s.settle(ctx, tenant, id, func(x *Session) SessionChange {
		x.State, x.AbsentPersonID = SessionNoShow, absentPersonID
		return SessionChange{Event: EventNoShow}
	})
}

// settle records the outcome of a confirmed session that has started.
func (s *Service) settle(ctx context.Context, tenant, id string, outcome func(*Session) SessionChange) (Session, error) {
	if strings.TrimSpace(id) == "" {
		return Session{}, apperr.Invalid("id", "must not be empty")
	}
	now := s.now()
	out, err := s.update(ctx, tenant, []string{id}, func(x *Session) (SessionChange, error) {
		if x.State != SessionConfirmed {
			return SessionChange{}, fmt.Errorf("session %s is %s; only a confirmed session has an outcome: %w", x.ID, x.State, apperr.ErrFailedPrecondition)
		}
		if x.Start.After(now) {
			return SessionChange{}, fmt.Errorf("session %s has not started yet: %w", x.ID, apperr.ErrFailedPrecondition)
		}
		return s.changed(x, outcome(x)), nil
	})
	if err != nil {
		return Session{}, err
	}
	return out[0], nil
}
