package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

// Booking rules. Every transaction that books sessions first upserts a
// booking_locks row per person and then per room it books, each group in
// sorted order, so that two bookings of one person or room take turns
// (PostgreSQL row locks; on SQLite every write transaction already holds
// the database's single write lock from its start, as pkg/sqlstore opens it
// with IMMEDIATE transactions). Only then does it write its sessions and
// look for overlaps, so each check sees every booking committed before it.
// Locks are always taken in the same order (sessions by id, then people,
// then rooms), so two transactions never wait for each other in a cycle.

const sessionColumns = `id, match_id, series_id, start_micros, end_micros, state, room_id, mentor_person_id,
	mentee_person_id, proposed_by, reschedule_reason, cancel_reason, cancelled_by, absent_person_id, sequence,
	create_micros, update_micros`

// bookedStates are the states of a booked session, SessionProposed and
// SessionConfirmed, for SQL.
const bookedStates = `(1, 2)`

// CreateSessions stores new sessions with their reminders, checks the
// booking rules, and writes a session.proposed event per session and a
// series.created event when series is not nil. All or nothing.
func (s *Store) CreateSessions(ctx context.Context, tenant string, series *scheduling.Series, sessions []scheduling.Session, reminders []scheduling.Reminder) error {
	return s.inTx(ctx, func(tx *sql.Tx) ([]eventbus.Event, error) {
		booked := bookedOnly(sessions)
		if err := lockBookings(ctx, tx, tenant, booked); err != nil {
			return nil, err
		}
		err := sqlstore.InsertRows(ctx, tx, `INSERT INTO sessions (tenant_id, `+sessionColumns+`) VALUES `, 18, len(sessions),
			func(i int) []any { return append([]any{tenant}, sessionArgs(sessions[i])...) })
		if sqlstore.IsUniqueViolation(err) {
			return nil, fmt.Errorf("a session with one of these ids already exists: %w", apperr.ErrAlreadyExists)
		}
		if err != nil {
			return nil, fmt.Errorf("db: insert sessions: %w", err)
		}
		// The new sessions are written before the check, so that it also
		// finds overlaps among them.
		if err := checkBookings(ctx, tx, tenant, booked); err != nil {
			return nil, err
		}
		if err := insertReminders(ctx, tx, tenant, reminders); err != nil {
			return nil, err
		}
		var events []eventbus.Event
		for _, x := range sessions {
			events = append(events, sessionEvent(tenant, "proposed", &eventsv1.SessionProposed{Session: pbconv.Session(x)}, x))
		}
		if series != nil {
			_, err := tx.ExecContext(ctx, `INSERT INTO series (tenant_id, id, match_id, cadence, create_micros)
				VALUES ($1, $2, $3, $4, $5)`, tenant, series.ID, series.MatchID, int(series.Cadence), micros(series.CreateTime))
			if sqlstore.IsUniqueViolation(err) {
				return nil, fmt.Errorf("series %s already exists: %w", series.ID, apperr.ErrAlreadyExists)
			}
			if err != nil {
				return nil, fmt.Errorf("db: insert series: %w", err)
			}
			events = append(events, eventbus.Event{
				Tenant: tenant, Aggregate: "series", AggregateID: series.ID, Type: "created",
				Payload: &eventsv1.SeriesCreated{Series: pbconv.Series(*series)},
			})
		}
		return events, nil
	})
}

// UpdateSessions applies fn to copies of the named sessions, read and
// locked inside the transaction, and stores the results. A session keeps
// its id, match, series, people and creation time whatever fn does. The
// booking rules are checked for the sessions that are booked and whose
// time, room or state changed; each change's reminders are handled as it
// says, and the unfired reminders of a session that is no longer booked
// are deleted. It writes one session.<change.Event> event per session and
// returns the stored sessions in the order of ids.
func (s *Store) UpdateSessions(ctx context.Context, tenant string, ids []string, fn func(*scheduling.Session) (scheduling.SessionChange, error)) ([]scheduling.Session, error) {
	var updated []scheduling.Session
	err := s.inTx(ctx, func(tx *sql.Tx) ([]eventbus.Event, error) {
		current, err := s.lockSessions(ctx, tx, tenant, ids)
		if err != nil {
			return nil, err
		}
		updated = make([]scheduling.Session, len(current))
		changes := make([]scheduling.SessionChange, len(current))
		var recheck []scheduling.Session
		for i, old := range current {
			next := old
			if changes[i], err = fn(&next); err != nil {
				return nil, err
			}
			next.ID, next.MatchID, next.SeriesID, next.CreateTime = old.ID, old.MatchID, old.SeriesID, old.CreateTime
			next.MentorPersonID, next.MenteePersonID = old.MentorPersonID, old.MenteePersonID
			updated[i] = next
			changed := !next.Start.Equal(old.Start) || !next.End.Equal(old.End) || next.RoomID != old.RoomID || next.State != old.State
			if next.State.Booked() && changed {
				recheck = append(recheck, next)
			}
		}
		if err := lockBookings(ctx, tx, tenant, recheck); err != nil {
			return nil, err
		}
		// Every session is written before the checks, so that sessions
		// moving together (a series shifted by a week) are checked against
		// each other's new times, not their old ones.
		for _, x := range updated {
			if err := updateSession(ctx, tx, tenant, x); err != nil {
				return nil, err
			}
		}
		if err := checkBookings(ctx, tx, tenant, recheck); err != nil {
			return nil, err
		}
		var events []eventbus.Event
		for i, x := range updated {
			if err := applyReminderChange(ctx, tx, tenant, x, changes[i]); err != nil {
				return nil, err
			}
			e, err := changeEvent(tenant, x, changes[i])
			if err != nil {
				return nil, err
			}
			events = append(events, e)
		}
		return events, nil
	})
	if err != nil {
		return nil, err
	}
	return updated, nil
}

// lockSessions reads the named sessions, all of one match, in the order of
// ids; on PostgreSQL it locks their rows, in id order, until the
// transaction ends.
func (s *Store) lockSessions(ctx context.Context, tx *sql.Tx, tenant string, ids []string) ([]scheduling.Session, error) {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	if sorted = slices.Compact(sorted); len(sorted) != len(ids) {
		return nil, apperr.Invalid("ids", "must not name a session twice")
	}
	if len(ids) == 0 {
		return nil, nil
	}
	found, err := sqlstore.QueryAll(ctx, tx, `SELECT `+sessionColumns+` FROM sessions
		WHERE tenant_id = $1 AND id IN (`+placeholders(2, len(ids))+`) ORDER BY id`+s.forUpdate(),
		append([]any{tenant}, anySlice(sorted)...), scanSession)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]scheduling.Session, len(found))
	for _, x := range found {
		byID[x.ID] = x
	}
	out := make([]scheduling.Session, len(ids))
	for i, id := range ids {
		x, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("session %s: %w", id, apperr.ErrNotFound)
		}
		if i > 0 && x.MatchID != out[0].MatchID {
			return nil, apperr.Invalid("ids", "must name sessions of one match")
		}
		out[i] = x
	}
	return out, nil
}

// forUpdate is the row-locking clause of a SELECT on PostgreSQL. SQLite
// needs none: a write transaction holds the database's write lock.
func (s *Store) forUpdate() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// updateSession stores the changeable fields of a session.
func updateSession(ctx context.Context, tx *sql.Tx, tenant string, x scheduling.Session) error {
	_, err := tx.ExecContext(ctx, `UPDATE sessions SET start_micros = $3, end_micros = $4, state = $5, room_id = $6,
		proposed_by = $7, reschedule_reason = $8, cancel_reason = $9, cancelled_by = $10, absent_person_id = $11,
		sequence = $12, update_micros = $13
		WHERE tenant_id = $1 AND id = $2`,
		tenant, x.ID, micros(x.Start), micros(x.End), int(x.State), x.RoomID, x.ProposedBy, x.RescheduleReason,
		x.CancelReason, x.CancelledBy, x.AbsentPersonID, x.Sequence, micros(x.UpdateTime))
	if err != nil {
		return fmt.Errorf("db: update session: %w", err)
	}
	return nil
}

// applyReminderChange replaces a session's reminders when change says so,
// and deletes the unfired ones of a session that is no longer booked.
func applyReminderChange(ctx context.Context, tx *sql.Tx, tenant string, x scheduling.Session, change scheduling.SessionChange) error {
	if change.ResetReminders {
		if _, err := tx.ExecContext(ctx, `DELETE FROM reminders WHERE tenant_id = $1 AND session_id = $2`, tenant, x.ID); err != nil {
			return fmt.Errorf("db: delete reminders: %w", err)
		}
		if err := insertReminders(ctx, tx, tenant, change.Reminders); err != nil {
			return err
		}
	}
	if !x.State.Booked() {
		return deleteUnfiredReminders(ctx, tx, tenant, x.ID)
	}
	return nil
}

// changeEvent is the event of an update as change says.
func changeEvent(tenant string, x scheduling.Session, change scheduling.SessionChange) (eventbus.Event, error) {
	session := pbconv.Session(x)
	var payload proto.Message
	switch change.Event {
	case "confirmed":
		payload = &eventsv1.SessionConfirmed{Session: session}
	case "rescheduled":
		payload = &eventsv1.SessionRescheduled{
			Session:           session,
			PreviousStartTime: pbconv.TS(change.PreviousStart),
			PreviousEndTime:   pbconv.TS(change.PreviousEnd),
		}
	case "cancelled":
		payload = &eventsv1.SessionCancelled{Session: session}
	case "completed":
		payload = &eventsv1.SessionCompleted{Session: session}
	case "no_show":
		payload = &eventsv1.SessionNoShow{Session: session}
	default:
		return eventbus.Event{}, fmt.Errorf("session %s: unknown session event %q", x.ID, change.Event)
	}
	return sessionEvent(tenant, change.Event, payload, x), nil
}

func sessionEvent(tenant, typ string, payload proto.Message, x scheduling.Session) eventbus.Event {
	return eventbus.Event{Tenant: tenant, Aggregate: "session", AggregateID: x.ID, Type: typ, Payload: payload}
}

// lockBookings takes the booking locks of the people and rooms of
// sessions: every person in sorted order, then every room in sorted order.
func lockBookings(ctx context.Context, tx *sql.Tx, tenant string, sessions []scheduling.Session) error {
	var people, rooms []string
	for _, x := range sessions {
		people = append(people, x.MentorPersonID, x.MenteePersonID)
		rooms = append(rooms, x.RoomID)
	}
	keys := append(lockKeys("person:", people), lockKeys("room:", rooms)...)
	for _, key := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO booking_locks (tenant_id, lock_key, n) VALUES ($1, $2, 1)
			ON CONFLICT (tenant_id, lock_key) DO UPDATE SET n = booking_locks.n + 1`, tenant, key); err != nil {
			return fmt.Errorf("db: take booking lock: %w", err)
		}
	}
	return nil
}

// lockKeys returns the sorted, distinct lock keys of the non-empty ids.
func lockKeys(prefix string, ids []string) []string {
	var keys []string
	for _, id := range ids {
		if id != "" {
			keys = append(keys, prefix+id)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// checkBookings fails with an error wrapping apperr.ErrFailedPrecondition
// when a session overlaps another booked session of one of its people or
// of its room. The sessions must be written and their locks held.
func checkBookings(ctx context.Context, tx *sql.Tx, tenant string, sessions []scheduling.Session) error {
	for _, x := range sessions {
		args := []any{tenant, x.ID, micros(x.End), micros(x.Start)}
		var holders []string
		for _, person := range lockKeys("", []string{x.MentorPersonID, x.MenteePersonID}) {
			args = append(args, person)
			holders = append(holders, fmt.Sprintf("mentor_person_id = $%d OR mentee_person_id = $%d", len(args), len(args)))
		}
		if x.RoomID != "" {
			args = append(args, x.RoomID)
			holders = append(holders, fmt.Sprintf("room_id = $%d", len(args)))
		}
		if len(holders) == 0 {
			continue
		}
		others, err := sqlstore.QueryAll(ctx, tx, `SELECT `+sessionColumns+` FROM sessions
			WHERE tenant_id = $1 AND id <> $2 AND state IN `+bookedStates+` AND start_micros < $3 AND end_micros > $4
			AND (`+strings.Join(holders, " OR ")+`)
			ORDER BY start_micros, id LIMIT 1`, args, scanSession)
		if err != nil {
			return err
		}
		if len(others) > 0 {
			return conflict(x, others[0])
		}
	}
	return nil
}

// conflict names what x and other share: a person, else the room.
func conflict(x, other scheduling.Session) error {
	from, to := other.Start.Format(time.RFC3339), other.End.Format(time.RFC3339)
	for _, person := range []string{x.MentorPersonID, x.MenteePersonID} {
		if person != "" && (person == other.MentorPersonID || person == other.MenteePersonID) {
			return fmt.Errorf("person %s already has session %s from %s to %s: %w", person, other.ID, from, to, apperr.ErrFailedPrecondition)
		}
	}
	return fmt.Errorf("room %s is booked by session %s from %s to %s: %w", x.RoomID, other.ID, from, to, apperr.ErrFailedPrecondition)
}

func bookedOnly(sessions []scheduling.Session) []scheduling.Session {
	var out []scheduling.Session
	for _, x := range sessions {
		if x.State.Booked() {
			out = append(out, x)
		}
	}
	return out
}

// Session returns one session.
func (s *Store) Session(ctx context.Context, tenant, id string) (scheduling.Session, error) {
	x, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE tenant_id = $1 AND id = $2`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return x, fmt.Errorf("session %s: %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return x, fmt.Errorf("db: read session: %w", err)
	}
	return x, nil
}

// ListSessions lists sessions as f says, ordered by (start, id).
func (s *Store) ListSessions(ctx context.Context, tenant string, f scheduling.SessionFilter) ([]scheduling.Session, error) {
	args := []any{tenant}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := []string{"tenant_id = $1"}
	if f.MatchID != "" {
		where = append(where, "match_id = "+arg(f.MatchID))
	}
	if f.PersonID != "" {
		p := arg(f.PersonID)
		where = append(where, "(mentor_person_id = "+p+" OR mentee_person_id = "+p+")")
	}
	if f.State != 0 {
		where = append(where, "state = "+arg(int(f.State)))
	}
	if !f.From.IsZero() {
		where = append(where, "start_micros >= "+arg(micros(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "start_micros < "+arg(micros(f.To)))
	}
	if f.AfterID != "" {
		where = append(where, "(start_micros, id) > ("+arg(micros(f.AfterStart))+", "+arg(f.AfterID)+")")
	}
	query := `SELECT ` + sessionColumns + ` FROM sessions WHERE ` + strings.Join(where, " AND ") + ` ORDER BY start_micros, id`
	if f.Limit > 0 {
		query += " LIMIT " + arg(f.Limit)
	}
	return sqlstore.QueryAll(ctx, s.db, query, args, scanSession)
}

// SeriesSessions returns a series' sessions in time order.
func (s *Store) SeriesSessions(ctx context.Context, tenant, seriesID string) ([]scheduling.Session, error) {
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+sessionColumns+` FROM sessions WHERE tenant_id = $1 AND series_id = $2
		ORDER BY start_micros, id`, []any{tenant, seriesID}, scanSession)
}

// BookedSessions returns the booked sessions of any of the people that
// overlap [from, to), in time order.
func (s *Store) BookedSessions(ctx context.Context, tenant string, personIDs []string, from, to time.Time) ([]scheduling.Session, error) {
	if len(personIDs) == 0 {
		return nil, nil
	}
	people := placeholders(4, len(personIDs))
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+sessionColumns+` FROM sessions
		WHERE tenant_id = $1 AND state IN `+bookedStates+` AND start_micros < $2 AND end_micros > $3
		AND (mentor_person_id IN (`+people+`) OR mentee_person_id IN (`+people+`))
		ORDER BY start_micros, id`, append([]any{tenant, micros(to), micros(from)}, anySlice(personIDs)...), scanSession)
}

func sessionArgs(x scheduling.Session) []any {
	return []any{x.ID, x.MatchID, x.SeriesID, micros(x.Start), micros(x.End), int(x.State), x.RoomID,
		x.MentorPersonID, x.MenteePersonID, x.ProposedBy, x.RescheduleReason, x.CancelReason, x.CancelledBy,
		x.AbsentPersonID, x.Sequence, micros(x.CreateTime), micros(x.UpdateTime)}
}

func scanSession(row scanner) (scheduling.Session, error) { return scanSessionAfter(row) }

// scanSessionAfter scans a row of the lead columns, into lead, followed by
// sessionColumns.
func scanSessionAfter(row scanner, lead ...any) (scheduling.Session, error) {
	var x scheduling.Session
	var start, end, created, updated int64
	err := row.Scan(append(lead, &x.ID, &x.MatchID, &x.SeriesID, &start, &end, &x.State, &x.RoomID, &x.MentorPersonID,
		&x.MenteePersonID, &x.ProposedBy, &x.RescheduleReason, &x.CancelReason, &x.CancelledBy, &x.AbsentPersonID,
		&x.Sequence, &created, &updated)...)
	x.Start, x.End, x.CreateTime, x.UpdateTime = fromMicros(start), fromMicros(end), fromMicros(created), fromMicros(updated)
	return x, err
}

func anySlice(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
