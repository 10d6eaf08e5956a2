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
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	evaluationsql "github.com/tandem-oss/tandem/services/evaluation/internal/sqlstore"
)

// t0 has microseconds, the precision both engines keep.
var t0 = time.Date(2027, 3, 1, 9, 0, 0, 123456000, time.UTC)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// day is a day's length.
const day = 24 * time.Hour

// openStore opens url with the service's migrations; the handle is closed
// after the test.
func openStore(t *testing.T, url string) (*evaluationsql.Store, *sqlstore.DB) {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), url, eventbus.Migrations, evaluationsql.Migrations)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return evaluationsql.New(db), db
}

// inTx runs one projector call in its own transaction, as the consumer does.
func inTx(t *testing.T, db *sqlstore.DB, fn func(ctx context.Context, tx *sql.Tx) error) {
	t.Helper()
	require.NoError(t, db.InTx(t.Context(), func(tx *sql.Tx) error { return fn(t.Context(), tx) }))
}

// outboxLen is how many events the outbox holds.
func outboxLen(t *testing.T, db *sqlstore.DB) int {
	t.Helper()
	return len(servicetest.Outbox(t, db))
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

// activeMatch is an active match of prog-1 between mentor and mentee,
// activated at when.
func activeMatch(id, mentor, mentee string, when time.Time) evaluation.Match {
	return evaluation.Match{
		ID: id, ProgramID: "prog-1", MentorParticipantID: "part-" + mentor, MenteeParticipantID: "part-" + mentee,
		MentorPersonID: mentor, MenteePersonID: mentee, State: evaluation.MatchActive, Score: 87.5,
		ProposeTime: when.Add(-2 * day), AcceptTime: when.Add(-day), ActivateTime: when, EventTime: when,
	}
}

// activate projects m and evaluates its health at m's event time, as the
// consumer does.
func activate(t *testing.T, store *evaluationsql.Store, db *sqlstore.DB, tenant string, m evaluation.Match) {
	t.Helper()
	inTx(t, db, func(ctx context.Context, tx *sql.Tx) error {
		if err := store.ApplyMatch(ctx, tx, tenant, m); err != nil {
			return err
		}
		return store.RefreshHealth(ctx, tx, tenant, m.ID, m.EventTime)
	})
}

// setStatus overwrites a stored health's status, as if the rules had said
// so, to test what a status change does whatever the rules.
func setStatus(t *testing.T, db *sqlstore.DB, tenant, matchID string, status evaluation.HealthStatus) {
	t.Helper()
	res, err := db.ExecContext(t.Context(), `UPDATE healths SET status = $1 WHERE tenant_id = $2 AND match_id = $3`,
		int(status), tenant, matchID)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
}

// lastEvent returns the newest event of the outbox.
func lastEvent(t *testing.T, db *sqlstore.DB) servicetest.OutboxRow {
	t.Helper()
	events := servicetest.Outbox(t, db)
	require.NotEmpty(t, events)
	return events[len(events)-1]
}
