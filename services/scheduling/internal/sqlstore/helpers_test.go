package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
	schedulingsql "github.com/tandem-oss/tandem/services/scheduling/internal/sqlstore"
)

// t0 has microseconds, the precision both engines keep.
var t0 = time.Date(2027, 3, 1, 9, 0, 0, 123456000, time.UTC)

// openStore opens url with the service's migrations; the handle is closed
// after the test.
func openStore(t *testing.T, url string) (*schedulingsql.Store, *sqlstore.DB) {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), url, eventbus.Migrations, schedulingsql.Migrations)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return schedulingsql.New(db, nil), db
}

// session is a proposed one-hour session of a pair at start.
func session(id, matchID, mentor, mentee string, start time.Time) scheduling.Session {
	return scheduling.Session{
		ID: id, MatchID: matchID, Start: start, End: start.Add(time.Hour), State: scheduling.SessionProposed,
		MentorPersonID: mentor, MenteePersonID: mentee, ProposedBy: mentor, CreateTime: t0, UpdateTime: t0,
	}
}

// inRoom returns x booked in room.
func inRoom(x scheduling.Session, room string) scheduling.Session {
	x.RoomID = room
	return x
}

// outboxSince returns the events written after the first n.
func outboxSince(t *testing.T, db *sqlstore.DB, n int) []servicetest.OutboxRow {
	t.Helper()
	events := servicetest.Outbox(t, db)
	require.GreaterOrEqual(t, len(events), n)
	return events[n:]
}

// kinds lists events as "<ce-type> <tenant>/<aggregate id>".
func kinds(events []servicetest.OutboxRow) []string {
	var out []string
	for _, e := range events {
		out = append(out, fmt.Sprintf("%s %s/%s", e.Type, e.Tenant, e.AggregateID))
	}
	return out
}

// payload decodes an event's payload into m and returns it.
func payload[M proto.Message](t *testing.T, e servicetest.OutboxRow, m M) M {
	t.Helper()
	require.NoError(t, proto.Unmarshal(e.Payload, m))
	return m
}

// storedReminder is a row of the reminders table.
type storedReminder struct {
	Offset time.Duration
	Due    time.Time
	Fired  bool
}

// storedReminders reads a session's reminders from the table, by offset.
func storedReminders(t *testing.T, db *sqlstore.DB, tenant, sessionID string) []storedReminder {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT offset_micros, due_micros, fired_micros IS NOT NULL FROM reminders
		WHERE tenant_id = $1 AND session_id = $2 ORDER BY offset_micros`, tenant, sessionID)
	require.NoError(t, err)
	defer rows.Close()
	var out []storedReminder
	for rows.Next() {
		var offset, due int64
		var r storedReminder
		require.NoError(t, rows.Scan(&offset, &due, &r.Fired))
		r.Offset, r.Due = time.Duration(offset)*time.Microsecond, time.UnixMicro(due).UTC()
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

// inTx runs one projector call in its own transaction, as the consumer does.
func inTx(t *testing.T, db *sqlstore.DB, fn func(ctx context.Context, tx *sql.Tx) error) {
	t.Helper()
	require.NoError(t, db.InTx(t.Context(), func(tx *sql.Tx) error { return fn(t.Context(), tx) }))
}
