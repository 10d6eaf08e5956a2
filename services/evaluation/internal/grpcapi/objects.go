package grpcapi

import (
	"context"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
)

// Objects declares what each RPC acts on, for the object-level rules the
// server enforces after the role policy (auth.Allow). Agreements, goals,
// feedback, pulse responses and health belong to a match's program and
// pair; a call that acts as a person_id must come from that person, who
// must be one of the pair. Self-assessments belong to a participant;
// pulse surveys to a person; settings, reports and the pairs at risk to a
// program.
func (s *Server) Objects() auth.Objects {
	return auth.Objects{
		evaluationv1.EvaluationService_GetEvaluationSettings_FullMethodName: auth.Rule(func(_ context.Context, r *evaluationv1.GetEvaluationSettingsRequest) (auth.Object, error) {
			return auth.SharedProgram(r.GetProgramId()), nil // program configuration, no personal data
		}),
		evaluationv1.EvaluationService_UpdateEvaluationSettings_FullMethodName: auth.Rule(func(_ context.Context, r *evaluationv1.UpdateEvaluationSettingsRequest) (auth.Object, error) {
			return auth.Program(r.GetSettings().GetProgramId()), nil
		}),
		evaluationv1.EvaluationService_CreateAgreement_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.CreateAgreementRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), r.GetPersonId())
		}),
		evaluationv1.EvaluationService_GetAgreement_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.GetAgreementRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), "")
		}),
		evaluationv1.EvaluationService_UpdateAgreement_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.UpdateAgreementRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), r.GetPersonId())
		}),
		evaluationv1.EvaluationService_SignAgreement_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.SignAgreementRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), r.GetPersonId())
		}),
		evaluationv1.EvaluationService_CreateGoal_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.CreateGoalRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetGoal().GetMatchId(), r.GetPersonId())
		}),
		evaluationv1.EvaluationService_UpdateGoal_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.UpdateGoalRequest) (auth.Object, error) {
			tenant, err := auth.TenantFrom(ctx)
			if err != nil {
				return auth.Object{}, err
			}
			g, err := s.svc.Goal(ctx, tenant, r.GetGoal().GetId())
			if err != nil {
				return auth.Object{}, err
			}
			return s.matchObject(ctx, g.MatchID, r.GetPersonId())
		}),
		evaluationv1.EvaluationService_ListGoals_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.ListGoalsRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), "")
		}),
		evaluationv1.EvaluationService_SubmitFeedback_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.SubmitFeedbackRequest) (auth.Object, error) {
			tenant, err := auth.TenantFrom(ctx)
			if err != nil {
				return auth.Object{}, err
			}
			sess, err := s.svc.Session(ctx, tenant, r.GetSessionId())
			if err != nil {
				return auth.Object{}, err
			}
			return s.matchObject(ctx, sess.MatchID, r.GetPersonId())
		}),
		evaluationv1.EvaluationService_ListFeedback_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.ListFeedbackRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), "")
		}),
		evaluationv1.EvaluationService_ReadPrivateComment_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.ReadPrivateCommentRequest) (auth.Object, error) {
			tenant, err := auth.TenantFrom(ctx)
			if err != nil {
				return auth.Object{}, err
			}
			f, err := s.svc.Feedback(ctx, tenant, r.GetFeedbackId())
			if err != nil {
				return auth.Object{}, err
			}
			// Only the author reads their own comment (the handler checks
			// the authorship); a tenant admin reads it with a reason.
			return s.matchObject(ctx, f.MatchID, r.GetPersonId())
		}),
		evaluationv1.EvaluationService_ListPulseSurveys_FullMethodName: auth.Rule(func(_ context.Context, r *evaluationv1.ListPulseSurveysRequest) (auth.Object, error) {
			return auth.PersonField("person_id", r.GetPersonId())
		}),
		evaluationv1.EvaluationService_SubmitPulseResponse_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.SubmitPulseResponseRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), r.GetPersonId())
		}),
		evaluationv1.EvaluationService_SubmitSelfAssessment_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.SubmitSelfAssessmentRequest) (auth.Object, error) {
			return s.participantObject(ctx, r.GetParticipantId())
		}),
		evaluationv1.EvaluationService_ListSelfAssessments_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.ListSelfAssessmentsRequest) (auth.Object, error) {
			return s.participantObject(ctx, r.GetParticipantId())
		}),
		evaluationv1.EvaluationService_GetMatchHealth_FullMethodName: auth.Rule(func(ctx context.Context, r *evaluationv1.GetMatchHealthRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), "")
		}),
		evaluationv1.EvaluationService_ListPairsAtRisk_FullMethodName: auth.Rule(func(_ context.Context, r *evaluationv1.ListPairsAtRiskRequest) (auth.Object, error) {
			return auth.Program(r.GetProgramId()), nil
		}),
		evaluationv1.EvaluationService_GetProgramReport_FullMethodName: auth.Rule(func(_ context.Context, r *evaluationv1.GetProgramReportRequest) (auth.Object, error) {
			return auth.Program(r.GetProgramId()), nil
		}),
		evaluationv1.EvaluationService_ExportProgramReport_FullMethodName: auth.Rule(func(_ context.Context, r *evaluationv1.ExportProgramReportRequest) (auth.Object, error) {
			return auth.Program(r.GetProgramId()), nil
		}),
	}
}

// matchObject is a match's program and pair, narrowed to actor when the
// call acts as a person (auth.Pair).
func (s *Server) matchObject(ctx context.Context, matchID, actor string) (auth.Object, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return auth.Object{}, err
	}
	m, err := s.svc.Match(ctx, tenant, matchID)
	if err != nil {
		return auth.Object{}, err
	}
	return auth.Pair(m.ProgramID, m.MentorPersonID, m.MenteePersonID, actor), nil
}

// participantObject is a participant's program and person.
func (s *Server) participantObject(ctx context.Context, id string) (auth.Object, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return auth.Object{}, err
	}
	p, err := s.svc.Participant(ctx, tenant, id)
	if err != nil {
		return auth.Object{}, err
	}
	return auth.Object{ProgramID: p.ProgramID, PersonIDs: []string{p.PersonID}}, nil
}
