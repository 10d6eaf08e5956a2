package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// TestProjections checks the projections of other services' events on
// both engines: round trips, newest-event-wins attributes, earliest step
// times whatever the arrival order, erasure, and that none writes an event.
func TestProjections(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		applyPerson := func(t *testing.T, tenant string, p evaluation.Person) {
			t.Helper()
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyPerson(ctx, tx, tenant, p) })
		}
		applyParticipant := func(t *testing.T, tenant string, p evaluation.Participant) {
			t.Helper()
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyParticipant(ctx, tx, tenant, p) })
		}
		applyMatch := func(t *testing.T, tenant string, m evaluation.Match) {
			t.Helper()
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyMatch(ctx, tx, tenant, m) })
		}
		applySession := func(t *testing.T, tenant string, x evaluation.Session) {
			t.Helper()
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplySession(ctx, tx, tenant, x) })
		}
		// person reads a person through the report data of the program
		// "people", where every person the tests use has a participant.
		person := func(t *testing.T, tenant, id string) (evaluation.Person, bool) {
			t.Helper()
			applyParticipant(t, tenant, evaluation.Participant{ID: "people-" + id, ProgramID: "people", PersonID: id,
				Role: evaluation.RoleMentee, State: evaluation.ParticipantEnrolled, EnrolTime: t0, EventTime: t0})
			d, err := store.ProgramData(ctx, tenant, "people")
			require.NoError(t, err)
			p, ok := d.People[id]
			return p, ok
		}
		events := outboxLen(t, db)

		t.Run("a person round trips", func(t *testing.T) {
			alice := evaluation.Person{ID: "alice", Department: "Engineering", Seniority: 7,
				Employment: evaluation.EmploymentActive, EventTime: at(0)}
			applyPerson(t, "acme", alice)
			got, ok := person(t, "acme", "alice")
			require.True(t, ok)
			require.Empty(t, cmp.Diff(alice, got))
		})

		t.Run("a late person event changes nothing; one of the same time applies", func(t *testing.T) {
			applyPerson(t, "acme", evaluation.Person{ID: "alice", Department: "Old", EventTime: at(-time.Hour)})
			got, _ := person(t, "acme", "alice")
			require.Equal(t, "Engineering", got.Department)
			applyPerson(t, "acme", evaluation.Person{ID: "alice", Department: "Sales", Seniority: 8,
				Employment: evaluation.EmploymentLeave, EventTime: at(0)})
			got, _ = person(t, "acme", "alice")
			require.Equal(t, evaluation.Person{ID: "alice", Department: "Sales", Seniority: 8,
				Employment: evaluation.EmploymentLeave, EventTime: at(0)}, got)
		})

		t.Run("the terminate time is the first seen since last employed", func(t *testing.T) {
			terminated := func(when time.Time) evaluation.Person {
				return evaluation.Person{ID: "alice", Department: "Sales", Employment: evaluation.EmploymentTerminated,
					TerminateTime: when, EventTime: when}
			}
			terminateTime := func(t *testing.T) time.Time {
				t.Helper()
				got, _ := person(t, "acme", "alice")
				return got.TerminateTime
			}
			applyPerson(t, "acme", terminated(at(time.Hour)))
			require.Equal(t, at(time.Hour), terminateTime(t))
			applyPerson(t, "acme", terminated(at(2*time.Hour)))
			require.Equal(t, at(time.Hour), terminateTime(t), "a later terminated event keeps the first time")
			applyPerson(t, "acme", evaluation.Person{ID: "alice", Employment: evaluation.EmploymentActive,
				TerminateTime: at(3 * time.Hour), EventTime: at(3 * time.Hour)})
			require.True(t, terminateTime(t).IsZero(), "employed again clears it")
			applyPerson(t, "acme", terminated(at(2*time.Hour+30*time.Minute)))
			require.True(t, terminateTime(t).IsZero(), "a late terminated event changes nothing")
			applyPerson(t, "acme", terminated(at(4*time.Hour)))
			require.Equal(t, at(4*time.Hour), terminateTime(t))
		})

		t.Run("erasing keeps the id and terminate time only, for good", func(t *testing.T) {
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ErasePerson(ctx, tx, "acme", "alice") })
			want := evaluation.Person{ID: "alice", TerminateTime: at(4 * time.Hour), Erased: true, EventTime: at(4 * time.Hour)}
			got, _ := person(t, "acme", "alice")
			require.Empty(t, cmp.Diff(want, got))
			applyPerson(t, "acme", evaluation.Person{ID: "alice", Department: "Back", Employment: evaluation.EmploymentActive,
				EventTime: at(5 * time.Hour)})
			got, _ = person(t, "acme", "alice")
			require.Empty(t, cmp.Diff(want, got), "an event after the erasure changes nothing")
		})

		t.Run("a person erased before any event stays erased", func(t *testing.T) {
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ErasePerson(ctx, tx, "acme", "ghost") })
			applyPerson(t, "acme", evaluation.Person{ID: "ghost", Department: "Engineering", EventTime: at(0)})
			got, ok := person(t, "acme", "ghost")
			require.True(t, ok)
			require.Equal(t, evaluation.Person{ID: "ghost", Erased: true}, got)
		})

		t.Run("a person event that shows the person erased stores them erased", func(t *testing.T) {
			applyPerson(t, "acme", evaluation.Person{ID: "bob", Department: "Ops", Employment: evaluation.EmploymentTerminated,
				TerminateTime: at(0), EventTime: at(0)})
			applyPerson(t, "acme", evaluation.Person{ID: "bob", Department: "Ops", Erased: true, EventTime: at(time.Hour)})
			got, _ := person(t, "acme", "bob")
			require.Equal(t, evaluation.Person{ID: "bob", TerminateTime: at(0), Erased: true, EventTime: at(time.Hour)}, got)
		})

		t.Run("a participant round trips", func(t *testing.T) {
			p := evaluation.Participant{ID: "part-1", ProgramID: "prog-1", PersonID: "carol", Role: evaluation.RoleMentor,
				State: evaluation.ParticipantEnrolled, DevelopmentSkills: []string{"go", "sql"}, EnrolTime: at(2 * time.Hour),
				EventTime: at(2 * time.Hour)}
			applyParticipant(t, "acme", p)
			got, err := store.Participant(ctx, "acme", "part-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(p, got))
			_, err = store.Participant(ctx, "globex", "part-1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("a participant keeps the earliest enrol time and the newest withdraw time", func(t *testing.T) {
			// The enrolled event arrives after a newer update.
			applyParticipant(t, "acme", evaluation.Participant{ID: "part-1", ProgramID: "prog-1", PersonID: "carol",
				Role: evaluation.RoleMentor, State: evaluation.ParticipantEnrolled, EnrolTime: at(0), EventTime: at(0)})
			got, err := store.Participant(ctx, "acme", "part-1")
			require.NoError(t, err)
			require.Equal(t, at(0), got.EnrolTime)
			require.Equal(t, at(2*time.Hour), got.EventTime)
			require.Equal(t, []string{"go", "sql"}, got.DevelopmentSkills, "the late event's attributes are not applied")

			applyParticipant(t, "acme", evaluation.Participant{ID: "part-1", ProgramID: "prog-1", PersonID: "carol",
				Role: evaluation.RoleMentor, State: evaluation.ParticipantWithdrawn, WithdrawTime: at(3 * time.Hour),
				EventTime: at(3 * time.Hour)})
			got, err = store.Participant(ctx, "acme", "part-1")
			require.NoError(t, err)
			require.Equal(t, evaluation.Participant{ID: "part-1", ProgramID: "prog-1", PersonID: "carol",
				Role: evaluation.RoleMentor, State: evaluation.ParticipantWithdrawn, EnrolTime: at(0),
				WithdrawTime: at(3 * time.Hour), EventTime: at(3 * time.Hour)}, got)

			applyParticipant(t, "acme", evaluation.Participant{ID: "part-1", ProgramID: "prog-1", PersonID: "carol",
				Role: evaluation.RoleMentor, State: evaluation.ParticipantEnrolled, EnrolTime: at(4 * time.Hour),
				EventTime: at(4 * time.Hour)})
			got, err = store.Participant(ctx, "acme", "part-1")
			require.NoError(t, err)
			require.Equal(t, evaluation.ParticipantEnrolled, got.State)
			require.Equal(t, at(0), got.EnrolTime)
			require.True(t, got.WithdrawTime.IsZero(), "enrolled again clears the withdraw time")
		})

		t.Run("a match keeps each step's earliest time whatever the order", func(t *testing.T) {
			base := evaluation.Match{ID: "m1", ProgramID: "prog-1", MentorParticipantID: "part-1", MenteeParticipantID: "part-2",
				MentorPersonID: "carol", MenteePersonID: "dave", Score: 91.25}
			step := func(state evaluation.MatchState, when time.Time, set func(*evaluation.Match)) evaluation.Match {
				m := base
				m.State, m.EventTime = state, when
				set(&m)
				return m
			}
			applyMatch(t, "acme", step(evaluation.MatchActive, at(2*day), func(m *evaluation.Match) { m.AcceptTime, m.ActivateTime = at(2*day), at(2*day) }))
			applyMatch(t, "acme", step(evaluation.MatchAccepted, at(day), func(m *evaluation.Match) { m.AcceptTime = at(day) }))
			applyMatch(t, "acme", step(evaluation.MatchProposed, at(0), func(m *evaluation.Match) { m.ProposeTime = at(0); m.Score = 10 }))
			want := base
			want.State, want.ProposeTime, want.AcceptTime, want.ActivateTime, want.EventTime = evaluation.MatchActive, at(0), at(day), at(2*day), at(2*day)
			got, err := store.Match(ctx, "acme", "m1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(want, got))

			applyMatch(t, "acme", step(evaluation.MatchEnded, at(10*day), func(m *evaluation.Match) { m.EndTime = at(10 * day) }))
			applyMatch(t, "acme", step(evaluation.MatchEnded, at(11*day), func(m *evaluation.Match) { m.EndTime = at(11 * day) }))
			want.State, want.EndTime, want.EventTime = evaluation.MatchEnded, at(10*day), at(11*day)
			got, err = store.Match(ctx, "acme", "m1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(want, got))
			_, err = store.Match(ctx, "acme", "m2")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("a person's matches are those they are a side of", func(t *testing.T) {
			applyMatch(t, "acme", evaluation.Match{ID: "m0", ProgramID: "prog-2", MentorPersonID: "erin", MenteePersonID: "carol",
				State: evaluation.MatchProposed, ProposeTime: at(-day), EventTime: at(-day)})
			applyMatch(t, "acme", evaluation.Match{ID: "m9", ProgramID: "prog-1", MentorPersonID: "erin", MenteePersonID: "frank",
				State: evaluation.MatchProposed, ProposeTime: at(-day), EventTime: at(-day)})
			applyMatch(t, "globex", evaluation.Match{ID: "m8", ProgramID: "prog-1", MentorPersonID: "carol", MenteePersonID: "frank",
				State: evaluation.MatchProposed, EventTime: at(0)})
			ids := func(person string) []string {
				ms, err := store.PersonMatches(ctx, "acme", person)
				require.NoError(t, err)
				var out []string
				for _, m := range ms {
					out = append(out, m.ID)
				}
				return out
			}
			require.Equal(t, []string{"m0", "m1"}, ids("carol"))
			require.Equal(t, []string{"m1"}, ids("dave"))
			require.Equal(t, []string{"m0", "m9"}, ids("erin"))
			require.Empty(t, ids("nobody"))
		})

		t.Run("a session keeps the earliest complete and cancel times and the newest canceller", func(t *testing.T) {
			s := evaluation.Session{ID: "s1", MatchID: "m1", State: evaluation.SessionCancelled, StartTime: at(5 * day),
				EndTime: at(5*day + time.Hour), CancelTime: at(day), CancelledBy: "dave", EventTime: at(day)}
			applySession(t, "acme", s)
			got, err := store.Session(ctx, "acme", "s1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(s, got))

			applySession(t, "acme", evaluation.Session{ID: "s1", MatchID: "m1", State: evaluation.SessionConfirmed,
				StartTime: at(4 * day), EndTime: at(4*day + time.Hour), EventTime: at(day / 2)})
			got, err = store.Session(ctx, "acme", "s1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(s, got), "a late confirmation changes nothing")

			applySession(t, "acme", evaluation.Session{ID: "s1", MatchID: "m1", State: evaluation.SessionCancelled,
				StartTime: at(5 * day), EndTime: at(5*day + time.Hour), CancelTime: at(2 * day), EventTime: at(2 * day)})
			got, err = store.Session(ctx, "acme", "s1")
			require.NoError(t, err)
			require.Equal(t, "", got.CancelledBy, "who cancelled follows the newest event")
			require.Equal(t, at(day), got.CancelTime)

			applySession(t, "acme", evaluation.Session{ID: "s2", MatchID: "m1", State: evaluation.SessionCompleted,
				StartTime: at(3 * day), EndTime: at(3*day + time.Hour), CompleteTime: at(3*day + 2*time.Hour), EventTime: at(3*day + 2*time.Hour)})
			applySession(t, "acme", evaluation.Session{ID: "s2", MatchID: "m1", State: evaluation.SessionCompleted,
				StartTime: at(3 * day), EndTime: at(3*day + time.Hour), CompleteTime: at(3*day + time.Hour), EventTime: at(3*day + time.Hour)})
			got, err = store.Session(ctx, "acme", "s2")
			require.NoError(t, err)
			require.Equal(t, at(3*day+time.Hour), got.CompleteTime)
			require.Equal(t, at(3*day+2*time.Hour), got.EventTime)
			_, err = store.Session(ctx, "globex", "s2")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("a failed transaction projects nothing", func(t *testing.T) {
			err := db.InTx(ctx, func(tx *sql.Tx) error {
				if err := store.ApplyMatch(ctx, tx, "acme", evaluation.Match{ID: "m7", ProgramID: "prog-1",
					State: evaluation.MatchProposed, EventTime: at(0)}); err != nil {
					return err
				}
				return context.Canceled
			})
			require.ErrorIs(t, err, context.Canceled)
			_, err = store.Match(ctx, "acme", "m7")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("projections write no event", func(t *testing.T) {
			require.Equal(t, events, outboxLen(t, db))
		})
	})
}
