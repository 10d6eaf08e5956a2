// Package pbconv converts between the evaluation domain and its protobuf
// messages, for the gRPC API, for event payloads and for the service's own
// events read back by its consumer.
package pbconv

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// Settings converts a program's settings.
func Settings(s evaluation.Settings) *evaluationv1.EvaluationSettings {
	pb := &evaluationv1.EvaluationSettings{
		ProgramId:         s.ProgramID,
		AgreementTemplate: Terms(s.AgreementTemplate),
		HealthThresholds: &evaluationv1.HealthThresholds{
			DaysWithoutSession:    int32(s.Health.DaysWithoutSession),
			Cancellations:         int32(s.Health.Cancellations),
			LowRating:             s.Health.LowRating,
			UnsignedAgreementDays: int32(s.Health.UnsignedAgreementDays),
		},
		UpdateTime: TS(s.UpdateTime),
	}
	for _, d := range s.PulseSurveyDays {
		pb.PulseSurveyDays = append(pb.PulseSurveyDays, int32(d))
	}
	return pb
}

// SettingsFromPB converts settings as given (zero thresholds stay zero).
func SettingsFromPB(pb *evaluationv1.EvaluationSettings) evaluation.Settings {
	s := evaluation.Settings{
		ProgramID:         pb.GetProgramId(),
		AgreementTemplate: TermsFromPB(pb.GetAgreementTemplate()),
		Health: evaluation.HealthThresholds{
			DaysWithoutSession:    int(pb.GetHealthThresholds().GetDaysWithoutSession()),
			Cancellations:         int(pb.GetHealthThresholds().GetCancellations()),
			LowRating:             pb.GetHealthThresholds().GetLowRating(),
			UnsignedAgreementDays: int(pb.GetHealthThresholds().GetUnsignedAgreementDays()),
		},
		UpdateTime: FromTS(pb.GetUpdateTime()),
	}
	for _, d := range pb.GetPulseSurveyDays() {
		s.PulseSurveyDays = append(s.PulseSurveyDays, int(d))
	}
	return s
}

// Terms converts agreement terms.
func Terms(t evaluation.AgreementTerms) *evaluationv1.AgreementTerms {
	return &evaluationv1.AgreementTerms{
		TopicScope: t.TopicScope, Confidentiality: t.Confidentiality,
		Expectations: t.Expectations, MeetingStructure: t.MeetingStructure,
	}
}

// TermsFromPB converts agreement terms from a message.
func TermsFromPB(pb *evaluationv1.AgreementTerms) evaluation.AgreementTerms {
	return evaluation.AgreementTerms{
		TopicScope: pb.GetTopicScope(), Confidentiality: pb.GetConfidentiality(),
		Expectations: pb.GetExpectations(), MeetingStructure: pb.GetMeetingStructure(),
	}
}

// Agreement converts one version of an agreement.
func Agreement(a evaluation.Agreement) *evaluationv1.Agreement {
	state := evaluationv1.AgreementState_AGREEMENT_STATE_DRAFT
	if a.Signed() {
		state = evaluationv1.AgreementState_AGREEMENT_STATE_SIGNED
	}
	return &evaluationv1.Agreement{
		MatchId: a.MatchID, ProgramId: a.ProgramID, Version: int32(a.Version), Terms: Terms(a.Terms), State: state,
		MentorPersonId: a.MentorPersonID, MenteePersonId: a.MenteePersonID,
		MentorSignTime: TS(a.MentorSignTime), MenteeSignTime: TS(a.MenteeSignTime),
		AuthorPersonId: a.AuthorPersonID, CreateTime: TS(a.CreateTime), UpdateTime: TS(a.UpdateTime),
	}
}

// AgreementFromPB converts an agreement from a message.
func AgreementFromPB(pb *evaluationv1.Agreement) evaluation.Agreement {
	return evaluation.Agreement{
		MatchID: pb.GetMatchId(), ProgramID: pb.GetProgramId(), Version: int(pb.GetVersion()), Terms: TermsFromPB(pb.GetTerms()),
		MentorPersonID: pb.GetMentorPersonId(), MenteePersonID: pb.GetMenteePersonId(),
		MentorSignTime: FromTS(pb.GetMentorSignTime()), MenteeSignTime: FromTS(pb.GetMenteeSignTime()),
		AuthorPersonID: pb.GetAuthorPersonId(), CreateTime: FromTS(pb.GetCreateTime()), UpdateTime: FromTS(pb.GetUpdateTime()),
	}
}

var (
	goalStates = map[evaluation.GoalState]evaluationv1.GoalState{
		evaluation.GoalOpen:      evaluationv1.GoalState_GOAL_STATE_OPEN,
		evaluation.GoalCompleted: evaluationv1.GoalState_GOAL_STATE_COMPLETED,
		evaluation.GoalAbandoned: evaluationv1.GoalState_GOAL_STATE_ABANDONED,
	}
	phases = map[evaluation.Phase]evaluationv1.AssessmentPhase{
		evaluation.PhasePre:  evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_PRE,
		evaluation.PhasePost: evaluationv1.AssessmentPhase_ASSESSMENT_PHASE_POST,
	}
)

// GoalState converts a goal state from a message ("" when unspecified).
func GoalState(s evaluationv1.GoalState) evaluation.GoalState { return key(goalStates, s) }

// Phase converts an assessment phase from a message ("" when unspecified).
func Phase(p evaluationv1.AssessmentPhase) evaluation.Phase { return key(phases, p) }

// Goal converts a goal.
func Goal(g evaluation.Goal) *evaluationv1.Goal {
	pb := &evaluationv1.Goal{
		Id: g.ID, MatchId: g.MatchID, ProgramId: g.ProgramID, Title: g.Title, Description: g.Description,
		ProgressPercent: int32(g.Progress), State: goalStates[g.State], DueDate: g.DueDate, Revision: int32(g.Revision),
		AuthorPersonId: g.AuthorPersonID, CreateTime: TS(g.CreateTime), UpdateTime: TS(g.UpdateTime), CompleteTime: TS(g.CompleteTime),
	}
	for _, m := range g.Milestones {
		pb.Milestones = append(pb.Milestones, &evaluationv1.Milestone{Title: m.Title, Done: m.Done, DoneTime: TS(m.DoneTime)})
	}
	return pb
}

// GoalFromPB converts a goal from a message.
func GoalFromPB(pb *evaluationv1.Goal) evaluation.Goal {
	g := evaluation.Goal{
		ID: pb.GetId(), MatchID: pb.GetMatchId(), ProgramID: pb.GetProgramId(), Title: pb.GetTitle(), Description: pb.GetDescription(),
		Progress: int(pb.GetProgressPercent()), State: GoalState(pb.GetState()), DueDate: pb.GetDueDate(), Revision: int(pb.GetRevision()),
		AuthorPersonID: pb.GetAuthorPersonId(), CreateTime: FromTS(pb.GetCreateTime()), UpdateTime: FromTS(pb.GetUpdateTime()),
		CompleteTime: FromTS(pb.GetCompleteTime()),
	}
	for _, m := range pb.GetMilestones() {
		g.Milestones = append(g.Milestones, evaluation.Milestone{Title: m.GetTitle(), Done: m.GetDone(), DoneTime: FromTS(m.GetDoneTime())})
	}
	return g
}

// Feedback converts feedback, never with its private comment.
func Feedback(f evaluation.Feedback) *evaluationv1.Feedback {
	return &evaluationv1.Feedback{
		Id: f.ID, SessionId: f.SessionID, MatchId: f.MatchID, ProgramId: f.ProgramID, AuthorPersonId: f.AuthorPersonID,
		Rating: int32(f.Rating), Tags: f.Tags, Comment: f.Comment,
		HasPrivateComment: f.HasPrivateComment || f.PrivateComment != "", SubmitTime: TS(f.SubmitTime),
	}
}

// FeedbackFromPB converts feedback from a message.
func FeedbackFromPB(pb *evaluationv1.Feedback) evaluation.Feedback {
	return evaluation.Feedback{
		ID: pb.GetId(), SessionID: pb.GetSessionId(), MatchID: pb.GetMatchId(), ProgramID: pb.GetProgramId(),
		AuthorPersonID: pb.GetAuthorPersonId(), Rating: int(pb.GetRating()), Tags: pb.GetTags(), Comment: pb.GetComment(),
		HasPrivateComment: pb.GetHasPrivateComment(), SubmitTime: FromTS(pb.GetSubmitTime()),
	}
}

// PulseResponse converts a pulse survey answer.
func PulseResponse(r evaluation.PulseResponse) *evaluationv1.PulseResponse {
	return &evaluationv1.PulseResponse{
		Id: r.ID, MatchId: r.MatchID, ProgramId: r.ProgramID, PersonId: r.PersonID, Day: int32(r.Day),
		Satisfaction: int32(r.Satisfaction), Recommend: int32(r.Recommend), Comment: r.Comment, SubmitTime: TS(r.SubmitTime),
	}
}

// PulseResponseFromPB converts an answer from a message.
func PulseResponseFromPB(pb *evaluationv1.PulseResponse) evaluation.PulseResponse {
	return evaluation.PulseResponse{
		ID: pb.GetId(), MatchID: pb.GetMatchId(), ProgramID: pb.GetProgramId(), PersonID: pb.GetPersonId(), Day: int(pb.GetDay()),
		Satisfaction: int(pb.GetSatisfaction()), Recommend: int(pb.GetRecommend()), Comment: pb.GetComment(), SubmitTime: FromTS(pb.GetSubmitTime()),
	}
}

// SelfAssessment converts a phase of self-assessment. A level's own
// submit time is not carried: the message has the phase's newest.
func SelfAssessment(a evaluation.SelfAssessment) *evaluationv1.SelfAssessment {
	pb := &evaluationv1.SelfAssessment{
		ParticipantId: a.ParticipantID, ProgramId: a.ProgramID, PersonId: a.PersonID,
		Phase: phases[a.Phase], SubmitTime: TS(a.SubmitTime),
	}
	for _, l := range a.Levels {
		pb.Levels = append(pb.Levels, &evaluationv1.SkillLevel{SkillId: l.SkillID, Level: int32(l.Level)})
	}
	return pb
}

// SelfAssessmentFromPB converts a submission; every level gets the
// message's submit time.
func SelfAssessmentFromPB(pb *evaluationv1.SelfAssessment) evaluation.SelfAssessment {
	a := evaluation.SelfAssessment{
		ParticipantID: pb.GetParticipantId(), ProgramID: pb.GetProgramId(), PersonID: pb.GetPersonId(),
		Phase: Phase(pb.GetPhase()), SubmitTime: FromTS(pb.GetSubmitTime()),
	}
	for _, l := range pb.GetLevels() {
		a.Levels = append(a.Levels, evaluation.SkillLevel{SkillID: l.GetSkillId(), Level: int(l.GetLevel()), SubmitTime: a.SubmitTime})
	}
	return a
}

// Health converts a pair's health.
func Health(h evaluation.Health) *evaluationv1.MatchHealth {
	return &evaluationv1.MatchHealth{
		MatchId: h.MatchID, ProgramId: h.ProgramID, MentorPersonId: h.MentorPersonID, MenteePersonId: h.MenteePersonID,
		Status: HealthStatus(h.Status), Reasons: h.Reasons, SinceTime: TS(h.SinceTime), EvaluateTime: TS(h.EvaluateTime),
	}
}

// HealthStatus converts a status; the numbers are the message's.
func HealthStatus(s evaluation.HealthStatus) evaluationv1.HealthStatus {
	return evaluationv1.HealthStatus(s)
}

// TS converts a time; the zero time becomes nil.
func TS(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// FromTS converts a timestamp; nil becomes the zero time. Times are UTC.
func FromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime().UTC()
}

func key[K comparable, V comparable](m map[K]V, v V) K {
	for k, x := range m {
		if x == v {
			return k
		}
	}
	var zero K
	return zero
}
