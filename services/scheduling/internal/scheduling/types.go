package scheduling

import (
	"context"
	"database/sql"
	"time"
)

// Interval is the half-open span [Start, End) of absolute time.
type Interval struct {
	Start, End time.Time
}

// Overlaps reports whether the two intervals share an instant.
func (i Interval) Overlaps(o Interval) bool {
	return i.Start.Before(o.End) && o.Start.Before(i.End)
}

// SessionState is a step of a session's lifecycle; the values are those of
// tandem.scheduling.v1.SessionState.
type SessionState int

// Session states. PROPOSED and CONFIRMED sessions are "booked": they hold
// their people and room.
const (
	SessionProposed SessionState = iota + 1
	SessionConfirmed
	SessionCancelled
	SessionCompleted
	SessionNoShow
)

// Booked reports whether a session in state s holds its people and room.
func (s SessionState) Booked() bool { return s == SessionProposed || s == SessionConfirmed }

// Session is one meeting of a pair.
type Session struct {
	ID       string
	MatchID  string
	SeriesID string // empty for a single session
	Start    time.Time
	End      time.Time
	State    SessionState
	RoomID   string // empty for a remote meeting
	// The pair's people, copied from the match when the session is created.
	MentorPersonID string
	MenteePersonID string
	// ProposedBy is the person who proposed the current time.
	ProposedBy       string
	RescheduleReason string
	CancelReason     string
	CancelledBy      string // empty when a manager or the service cancelled
	AbsentPersonID   string // state NoShow
	// Sequence is bumped on every change: the calendar feed's SEQUENCE.
	Sequence   int
	CreateTime time.Time
	UpdateTime time.Time
}

// Interval is the session's time.
func (s Session) Interval() Interval { return Interval{s.Start, s.End} }

// Cadence is how often a series meets; the values are those of
// tandem.scheduling.v1.Cadence.
type Cadence int

// Cadences.
const (
	Weekly Cadence = iota + 1
	Biweekly
	Monthly
)

// Series is a pair's meetings at a cadence.
type Series struct {
	ID         string
	MatchID    string
	Cadence    Cadence
	Sessions   []Session // in time order
	CreateTime time.Time
}

// Room is a meeting room for in-person sessions.
type Room struct {
	ID          string
	DisplayName string
	Location    string
	Capacity    int
	CreateTime  time.Time
}

// CalendarToken opens a person's calendar feed. Only the SHA-256 hash of
// the secret is stored; Token is set only when it is created.
type CalendarToken struct {
	ID         string
	PersonID   string
	Token      string
	Hash       []byte
	CreateTime time.Time
	RevokeTime time.Time // zero while active
}

// MatchState is the matching service's state of a match, as its events say.
type MatchState int

// Match states.
const (
	MatchProposed MatchState = iota + 1
	MatchAccepted
	MatchDeclined
	MatchActive
	MatchEnded
)

// Bookable reports whether sessions may be booked for a match in state s.
func (s MatchState) Bookable() bool { return s == MatchAccepted || s == MatchActive }

// Match is the scheduling service's projection of a match.
type Match struct {
	ID             string
	ProgramID      string
	MentorPersonID string
	MenteePersonID string
	State          MatchState
}

// Program is the scheduling service's projection of a program.
type Program struct {
	ID      string
	Cadence Cadence // 0 when the program sets none
}

// Reminder is a durable timer: a session.reminder_due event written once
// at Due = session start - Offset.
type Reminder struct {
	SessionID string
	Offset    time.Duration
	Due       time.Time
}

// SessionChange says what an update did to a session, for its event.
type SessionChange struct {
	// Event is the session event to write: "confirmed", "rescheduled",
	// "cancelled", "completed" or "no_show".
	Event string
	// PreviousStart and PreviousEnd are the times before a reschedule.
	PreviousStart, PreviousEnd time.Time
	// ResetReminders replaces all the session's reminders (fired or not)
	// by Reminders.
	ResetReminders bool
	Reminders      []Reminder
}

// SessionFilter selects sessions for ListSessions: of a match or of a
// person (mentor or mentee), optionally in a state and with a start time
// in [From, To) (zero bounds are open), after the keyset position
// (AfterStart, AfterID), at most Limit, ordered by (start, id).
type SessionFilter struct {
	MatchID    string
	PersonID   string
	State      SessionState // 0: any
	From, To   time.Time
	AfterStart time.Time
	AfterID    string
	Limit      int
}

// Store keeps the scheduling service's data, scoped by tenant. Every change
// writes its domain events to the outbox in the same transaction.
//
// Booking rules the store enforces inside its transactions, so that
// concurrent calls cannot break them: a person (mentor or mentee) never has
// two booked sessions (PROPOSED or CONFIRMED) that overlap, and a room
// never has two booked sessions that overlap. A call that would break one
// fails with an error wrapping apperr.ErrFailedPrecondition that names the
// conflicting session, and writes nothing.
type Store interface {
	// Availability returns a person's availability, or an error wrapping
	// apperr.ErrNotFound when it was never set.
	Availability(ctx context.Context, tenant, personID string) (Availability, error)
	// PutAvailability replaces a person's availability and writes an
	// availability.changed event.
	PutAvailability(ctx context.Context, tenant string, a Availability) error

	// Match and Program return projections (apperr.ErrNotFound if unknown).
	Match(ctx context.Context, tenant, id string) (Match, error)
	Program(ctx context.Context, tenant, id string) (Program, error)

	// CreateSessions stores new sessions of one match with their reminders
	// and writes a session.proposed event for each and, when series is not
	// nil, a series.created event (series.Sessions are the sessions). All
	// or nothing.
	CreateSessions(ctx context.Context, tenant string, series *Series, sessions []Session, reminders []Reminder) error
	// UpdateSessions applies fn to each named session (all of one match),
	// read inside the transaction, stores the results, checks the booking
	// rules for those whose time, room or state changed, handles their
	// reminders as each change says, and writes one session.<Event> event
	// per session. All or nothing: an error from fn aborts every change.
	UpdateSessions(ctx context.Context, tenant string, ids []string, fn func(*Session) (SessionChange, error)) ([]Session, error)
	// Session returns one session.
	Session(ctx context.Context, tenant, id string) (Session, error)
	// ListSessions lists sessions as f says.
	ListSessions(ctx context.Context, tenant string, f SessionFilter) ([]Session, error)
	// SeriesSessions returns a series' sessions in time order.
	SeriesSessions(ctx context.Context, tenant, seriesID string) ([]Session, error)
	// BookedSessions returns the booked sessions of any of the people that
	// overlap [from, to).
	BookedSessions(ctx context.Context, tenant string, personIDs []string, from, to time.Time) ([]Session, error)

	// CreateRoom stores a room and writes room.created.
	CreateRoom(ctx context.Context, tenant string, r Room) error
	// Room returns one room.
	Room(ctx context.Context, tenant, id string) (Room, error)
	// ListRooms lists rooms by id after afterID, at most limit.
	ListRooms(ctx context.Context, tenant, afterID string, limit int) ([]Room, error)

	// CreateCalendarToken stores a token (its Hash, never its Token) and
	// writes calendar_token.created.
	CreateCalendarToken(ctx context.Context, tenant string, t CalendarToken) error
	// CalendarTokens lists a person's tokens, newest first.
	CalendarTokens(ctx context.Context, tenant, personID string) ([]CalendarToken, error)
	// RevokeCalendarToken sets a person's token's RevokeTime (once; a
	// second revoke returns it unchanged and writes nothing) and writes
	// calendar_token.revoked.
	RevokeCalendarToken(ctx context.Context, tenant, personID, id string, now time.Time) (CalendarToken, error)
	// CalendarTokenByHash finds an active token in any tenant
	// (apperr.ErrNotFound when unknown or revoked).
	CalendarTokenByHash(ctx context.Context, hash []byte) (tenant string, t CalendarToken, err error)

	// FireDueReminders claims at most limit unfired reminders due at or
	// before now, of booked sessions in any tenant, marks them fired and
	// writes one session.reminder_due event each, in one transaction; a
	// reminder is claimed by exactly one caller even when replicas call
	// concurrently. It returns how many fired.
	FireDueReminders(ctx context.Context, now time.Time, limit int) (int, error)
	// NextReminderDue returns the earliest unfired reminder's due time.
	NextReminderDue(ctx context.Context) (time.Time, bool, error)
}

// Projector writes the projections and their consequences inside an event
// consumer's transaction (the inbox records the event in the same one).
type Projector interface {
	ApplyMatch(ctx context.Context, tx *sql.Tx, tenant string, m Match) error
	ApplyProgram(ctx context.Context, tx *sql.Tx, tenant string, p Program) error
	// CancelSessionsFrom cancels the match's booked sessions starting at or
	// after from, with reason, and writes their session.cancelled events.
	CancelSessionsFrom(ctx context.Context, tx *sql.Tx, tenant, matchID string, from time.Time, reason string) error
	// ErasePerson deletes a person's availability and calendar tokens and
	// writes availability.erased.
	ErasePerson(ctx context.Context, tx *sql.Tx, tenant, personID string) error
}

// FeedPath is the gateway path of the calendar feed a token opens.
func FeedPath(token string) string { return "/v1/calendars/" + token + ".ics" }
