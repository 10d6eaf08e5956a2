package evaluationsvc_test

import (
	"context"
	"encoding/csv"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/evaluationsvc"
)

func TestPolicyCoversEveryRPC(t *testing.T) {
	t.Parallel()
	for _, m := range evaluationv1.EvaluationService_ServiceDesc.Methods {
		method := "/" + evaluationv1.EvaluationService_ServiceDesc.ServiceName + "/" + m.MethodName
		require.NotEmpty(t, evaluationsvc.Policy[method], "no roles for %s", method)
	}
	require.Len(t, evaluationsvc.Policy, len(evaluationv1.EvaluationService_ServiceDesc.Methods))
}

const oneDay = 24 * time.Hour

// TestEvaluationAPI drives every RPC of the service against projections
// fed by real events, on both stores, with a clock the test moves: the
// pair at risk is flagged at the exact instant its thresholds pass.
func TestEvaluationAPI(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Microsecond)}
		h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
			return evaluationsvc.Run(ctx, lis, evaluationsvc.Config{DatabaseURL: url, Now: clock.Now, HealthPoll: 20 * time.Millisecond}, env)
		})
		others := newOtherServices(t, h)
		client := evaluationv1.NewEvaluationServiceClient(h.Conn)
		tenant := testkit.RandomName("acme")
		pm := h.As(t, tenant, auth.RoleProgramManager)
		admin := h.As(t, tenant, auth.RoleTenantAdmin)
		member := h.As(t, tenant, auth.RoleParticipant) // a participant who is none of the people
		// as is the participant token of a person: their subject is their id.
		as := func(person string) context.Context { return h.AsSubject(t, tenant, person, auth.RoleParticipant) }
		others.publish(t, tenant, "program", "created", "p1", &eventsv1.ProgramCreated{Program: &participantv1.Program{
			Id: "p1", ManagerSubjects: []string{servicetest.Subject(tenant)}}})

		// Program p1: mentors a and c, mentees b and d; pairs m1 = a-b and
		// m2 = c-d, both active.
		for _, id := range []string{"a", "b", "c", "d"} {
			others.publish(t, tenant, "person", "created", id, &eventsv1.PersonCreated{Person: &participantv1.Person{
				Id: id, Subject: id, Department: "Sales", SeniorityLevel: 5, EmploymentStatus: participantv1.EmploymentStatus_EMPLOYMENT_STATUS_ACTIVE}})
			role := participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR
			if id == "b" || id == "d" {
				role = participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE
			}
			others.publish(t, tenant, "participant", "enrolled", "pt-"+id, &eventsv1.ParticipantEnrolled{Participant: &participantv1.Participant{
				Id: "pt-" + id, ProgramId: "p1", PersonId: id, Role: role, State: participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED,
				DevelopmentAreas: []*participantv1.DevelopmentArea{{SkillId: "ai", TargetLevel: 4}, {SkillId: "cloud", TargetLevel: 3}}}})
		}
		for _, p := range [][3]string{{"m1", "a", "b"}, {"m2", "c", "d"}} {
			m := &matchingv1.Match{Id: p[0], ProgramId: "p1", MentorPersonId: p[1], MenteePersonId: p[2],
				MentorParticipantId: "pt-" + p[1], MenteeParticipantId: "pt-" + p[2], Score: 80}
			m.State = matchingv1.MatchState_MATCH_STATE_ACCEPTED
			others.publish(t, tenant, "match", "accepted", p[0], &eventsv1.MatchAccepted{Match: proto.Clone(m).(*matchingv1.Match)})
			m.State = matchingv1.MatchState_MATCH_STATE_ACTIVE
			others.publish(t, tenant, "match", "activated", p[0], &eventsv1.MatchActivated{Match: m})
		}
		activated := h.LastEvent(t, tenant+".match.activated", 2)
		awaitConsumed(t, h, activated.Sequence)
		// The clock starts where the pairs did: m2's activation.
		act2, err := time.Parse(time.RFC3339Nano, activated.Header.Get(eventbus.HeaderTime))
		require.NoError(t, err)
		act2 = act2.UTC().Truncate(time.Microsecond)
		clock.Set(act2)

		t.Run("settings default, then change", func(t *testing.T) {
			st, err := client.GetEvaluationSettings(pm, &evaluationv1.GetEvaluationSettingsRequest{ProgramId: "p1"})
			require.NoError(t, err)
			assert.Equal(t, []int32{30, 60, 90}, st.GetPulseSurveyDays())
			assert.EqualValues(t, 21, st.GetHealthThresholds().GetDaysWithoutSession())
			assert.NotEmpty(t, st.GetAgreementTemplate().GetConfidentiality())

			_, err = client.UpdateEvaluationSettings(pm, &evaluationv1.UpdateEvaluationSettingsRequest{Settings: &evaluationv1.EvaluationSettings{
				ProgramId: "p1", PulseSurveyDays: []int32{0}}})
			servicetest.RequireFieldViolation(t, err, "settings.pulse_survey_days[0]")

			st, err = client.UpdateEvaluationSettings(pm, &evaluationv1.UpdateEvaluationSettingsRequest{Settings: &evaluationv1.EvaluationSettings{
				ProgramId: "p1", PulseSurveyDays: []int32{14, 7},
				AgreementTemplate: &evaluationv1.AgreementTerms{TopicScope: "AI at work", Expectations: []string{"prepare"}},
				HealthThresholds:  &evaluationv1.HealthThresholds{DaysWithoutSession: 10, UnsignedAgreementDays: 5}}})
			require.NoError(t, err)
			assert.Equal(t, []int32{7, 14}, st.GetPulseSurveyDays())
			assert.EqualValues(t, 2, st.GetHealthThresholds().GetCancellations(), "zero thresholds take the defaults")

			_, err = client.UpdateEvaluationSettings(member, &evaluationv1.UpdateEvaluationSettingsRequest{Settings: st})
			assert.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
		})

		t.Run("an agreement is versioned and needs both signatures again after an edit", func(t *testing.T) {
			_, err := client.CreateAgreement(as("c"), &evaluationv1.CreateAgreementRequest{MatchId: "m1", PersonId: "c"})
			assert.Equal(t, codes.PermissionDenied, status.Code(err), "not a side: %v", err)
			_, err = client.CreateAgreement(as("a"), &evaluationv1.CreateAgreementRequest{MatchId: "m1", PersonId: "b"})
			assert.Equal(t, codes.PermissionDenied, status.Code(err), "acting as the partner: %v", err)
			_, err = client.CreateAgreement(member, &evaluationv1.CreateAgreementRequest{MatchId: "m1", PersonId: "a"})
			assert.Equal(t, codes.PermissionDenied, status.Code(err), "a participant who is nobody: %v", err)
			a, err := client.CreateAgreement(as("a"), &evaluationv1.CreateAgreementRequest{MatchId: "m1", PersonId: "a"})
			require.NoError(t, err)
			assert.Equal(t, "AI at work", a.GetTerms().GetTopicScope(), "from the program's template")
			assert.EqualValues(t, 1, a.GetVersion())
			_, err = client.CreateAgreement(as("b"), &evaluationv1.CreateAgreementRequest{MatchId: "m1", PersonId: "b"})
			assert.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)

			a, err = client.SignAgreement(as("a"), &evaluationv1.SignAgreementRequest{MatchId: "m1", PersonId: "a", Version: 1})
			require.NoError(t, err)
			assert.Equal(t, evaluationv1.AgreementState_AGREEMENT_STATE_DRAFT, a.GetState())
			assert.Equal(t, act2, a.GetMentorSignTime().AsTime())

			a, err = client.UpdateAgreement(as("b"), &evaluationv1.UpdateAgreementRequest{MatchId: "m1", PersonId: "b", Version: 1,
				Terms: &evaluationv1.AgreementTerms{TopicScope: "AI and cloud", Confidentiality: "between us"}})
			require.NoError(t, err)
			assert.EqualValues(t, 2, a.GetVersion())
			assert.Nil(t, a.GetMentorSignTime(), "an edit clears the signatures")

			_, err = client.SignAgreement(as("a"), &evaluationv1.SignAgreementRequest{MatchId: "m1", PersonId: "a", Version: 1})
			assert.Equal(t, codes.Aborted, status.Code(err), "stale version: %v", err)
			_, err = client.UpdateAgreement(as("a"), &evaluationv1.UpdateAgreementRequest{MatchId: "m1", PersonId: "a", Version: 1,
				Terms: &evaluationv1.AgreementTerms{TopicScope: "lost update"}})
			assert.Equal(t, codes.Aborted, status.Code(err), "stale version: %v", err)
			for _, p := range []string{"a", "b"} {
				a, err = client.SignAgreement(as(p), &evaluationv1.SignAgreementRequest{MatchId: "m1", PersonId: p, Version: 2})
				require.NoError(t, err)
			}
			assert.Equal(t, evaluationv1.AgreementState_AGREEMENT_STATE_SIGNED, a.GetState())
			_, err = client.SignAgreement(as("b"), &evaluationv1.SignAgreementRequest{MatchId: "m1", PersonId: "b", Version: 2})
			assert.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)

			v1, err := client.GetAgreement(as("a"), &evaluationv1.GetAgreementRequest{MatchId: "m1", Version: 1})
			require.NoError(t, err)
			assert.Equal(t, "AI at work", v1.GetTerms().GetTopicScope())
			assert.NotNil(t, v1.GetMentorSignTime())
			latest, err := client.GetAgreement(as("a"), &evaluationv1.GetAgreementRequest{MatchId: "m1"})
			require.NoError(t, err)
			assert.True(t, proto.Equal(a, latest), "newest: %v", latest)
			h.LastEvent(t, tenant+".agreement.signed", 3)
		})

		t.Run("goals track milestones and completion", func(t *testing.T) {
			g, err := client.CreateGoal(as("b"), &evaluationv1.CreateGoalRequest{PersonId: "b", Goal: &evaluationv1.Goal{
				MatchId: "m1", Title: "Use an AI assistant daily",
				Milestones: []*evaluationv1.Milestone{{Title: "install"}, {Title: "first report"}}}})
			require.NoError(t, err)
			assert.Equal(t, evaluationv1.GoalState_GOAL_STATE_OPEN, g.GetState())
			g.Milestones[0].Done = true
			g, err = client.UpdateGoal(as("b"), &evaluationv1.UpdateGoalRequest{PersonId: "b", Goal: g,
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"milestones"}}})
			require.NoError(t, err)
			assert.EqualValues(t, 50, g.GetProgressPercent())
			assert.Equal(t, act2, g.GetMilestones()[0].GetDoneTime().AsTime())
			g, err = client.UpdateGoal(as("a"), &evaluationv1.UpdateGoalRequest{PersonId: "a",
				Goal: &evaluationv1.Goal{Id: g.GetId(), State: evaluationv1.GoalState_GOAL_STATE_COMPLETED}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"state"}}})
			require.NoError(t, err)
			assert.EqualValues(t, 100, g.GetProgressPercent())
			assert.EqualValues(t, 3, g.GetRevision())
			assert.NotNil(t, g.GetCompleteTime())
			_, err = client.UpdateGoal(as("a"), &evaluationv1.UpdateGoalRequest{PersonId: "a",
				Goal: &evaluationv1.Goal{Id: g.GetId()}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}}})
			servicetest.RequireFieldViolation(t, err, "goal.title")
			list, err := client.ListGoals(as("b"), &evaluationv1.ListGoalsRequest{MatchId: "m1"})
			require.NoError(t, err)
			require.Len(t, list.GetGoals(), 1)
			assert.True(t, proto.Equal(g, list.GetGoals()[0]))
		})

		var feedbackID string
		t.Run("feedback on held sessions, private comments for the author and audited admins", func(t *testing.T) {
			session := &schedulingv1.Session{Id: "s1", MatchId: "m1", MentorPersonId: "a", MenteePersonId: "b",
				StartTime: timestampAt(act2.Add(-time.Hour)), State: schedulingv1.SessionState_SESSION_STATE_CONFIRMED}
			others.publish(t, tenant, "session", "confirmed", "s1", &eventsv1.SessionConfirmed{Session: proto.Clone(session).(*schedulingv1.Session)})
			awaitConsumed(t, h, h.LastEvent(t, tenant+".session.confirmed", 1).Sequence)
			_, err := client.SubmitFeedback(as("b"), &evaluationv1.SubmitFeedbackRequest{SessionId: "s1", PersonId: "b", Rating: 4})
			assert.Equal(t, codes.FailedPrecondition, status.Code(err), "not held yet: %v", err)

			session.State = schedulingv1.SessionState_SESSION_STATE_COMPLETED
			others.publish(t, tenant, "session", "completed", "s1", &eventsv1.SessionCompleted{Session: session})
			awaitConsumed(t, h, h.LastEvent(t, tenant+".session.completed", 1).Sequence)
			_, err = client.SubmitFeedback(as("b"), &evaluationv1.SubmitFeedbackRequest{SessionId: "s1", PersonId: "b", Rating: 6})
			servicetest.RequireFieldViolation(t, err, "rating")
			_, err = client.SubmitFeedback(as("c"), &evaluationv1.SubmitFeedbackRequest{SessionId: "s1", PersonId: "c", Rating: 4})
			assert.Equal(t, codes.PermissionDenied, status.Code(err), "not a side: %v", err)
			_, err = client.SubmitFeedback(as("b"), &evaluationv1.SubmitFeedbackRequest{SessionId: "nope", PersonId: "b", Rating: 4})
			assert.Equal(t, codes.NotFound, status.Code(err), "%v", err)

			f, err := client.SubmitFeedback(as("b"), &evaluationv1.SubmitFeedbackRequest{SessionId: "s1", PersonId: "b", Rating: 4,
				Tags: []string{"practical"}, Comment: "great start", PrivateComment: "I felt out of my depth"})
			require.NoError(t, err)
			feedbackID = f.GetId()
			assert.True(t, f.GetHasPrivateComment())
			_, err = client.SubmitFeedback(as("b"), &evaluationv1.SubmitFeedbackRequest{SessionId: "s1", PersonId: "b", Rating: 5})
			assert.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)

			list, err := client.ListFeedback(pm, &evaluationv1.ListFeedbackRequest{MatchId: "m1"})
			require.NoError(t, err)
			require.Len(t, list.GetFeedback(), 1)
			assert.Equal(t, "great start", list.GetFeedback()[0].GetComment())
			submitted := h.LastEvent(t, tenant+".feedback.submitted", 1)
			assert.NotContains(t, string(submitted.Data), "out of my depth", "private comments are never published")

			pc, err := client.ReadPrivateComment(as("b"), &evaluationv1.ReadPrivateCommentRequest{FeedbackId: f.GetId(), PersonId: "b"})
			require.NoError(t, err)
			assert.Equal(t, "I felt out of my depth", pc.GetPrivateComment())
			_, err = client.ReadPrivateComment(as("a"), &evaluationv1.ReadPrivateCommentRequest{FeedbackId: f.GetId(), PersonId: "a"})
			assert.Equal(t, codes.PermissionDenied, status.Code(err), "the other side: %v", err)
			_, err = client.ReadPrivateComment(pm, &evaluationv1.ReadPrivateCommentRequest{FeedbackId: f.GetId(), Reason: "curious about it"})
			assert.Equal(t, codes.PermissionDenied, status.Code(err), "a program manager: %v", err)
			_, err = client.ReadPrivateComment(admin, &evaluationv1.ReadPrivateCommentRequest{FeedbackId: f.GetId(), Reason: "why?"})
			servicetest.RequireFieldViolation(t, err, "reason")
			pc, err = client.ReadPrivateComment(admin, &evaluationv1.ReadPrivateCommentRequest{FeedbackId: f.GetId(), Reason: "harassment complaint #4711"})
			require.NoError(t, err)
			assert.Equal(t, "I felt out of my depth", pc.GetPrivateComment())

			audit := h.LastEvent(t, tenant+".feedback.private_comment_read", 1)
			var read eventsv1.PrivateCommentRead
			require.NoError(t, proto.Unmarshal(audit.Data, &read))
			assert.Equal(t, "harassment complaint #4711", read.GetReason())
			assert.Equal(t, "user-of-"+tenant, read.GetActor())
			assert.Equal(t, "b", read.GetAuthorPersonId())
		})

		t.Run("pulse surveys fall due on the program's days", func(t *testing.T) {
			list, err := client.ListPulseSurveys(as("b"), &evaluationv1.ListPulseSurveysRequest{PersonId: "b"})
			require.NoError(t, err)
			assert.Empty(t, list.GetSurveys(), "nothing due on day 0")
			_, err = client.SubmitPulseResponse(as("b"), &evaluationv1.SubmitPulseResponseRequest{MatchId: "m1", PersonId: "b", Day: 7, Satisfaction: 4, Recommend: 9})
			assert.Equal(t, codes.FailedPrecondition, status.Code(err), "not due: %v", err)
		})

		t.Run("self-assessments measure the skills a participant develops", func(t *testing.T) {
			_, err := client.SubmitSelfAssessment(as("b"), &evaluationv1.SubmitSelfAssessmentRequest{ParticipantId: "pt-b",
				Phase: evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_POST, Levels: []*evaluationv1.SkillLevel{{SkillId: "ai", Level: 4}}})
			assert.Equal(t, codes.FailedPrecondition, status.Code(err), "POST before PRE: %v", err)
			_, err = client.SubmitSelfAssessment(as("b"), &evaluationv1.SubmitSelfAssessmentRequest{ParticipantId: "pt-b",
				Phase: evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_PRE, Levels: []*evaluationv1.SkillLevel{{SkillId: "ai", Level: 1}, {SkillId: "golf", Level: 2}}})
			servicetest.RequireFieldViolation(t, err, "levels[1].skill_id")
			_, err = client.SubmitSelfAssessment(as("b"), &evaluationv1.SubmitSelfAssessmentRequest{ParticipantId: "pt-b",
				Phase: evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_PRE, Levels: []*evaluationv1.SkillLevel{{SkillId: "ai", Level: 1}, {SkillId: "cloud", Level: 2}}})
			require.NoError(t, err)
			post, err := client.SubmitSelfAssessment(as("b"), &evaluationv1.SubmitSelfAssessmentRequest{ParticipantId: "pt-b",
				Phase: evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_POST, Levels: []*evaluationv1.SkillLevel{{SkillId: "ai", Level: 4}}})
			require.NoError(t, err)
			assert.Equal(t, "b", post.GetPersonId())
			list, err := client.ListSelfAssessments(as("b"), &evaluationv1.ListSelfAssessmentsRequest{ParticipantId: "pt-b"})
			require.NoError(t, err)
			require.Len(t, list.GetAssessments(), 2)
			assert.Equal(t, evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_PRE, list.GetAssessments()[0].GetPhase())
			assert.Len(t, list.GetAssessments()[0].GetLevels(), 2)
		})

		t.Run("an idle pair without an agreement is flagged on the right day", func(t *testing.T) {
			health := func() *evaluationv1.MatchHealth {
				hl, err := client.GetMatchHealth(pm, &evaluationv1.GetMatchHealthRequest{MatchId: "m2"})
				require.NoError(t, err)
				return hl
			}
			require.Equal(t, evaluationv1.HealthStatus_HEALTH_STATUS_ON_TRACK, health().GetStatus())
			// Unsigned for 5 days: needs attention; 10 days without a
			// session as well: at risk (two signals).
			for _, step := range []struct {
				at     time.Time
				status evaluationv1.HealthStatus
			}{
				{act2.Add(5 * oneDay), evaluationv1.HealthStatus_HEALTH_STATUS_NEEDS_ATTENTION},
				{act2.Add(10 * oneDay), evaluationv1.HealthStatus_HEALTH_STATUS_AT_RISK},
			} {
				clock.Set(step.at.Add(-time.Microsecond))
				clock.Set(step.at)
				testkit.Eventually(t, servicetest.WaitFor, func() bool { return health().GetStatus() == step.status },
					"m2 did not become %s at %s", step.status, step.at)
				assert.Equal(t, step.at, health().GetSinceTime().AsTime(), "flagged at the instant the threshold passed")
			}
			got := health()
			assert.Equal(t, []string{"no session held for 10 days", "agreement not signed 10 days after the pair started"}, got.GetReasons())

			// m1, whose session was an hour before m2 started, crossed 10
			// idle days while the clock jumped: three changes in all.
			h.LastEvent(t, tenant+".match.health_changed", 3)
			var m2 []string
			for _, msg := range streamMessages(t, h, tenant+".match.health_changed") {
				var ev eventsv1.MatchHealthChanged
				require.NoError(t, proto.Unmarshal(msg.Data(), &ev))
				if ev.GetHealth().GetMatchId() == "m2" {
					m2 = append(m2, ev.GetPreviousStatus().String()+" -> "+ev.GetHealth().GetStatus().String()+" at "+
						ev.GetHealth().GetSinceTime().AsTime().Sub(act2).String())
				}
			}
			assert.Equal(t, []string{
				"HEALTH_STATUS_ON_TRACK -> HEALTH_STATUS_NEEDS_ATTENTION at 120h0m0s",
				"HEALTH_STATUS_NEEDS_ATTENTION -> HEALTH_STATUS_AT_RISK at 240h0m0s",
			}, m2)

			all, err := client.ListPairsAtRisk(pm, &evaluationv1.ListPairsAtRiskRequest{ProgramId: "p1",
				MinStatus: evaluationv1.HealthStatus_HEALTH_STATUS_NEEDS_ATTENTION, PageSize: 1})
			require.NoError(t, err)
			require.Len(t, all.GetPairs(), 1)
			assert.Equal(t, "m2", all.GetPairs()[0].GetMatchId(), "worst first")
			all, err = client.ListPairsAtRisk(pm, &evaluationv1.ListPairsAtRiskRequest{ProgramId: "p1",
				MinStatus: evaluationv1.HealthStatus_HEALTH_STATUS_NEEDS_ATTENTION, PageSize: 1, PageToken: all.GetNextPageToken()})
			require.NoError(t, err)
			require.Len(t, all.GetPairs(), 1)
			assert.Equal(t, "m1", all.GetPairs()[0].GetMatchId())
			assert.Equal(t, evaluationv1.HealthStatus_HEALTH_STATUS_NEEDS_ATTENTION, all.GetPairs()[0].GetStatus())

			atRisk, err := client.ListPairsAtRisk(pm, &evaluationv1.ListPairsAtRiskRequest{ProgramId: "p1"})
			require.NoError(t, err)
			require.Len(t, atRisk.GetPairs(), 1)
			assert.Equal(t, "m2", atRisk.GetPairs()[0].GetMatchId())
			_, err = client.ListPairsAtRisk(member, &evaluationv1.ListPairsAtRiskRequest{ProgramId: "p1"})
			assert.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
		})

		t.Run("the day-7 survey is answered once", func(t *testing.T) {
			list, err := client.ListPulseSurveys(as("b"), &evaluationv1.ListPulseSurveysRequest{PersonId: "b", DueOnly: true})
			require.NoError(t, err)
			require.Len(t, list.GetSurveys(), 1, "day 7 is due on day 10, day 14 is not")
			assert.EqualValues(t, 7, list.GetSurveys()[0].GetDay())
			r, err := client.SubmitPulseResponse(as("b"), &evaluationv1.SubmitPulseResponseRequest{MatchId: "m1", PersonId: "b", Day: 7, Satisfaction: 4, Recommend: 9})
			require.NoError(t, err)
			assert.Equal(t, "p1", r.GetProgramId())
			_, err = client.SubmitPulseResponse(as("b"), &evaluationv1.SubmitPulseResponseRequest{MatchId: "m1", PersonId: "b", Day: 7, Satisfaction: 4, Recommend: 9})
			assert.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)
			_, err = client.SubmitPulseResponse(as("b"), &evaluationv1.SubmitPulseResponseRequest{MatchId: "m1", PersonId: "b", Day: 3, Satisfaction: 4, Recommend: 9})
			servicetest.RequireFieldViolation(t, err, "day")
			list, err = client.ListPulseSurveys(as("b"), &evaluationv1.ListPulseSurveysRequest{PersonId: "b", DueOnly: true})
			require.NoError(t, err)
			assert.Empty(t, list.GetSurveys())
		})

		t.Run("a program of 4 people reports suppressed figures, as JSON and CSV", func(t *testing.T) {
			r, err := client.GetProgramReport(h.As(t, tenant, auth.RoleAnalyst), &evaluationv1.GetProgramReportRequest{ProgramId: "p1"})
			require.NoError(t, err)
			assert.True(t, r.GetSuppressed())
			assert.Zero(t, r.GetFigures().GetPeople())
			require.NotEmpty(t, r.GetSegments())
			for _, s := range r.GetSegments() {
				assert.True(t, s.GetSuppressed(), "%s=%s", s.GetDimension(), s.GetValue())
			}
			body, err := client.ExportProgramReport(pm, &evaluationv1.ExportProgramReportRequest{ProgramId: "p1"})
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(body.GetContentType(), "text/csv"), body.GetContentType())
			rows, err := csv.NewReader(strings.NewReader(string(body.GetData()))).ReadAll()
			require.NoError(t, err)
			require.Greater(t, len(rows), 1)
			assert.Equal(t, []string{"group", "dimension", "value"}, rows[0][:3])
			assert.Equal(t, "program", rows[1][0])
			for _, role := range []string{auth.RoleParticipant, auth.RoleService} {
				_, err := client.GetProgramReport(h.As(t, tenant, role), &evaluationv1.GetProgramReportRequest{ProgramId: "p1"})
				assert.Equal(t, codes.PermissionDenied, status.Code(err), "as %s: %v", role, err)
			}
		})

		t.Run("an erased author's comments are gone", func(t *testing.T) {
			others.publish(t, tenant, "person", "erased", "b", &eventsv1.PersonErased{PersonId: "b"})
			awaitConsumed(t, h, h.LastEvent(t, tenant+".person.erased", 1).Sequence)
			list, err := client.ListFeedback(pm, &evaluationv1.ListFeedbackRequest{MatchId: "m1"})
			require.NoError(t, err)
			require.Len(t, list.GetFeedback(), 1)
			assert.Empty(t, list.GetFeedback()[0].GetComment())
			assert.EqualValues(t, 4, list.GetFeedback()[0].GetRating(), "the rating stays, unattributable")
			pc, err := client.ReadPrivateComment(admin, &evaluationv1.ReadPrivateCommentRequest{FeedbackId: feedbackID, Reason: "erasure audit check"})
			require.NoError(t, err)
			assert.Empty(t, pc.GetPrivateComment())
		})

		t.Run("another tenant sees none of it", func(t *testing.T) {
			other := h.As(t, testkit.RandomName("globex"), auth.RoleTenantAdmin)
			_, err := client.GetAgreement(other, &evaluationv1.GetAgreementRequest{MatchId: "m1"})
			assert.Equal(t, codes.NotFound, status.Code(err), "%v", err)
			_, err = client.GetMatchHealth(other, &evaluationv1.GetMatchHealthRequest{MatchId: "m2"})
			assert.Equal(t, codes.NotFound, status.Code(err), "%v", err)
			_, err = client.ReadPrivateComment(other, &evaluationv1.ReadPrivateCommentRequest{FeedbackId: feedbackID, Reason: "cross-tenant probe"})
			assert.Equal(t, codes.NotFound, status.Code(err), "%v", err)
		})
	})
}
