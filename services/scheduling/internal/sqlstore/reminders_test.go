package sqlstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
	schedulingsql "github.com/tandem-oss/tandem/services/scheduling/internal/sqlstore"
)

func TestReminders(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		start := time.Date(2027, 9, 6, 14, 0, 0, 0, time.UTC)
		reminder := func(x scheduling.Session, offset time.Duration) scheduling.Reminder {
			return scheduling.Reminder{SessionID: x.ID, Offset: offset, Due: x.Start.Add(-offset)}
		}
		r1 := session("r1", "m1", "p1", "p2", start)
		r2 := session("r2", "m2", "p3", "p4", start.Add(2*time.Hour))
		r3 := session("r3", "m3", "p5", "p6", start)
		r4 := session("r4", "m1", "p1", "p2", start)
		require.NoError(t, store.CreateSessions(ctx, "acme", nil, []scheduling.Session{r1, r2, r3}, []scheduling.Reminder{
			reminder(r1, time.Hour), reminder(r1, 24*time.Hour), reminder(r2, time.Hour), reminder(r2, 10*time.Minute),
			reminder(r3, time.Hour),
		}))
		require.NoError(t, store.CreateSessions(ctx, "globex", nil, []scheduling.Session{r4}, []scheduling.Reminder{reminder(r4, time.Hour)}))
		// The store deletes the unfired reminders of every session it
		// unbooks; a row left behind (by a bug or by hand) must still
		// never fire.
		_, err := db.ExecContext(ctx, `UPDATE sessions SET state = $1 WHERE id = 'r3'`, int(scheduling.SessionCancelled))
		require.NoError(t, err)

		next := func(t *testing.T) (time.Time, bool) {
			t.Helper()
			due, ok, err := store.NextReminderDue(ctx)
			require.NoError(t, err)
			return due, ok
		}
		fire := func(t *testing.T, now time.Time, limit int) []servicetest.OutboxRow {
			t.Helper()
			before := len(servicetest.Outbox(t, db))
			n, err := store.FireDueReminders(ctx, now, limit)
			require.NoError(t, err)
			events := outboxSince(t, db, before)
			require.Len(t, events, n)
			return events
		}

		t.Run("the next due reminder is the earliest unfired one of a booked session", func(t *testing.T) {
			due, ok := next(t)
			require.True(t, ok)
			require.Equal(t, start.Add(-24*time.Hour), due)
		})

		t.Run("nothing fires before it is due", func(t *testing.T) {
			require.Empty(t, fire(t, start.Add(-24*time.Hour-time.Microsecond), 10))
		})

		t.Run("due reminders fire in due order, at most limit", func(t *testing.T) {
			events := fire(t, start.Add(-time.Hour), 2)
			require.Equal(t, []string{"tandem.session.reminder_due acme/r1", "tandem.session.reminder_due acme/r1"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.SessionReminderDue{Session: pbconv.Session(r1),
				Offset: durationpb.New(24 * time.Hour), DueTime: pbconv.TS(start.Add(-24 * time.Hour))},
				payload(t, events[0], &eventsv1.SessionReminderDue{}), protocmp.Transform()))
			require.Equal(t, time.Hour, payload(t, events[1], &eventsv1.SessionReminderDue{}).GetOffset().AsDuration())
			require.Equal(t, []storedReminder{
				{Offset: time.Hour, Due: start.Add(-time.Hour), Fired: true},
				{Offset: 24 * time.Hour, Due: start.Add(-24 * time.Hour), Fired: true},
			}, storedReminders(t, db, "acme", "r1"))

			require.Equal(t, []string{"tandem.session.reminder_due globex/r4"}, kinds(fire(t, start.Add(-time.Hour), 10)),
				"any tenant; r3 is not booked")
			require.Empty(t, fire(t, start.Add(-time.Hour), 10), "each fires once")
		})

		t.Run("a reminder carries the session as it is when it fires", func(t *testing.T) {
			due, ok := next(t)
			require.True(t, ok)
			require.Equal(t, r2.Start.Add(-time.Hour), due, "r3's earlier reminder is not booked")
			got, err := store.UpdateSessions(ctx, "acme", []string{"r2"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				x.State, x.Sequence = scheduling.SessionConfirmed, 1
				return scheduling.SessionChange{Event: "confirmed"}, nil
			})
			require.NoError(t, err)
			events := fire(t, r2.Start.Add(-time.Hour), 10)
			require.Equal(t, []string{"tandem.session.reminder_due acme/r2"}, kinds(events))
			require.Empty(t, cmp.Diff(pbconv.Session(got[0]), payload(t, events[0], &eventsv1.SessionReminderDue{}).GetSession(), protocmp.Transform()))
		})

		t.Run("cancelling deletes the unfired reminders only", func(t *testing.T) {
			_, err := store.UpdateSessions(ctx, "acme", []string{"r2"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				x.State = scheduling.SessionCancelled
				return scheduling.SessionChange{Event: "cancelled"}, nil
			})
			require.NoError(t, err)
			require.Equal(t, []storedReminder{{Offset: time.Hour, Due: r2.Start.Add(-time.Hour), Fired: true}},
				storedReminders(t, db, "acme", "r2"))
			require.Empty(t, fire(t, r2.Start, 10), "the 10-minute reminder is gone")
			_, ok := next(t)
			require.False(t, ok)
		})

		t.Run("a reschedule with reset replaces fired reminders too", func(t *testing.T) {
			later := r1.Start.Add(48 * time.Hour)
			_, err := store.UpdateSessions(ctx, "acme", []string{"r1"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				x.Start, x.End = later, later.Add(time.Hour)
				return scheduling.SessionChange{Event: "rescheduled", ResetReminders: true, Reminders: []scheduling.Reminder{
					{SessionID: "r1", Offset: 24 * time.Hour, Due: later.Add(-24 * time.Hour)},
				}}, nil
			})
			require.NoError(t, err)
			require.Equal(t, []storedReminder{{Offset: 24 * time.Hour, Due: later.Add(-24 * time.Hour)}}, storedReminders(t, db, "acme", "r1"))
			due, ok := next(t)
			require.True(t, ok)
			require.Equal(t, later.Add(-24*time.Hour), due)
			require.Equal(t, []string{"tandem.session.reminder_due acme/r1"}, kinds(fire(t, later, 10)))
		})
	})
}

// TestRemindersAcrossReplicas runs FireDueReminders from two database
// handles at once, as two replicas do, then from a restarted one: every
// reminder fires exactly once.
func TestRemindersAcrossReplicas(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		storeA, dbA := openStore(t, url)
		storeB, _ := openStore(t, url)
		now := time.Date(2027, 10, 4, 8, 0, 0, 0, time.UTC)
		offsets := []time.Duration{15 * time.Minute, time.Hour, 24 * time.Hour, 48 * time.Hour}
		// 50 sessions in two tenants, 4 reminders each, all due: the
		// service was down.
		want := map[string]int{}
		for _, tenant := range []string{"acme", "globex"} {
			var sessions []scheduling.Session
			var reminders []scheduling.Reminder
			for i := range 25 {
				x := session(fmt.Sprintf("s%02d", i), "m1", "mentor", "mentee", now.Add(-100*time.Hour+time.Duration(i)*time.Hour))
				sessions = append(sessions, x)
				for _, offset := range offsets {
					reminders = append(reminders, scheduling.Reminder{SessionID: x.ID, Offset: offset, Due: x.Start.Add(-offset)})
					want[fmt.Sprintf("%s/%s/%s", tenant, x.ID, offset)] = 1
				}
			}
			require.NoError(t, storeA.CreateSessions(ctx, tenant, nil, sessions, reminders))
		}
		require.Len(t, want, 200)

		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, store := range []*schedulingsql.Store{storeA, storeB} {
			wg.Go(func() {
				for {
					n, err := store.FireDueReminders(ctx, now, 7)
					if err != nil || n == 0 {
						errs[i] = err
						return
					}
				}
			})
		}
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.Equal(t, want, firedReminders(t, dbA), "each (session, offset) fires exactly once")

		restarted, _ := openStore(t, url)
		n, err := restarted.FireDueReminders(ctx, now, 100)
		require.NoError(t, err)
		require.Zero(t, n, "a restart fires nothing again")

		fresh := session("fresh", "m2", "p1", "p2", now.Add(2*time.Hour))
		require.NoError(t, restarted.CreateSessions(ctx, "acme", nil, []scheduling.Session{fresh},
			[]scheduling.Reminder{{SessionID: "fresh", Offset: time.Hour, Due: now.Add(time.Hour)}}))
		for _, at := range []time.Time{now, now.Add(time.Hour), now.Add(2 * time.Hour)} {
			_, err := restarted.FireDueReminders(ctx, at, 100)
			require.NoError(t, err)
			_, err = storeB.FireDueReminders(ctx, at, 100)
			require.NoError(t, err)
		}
		want["acme/fresh/1h0m0s"] = 1
		require.Equal(t, want, firedReminders(t, dbA))
	})
}

// firedReminders counts the reminder_due events in the outbox by
// "tenant/session/offset".
func firedReminders(t *testing.T, db *sqlstore.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range servicetest.Outbox(t, db) {
		if e.Type != "tandem.session.reminder_due" {
			continue
		}
		p := payload(t, e, &eventsv1.SessionReminderDue{})
		out[fmt.Sprintf("%s/%s/%s", e.Tenant, p.GetSession().GetId(), p.GetOffset().AsDuration())]++
	}
	return out
}
