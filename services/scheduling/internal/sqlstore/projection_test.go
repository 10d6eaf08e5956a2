package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/testing/protocmp"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

func TestProjector(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)

		t.Run("matches and programs are upserted", func(t *testing.T) {
			_, err := store.Match(ctx, "acme", "m1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			_, err = store.Program(ctx, "acme", "prog")
			require.ErrorIs(t, err, apperr.ErrNotFound)

			m := scheduling.Match{ID: "m1", ProgramID: "prog", MentorPersonID: "ann", MenteePersonID: "bob", State: scheduling.MatchAccepted}
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyMatch(ctx, tx, "acme", m) })
			got, err := store.Match(ctx, "acme", "m1")
			require.NoError(t, err)
			require.Equal(t, m, got)
			m.State = scheduling.MatchEnded
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyMatch(ctx, tx, "acme", m) })
			got, err = store.Match(ctx, "acme", "m1")
			require.NoError(t, err)
			require.Equal(t, m, got)
			_, err = store.Match(ctx, "other", "m1")
			require.ErrorIs(t, err, apperr.ErrNotFound)

			for _, p := range []scheduling.Program{{ID: "prog", Cadence: scheduling.Biweekly}, {ID: "prog"}} {
				inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyProgram(ctx, tx, "acme", p) })
				got, err := store.Program(ctx, "acme", "prog")
				require.NoError(t, err)
				require.Equal(t, p, got)
			}
		})

		t.Run("cancelling from a time cancels the later booked sessions", func(t *testing.T) {
			from := time.Date(2027, 4, 12, 0, 0, 0, 0, time.UTC)
			past := session("a-past", "m1", "ann", "bob", from.Add(-24*time.Hour))
			atFrom := session("b-at-from", "m1", "ann", "bob", from)
			later := session("c-later", "m1", "ann", "bob", from.Add(24*time.Hour))
			later.State, later.Sequence = scheduling.SessionConfirmed, 2
			done := session("d-done", "m1", "ann", "bob", from.Add(48*time.Hour))
			done.State = scheduling.SessionCompleted
			otherMatch := session("e-other", "m2", "cat", "dan", from.Add(24*time.Hour))
			require.NoError(t, store.CreateSessions(ctx, "acme", nil, []scheduling.Session{past, atFrom, later, done, otherMatch},
				[]scheduling.Reminder{
					{SessionID: "b-at-from", Offset: 24 * time.Hour, Due: from.Add(-24 * time.Hour)},
					{SessionID: "b-at-from", Offset: time.Hour, Due: from.Add(-time.Hour)},
				}))
			_, err := store.FireDueReminders(ctx, from.Add(-24*time.Hour), 10)
			require.NoError(t, err)
			before := len(servicetest.Outbox(t, db))

			// The consumer's transaction rolls back: nothing stays.
			boom := errors.New("inbox write failed")
			err = db.InTx(ctx, func(tx *sql.Tx) error {
				if err := store.CancelSessionsFrom(ctx, tx, "acme", "m1", from, "match ended"); err != nil {
					return err
				}
				return boom
			})
			require.ErrorIs(t, err, boom)
			got, err := store.Session(ctx, "acme", "b-at-from")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(atFrom, got))
			require.Empty(t, outboxSince(t, db, before))

			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error {
				return store.CancelSessionsFrom(ctx, tx, "acme", "m1", from, "match ended")
			})
			cancelled := func(x scheduling.Session) scheduling.Session {
				x.State, x.CancelReason, x.CancelledBy = scheduling.SessionCancelled, "match ended", ""
				x.Sequence++
				x.UpdateTime = from
				return x
			}
			for _, want := range []scheduling.Session{past, cancelled(atFrom), cancelled(later), done, otherMatch} {
				got, err := store.Session(ctx, "acme", want.ID)
				require.NoError(t, err)
				require.Empty(t, cmp.Diff(want, got), want.ID)
			}
			require.Equal(t, []storedReminder{{Offset: 24 * time.Hour, Due: from.Add(-24 * time.Hour), Fired: true}},
				storedReminders(t, db, "acme", "b-at-from"), "the unfired reminder is deleted, the fired one kept")
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.session.cancelled acme/b-at-from", "tandem.session.cancelled acme/c-later"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.SessionCancelled{Session: pbconv.Session(cancelled(later))},
				payload(t, events[1], &eventsv1.SessionCancelled{}), protocmp.Transform()))
		})

		t.Run("erasing a person removes their availability and tokens", func(t *testing.T) {
			for _, person := range []string{"ann", "bob"} {
				require.NoError(t, store.PutAvailability(ctx, "acme", scheduling.Availability{
					PersonID: person, TimeZone: "Europe/Paris", UpdateTime: t0,
					Windows:      []scheduling.Window{{Day: scheduling.Monday, Start: "09:00", End: "10:00"}},
					WorkingHours: []scheduling.Window{{Day: scheduling.Monday, Start: "08:00", End: "18:00"}},
					Exceptions:   []scheduling.Exception{{Start: t0, End: t0.Add(time.Hour), Reason: "dentist"}},
				}))
				require.NoError(t, store.CreateCalendarToken(ctx, "acme", scheduling.CalendarToken{
					ID: "tok-" + person, PersonID: person, Hash: []byte("hash-" + person), CreateTime: t0,
				}))
			}
			require.NoError(t, store.CreateCalendarToken(ctx, "acme", scheduling.CalendarToken{
				ID: "tok-ann-2", PersonID: "ann", Hash: []byte("hash-ann-2"), CreateTime: t0,
			}))
			before := len(servicetest.Outbox(t, db))

			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ErasePerson(ctx, tx, "acme", "ann") })

			_, err := store.Availability(ctx, "acme", "ann")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			for _, table := range []string{"availability_windows", "availability_exceptions", "calendar_tokens"} {
				var n int
				require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE person_id = 'ann'`).Scan(&n))
				require.Zero(t, n, table)
			}
			_, _, err = store.CalendarTokenByHash(ctx, []byte("hash-ann"))
			require.ErrorIs(t, err, apperr.ErrNotFound)

			bob, err := store.Availability(ctx, "acme", "bob")
			require.NoError(t, err)
			require.Len(t, bob.Exceptions, 1)
			tokens, err := store.CalendarTokens(ctx, "acme", "bob")
			require.NoError(t, err)
			require.Len(t, tokens, 1)

			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.availability.erased acme/ann"}, kinds(events))
			require.Equal(t, "ann", payload(t, events[0], &eventsv1.AvailabilityErased{}).GetPersonId())
		})
	})
}
