package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

// The projection is written by the event consumer inside its transaction,
// which also records the event in the inbox, so these methods take the
// transaction and enqueue their events in it; the consumer's commit, not
// the store, is what publishes them.

// Match returns one projected match.
func (s *Store) Match(ctx context.Context, tenant, id string) (scheduling.Match, error) {
	m := scheduling.Match{ID: id}
	err := s.db.QueryRowContext(ctx, `SELECT program_id, mentor_person_id, mentee_person_id, state FROM matches
		WHERE tenant_id = $1 AND id = $2`, tenant, id).Scan(&m.ProgramID, &m.MentorPersonID, &m.MenteePersonID, &m.State)
	if errors.Is(err, sql.ErrNoRows) {
		return scheduling.Match{}, fmt.Errorf("match %s is not known to the scheduling service (yet): %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return scheduling.Match{}, fmt.Errorf("db: read match: %w", err)
	}
	return m, nil
}

// Program returns one projected program.
func (s *Store) Program(ctx context.Context, tenant, id string) (scheduling.Program, error) {
	p := scheduling.Program{ID: id}
	err := s.db.QueryRowContext(ctx, `SELECT cadence FROM programs WHERE tenant_id = $1 AND id = $2`, tenant, id).Scan(&p.Cadence)
	if errors.Is(err, sql.ErrNoRows) {
		return scheduling.Program{}, fmt.Errorf("program %s is not known to the scheduling service (yet): %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return scheduling.Program{}, fmt.Errorf("db: read program: %w", err)
	}
	return p, nil
}

// ApplyMatch stores a match's snapshot.
func (s *Store) ApplyMatch(ctx context.Context, tx *sql.Tx, tenant string, m scheduling.Match) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO matches (tenant_id, id, program_id, mentor_person_id, mentee_person_id, state)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, id) DO UPDATE SET program_id = excluded.program_id,
		mentor_person_id = excluded.mentor_person_id, mentee_person_id = excluded.mentee_person_id, state = excluded.state`,
		tenant, m.ID, m.ProgramID, m.MentorPersonID, m.MenteePersonID, int(m.State))
	if err != nil {
		return fmt.Errorf("db: upsert match: %w", err)
	}
	return nil
}

// ApplyProgram stores a program's snapshot.
func (s *Store) ApplyProgram(ctx context.Context, tx *sql.Tx, tenant string, p scheduling.Program) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO programs (tenant_id, id, cadence) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, id) DO UPDATE SET cadence = excluded.cadence`, tenant, p.ID, int(p.Cadence))
	if err != nil {
		return fmt.Errorf("db: upsert program: %w", err)
	}
	return nil
}

// CancelSessionsFrom cancels the match's booked sessions starting at or
// after from: state CANCELLED with reason, cancelled by no person, sequence
// bumped, updated at from. It deletes their unfired reminders and writes a
// session.cancelled event each. The sessions are locked in id order, as
// UpdateSessions locks them.
func (s *Store) CancelSessionsFrom(ctx context.Context, tx *sql.Tx, tenant, matchID string, from time.Time, reason string) error {
	sessions, err := sqlstore.QueryAll(ctx, tx, `SELECT `+sessionColumns+` FROM sessions
		WHERE tenant_id = $1 AND match_id = $2 AND state IN `+bookedStates+` AND start_micros >= $3
		ORDER BY id`+s.forUpdate(), []any{tenant, matchID, micros(from)}, scanSession)
	if err != nil {
		return err
	}
	var events []eventbus.Event
	for _, x := range sessions {
		x.State, x.CancelReason, x.CancelledBy = scheduling.SessionCancelled, reason, ""
		x.Sequence++
		x.UpdateTime = from
		if err := updateSession(ctx, tx, tenant, x); err != nil {
			return err
		}
		if err := deleteUnfiredReminders(ctx, tx, tenant, x.ID); err != nil {
			return err
		}
		events = append(events, sessionEvent(tenant, "cancelled", &eventsv1.SessionCancelled{Session: pbconv.Session(x)}, x))
	}
	return eventbus.Enqueue(ctx, tx, Source, events...)
}

// ErasePerson deletes a person's availability (time zone, windows and
// exceptions) and every calendar token of theirs, and writes
// availability.erased.
func (s *Store) ErasePerson(ctx context.Context, tx *sql.Tx, tenant, personID string) error {
	if err := deleteAvailabilityRows(ctx, tx, tenant, personID); err != nil {
		return err
	}
	for _, table := range []string{"availabilities", "calendar_tokens"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1 AND person_id = $2`, tenant, personID); err != nil {
			return fmt.Errorf("db: delete %s: %w", table, err)
		}
	}
	return eventbus.Enqueue(ctx, tx, Source, eventbus.Event{
		Tenant: tenant, Aggregate: "availability", AggregateID: personID, Type: "erased",
		Payload: &eventsv1.AvailabilityErased{PersonId: personID},
	})
}
