// Package grpcapi serves tandem.matching.v1.MatchingService over gRPC on top
// of the matching domain.
package grpcapi

import (
	"context"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
)

// Policy says which roles may call each RPC. Analysts and services read the
// configuration to understand and reproduce scores; only those who run
// programs change it.
var Policy = auth.Policy{
	matchingv1.MatchingService_GetScoringConfig_FullMethodName: {
		auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleAnalyst, auth.RoleService,
	},
	matchingv1.MatchingService_UpdateScoringConfig_FullMethodName: {
		auth.RoleTenantAdmin, auth.RoleProgramManager,
	},
}

// Server implements matchingv1.MatchingServiceServer.
type Server struct {
	matchingv1.UnimplementedMatchingServiceServer
	svc *matching.Service
}

// New returns a Server over the domain service.
func New(svc *matching.Service) *Server {
	return &Server{svc: svc}
}

// GetScoringConfig returns the program's configuration or the defaults.
func (s *Server) GetScoringConfig(ctx context.Context, req *matchingv1.GetScoringConfigRequest) (*matchingv1.ScoringConfig, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.ScoringConfig(ctx, tenant, req.GetProgramId())
	if err != nil {
		return nil, err
	}
	return pbconv.ScoringConfig(c), nil
}

// UpdateScoringConfig stores the next version of the program's
// configuration.
func (s *Server) UpdateScoringConfig(ctx context.Context, req *matchingv1.UpdateScoringConfigRequest) (*matchingv1.ScoringConfig, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.UpdateScoringConfig(ctx, tenant, pbconv.ScoringConfigFromPB(req.GetConfig()))
	if err != nil {
		return nil, err
	}
	return pbconv.ScoringConfig(c), nil
}
