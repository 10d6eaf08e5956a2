package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/engine"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	matchingsql "github.com/tandem-oss/tandem/services/matching/internal/sqlstore"
)

// openStore opens a fresh store on url.
func openStore(t *testing.T, url string) (*matchingsql.Store, *sqlstore.DB) {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), url, eventbus.Migrations, matchingsql.Migrations)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return matchingsql.New(db, nil), db
}

// inTx runs one projection write in its own transaction.
func inTx(t *testing.T, db *sqlstore.DB, fn func(ctx context.Context, tx *sql.Tx) error) {
	t.Helper()
	require.NoError(t, db.InTx(t.Context(), func(tx *sql.Tx) error { return fn(t.Context(), tx) }))
}

func TestProjection(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		person := func(p matching.Person) {
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyPerson(ctx, tx, "acme", p) })
		}
		program := func(p matching.Program) {
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyProgram(ctx, tx, "acme", p) })
		}
		participant := func(p matching.Participant) {
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ApplyParticipant(ctx, tx, "acme", p) })
		}
		epoch := func(programID string) int64 {
			e, err := store.Epoch(ctx, "acme", programID)
			require.NoError(t, err)
			return e
		}

		t.Run("an unknown program is not found", func(t *testing.T) {
			_, err := store.ProgramInput(ctx, "acme", "nothing")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		// boss ← lead ← junior; senior reports to boss; on-leave and erased
		// people and a withdrawn participant are not eligible.
		active := matching.EmploymentActive
		person(matching.Person{ID: "boss", Department: "Board", Seniority: 9, Status: active, Languages: []string{"en"}})
		person(matching.Person{ID: "lead", Department: "Eng", Seniority: 6, ManagerID: "boss", Status: active, TimeZone: "Europe/Paris"})
		person(matching.Person{ID: "junior", Department: "Eng", Seniority: 2, ManagerID: "lead", Status: active,
			Languages: []string{"en", "fr"}, Location: "Lyon"})
		person(matching.Person{ID: "senior", Department: "Sales", Seniority: 8, ManagerID: "boss", Status: active})
		person(matching.Person{ID: "away", Seniority: 3, Status: matching.EmploymentLeave})
		program(matching.Program{ID: "prog", Type: matching.ProgramReverse, State: matching.ProgramEnrolling,
			Format: matching.FormatRemote, DefaultCapacity: 2, MaxCapacity: 5})
		program(matching.Program{ID: "other", Type: matching.ProgramClassic, State: matching.ProgramDraft})
		require.EqualValues(t, 1, epoch("prog"))

		juniorMentor := matching.Participant{ID: "p-junior", ProgramID: "prog", PersonID: "junior", Role: matching.RoleMentor,
			State: matching.ParticipantEnrolled, Competencies: map[string]int{"ai": 5}, WorkStyle: "structured",
			CommunicationStyle: "direct", Motivation: "teach", Format: matching.FormatHybrid, Prefer: []string{"senior"}}
		participant(juniorMentor)
		participant(matching.Participant{ID: "p-lead", ProgramID: "prog", PersonID: "lead", Role: matching.RoleMentor,
			State: matching.ParticipantEnrolled, Capacity: 4})
		seniorMentee := matching.Participant{ID: "p-senior", ProgramID: "prog", PersonID: "senior", Role: matching.RoleMentee,
			State: matching.ParticipantEnrolled, Wants: []engine.Want{{Skill: "ai", Current: 1, Target: 4}}, Avoid: []string{"lead"}}
		participant(seniorMentee)
		participant(matching.Participant{ID: "p-away", ProgramID: "prog", PersonID: "away", Role: matching.RoleMentee,
			State: matching.ParticipantEnrolled})
		participant(matching.Participant{ID: "p-gone", ProgramID: "prog", PersonID: "boss", Role: matching.RoleMentee,
			State: matching.ParticipantWithdrawn})
		participant(matching.Participant{ID: "p-ghost", ProgramID: "prog", PersonID: "nobody", Role: matching.RoleMentee,
			State: matching.ParticipantEnrolled})
		participant(matching.Participant{ID: "o-senior", ProgramID: "other", PersonID: "senior", Role: matching.RoleMentee,
			State: matching.ParticipantEnrolled})
		require.EqualValues(t, 7, epoch("prog"), "one bump for the program and one per participant event")

		t.Run("the input holds the eligible participants as profiles", func(t *testing.T) {
			in, err := store.ProgramInput(ctx, "acme", "prog")
			require.NoError(t, err)
			want := matching.Input{
				Program: matching.Program{ID: "prog", Type: matching.ProgramReverse, State: matching.ProgramEnrolling,
					Format: matching.FormatRemote, DefaultCapacity: 2, MaxCapacity: 5},
				Config: matching.DefaultScoringConfig("prog"),
				Mentors: []engine.Profile{
					{ID: "p-junior", PersonID: "junior", Seniority: 2, Department: "Eng", Managers: []string{"lead", "boss"},
						Languages: []string{"en", "fr"}, Location: "Lyon", Format: engine.FormatHybrid, WorkStyle: "structured",
						CommunicationStyle: "direct", Motivation: "teach", Competencies: map[string]int{"ai": 5}, Capacity: 2,
						Prefer: []string{"senior"}},
					{ID: "p-lead", PersonID: "lead", Seniority: 6, Department: "Eng", Managers: []string{"boss"},
						TimeZone: "Europe/Paris", Capacity: 4},
				},
				Mentees: []engine.Profile{
					{ID: "p-senior", PersonID: "senior", Seniority: 8, Department: "Sales", Managers: []string{"boss"},
						Wants: []engine.Want{{Skill: "ai", Current: 1, Target: 4}}, Avoid: []string{"lead"}},
				},
				Remaining: map[string]int{"p-junior": 2, "p-lead": 4},
				Live:      map[string]bool{},
				Epoch:     7,
			}
			want.Rules = matching.RulesFor(want.Program, want.Config, nil)
			require.Empty(t, cmp.Diff(want, in))
		})

		t.Run("a configuration update is in the input and bumps the epoch", func(t *testing.T) {
			c := matching.DefaultScoringConfig("prog")
			c.Version, c.MinPairScore = 1, 30
			require.NoError(t, store.AddScoringConfig(ctx, "acme", c))
			in, err := store.ProgramInput(ctx, "acme", "prog")
			require.NoError(t, err)
			require.EqualValues(t, 1, in.ConfigVersion)
			require.Equal(t, 30.0, in.Rules.MinPairScore)
			require.EqualValues(t, 8, in.Epoch)
		})

		t.Run("a person's change bumps only their programs", func(t *testing.T) {
			person(matching.Person{ID: "senior", Department: "Marketing", Seniority: 8, ManagerID: "boss", Status: active})
			require.EqualValues(t, 9, epoch("prog"))
			require.EqualValues(t, 3, epoch("other"), "senior is a mentee of both")
			person(matching.Person{ID: "outsider", Status: active})
			require.EqualValues(t, 9, epoch("prog"), "a person in no program bumps nothing")
		})

		t.Run("a change of manager bumps every program", func(t *testing.T) {
			person(matching.Person{ID: "outsider", ManagerID: "senior", Status: active})
			require.EqualValues(t, 10, epoch("prog"))
			require.EqualValues(t, 4, epoch("other"))
		})

		t.Run("an update of a program bumps it", func(t *testing.T) {
			program(matching.Program{ID: "other", Type: matching.ProgramClassic, State: matching.ProgramEnrolling})
			require.EqualValues(t, 5, epoch("other"))
			p, err := store.Program(ctx, "acme", "other")
			require.NoError(t, err)
			require.Equal(t, matching.ProgramEnrolling, p.State)
		})

		t.Run("a manager cycle does not hang the input", func(t *testing.T) {
			person(matching.Person{ID: "boss", Seniority: 9, ManagerID: "junior", Status: active})
			in, err := store.ProgramInput(ctx, "acme", "prog")
			require.NoError(t, err)
			require.Equal(t, []string{"lead", "boss"}, in.Mentors[0].Managers)
			require.Equal(t, []string{"boss", "junior"}, in.Mentors[1].Managers)
		})

		t.Run("erasure keeps only ids", func(t *testing.T) {
			before := epoch("prog")
			inTx(t, db, func(ctx context.Context, tx *sql.Tx) error { return store.ErasePerson(ctx, tx, "acme", "junior") })
			require.Equal(t, before+1, epoch("prog"))
			p, err := store.Person(ctx, "acme", "junior")
			require.NoError(t, err)
			require.Equal(t, matching.Person{ID: "junior", Erased: true}, p)
			part, _, found, err := store.Participant(ctx, "acme", "p-junior")
			require.NoError(t, err)
			require.True(t, found)
			require.Equal(t, matching.Participant{ID: "p-junior", ProgramID: "prog", PersonID: "junior", Role: matching.RoleMentor,
				State: matching.ParticipantEnrolled}, part)
			in, err := store.ProgramInput(ctx, "acme", "prog")
			require.NoError(t, err)
			require.Len(t, in.Mentors, 1, "an erased person is not matched")
			require.Equal(t, "p-lead", in.Mentors[0].ID)

			// A late snapshot of the enrolment brings no profile back.
			participant(juniorMentor)
			part, _, _, err = store.Participant(ctx, "acme", "p-junior")
			require.NoError(t, err)
			require.Empty(t, part.Competencies)
			require.Empty(t, part.Motivation)
		})

		t.Run("tenants are separate", func(t *testing.T) {
			_, err := store.ProgramInput(ctx, "globex", "prog")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			_, _, _, err = store.Participant(ctx, "globex", "p-lead")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			_, _, err = store.ParticipantRef(ctx, "globex", "p-lead")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			program, person, err := store.ParticipantRef(ctx, "acme", "p-junior")
			require.NoError(t, err)
			require.Equal(t, []string{"prog", "junior"}, []string{program, person})
		})
	})
}
