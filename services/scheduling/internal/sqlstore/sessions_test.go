package sqlstore_test

import (
	"errors"
	"sync/atomic"
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
	schedulingsql "github.com/tandem-oss/tandem/services/scheduling/internal/sqlstore"
)

// TestSessionWrites covers creating and updating sessions: round trips,
// events, reminders and the booking rules, on both engines.
func TestSessionWrites(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		_, db := openStore(t, url)
		var notified atomic.Int32
		store := schedulingsql.New(db, func() { notified.Add(1) })
		mon := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
		week := 7 * 24 * time.Hour

		s1 := inRoom(session("s-1", "match-1", "mentor-a", "mentee-b", mon), "room-1")
		s1.SeriesID, s1.RescheduleReason, s1.CancelReason = "series-1", "moved from Friday", "kept for the record"
		s1.CancelledBy, s1.AbsentPersonID, s1.Sequence, s1.UpdateTime = "mentee-b", "mentor-a", 3, t0.Add(time.Minute)
		s2 := session("s-2", "match-1", "mentor-a", "mentee-b", mon.Add(week))
		s3 := session("s-3", "match-1", "mentor-a", "mentee-b", mon.Add(2*week))
		s2.SeriesID, s3.SeriesID = "series-1", "series-1"
		series := &scheduling.Series{ID: "series-1", MatchID: "match-1", Cadence: scheduling.Weekly,
			Sessions: []scheduling.Session{s1, s2, s3}, CreateTime: t0}
		var reminders []scheduling.Reminder
		for _, x := range series.Sessions {
			for _, offset := range []time.Duration{24 * time.Hour, 15 * time.Minute} {
				reminders = append(reminders, scheduling.Reminder{SessionID: x.ID, Offset: offset, Due: x.Start.Add(-offset)})
			}
		}

		t.Run("a series is stored with its sessions, reminders and events", func(t *testing.T) {
			require.NoError(t, store.CreateSessions(ctx, "acme", series, series.Sessions, reminders))
			got, err := store.Session(ctx, "acme", "s-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(s1, got))
			all, err := store.SeriesSessions(ctx, "acme", "series-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(series.Sessions, all))
			require.Equal(t, []storedReminder{
				{Offset: 15 * time.Minute, Due: s2.Start.Add(-15 * time.Minute)},
				{Offset: 24 * time.Hour, Due: s2.Start.Add(-24 * time.Hour)},
			}, storedReminders(t, db, "acme", "s-2"))

			events := servicetest.Outbox(t, db)
			require.Equal(t, []string{
				"tandem.session.proposed acme/s-1", "tandem.session.proposed acme/s-2",
				"tandem.session.proposed acme/s-3", "tandem.series.created acme/series-1",
			}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.SessionProposed{Session: pbconv.Session(s1)},
				payload(t, events[0], &eventsv1.SessionProposed{}), protocmp.Transform()))
			require.Empty(t, cmp.Diff(&eventsv1.SeriesCreated{Series: pbconv.Series(*series)},
				payload(t, events[3], &eventsv1.SeriesCreated{}), protocmp.Transform()))
			require.EqualValues(t, 1, notified.Load())
		})

		t.Run("unknown sessions are not found and tenants are separate", func(t *testing.T) {
			_, err := store.Session(ctx, "acme", "nothing")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			_, err = store.Session(ctx, "other", "s-1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			theirs, err := store.SeriesSessions(ctx, "other", "series-1")
			require.NoError(t, err)
			require.Empty(t, theirs)
			// Another tenant's people are other people: no conflict.
			require.NoError(t, store.CreateSessions(ctx, "other", nil, []scheduling.Session{s1}, nil))
		})

		// refused checks that err is a booking conflict with the message
		// want and that nothing was written.
		refused := func(t *testing.T, err error, want string, absent ...string) {
			t.Helper()
			require.ErrorIs(t, err, apperr.ErrFailedPrecondition)
			require.ErrorContains(t, err, want)
			for _, id := range absent {
				_, err := store.Session(ctx, "acme", id)
				require.ErrorIs(t, err, apperr.ErrNotFound, "session %s", id)
				require.Empty(t, storedReminders(t, db, "acme", id))
			}
		}

		t.Run("an overlap with a person's booked session stores nothing", func(t *testing.T) {
			before, notifiedBefore := len(servicetest.Outbox(t, db)), notified.Load()
			early := session("early", "match-2", "mentor-a", "mentee-c", mon.Add(-3*time.Hour))
			clash := session("clash", "match-2", "mentor-a", "mentee-c", mon.Add(30*time.Minute))
			err := store.CreateSessions(ctx, "acme", nil, []scheduling.Session{early, clash},
				[]scheduling.Reminder{{SessionID: "clash", Offset: time.Hour, Due: clash.Start.Add(-time.Hour)}})
			refused(t, err, "person mentor-a already has session s-1 from 2027-03-01T10:00:00Z to 2027-03-01T11:00:00Z", "early", "clash")

			// The mentee of one match is the mentor of another: still one person.
			swapped := session("swapped", "match-3", "mentee-b", "someone", mon.Add(59*time.Minute))
			err = store.CreateSessions(ctx, "acme", nil, []scheduling.Session{swapped}, nil)
			refused(t, err, "person mentee-b already has session s-1", "swapped")
			require.Len(t, servicetest.Outbox(t, db), before, "no event")
			require.Equal(t, notifiedBefore, notified.Load(), "no relay wake-up")
		})

		t.Run("the sessions of one call may not overlap each other", func(t *testing.T) {
			a := session("n-1", "match-2", "mentor-x", "mentee-y", mon.Add(24*time.Hour))
			b := session("n-2", "match-2", "mentor-x", "mentee-y", mon.Add(24*time.Hour+30*time.Minute))
			err := store.CreateSessions(ctx, "acme", nil, []scheduling.Session{a, b}, nil)
			refused(t, err, "person mentor-x already has session n-2", "n-1", "n-2")
		})

		t.Run("a room holds one booked session at a time", func(t *testing.T) {
			other := inRoom(session("room-clash", "match-4", "person-p", "person-q", mon.Add(-30*time.Minute)), "room-1")
			err := store.CreateSessions(ctx, "acme", nil, []scheduling.Session{other}, nil)
			refused(t, err, "room room-1 is booked by session s-1 from 2027-03-01T10:00:00Z", "room-clash")

			remote := session("remote-1", "match-4", "person-p", "person-q", mon)
			alsoRemote := session("remote-2", "match-6", "person-t", "person-u", mon)
			touching := inRoom(session("touching", "match-4", "person-p", "person-q", mon.Add(time.Hour)), "room-1")
			elsewhere := inRoom(session("elsewhere", "match-5", "person-r", "person-s", mon), "room-2")
			require.NoError(t, store.CreateSessions(ctx, "acme", nil, []scheduling.Session{remote, alsoRemote, touching, elsewhere}, nil),
				"remote sessions share no room, touching sessions do not overlap, other rooms are free")
		})

		confirmed := s1
		t.Run("confirming writes session.confirmed and keeps the session's identity", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			got, err := store.UpdateSessions(ctx, "acme", []string{"s-1"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				require.Empty(t, cmp.Diff(s1, *x), "fn sees the stored session")
				x.State, x.Sequence, x.UpdateTime = scheduling.SessionConfirmed, x.Sequence+1, t0.Add(time.Hour)
				x.MatchID, x.MentorPersonID, x.CreateTime = "elsewhere", "intruder", t0.Add(time.Hour)
				return scheduling.SessionChange{Event: "confirmed"}, nil
			})
			require.NoError(t, err)
			confirmed.State, confirmed.Sequence, confirmed.UpdateTime = scheduling.SessionConfirmed, 4, t0.Add(time.Hour)
			require.Empty(t, cmp.Diff([]scheduling.Session{confirmed}, got))
			stored, err := store.Session(ctx, "acme", "s-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(confirmed, stored))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.session.confirmed acme/s-1"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.SessionConfirmed{Session: pbconv.Session(confirmed)},
				payload(t, events[0], &eventsv1.SessionConfirmed{}), protocmp.Transform()))
		})

		// s-2 moves half an hour later with a new reminder set.
		moved := s2
		moved.Start, moved.End = s2.Start.Add(30*time.Minute), s2.End.Add(30*time.Minute)
		t.Run("a reschedule with reset replaces the reminders", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			got, err := store.UpdateSessions(ctx, "acme", []string{"s-2"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				x.Start, x.End = moved.Start, moved.End
				return scheduling.SessionChange{Event: "rescheduled", PreviousStart: s2.Start, PreviousEnd: s2.End,
					ResetReminders: true, Reminders: []scheduling.Reminder{{SessionID: "s-2", Offset: time.Hour, Due: moved.Start.Add(-time.Hour)}}}, nil
			})
			require.NoError(t, err)
			require.Empty(t, cmp.Diff([]scheduling.Session{moved}, got))
			require.Equal(t, []storedReminder{{Offset: time.Hour, Due: moved.Start.Add(-time.Hour)}}, storedReminders(t, db, "acme", "s-2"))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.session.rescheduled acme/s-2"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.SessionRescheduled{Session: pbconv.Session(moved),
				PreviousStartTime: pbconv.TS(s2.Start), PreviousEndTime: pbconv.TS(s2.End)},
				payload(t, events[0], &eventsv1.SessionRescheduled{}), protocmp.Transform()))
		})

		// unchanged checks that the sessions are stored as want and that
		// nothing was written since before events.
		unchanged := func(t *testing.T, before int, want ...scheduling.Session) {
			t.Helper()
			for _, w := range want {
				got, err := store.Session(ctx, "acme", w.ID)
				require.NoError(t, err)
				require.Empty(t, cmp.Diff(w, got))
			}
			require.Empty(t, outboxSince(t, db, before))
		}

		t.Run("a reschedule into a booked time changes nothing", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			_, err := store.UpdateSessions(ctx, "acme", []string{"s-3"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				x.Start, x.End = mon.Add(30*time.Minute), mon.Add(90*time.Minute)
				return scheduling.SessionChange{Event: "rescheduled", ResetReminders: true}, nil
			})
			require.ErrorIs(t, err, apperr.ErrFailedPrecondition)
			require.ErrorContains(t, err, "person mentor-a already has session s-1")
			unchanged(t, before, s3)
			require.Len(t, storedReminders(t, db, "acme", "s-3"), 2)

			_, err = store.UpdateSessions(ctx, "acme", []string{"s-3"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				x.RoomID = "room-2"
				x.Start, x.End = mon, mon.Add(time.Hour)
				return scheduling.SessionChange{Event: "rescheduled"}, nil
			})
			require.ErrorIs(t, err, apperr.ErrFailedPrecondition)
			unchanged(t, before, s3)
		})

		t.Run("a series shifted by its cadence is checked at its new times", func(t *testing.T) {
			// Each session moves into the week of the next one, where that
			// one is no longer.
			before := len(servicetest.Outbox(t, db))
			got, err := store.UpdateSessions(ctx, "acme", []string{"s-1", "s-2", "s-3"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				change := scheduling.SessionChange{Event: "rescheduled", PreviousStart: x.Start, PreviousEnd: x.End}
				x.Start, x.End = x.Start.Add(week), x.End.Add(week)
				return change, nil
			})
			require.NoError(t, err)
			require.Len(t, got, 3)
			require.Equal(t, []time.Time{mon.Add(week), moved.Start.Add(week), mon.Add(3 * week)},
				[]time.Time{got[0].Start, got[1].Start, got[2].Start})
			require.Equal(t, []string{"tandem.session.rescheduled acme/s-1", "tandem.session.rescheduled acme/s-2",
				"tandem.session.rescheduled acme/s-3"}, kinds(outboxSince(t, db, before)))
			confirmed, moved, s3 = got[0], got[1], got[2]
		})

		t.Run("an error from fn aborts every change", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			boom := errors.New("planned failure")
			_, err := store.UpdateSessions(ctx, "acme", []string{"s-1", "s-2"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				if x.ID == "s-2" {
					return scheduling.SessionChange{}, boom
				}
				x.State = scheduling.SessionCompleted
				return scheduling.SessionChange{Event: "completed"}, nil
			})
			require.ErrorIs(t, err, boom)
			unchanged(t, before, confirmed, moved)

			_, err = store.UpdateSessions(ctx, "acme", []string{"s-1"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				x.State = scheduling.SessionCompleted
				return scheduling.SessionChange{Event: "exploded"}, nil
			})
			require.ErrorContains(t, err, `unknown session event "exploded"`)
			unchanged(t, before, confirmed)
		})

		t.Run("unknown, repeated and mixed sessions are refused before fn", func(t *testing.T) {
			called := false
			fn := func(*scheduling.Session) (scheduling.SessionChange, error) {
				called = true
				return scheduling.SessionChange{Event: "confirmed"}, nil
			}
			_, err := store.UpdateSessions(ctx, "acme", []string{"s-1", "nothing"}, fn)
			require.ErrorIs(t, err, apperr.ErrNotFound)
			_, err = store.UpdateSessions(ctx, "acme", []string{"s-1", "s-1"}, fn)
			require.ErrorIs(t, err, apperr.ErrInvalid)
			_, err = store.UpdateSessions(ctx, "acme", []string{"s-1", "remote-1"}, fn)
			require.ErrorIs(t, err, apperr.ErrInvalid)
			require.False(t, called)
		})

		t.Run("a session that is no longer booked frees its time and its unfired reminders", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			got, err := store.UpdateSessions(ctx, "acme", []string{"s-3"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				x.State, x.CancelReason, x.CancelledBy = scheduling.SessionCancelled, "holiday", "mentee-b"
				return scheduling.SessionChange{Event: "cancelled"}, nil
			})
			require.NoError(t, err)
			require.Empty(t, storedReminders(t, db, "acme", "s-3"))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.session.cancelled acme/s-3"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.SessionCancelled{Session: pbconv.Session(got[0])},
				payload(t, events[0], &eventsv1.SessionCancelled{}), protocmp.Transform()))

			again := inRoom(session("rebooked", "match-1", "mentor-a", "mentee-b", s3.Start), "room-1")
			require.NoError(t, store.CreateSessions(ctx, "acme", nil, []scheduling.Session{again}, nil))
		})

		t.Run("completed and no-show write their events", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			_, err := store.UpdateSessions(ctx, "acme", []string{"s-1"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				x.State = scheduling.SessionCompleted
				return scheduling.SessionChange{Event: "completed"}, nil
			})
			require.NoError(t, err)
			_, err = store.UpdateSessions(ctx, "acme", []string{"s-2"}, func(x *scheduling.Session) (scheduling.SessionChange, error) {
				x.State, x.AbsentPersonID = scheduling.SessionNoShow, "mentee-b"
				return scheduling.SessionChange{Event: "no_show"}, nil
			})
			require.NoError(t, err)
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.session.completed acme/s-1", "tandem.session.no_show acme/s-2"}, kinds(events))
			require.Equal(t, "mentee-b", payload(t, events[1], &eventsv1.SessionNoShow{}).GetSession().GetAbsentPersonId())
			require.Empty(t, storedReminders(t, db, "acme", "s-2"), "a no-show's unfired reminders are deleted")
		})
	})
}
