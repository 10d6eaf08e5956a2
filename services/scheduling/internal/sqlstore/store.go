// Package sqlstore implements the scheduling service's Store and Projector
// on PostgreSQL and SQLite with one set of SQL statements. Every change
// writes its events to the outbox in the same transaction.
//
// Instants the service added after its first release (sessions, reminders,
// exceptions, rooms, calendar tokens) are stored as BIGINT Unix
// microseconds on both engines, so that range comparisons behave the same
// everywhere; they are converted at the edges and read back in UTC.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"
	"time"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations are the scheduling service's tables for both engines.
var Migrations = sqlstore.Migrations{Name: "scheduling", FS: migrationsFS, Dir: "migrations"}

// Source is the CloudEvents source of the scheduling service's events.
const Source = "tandem/scheduling"

// Store is the SQL implementation of scheduling.Store and
// scheduling.Projector.
type Store struct {
	db *sqlstore.DB
	// committed is called after each commit that wrote events, to wake the
	// outbox relay (may be nil).
	committed func()
}

// New returns a Store over an opened database (with Migrations and
// eventbus.Migrations applied). committed, if not nil, runs after every
// commit that wrote events.
func New(db *sqlstore.DB, committed func()) *Store {
	return &Store{db: db, committed: committed}
}

var (
	_ scheduling.Store     = (*Store)(nil)
	_ scheduling.Projector = (*Store)(nil)
)

// inTx runs fn in a transaction that also writes the events fn returns, and
// wakes the relay after a commit that wrote at least one.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) ([]eventbus.Event, error)) error {
	wrote := false
	err := eventbus.InTx(ctx, s.db, Source, nil, func(tx *sql.Tx) ([]eventbus.Event, error) {
		events, err := fn(tx)
		wrote = len(events) > 0
		return events, err
	})
	if err == nil && wrote && s.committed != nil {
		s.committed()
	}
	return err
}

// Window kinds of the availability_windows table.
const (
	kindMeet = "meet"
	kindWork = "work"
)

// Availability returns a person's availability. One statement reads the
// time zone, the windows and the exceptions, so they come from the same
// snapshot.
func (s *Store) Availability(ctx context.Context, tenant, personID string) (scheduling.Availability, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.time_zone, a.update_time, x.kind, x.day, x.start_local, x.end_local,
			x.preferred, x.start_micros, x.end_micros, x.reason
		FROM availabilities a
		LEFT JOIN (
			SELECT kind, position, day, start_local, end_local, preferred, 0 AS start_micros, 0 AS end_micros, '' AS reason
			FROM availability_windows WHERE tenant_id = $1 AND person_id = $2
			UNION ALL
			SELECT 'exception', position, 0, '', '', FALSE, start_micros, end_micros, reason
			FROM availability_exceptions WHERE tenant_id = $1 AND person_id = $2
		) x ON TRUE
		WHERE a.tenant_id = $1 AND a.person_id = $2
		ORDER BY x.kind, x.position`, tenant, personID)
	if err != nil {
		return scheduling.Availability{}, fmt.Errorf("db: query availability: %w", err)
	}
	defer rows.Close()
	a := scheduling.Availability{PersonID: personID}
	found := false
	for rows.Next() {
		found = true
		var kind, start, end, reason sql.NullString
		var day, startMicros, endMicros sql.NullInt64
		var preferred sql.NullBool
		if err := rows.Scan(&a.TimeZone, &a.UpdateTime, &kind, &day, &start, &end, &preferred, &startMicros, &endMicros, &reason); err != nil {
			return a, fmt.Errorf("db: scan availability: %w", err)
		}
		w := scheduling.Window{Day: scheduling.Weekday(day.Int64), Start: start.String, End: end.String, Preferred: preferred.Bool}
		switch kind.String {
		case kindMeet:
			a.Windows = append(a.Windows, w)
		case kindWork:
			a.WorkingHours = append(a.WorkingHours, w)
		case "exception":
			a.Exceptions = append(a.Exceptions, scheduling.Exception{
				Start: fromMicros(startMicros.Int64), End: fromMicros(endMicros.Int64), Reason: reason.String,
			})
		}
	}
	if err := rows.Err(); err != nil {
		return a, fmt.Errorf("db: query availability: %w", err)
	}
	if !found {
		return a, fmt.Errorf("availability of person %s: %w", personID, apperr.ErrNotFound)
	}
	a.UpdateTime = a.UpdateTime.UTC()
	return a, nil
}

// PutAvailability replaces a person's availability. The upsert locks the
// person's row, so concurrent replacements apply one after the other.
func (s *Store) PutAvailability(ctx context.Context, tenant string, a scheduling.Availability) error {
	return s.inTx(ctx, func(tx *sql.Tx) ([]eventbus.Event, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO availabilities (tenant_id, person_id, time_zone, update_time)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, person_id) DO UPDATE SET time_zone = excluded.time_zone, update_time = excluded.update_time`,
			tenant, a.PersonID, a.TimeZone, a.UpdateTime); err != nil {
			return nil, fmt.Errorf("db: upsert availability: %w", err)
		}
		if err := deleteAvailabilityRows(ctx, tx, tenant, a.PersonID); err != nil {
			return nil, err
		}
		// Positions number the meeting windows first, then the working
		// hours: one sequence, as the table's key needs.
		type kindWindow struct {
			kind string
			scheduling.Window
		}
		var windows []kindWindow
		for _, w := range a.Windows {
			windows = append(windows, kindWindow{kindMeet, w})
		}
		for _, w := range a.WorkingHours {
			windows = append(windows, kindWindow{kindWork, w})
		}
		err := sqlstore.InsertRows(ctx, tx, `INSERT INTO availability_windows
			(tenant_id, person_id, position, kind, day, start_local, end_local, preferred) VALUES `, 8, len(windows),
			func(i int) []any {
				w := windows[i]
				return []any{tenant, a.PersonID, i, w.kind, int(w.Day), w.Start, w.End, w.Preferred}
			})
		if err != nil {
			return nil, fmt.Errorf("db: insert availability windows: %w", err)
		}
		err = sqlstore.InsertRows(ctx, tx, `INSERT INTO availability_exceptions
			(tenant_id, person_id, position, start_micros, end_micros, reason) VALUES `, 6, len(a.Exceptions),
			func(i int) []any {
				e := a.Exceptions[i]
				return []any{tenant, a.PersonID, i, micros(e.Start), micros(e.End), e.Reason}
			})
		if err != nil {
			return nil, fmt.Errorf("db: insert availability exceptions: %w", err)
		}
		return []eventbus.Event{{
			Tenant: tenant, Aggregate: "availability", AggregateID: a.PersonID, Type: "changed",
			Payload: &eventsv1.AvailabilityChanged{Availability: pbconv.Availability(a)},
		}}, nil
	})
}

// deleteAvailabilityRows deletes a person's windows and exceptions.
func deleteAvailabilityRows(ctx context.Context, tx *sql.Tx, tenant, personID string) error {
	for _, table := range []string{"availability_windows", "availability_exceptions"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1 AND person_id = $2`,
			tenant, personID); err != nil {
			return fmt.Errorf("db: delete %s: %w", table, err)
		}
	}
	return nil
}

// scanner is what the scan functions read rows from.
type scanner = sqlstore.Scanner

// placeholders returns "$first, $first+1, …" for n parameters.
func placeholders(first, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("$%d", first+i)
	}
	return strings.Join(parts, ", ")
}

// micros converts an instant to its stored form, Unix microseconds.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts stored Unix microseconds to a UTC instant.
func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// nullMicros stores the zero time as NULL.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

// fromNullMicros reads NULL as the zero time.
func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}
