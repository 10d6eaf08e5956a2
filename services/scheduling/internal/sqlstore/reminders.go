package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

// FireDueReminders claims at most limit unfired reminders due at or before
// now, of booked sessions in any tenant, marks them fired at now and writes
// one session.reminder_due event each, carrying the session as it is now,
// in one transaction. On PostgreSQL the claimed rows are locked and rows
// another replica holds are skipped (FOR UPDATE SKIP LOCKED); on SQLite the
// transaction holds the single write lock. Either way the update keeps the
// guard "fired_micros IS NULL" and only an updated row writes an event, so
// a reminder fires exactly once. It returns how many fired.
func (s *Store) FireDueReminders(ctx context.Context, now time.Time, limit int) (int, error) {
	lock := ""
	if s.db.Dialect == sqlstore.Postgres {
		lock = " FOR UPDATE OF r SKIP LOCKED"
	}
	type dueReminder struct {
		tenant  string
		offset  int64
		due     int64
		session scheduling.Session
	}
	fired := 0
	err := s.inTx(ctx, func(tx *sql.Tx) ([]eventbus.Event, error) {
		fired = 0
		due, err := sqlstore.QueryAll(ctx, tx, `SELECT r.tenant_id, r.offset_micros, r.due_micros, `+prefixed("s.", sessionColumns)+`
			FROM reminders r JOIN sessions s ON s.tenant_id = r.tenant_id AND s.id = r.session_id
			WHERE r.fired_micros IS NULL AND r.due_micros <= $1 AND s.state IN `+bookedStates+`
			ORDER BY r.due_micros, r.tenant_id, r.session_id, r.offset_micros
			LIMIT $2`+lock, []any{micros(now), limit}, func(row scanner) (dueReminder, error) {
			var d dueReminder
			var err error
			d.session, err = scanSessionAfter(row, &d.tenant, &d.offset, &d.due)
			return d, err
		})
		if err != nil {
			return nil, err
		}
		var events []eventbus.Event
		for _, d := range due {
			res, err := tx.ExecContext(ctx, `UPDATE reminders SET fired_micros = $1
				WHERE tenant_id = $2 AND session_id = $3 AND offset_micros = $4 AND fired_micros IS NULL`,
				micros(now), d.tenant, d.session.ID, d.offset)
			if err != nil {
				return nil, fmt.Errorf("db: mark reminder fired: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return nil, fmt.Errorf("db: mark reminder fired: %w", err)
			}
			if n == 0 {
				continue // fired by another caller since the select
			}
			fired++
			events = append(events, sessionEvent(d.tenant, "reminder_due", &eventsv1.SessionReminderDue{
				Session: pbconv.Session(d.session),
				Offset:  durationpb.New(time.Duration(d.offset) * time.Microsecond),
				DueTime: pbconv.TS(fromMicros(d.due)),
			}, d.session))
		}
		return events, nil
	})
	if err != nil {
		return 0, err
	}
	return fired, nil
}

// NextReminderDue returns the earliest due time of the unfired reminders of
// booked sessions in any tenant; ok is false when there is none.
func (s *Store) NextReminderDue(ctx context.Context) (time.Time, bool, error) {
	var due sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(r.due_micros)
		FROM reminders r JOIN sessions s ON s.tenant_id = r.tenant_id AND s.id = r.session_id
		WHERE r.fired_micros IS NULL AND s.state IN `+bookedStates).Scan(&due)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("db: read next reminder: %w", err)
	}
	return fromNullMicros(due), due.Valid, nil
}

// insertReminders stores unfired reminders.
func insertReminders(ctx context.Context, tx *sql.Tx, tenant string, reminders []scheduling.Reminder) error {
	err := sqlstore.InsertRows(ctx, tx, `INSERT INTO reminders (tenant_id, session_id, offset_micros, due_micros) VALUES `, 4, len(reminders),
		func(i int) []any {
			r := reminders[i]
			return []any{tenant, r.SessionID, r.Offset.Microseconds(), micros(r.Due)}
		})
	if err != nil {
		return fmt.Errorf("db: insert reminders: %w", err)
	}
	return nil
}

// deleteUnfiredReminders deletes a session's reminders that have not fired.
func deleteUnfiredReminders(ctx context.Context, tx *sql.Tx, tenant, sessionID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM reminders WHERE tenant_id = $1 AND session_id = $2 AND fired_micros IS NULL`,
		tenant, sessionID); err != nil {
		return fmt.Errorf("db: delete unfired reminders: %w", err)
	}
	return nil
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
