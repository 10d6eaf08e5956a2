package events_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	"github.com/tandem-oss/tandem/services/evaluation/internal/events"
)

// recorder is a Projector that records what it is asked to apply.
type recorder struct{ calls []string }

func (r *recorder) add(format string, args ...any) error {
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
	return nil
}
func (r *recorder) ApplyPerson(_ context.Context, _ *sql.Tx, tenant string, p evaluation.Person) error {
	return r.add("person %s %s %s L%d %s terminated=%s", tenant, p.ID, p.Department, p.Seniority, p.Employment, stamp(p.TerminateTime))
}
func (r *recorder) ApplyParticipant(_ context.Context, _ *sql.Tx, _ string, p evaluation.Participant) error {
	return r.add("participant %s %s %s %s %v enrol=%s withdraw=%s", p.ID, p.PersonID, p.Role, p.State, p.DevelopmentSkills, stamp(p.EnrolTime), stamp(p.WithdrawTime))
}
func (r *recorder) ApplyMatch(_ context.Context, _ *sql.Tx, _ string, m evaluation.Match) error {
	return r.add("match %s %s %.1f accept=%s activate=%s decline=%s end=%s", m.ID, m.State, m.Score,
		stamp(m.AcceptTime), stamp(m.ActivateTime), stamp(m.DeclineTime), stamp(m.EndTime))
}
func (r *recorder) ApplySession(_ context.Context, _ *sql.Tx, _ string, s evaluation.Session) error {
	return r.add("session %s %s start=%s complete=%s cancel=%s by=%s", s.ID, s.State, stamp(s.StartTime), stamp(s.CompleteTime), stamp(s.CancelTime), s.CancelledBy)
}
func (r *recorder) ErasePerson(_ context.Context, _ *sql.Tx, _ string, id string) error {
	return r.add("erase %s", id)
}
func (r *recorder) ApplySettings(_ context.Context, _ *sql.Tx, _ string, s evaluation.Settings) error {
	return r.add("settings %s %v", s.ProgramID, s.PulseSurveyDays)
}
func (r *recorder) ApplyAgreement(_ context.Context, _ *sql.Tx, _ string, a evaluation.Agreement) error {
	return r.add("agreement %s v%d signed=%v", a.MatchID, a.Version, a.Signed())
}
func (r *recorder) ApplyGoal(_ context.Context, _ *sql.Tx, _ string, g evaluation.Goal) error {
	return r.add("goal %s r%d %s", g.ID, g.Revision, g.State)
}
func (r *recorder) ApplyFeedback(_ context.Context, _ *sql.Tx, _ string, f evaluation.Feedback) error {
	return r.add("feedback %s %s rating=%d", f.ID, f.AuthorPersonID, f.Rating)
}
func (r *recorder) ApplyPulseResponse(_ context.Context, _ *sql.Tx, _ string, p evaluation.PulseResponse) error {
	return r.add("pulse %s day=%d recommend=%d", p.ID, p.Day, p.Recommend)
}
func (r *recorder) ApplyAssessment(_ context.Context, _ *sql.Tx, _ string, a evaluation.SelfAssessment) error {
	return r.add("assessment %s %s %d levels", a.ParticipantID, a.Phase, len(a.Levels))
}
func (r *recorder) RefreshHealth(_ context.Context, _ *sql.Tx, _ string, matchID string, now time.Time) error {
	return r.add("health %s at %s", matchID, stamp(now))
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("15:04:05.000000")
}

func TestHandler(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC) // cut to 12:00:00.123456
	now := time.Date(2026, 5, 2, 8, 0, 0, 0, time.UTC)
	ts := timestamppb.New(t0)
	match := &matchingv1.Match{Id: "m1", ProgramId: "p1", MentorPersonId: "a", MenteePersonId: "b", Score: 71.5}
	withState := func(s matchingv1.MatchState) *matchingv1.Match {
		m := proto.Clone(match).(*matchingv1.Match)
		m.State = s
		return m
	}
	sess := func(s schedulingv1.SessionState, by string) *schedulingv1.Session {
		return &schedulingv1.Session{Id: "s1", MatchId: "m1", State: s, StartTime: ts, CancelledByPersonId: by}
	}
	pt := &participantv1.Participant{Id: "pt1", ProgramId: "p1", PersonId: "b",
		Role: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE, State: participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED,
		DevelopmentAreas: []*participantv1.DevelopmentArea{{SkillId: "ai", TargetLevel: 4}}}
	withdrawn := proto.Clone(pt).(*participantv1.Participant)
	withdrawn.State = participantv1.ParticipantState_PARTICIPANT_STATE_WITHDRAWN

	tests := []struct {
		typ  string
		msg  proto.Message
		want []string
	}{
		{"tandem.person.created", &eventsv1.PersonCreated{Person: &participantv1.Person{Id: "a", Department: "Sales", SeniorityLevel: 3,
			EmploymentStatus: participantv1.EmploymentStatus_EMPLOYMENT_STATUS_ACTIVE}},
			[]string{"person acme a Sales L3 active terminated=-"}},
		{"tandem.person.updated", &eventsv1.PersonUpdated{Person: &participantv1.Person{Id: "a",
			EmploymentStatus: participantv1.EmploymentStatus_EMPLOYMENT_STATUS_TERMINATED}},
			[]string{"person acme a  L0 terminated terminated=12:00:00.123456"}},
		{"tandem.person.erased", &eventsv1.PersonErased{PersonId: "a"}, []string{"erase a"}},
		{"tandem.participant.enrolled", &eventsv1.ParticipantEnrolled{Participant: pt},
			[]string{"participant pt1 b mentee enrolled [ai] enrol=12:00:00.123456 withdraw=-"}},
		{"tandem.participant.withdrawn", &eventsv1.ParticipantWithdrawn{Participant: withdrawn},
			[]string{"participant pt1 b mentee withdrawn [ai] enrol=- withdraw=12:00:00.123456"}},
		{"tandem.match.accepted", &eventsv1.MatchAccepted{Match: withState(matchingv1.MatchState_MATCH_STATE_ACCEPTED)},
			[]string{"match m1 accepted 71.5 accept=12:00:00.123456 activate=- decline=- end=-", "health m1 at 08:00:00.000000"}},
		{"tandem.match.activated", &eventsv1.MatchActivated{Match: withState(matchingv1.MatchState_MATCH_STATE_ACTIVE)},
			[]string{"match m1 active 71.5 accept=12:00:00.123456 activate=12:00:00.123456 decline=- end=-", "health m1 at 08:00:00.000000"}},
		{"tandem.match.declined", &eventsv1.MatchDeclined{Match: withState(matchingv1.MatchState_MATCH_STATE_DECLINED)},
			[]string{"match m1 declined 71.5 accept=- activate=- decline=12:00:00.123456 end=-", "health m1 at 08:00:00.000000"}},
		{"tandem.match.ended", &eventsv1.MatchEnded{Match: withState(matchingv1.MatchState_MATCH_STATE_ENDED)},
			[]string{"match m1 ended 71.5 accept=- activate=- decline=- end=12:00:00.123456", "health m1 at 08:00:00.000000"}},
		{"tandem.session.completed", &eventsv1.SessionCompleted{Session: sess(schedulingv1.SessionState_SESSION_STATE_COMPLETED, "")},
			[]string{"session s1 completed start=12:00:00.123456 complete=12:00:00.123456 cancel=- by=", "health m1 at 08:00:00.000000"}},
		{"tandem.session.confirmed", &eventsv1.SessionConfirmed{Session: sess(schedulingv1.SessionState_SESSION_STATE_CONFIRMED, "")},
			[]string{"session s1 confirmed start=12:00:00.123456 complete=- cancel=- by="}},
		{"tandem.session.cancelled", &eventsv1.SessionCancelled{Session: sess(schedulingv1.SessionState_SESSION_STATE_CANCELLED, "b")},
			[]string{"session s1 cancelled start=12:00:00.123456 complete=- cancel=12:00:00.123456 by=b", "health m1 at 08:00:00.000000"}},
		{"tandem.evaluation_settings.updated", &eventsv1.EvaluationSettingsUpdated{Settings: &evaluationv1.EvaluationSettings{
			ProgramId: "p1", PulseSurveyDays: []int32{7, 30}, UpdateTime: ts}}, []string{"settings p1 [7 30]"}},
		{"tandem.agreement.signed", &eventsv1.AgreementSigned{Agreement: &evaluationv1.Agreement{MatchId: "m1", Version: 2,
			MentorSignTime: ts, MenteeSignTime: ts}, PersonId: "a"},
			[]string{"agreement m1 v2 signed=true", "health m1 at 08:00:00.000000"}},
		{"tandem.goal.updated", &eventsv1.GoalUpdated{Goal: &evaluationv1.Goal{Id: "g1", MatchId: "m1", Revision: 3,
			State: evaluationv1.GoalState_GOAL_STATE_COMPLETED}}, []string{"goal g1 r3 completed"}},
		{"tandem.feedback.submitted", &eventsv1.FeedbackSubmitted{Feedback: &evaluationv1.Feedback{Id: "f1", SessionId: "s1",
			MatchId: "m1", AuthorPersonId: "b", Rating: 4}}, []string{"feedback f1 b rating=4", "health m1 at 08:00:00.000000"}},
		{"tandem.pulse_response.submitted", &eventsv1.PulseResponseSubmitted{Response: &evaluationv1.PulseResponse{Id: "r1",
			MatchId: "m1", PersonId: "b", Day: 30, Recommend: 9}}, []string{"pulse r1 day=30 recommend=9"}},
		{"tandem.self_assessment.submitted", &eventsv1.SelfAssessmentSubmitted{Assessment: &evaluationv1.SelfAssessment{
			ParticipantId: "pt1", Phase: evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_POST, SubmitTime: ts,
			Levels: []*evaluationv1.SkillLevel{{SkillId: "ai", Level: 3}}}}, []string{"assessment pt1 post 1 levels"}},

		// Skipped: unknown types, and events that can never be applied.
		{"tandem.match_run.created", &eventsv1.MatchRunCreated{}, nil},
		{"tandem.person.created", &eventsv1.PersonCreated{Person: &participantv1.Person{}}, nil},
		{"tandem.participant.enrolled", &eventsv1.ParticipantEnrolled{Participant: &participantv1.Participant{Id: "x", ProgramId: "p1"}}, nil},
		{"tandem.match.accepted", &eventsv1.MatchAccepted{Match: &matchingv1.Match{Id: "m2", ProgramId: "p1"}}, nil},
		{"tandem.session.completed", &eventsv1.SessionCompleted{Session: &schedulingv1.Session{Id: "s2"}}, nil},
		{"tandem.feedback.submitted", &eventsv1.FeedbackSubmitted{Feedback: &evaluationv1.Feedback{Id: "f2", SessionId: "s1",
			MatchId: "m1", AuthorPersonId: "b", Rating: 9}}, nil},
		{"tandem.goal.created", &eventsv1.GoalCreated{Goal: &evaluationv1.Goal{Id: "g2", MatchId: "m1"}}, nil},
		{"tandem.self_assessment.submitted", &eventsv1.SelfAssessmentSubmitted{Assessment: &evaluationv1.SelfAssessment{ParticipantId: "pt1"}}, nil},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i, "_", tt.typ), func(t *testing.T) {
			rec := &recorder{}
			data, err := proto.Marshal(tt.msg)
			require.NoError(t, err)
			h := events.Handler(rec, func() time.Time { return now }, slog.New(slog.DiscardHandler))
			require.NoError(t, h(t.Context(), nil, eventbus.Message{ID: "e", Type: tt.typ, Tenant: "acme", Time: t0, Data: data}))
			assert.Equal(t, tt.want, rec.calls)
		})
	}

	t.Run("an unreadable payload is skipped", func(t *testing.T) {
		rec := &recorder{}
		h := events.Handler(rec, func() time.Time { return now }, slog.New(slog.DiscardHandler))
		require.NoError(t, h(t.Context(), nil, eventbus.Message{ID: "e", Type: "tandem.match.accepted", Time: t0, Data: []byte("\xff\xff")}))
		assert.Empty(t, rec.calls)
	})
}
