// Package grpcapi serves tandem.evaluation.v1.EvaluationService over gRPC
// on top of the evaluation domain.
package grpcapi

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/protobuf/proto"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/fieldmask"
	"github.com/tandem-oss/tandem/pkg/pagetoken"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	"github.com/tandem-oss/tandem/services/evaluation/internal/pbconv"
)

// Roles of the RPCs. Analysts see aggregates only: settings and reports.
// Which records a caller may act on is each RPC's object rule (Objects):
// a participant acts only for themselves.
var (
	pairs    = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleParticipant, auth.RoleService}
	managers = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleService}
	readers  = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleAnalyst, auth.RoleParticipant, auth.RoleService}
	reports  = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleAnalyst}
)

// Policy says which roles may call each RPC.
var Policy = auth.Policy{
	evaluationv1.EvaluationService_GetEvaluationSettings_FullMethodName:    readers,
	evaluationv1.EvaluationService_UpdateEvaluationSettings_FullMethodName: {auth.RoleTenantAdmin, auth.RoleProgramManager},
	evaluationv1.EvaluationService_CreateAgreement_FullMethodName:          pairs,
	evaluationv1.EvaluationService_GetAgreement_FullMethodName:             pairs,
	evaluationv1.EvaluationService_UpdateAgreement_FullMethodName:          pairs,
	evaluationv1.EvaluationService_SignAgreement_FullMethodName:            pairs,
	evaluationv1.EvaluationService_CreateGoal_FullMethodName:               pairs,
	evaluationv1.EvaluationService_UpdateGoal_FullMethodName:               pairs,
	evaluationv1.EvaluationService_ListGoals_FullMethodName:                pairs,
	evaluationv1.EvaluationService_SubmitFeedback_FullMethodName:           pairs,
	evaluationv1.EvaluationService_ListFeedback_FullMethodName:             pairs,
	evaluationv1.EvaluationService_ReadPrivateComment_FullMethodName:       {auth.RoleTenantAdmin, auth.RoleParticipant},
	evaluationv1.EvaluationService_ListPulseSurveys_FullMethodName:         pairs,
	evaluationv1.EvaluationService_SubmitPulseResponse_FullMethodName:      pairs,
	evaluationv1.EvaluationService_SubmitSelfAssessment_FullMethodName:     pairs,
	evaluationv1.EvaluationService_ListSelfAssessments_FullMethodName:      pairs,
	evaluationv1.EvaluationService_GetMatchHealth_FullMethodName:           managers,
	evaluationv1.EvaluationService_ListPairsAtRisk_FullMethodName:          managers,
	evaluationv1.EvaluationService_GetProgramReport_FullMethodName:         reports,
	evaluationv1.EvaluationService_ExportProgramReport_FullMethodName:      reports,
}

const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// Server implements evaluationv1.EvaluationServiceServer.
type Server struct {
	evaluationv1.UnimplementedEvaluationServiceServer
	svc    *evaluation.Service
	tokens *pagetoken.Codec
}

// New returns a Server over the domain service; tokens signs page tokens.
func New(svc *evaluation.Service, tokens *pagetoken.Codec) *Server {
	return &Server{svc: svc, tokens: tokens}
}

// GetEvaluationSettings returns a program's settings.
func (s *Server) GetEvaluationSettings(ctx context.Context, req *evaluationv1.GetEvaluationSettingsRequest) (*evaluationv1.EvaluationSettings, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.svc.Settings(ctx, tenant, req.GetProgramId())
	if err != nil {
		return nil, err
	}
	return pbconv.Settings(st), nil
}

// UpdateEvaluationSettings replaces a program's settings.
func (s *Server) UpdateEvaluationSettings(ctx context.Context, req *evaluationv1.UpdateEvaluationSettingsRequest) (*evaluationv1.EvaluationSettings, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.svc.UpdateSettings(ctx, tenant, pbconv.SettingsFromPB(req.GetSettings()))
	if err != nil {
		return nil, err
	}
	return pbconv.Settings(st), nil
}

// CreateAgreement starts a pair's agreement.
func (s *Server) CreateAgreement(ctx context.Context, req *evaluationv1.CreateAgreementRequest) (*evaluationv1.Agreement, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	var terms *evaluation.AgreementTerms
	if req.GetTerms() != nil {
		t := pbconv.TermsFromPB(req.GetTerms())
		terms = &t
	}
	a, err := s.svc.CreateAgreement(ctx, tenant, req.GetMatchId(), req.GetPersonId(), terms)
	if err != nil {
		return nil, err
	}
	return pbconv.Agreement(a), nil
}

// GetAgreement returns a version of a pair's agreement.
func (s *Server) GetAgreement(ctx context.Context, req *evaluationv1.GetAgreementRequest) (*evaluationv1.Agreement, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.svc.Agreement(ctx, tenant, req.GetMatchId(), int(req.GetVersion()))
	if err != nil {
		return nil, err
	}
	return pbconv.Agreement(a), nil
}

// UpdateAgreement writes a new version of the terms.
func (s *Server) UpdateAgreement(ctx context.Context, req *evaluationv1.UpdateAgreementRequest) (*evaluationv1.Agreement, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.svc.UpdateAgreement(ctx, tenant, req.GetMatchId(), req.GetPersonId(), pbconv.TermsFromPB(req.GetTerms()), int(req.GetVersion()))
	if err != nil {
		return nil, err
	}
	return pbconv.Agreement(a), nil
}

// SignAgreement signs a version for one side.
func (s *Server) SignAgreement(ctx context.Context, req *evaluationv1.SignAgreementRequest) (*evaluationv1.Agreement, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.svc.SignAgreement(ctx, tenant, req.GetMatchId(), req.GetPersonId(), int(req.GetVersion()))
	if err != nil {
		return nil, err
	}
	return pbconv.Agreement(a), nil
}

// CreateGoal adds a goal to a pair.
func (s *Server) CreateGoal(ctx context.Context, req *evaluationv1.CreateGoalRequest) (*evaluationv1.Goal, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetGoal().GetMatchId() == "" {
		return nil, apperr.Invalid("goal.match_id", "must not be empty")
	}
	g, err := s.svc.CreateGoal(ctx, tenant, req.GetPersonId(), pbconv.GoalFromPB(req.GetGoal()))
	if err != nil {
		return nil, err
	}
	return pbconv.Goal(g), nil
}

// goalOutputOnly are the fields of a goal an update never sets.
var goalOutputOnly = []string{"id", "match_id", "program_id", "revision", "author_person_id", "create_time", "update_time", "complete_time"}

// UpdateGoal changes the fields of a goal named in the mask.
func (s *Server) UpdateGoal(ctx context.Context, req *evaluationv1.UpdateGoalRequest) (*evaluationv1.Goal, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetGoal().GetId() == "" {
		return nil, apperr.Invalid("goal.id", "must not be empty")
	}
	g, err := s.svc.UpdateGoal(ctx, tenant, req.GetPersonId(), req.GetGoal().GetId(), func(g *evaluation.Goal) error {
		pb := pbconv.Goal(*g)
		if err := fieldmask.Apply(pb, req.GetGoal(), req.GetUpdateMask(), "goal", goalOutputOnly, nil); err != nil {
			return err
		}
		next := pbconv.GoalFromPB(pb)
		next.Revision, next.CompleteTime = g.Revision, g.CompleteTime
		*g = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Goal(g), nil
}

// ListGoals lists a pair's goals.
func (s *Server) ListGoals(ctx context.Context, req *evaluationv1.ListGoalsRequest) (*evaluationv1.ListGoalsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	goals, err := s.svc.Goals(ctx, tenant, req.GetMatchId())
	if err != nil {
		return nil, err
	}
	resp := &evaluationv1.ListGoalsResponse{}
	for _, g := range goals {
		resp.Goals = append(resp.Goals, pbconv.Goal(g))
	}
	return resp, nil
}

// SubmitFeedback records feedback on a held session.
func (s *Server) SubmitFeedback(ctx context.Context, req *evaluationv1.SubmitFeedbackRequest) (*evaluationv1.Feedback, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	f, err := s.svc.SubmitFeedback(ctx, tenant, evaluation.Feedback{
		SessionID: req.GetSessionId(), AuthorPersonID: req.GetPersonId(), Rating: int(req.GetRating()),
		Tags: req.GetTags(), Comment: req.GetComment(), PrivateComment: req.GetPrivateComment(),
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Feedback(f), nil
}

// ListFeedback lists a pair's feedback, newest first.
func (s *Server) ListFeedback(ctx context.Context, req *evaluationv1.ListFeedbackRequest) (*evaluationv1.ListFeedbackResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &evaluationv1.ListFeedbackRequest{MatchId: req.GetMatchId()})
	after, err := s.tokens.Decode(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	var cursor evaluation.Cursor
	if after != "" {
		micros, id, err := splitToken(after)
		if err != nil {
			return nil, err
		}
		cursor = evaluation.Cursor{Time: time.UnixMicro(micros).UTC(), ID: id}
	}
	limit := pageSize(req.GetPageSize())
	list, err := s.svc.ListFeedback(ctx, tenant, req.GetMatchId(), cursor, limit)
	if err != nil {
		return nil, err
	}
	resp := &evaluationv1.ListFeedbackResponse{}
	for _, f := range list {
		resp.Feedback = append(resp.Feedback, pbconv.Feedback(f))
	}
	if len(list) == limit {
		last := list[len(list)-1]
		resp.NextPageToken = s.tokens.Encode(fmt.Sprintf("%d/%s", last.SubmitTime.UnixMicro(), last.ID), filter)
	}
	return resp, nil
}

// ReadPrivateComment returns a private comment to its author or to an
// admin with a reason.
func (s *Server) ReadPrivateComment(ctx context.Context, req *evaluationv1.ReadPrivateCommentRequest) (*evaluationv1.PrivateComment, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, _ := auth.FromContext(ctx)
	f, err := s.svc.ReadPrivateComment(ctx, tenant, req.GetFeedbackId(), req.GetPersonId(), p.Subject,
		p.HasRole(auth.RoleTenantAdmin), req.GetReason())
	if err != nil {
		return nil, err
	}
	return &evaluationv1.PrivateComment{FeedbackId: f.ID, AuthorPersonId: f.AuthorPersonID, PrivateComment: f.PrivateComment}, nil
}

// ListPulseSurveys lists a person's pulse surveys.
func (s *Server) ListPulseSurveys(ctx context.Context, req *evaluationv1.ListPulseSurveysRequest) (*evaluationv1.ListPulseSurveysResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.PulseSurveys(ctx, tenant, req.GetPersonId(), req.GetDueOnly())
	if err != nil {
		return nil, err
	}
	resp := &evaluationv1.ListPulseSurveysResponse{}
	for _, ps := range list {
		pb := &evaluationv1.PulseSurvey{
			MatchId: ps.Match.ID, ProgramId: ps.Match.ProgramID, PersonId: ps.PersonID, Day: int32(ps.Day), DueTime: pbconv.TS(ps.Due),
		}
		if ps.Response != nil {
			pb.Response = pbconv.PulseResponse(*ps.Response)
		}
		resp.Surveys = append(resp.Surveys, pb)
	}
	return resp, nil
}

// SubmitPulseResponse answers a due pulse survey.
func (s *Server) SubmitPulseResponse(ctx context.Context, req *evaluationv1.SubmitPulseResponseRequest) (*evaluationv1.PulseResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.SubmitPulseResponse(ctx, tenant, evaluation.PulseResponse{
		MatchID: req.GetMatchId(), PersonID: req.GetPersonId(), Day: int(req.GetDay()),
		Satisfaction: int(req.GetSatisfaction()), Recommend: int(req.GetRecommend()), Comment: req.GetComment(),
	})
	if err != nil {
		return nil, err
	}
	return pbconv.PulseResponse(r), nil
}

// SubmitSelfAssessment records self-assessed levels.
func (s *Server) SubmitSelfAssessment(ctx context.Context, req *evaluationv1.SubmitSelfAssessmentRequest) (*evaluationv1.SelfAssessment, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	a := evaluation.SelfAssessment{ParticipantID: req.GetParticipantId(), Phase: pbconv.Phase(req.GetPhase())}
	for _, l := range req.GetLevels() {
		a.Levels = append(a.Levels, evaluation.SkillLevel{SkillID: l.GetSkillId(), Level: int(l.GetLevel())})
	}
	a, err = s.svc.SubmitAssessment(ctx, tenant, a)
	if err != nil {
		return nil, err
	}
	return pbconv.SelfAssessment(a), nil
}

// ListSelfAssessments returns a participant's assessments.
func (s *Server) ListSelfAssessments(ctx context.Context, req *evaluationv1.ListSelfAssessmentsRequest) (*evaluationv1.ListSelfAssessmentsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.Assessments(ctx, tenant, req.GetParticipantId())
	if err != nil {
		return nil, err
	}
	resp := &evaluationv1.ListSelfAssessmentsResponse{}
	for _, a := range list {
		resp.Assessments = append(resp.Assessments, pbconv.SelfAssessment(a))
	}
	return resp, nil
}

// GetMatchHealth returns an active pair's health.
func (s *Server) GetMatchHealth(ctx context.Context, req *evaluationv1.GetMatchHealthRequest) (*evaluationv1.MatchHealth, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	h, err := s.svc.Health(ctx, tenant, req.GetMatchId())
	if err != nil {
		return nil, err
	}
	return pbconv.Health(h), nil
}

// ListPairsAtRisk lists a program's pairs that need attention or are at
// risk.
func (s *Server) ListPairsAtRisk(ctx context.Context, req *evaluationv1.ListPairsAtRiskRequest) (*evaluationv1.ListPairsAtRiskResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &evaluationv1.ListPairsAtRiskRequest{ProgramId: req.GetProgramId(), MinStatus: req.GetMinStatus()})
	after, err := s.tokens.Decode(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	var cursor evaluation.HealthCursor
	if after != "" {
		status, rest, _ := strings.Cut(after, "/")
		n, err := strconv.Atoi(status)
		micros, id, err2 := splitToken(rest)
		if err != nil || err2 != nil {
			return nil, apperr.Invalid("page_token", "not a page token issued for this listing")
		}
		cursor = evaluation.HealthCursor{Status: evaluation.HealthStatus(n), Since: time.UnixMicro(micros).UTC(), ID: id}
	}
	limit := pageSize(req.GetPageSize())
	list, err := s.svc.PairsAtRisk(ctx, tenant, req.GetProgramId(), evaluation.HealthStatus(req.GetMinStatus()), cursor, limit)
	if err != nil {
		return nil, err
	}
	resp := &evaluationv1.ListPairsAtRiskResponse{}
	for _, h := range list {
		resp.Pairs = append(resp.Pairs, pbconv.Health(h))
	}
	if len(list) == limit {
		last := list[len(list)-1]
		resp.NextPageToken = s.tokens.Encode(fmt.Sprintf("%d/%d/%s", last.Status, last.SinceTime.UnixMicro(), last.MatchID), filter)
	}
	return resp, nil
}

// GetProgramReport returns the program's report as projected from events.
func (s *Server) GetProgramReport(ctx context.Context, req *evaluationv1.GetProgramReportRequest) (*evaluationv1.ProgramReport, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.ProgramReport(ctx, tenant, req.GetProgramId())
	if err != nil {
		return nil, err
	}
	return pbconv.Report(r), nil
}

// ExportProgramReport returns the program's report as CSV.
func (s *Server) ExportProgramReport(ctx context.Context, req *evaluationv1.ExportProgramReportRequest) (*httpbody.HttpBody, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.ProgramReport(ctx, tenant, req.GetProgramId())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := evaluation.WriteReportCSV(&buf, r); err != nil {
		return nil, err
	}
	return &httpbody.HttpBody{ContentType: "text/csv; charset=utf-8", Data: buf.Bytes()}, nil
}

func pageSize(n int32) int {
	if n <= 0 {
		return defaultPageSize
	}
	return min(int(n), maxPageSize)
}

// filterKey binds a page token to the tenant and the listing's filter.
func filterKey(tenant string, filter proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(filter)
	return fmt.Sprintf("%s/%T/%x", tenant, filter, b)
}

// splitToken reads "<micros>/<id>" from a page token.
func splitToken(s string) (int64, string, error) {
	micros, id, ok := strings.Cut(s, "/")
	n, err := strconv.ParseInt(micros, 10, 64)
	if !ok || err != nil || id == "" {
		return 0, "", apperr.Invalid("page_token", "not a page token issued for this listing")
	}
	return n, id, nil
}
