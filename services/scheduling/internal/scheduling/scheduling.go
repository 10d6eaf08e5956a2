// Package scheduling is the domain of the scheduling service: each person's
// availability in their own time zone, slot suggestions for a match,
// sessions and meeting series, rooms, reminders and calendar feeds. It
// imports no transport; adapters implement Store.
package scheduling

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	// The zone database is built in so that a time zone is accepted the
	// same way on every host, including images without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Weekday is a day of the week as in ISO 8601: 1 is Monday, 7 is Sunday.
type Weekday int

// Days of the week.
const (
	Monday Weekday = iota + 1
	Tuesday
	Wednesday
	Thursday
	Friday
	Saturday
	Sunday
)

// EndOfDay is the end of a window that lasts until midnight.
const EndOfDay = "24:00"

// Limits of one availability: windows per list, exceptions, and the length
// of one exception.
const (
	MaxWindows         = 100
	MaxExceptions      = 200
	MaxExceptionLength = 366 * 24 * time.Hour
)

// Window is a weekly recurring range of local wall-clock time, from Start
// to End ("HH:MM", End may be EndOfDay), on Day.
type Window struct {
	Day   Weekday
	Start string
	End   string
	// Preferred windows rank their slots first.
	Preferred bool
}

// Exception is a dated period [Start, End) when the person cannot meet
// (leave, travel), whatever the weekly windows say.
type Exception struct {
	Start, End time.Time
	Reason     string
}

// Availability is when a person can meet, in the person's time zone. Wall
// clock times rather than instants keep a window at the same local hour
// across daylight-saving changes.
type Availability struct {
	PersonID string
	// TimeZone is an IANA name such as "Europe/Berlin"; empty only for an
	// availability never set.
	TimeZone string
	// Windows are when the person can meet; empty means WorkingHours.
	Windows []Window
	// WorkingHours rank the slots inside both people's working hours first.
	WorkingHours []Window
	Exceptions   []Exception
	UpdateTime   time.Time
}

// Validate checks what every stored availability must satisfy. Field paths
// are those of a SetAvailability request ("availability.…").
func (a Availability) Validate() error {
	var vs apperr.Violations
	if strings.TrimSpace(a.PersonID) == "" {
		vs.Add("availability.person_id", "must not be empty")
	}
	if reason := validTimeZone(a.TimeZone); reason != "" {
		vs.Add("availability.time_zone", reason)
	}
	validateWindows(&vs, "availability.windows", a.Windows)
	validateWindows(&vs, "availability.working_hours", a.WorkingHours)
	if len(a.Exceptions) > MaxExceptions {
		vs.Add("availability.exceptions", fmt.Sprintf("at most %d exceptions", MaxExceptions))
	}
	for i, e := range a.Exceptions {
		field := fmt.Sprintf("availability.exceptions[%d]", i)
		switch {
		case e.Start.IsZero():
			vs.Add(field+".start_time", "must be set")
		case e.End.IsZero():
			vs.Add(field+".end_time", "must be set")
		case !e.End.After(e.Start):
			vs.Add(field+".end_time", "must be after start_time")
		case e.End.Sub(e.Start) > MaxExceptionLength:
			vs.Add(field+".end_time", "an exception lasts at most a year")
		}
		if len(e.Reason) > 200 {
			vs.Add(field+".reason", "at most 200 characters")
		}
	}
	return vs.Err()
}

// validateWindows checks a list of weekly windows: valid days and times,
// and no two overlapping on one day.
func validateWindows(vs *apperr.Violations, path string, windows []Window) {
	if len(windows) > MaxWindows {
		vs.Add(path, fmt.Sprintf("at most %d windows", MaxWindows))
	}
	type span struct{ index, start, end int }
	valid := map[Weekday][]span{}
	for i, w := range windows {
		field := fmt.Sprintf("%s[%d]", path, i)
		ok := true
		if w.Day < Monday || w.Day > Sunday {
			vs.Add(field+".day", "must be a day from Monday to Sunday")
			ok = false
		}
		start, startOK := parseClock(w.Start, false)
		if !startOK {
			vs.Add(field+".start", `must be a time "HH:MM" from 00:00 to 23:59`)
			ok = false
		}
		end, endOK := parseClock(w.End, true)
		if !endOK {
			vs.Add(field+".end", `must be a time "HH:MM" from 00:00 to 24:00`)
			ok = false
		}
		if startOK && endOK && end <= start {
			vs.Add(field+".end", "must be after start")
			ok = false
		}
		if !ok {
			continue
		}
		for _, other := range valid[w.Day] {
			if start < other.end && other.start < end {
				vs.Add(field+".start", fmt.Sprintf("overlaps %s[%d] on the same day", path[strings.LastIndex(path, ".")+1:], other.index))
				break
			}
		}
		valid[w.Day] = append(valid[w.Day], span{i, start, end})
	}
}

// validTimeZone returns why name is not an IANA time zone, or "". "Local"
// is refused: it means the server's zone, not the person's.
func validTimeZone(name string) string {
	if name == "" {
		return "must be an IANA time zone such as Europe/London"
	}
	if name == "Local" {
		return `must be an IANA time zone such as Europe/London, not "Local"`
	}
	if _, err := time.LoadLocation(name); err != nil {
		return fmt.Sprintf("unknown IANA time zone %q", name)
	}
	return ""
}

// parseClock parses "HH:MM" into minutes after midnight; allowEndOfDay
// accepts "24:00".
func parseClock(s string, allowEndOfDay bool) (int, bool) {
	if allowEndOfDay && s == EndOfDay {
		return 24 * 60, true
	}
	if len(s) != len("HH:MM") || s[2] != ':' {
		return 0, false
	}
	digits := []byte{s[0], s[1], s[3], s[4]}
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, false
		}
	}
	hour := int(digits[0]-'0')*10 + int(digits[1]-'0')
	minute := int(digits[2]-'0')*10 + int(digits[3]-'0')
	if hour > 23 || minute > 59 {
		return 0, false
	}
	return hour*60 + minute, true
}

// sortWindows orders windows by day and start, the order in which they are
// stored and returned. "HH:MM" strings compare in time order.
func sortWindows(ws []Window) {
	slices.SortFunc(ws, func(a, b Window) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), strings.Compare(a.Start, b.Start))
	})
}

// Service carries out the scheduling service's use cases. Callers pass the
// tenant of the verified caller; every lookup is scoped to it.
type Service struct {
	store     Store
	now       func() time.Time
	offsets   []time.Duration
	poll      time.Duration
	log       *slog.Logger
	reminders chan struct{} // wakes RunReminders after a booking
}

// DefaultReminderOffsets are when reminders fire before a session.
var DefaultReminderOffsets = []time.Duration{24 * time.Hour, time.Hour}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces the system clock (tests move it).
func WithClock(now func() time.Time) Option {
	return func(s *Service) { s.now = func() time.Time { return now().UTC().Truncate(time.Microsecond) } }
}

// WithReminderOffsets sets how long before a session its reminders fire.
func WithReminderOffsets(offsets ...time.Duration) Option {
	return func(s *Service) { s.offsets = slices.Clone(offsets) }
}

// WithReminderPoll sets how often RunReminders looks for reminders that
// other replicas booked; its own bookings wake it at once.
func WithReminderPoll(d time.Duration) Option {
	return func(s *Service) { s.poll = d }
}

// WithLogger sets the logger of the background loops.
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) { s.log = l }
}

// NewService returns a Service over store.
func NewService(store Store, opts ...Option) *Service {
	s := &Service{
		store: store, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		offsets: DefaultReminderOffsets, poll: 10 * time.Second, log: slog.Default(),
		reminders: make(chan struct{}, 1),
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Availability returns a person's availability; one never set is empty
// but for the person's id.
func (s *Service) Availability(ctx context.Context, tenant, personID string) (Availability, error) {
	if strings.TrimSpace(personID) == "" {
		return Availability{}, apperr.Invalid("person_id", "must not be empty")
	}
	a, err := s.store.Availability(ctx, tenant, personID)
	if errors.Is(err, apperr.ErrNotFound) {
		return Availability{PersonID: personID}, nil
	}
	return a, err
}

// SetAvailability replaces a person's availability. The windows are
// returned ordered by day and start.
func (s *Service) SetAvailability(ctx context.Context, tenant string, a Availability) (Availability, error) {
	if err := a.Validate(); err != nil {
		return Availability{}, err
	}
	a.Windows = slices.Clone(a.Windows)
	sortWindows(a.Windows)
	a.WorkingHours = slices.Clone(a.WorkingHours)
	sortWindows(a.WorkingHours)
	a.Exceptions = slices.Clone(a.Exceptions)
	for i := range a.Exceptions {
		a.Exceptions[i].Start = a.Exceptions[i].Start.UTC().Truncate(time.Microsecond)
		a.Exceptions[i].End = a.Exceptions[i].End.UTC().Truncate(time.Microsecond)
	}
	slices.SortFunc(a.Exceptions, func(x, y Exception) int { return x.Start.Compare(y.Start) })
	a.UpdateTime = s.now()
	if err := s.store.PutAvailability(ctx, tenant, a); err != nil {
		return Availability{}, err
	}
	return a, nil
}
