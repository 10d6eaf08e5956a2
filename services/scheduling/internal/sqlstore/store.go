// Package sqlstore implements the scheduling service's Store on PostgreSQL
// and SQLite with one set of SQL statements. Every change writes its event
// to the outbox in the same transaction.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"strings"

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

// Store is the SQL implementation of scheduling.Store.
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

var _ scheduling.Store = (*Store)(nil)

// Availability returns a person's availability. One statement reads the
// time zone and the windows, so they come from the same snapshot.
func (s *Store) Availability(ctx context.Context, tenant, personID string) (scheduling.Availability, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.time_zone, a.update_time, w.day, w.start_local, w.end_local
		FROM availabilities a
		LEFT JOIN availability_windows w ON w.tenant_id = a.tenant_id AND w.person_id = a.person_id
		WHERE a.tenant_id = $1 AND a.person_id = $2
		ORDER BY w.position`, tenant, personID)
	if err != nil {
		return scheduling.Availability{}, fmt.Errorf("db: query availability: %w", err)
	}
	defer rows.Close()
	a := scheduling.Availability{PersonID: personID}
	found := false
	for rows.Next() {
		found = true
		var day sql.NullInt64
		var start, end sql.NullString
		if err := rows.Scan(&a.TimeZone, &a.UpdateTime, &day, &start, &end); err != nil {
			return a, fmt.Errorf("db: scan availability: %w", err)
		}
		if day.Valid {
			a.Windows = append(a.Windows, scheduling.Window{Day: scheduling.Weekday(day.Int64), Start: start.String, End: end.String})
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
	return eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO availabilities (tenant_id, person_id, time_zone, update_time)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (tenant_id, person_id) DO UPDATE SET time_zone = excluded.time_zone, update_time = excluded.update_time`,
			tenant, a.PersonID, a.TimeZone, a.UpdateTime); err != nil {
			return nil, fmt.Errorf("db: upsert availability: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM availability_windows WHERE tenant_id = $1 AND person_id = $2`,
			tenant, a.PersonID); err != nil {
			return nil, fmt.Errorf("db: delete availability windows: %w", err)
		}
		if len(a.Windows) > 0 {
			if _, err := tx.ExecContext(ctx, insertWindowsSQL(len(a.Windows)), windowArgs(tenant, a)...); err != nil {
				return nil, fmt.Errorf("db: insert availability windows: %w", err)
			}
		}
		return []eventbus.Event{{
			Tenant: tenant, Aggregate: "availability", AggregateID: a.PersonID, Type: "changed",
			Payload: &eventsv1.AvailabilityChanged{Availability: pbconv.Availability(a)},
		}}, nil
	})
}

// windowColumns is the number of columns insertWindowsSQL writes per row.
const windowColumns = 6

// insertWindowsSQL inserts rows windows in one statement; the domain caps
// an availability at scheduling.MaxWindows windows, far below either
// engine's parameter limit.
func insertWindowsSQL(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO availability_windows (tenant_id, person_id, position, day, start_local, end_local) VALUES ")
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range windowColumns {
			if c > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", r*windowColumns+c+1)
		}
		b.WriteByte(')')
	}
	return b.String()
}

func windowArgs(tenant string, a scheduling.Availability) []any {
	args := make([]any, 0, len(a.Windows)*windowColumns)
	for i, w := range a.Windows {
		args = append(args, tenant, a.PersonID, i, int(w.Day), w.Start, w.End)
	}
	return args
}
