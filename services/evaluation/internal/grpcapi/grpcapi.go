// Package grpcapi serves tandem.evaluation.v1.EvaluationService over gRPC
// on top of the evaluation domain.
package grpcapi

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// Policy says which roles may call each RPC. Reports aggregate a whole
// program, so participants and service accounts do not read them.
var Policy = auth.Policy{
	evaluationv1.EvaluationService_GetProgramReport_FullMethodName: {
		auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleAnalyst,
	},
}

// Server implements evaluationv1.EvaluationServiceServer.
type Server struct {
	evaluationv1.UnimplementedEvaluationServiceServer
	svc *evaluation.Service
}

// New returns a Server over the domain service.
func New(svc *evaluation.Service) *Server {
	return &Server{svc: svc}
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
	return &evaluationv1.ProgramReport{
		ProgramId:       r.ProgramID,
		EnrolledMentors: int32(r.EnrolledMentors),
		EnrolledMentees: int32(r.EnrolledMentees),
		Withdrawn:       int32(r.Withdrawn),
		AsOfTime:        ts(r.AsOfTime),
	}, nil
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
