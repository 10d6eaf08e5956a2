// Package grpcapi serves tandem.scheduling.v1.SchedulingService over gRPC
// on top of the scheduling domain.
package grpcapi

import (
	"context"

	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

// availabilityRoles may read and set availability. Object-level rules (a
// participant sets only their own) arrive with the gateway and security
// issue.
var availabilityRoles = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleParticipant, auth.RoleService}

// Policy says which roles may call each RPC.
var Policy = auth.Policy{
	schedulingv1.SchedulingService_GetAvailability_FullMethodName: availabilityRoles,
	schedulingv1.SchedulingService_SetAvailability_FullMethodName: availabilityRoles,
}

// Server implements schedulingv1.SchedulingServiceServer.
type Server struct {
	schedulingv1.UnimplementedSchedulingServiceServer
	svc *scheduling.Service
}

// New returns a Server over the domain service.
func New(svc *scheduling.Service) *Server {
	return &Server{svc: svc}
}

// GetAvailability returns a person's weekly availability.
func (s *Server) GetAvailability(ctx context.Context, req *schedulingv1.GetAvailabilityRequest) (*schedulingv1.Availability, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.svc.Availability(ctx, tenant, req.GetPersonId())
	if err != nil {
		return nil, err
	}
	return pbconv.Availability(a), nil
}

// SetAvailability replaces a person's weekly availability.
func (s *Server) SetAvailability(ctx context.Context, req *schedulingv1.SetAvailabilityRequest) (*schedulingv1.Availability, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.svc.SetAvailability(ctx, tenant, pbconv.AvailabilityFromPB(req.GetAvailability()))
	if err != nil {
		return nil, err
	}
	return pbconv.Availability(a), nil
}
