package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// TestProgramData checks that a program's report data holds exactly the
// program's records, with its participants' people.
func TestProgramData(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)

		t.Run("a program without records has empty data", func(t *testing.T) {
			d, err := store.ProgramData(ctx, "acme", "prog-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(evaluation.ProgramData{ProgramID: "prog-1", People: map[string]evaluation.Person{}}, d))
		})

		participant := func(id, program, person string, role evaluation.Role) evaluation.Participant {
			return evaluation.Participant{ID: id, ProgramID: program, PersonID: person, Role: role,
				State: evaluation.ParticipantEnrolled, DevelopmentSkills: []string{"go"}, EnrolTime: at(0), EventTime: at(0)}
		}
		carol := evaluation.Person{ID: "carol", Department: "Engineering", Seniority: 9, Employment: evaluation.EmploymentActive, EventTime: at(0)}
		dave := evaluation.Person{ID: "dave", Department: "Sales", Seniority: 3, Employment: evaluation.EmploymentActive, EventTime: at(0)}
		mentor := participant("p1", "prog-1", "carol", evaluation.RoleMentor)
		mentee := participant("p2", "prog-1", "dave", evaluation.RoleMentee)
		unknown := participant("p3", "prog-1", "erin", evaluation.RoleMentee) // no person event yet
		m1 := activeMatch("m1", "carol", "dave", t0)
		m1.MentorParticipantID, m1.MenteeParticipantID = "p1", "p2"
		m2 := activeMatch("m2", "frank", "gina", t0)
		m2.ProgramID = "prog-2"
		s1 := evaluation.Session{ID: "s1", MatchID: "m1", State: evaluation.SessionCompleted, StartTime: at(day),
			EndTime: at(day + time.Hour), CompleteTime: at(day + time.Hour), EventTime: at(day + time.Hour)}
		s0 := evaluation.Session{ID: "s0", MatchID: "m1", State: evaluation.SessionConfirmed, StartTime: at(2 * day),
			EndTime: at(2*day + time.Hour), EventTime: at(0)}
		f1 := evaluation.Feedback{ID: "f1", SessionID: "s1", MatchID: "m1", ProgramID: "prog-1", AuthorPersonID: "dave",
			Rating: 5, Comment: "great", PrivateComment: "private", SubmitTime: at(day + 2*time.Hour)}
		r1 := evaluation.PulseResponse{ID: "r1", MatchID: "m1", ProgramID: "prog-1", PersonID: "dave", Day: 30,
			Satisfaction: 5, Recommend: 10, SubmitTime: at(30 * day)}
		g1 := evaluation.Goal{ID: "g1", MatchID: "m1", ProgramID: "prog-1", Title: "ship", State: evaluation.GoalOpen,
			Revision: 1, AuthorPersonID: "dave", CreateTime: at(day), UpdateTime: at(day)}
		pre := evaluation.SelfAssessment{ParticipantID: "p2", ProgramID: "prog-1", PersonID: "dave", Phase: evaluation.PhasePre,
			Levels: []evaluation.SkillLevel{{SkillID: "go", Level: 1, SubmitTime: at(0)}}, SubmitTime: at(0)}

		inTx(t, db, func(ctx context.Context, tx *sql.Tx) error {
			for _, p := range []evaluation.Person{carol, dave, {ID: "frank", Department: "Ops", EventTime: at(0)}} {
				if err := store.ApplyPerson(ctx, tx, "acme", p); err != nil {
					return err
				}
			}
			for _, p := range []evaluation.Participant{mentor, mentee, unknown, participant("p4", "prog-2", "frank", evaluation.RoleMentor)} {
				if err := store.ApplyParticipant(ctx, tx, "acme", p); err != nil {
					return err
				}
			}
			if err := store.ApplyParticipant(ctx, tx, "globex", participant("p9", "prog-1", "carol", evaluation.RoleMentor)); err != nil {
				return err
			}
			for _, m := range []evaluation.Match{m1, m2} {
				if err := store.ApplyMatch(ctx, tx, "acme", m); err != nil {
					return err
				}
			}
			for _, x := range []evaluation.Session{s1, s0, {ID: "s2", MatchID: "m2", State: evaluation.SessionProposed, EventTime: at(0)}} {
				if err := store.ApplySession(ctx, tx, "acme", x); err != nil {
					return err
				}
			}
			return nil
		})
		require.NoError(t, store.CreateFeedback(ctx, "acme", f1, at(day)))
		require.NoError(t, store.CreateFeedback(ctx, "acme", evaluation.Feedback{ID: "f2", SessionID: "s2", MatchID: "m2",
			ProgramID: "prog-2", AuthorPersonID: "gina", Rating: 1, SubmitTime: at(day)}, at(day)))
		require.NoError(t, store.CreatePulseResponse(ctx, "acme", r1))
		require.NoError(t, store.CreatePulseResponse(ctx, "acme", evaluation.PulseResponse{ID: "r2", MatchID: "m2",
			ProgramID: "prog-2", PersonID: "gina", Day: 30, SubmitTime: at(day)}))
		require.NoError(t, store.CreateGoal(ctx, "acme", g1))
		require.NoError(t, store.CreateGoal(ctx, "acme", evaluation.Goal{ID: "g2", MatchID: "m2", ProgramID: "prog-2", Revision: 1}))
		_, err := store.SubmitAssessment(ctx, "acme", pre)
		require.NoError(t, err)
		_, err = store.SubmitAssessment(ctx, "acme", evaluation.SelfAssessment{ParticipantID: "p4", ProgramID: "prog-2",
			PersonID: "frank", Phase: evaluation.PhasePre, Levels: []evaluation.SkillLevel{{SkillID: "go", Level: 4}}, SubmitTime: at(0)})
		require.NoError(t, err)

		t.Run("the data holds the program's records only", func(t *testing.T) {
			d, err := store.ProgramData(ctx, "acme", "prog-1")
			require.NoError(t, err)
			listed := f1
			listed.PrivateComment, listed.HasPrivateComment = "", true
			want := evaluation.ProgramData{
				ProgramID:    "prog-1",
				People:       map[string]evaluation.Person{"carol": carol, "dave": dave},
				Participants: []evaluation.Participant{mentor, mentee, unknown},
				Matches:      []evaluation.Match{m1},
				Sessions:     []evaluation.Session{s1, s0},
				Feedback:     []evaluation.Feedback{listed},
				Pulse:        []evaluation.PulseResponse{r1},
				Goals:        []evaluation.Goal{g1},
				Assessments:  []evaluation.SelfAssessment{pre},
			}
			require.Empty(t, cmp.Diff(want, d))
		})
	})
}
