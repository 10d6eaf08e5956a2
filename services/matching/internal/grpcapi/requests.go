package grpcapi

import (
	"context"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
)

// CreateMatchRequest asks another participant to pair up.
func (s *Server) CreateMatchRequest(ctx context.Context, req *matchingv1.CreateMatchRequestRequest) (*matchingv1.MatchRequest, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.CreateMatchRequest(ctx, tenant, req.GetProgramId(), req.GetRequesterParticipantId(), req.GetTargetParticipantId(), req.GetMessage())
	if err != nil {
		return nil, err
	}
	return pbconv.MatchRequest(r), nil
}

// GetMatchRequest returns one request.
func (s *Server) GetMatchRequest(ctx context.Context, req *matchingv1.GetMatchRequestRequest) (*matchingv1.MatchRequest, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.MatchRequest(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.MatchRequest(r), nil
}

// ListMatchRequests returns one page of requests.
func (s *Server) ListMatchRequests(ctx context.Context, req *matchingv1.ListMatchRequestsRequest) (*matchingv1.ListMatchRequestsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &matchingv1.ListMatchRequestsRequest{ProgramId: req.GetProgramId(),
		ParticipantId: req.GetParticipantId(), State: req.GetState()})
	page, err := s.page(req.GetPageToken(), req.GetPageSize(), filter)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListMatchRequests(ctx, tenant, matching.RequestFilter{ProgramID: req.GetProgramId(),
		ParticipantID: req.GetParticipantId(), State: pbconv.RequestState(req.GetState())}, page)
	if err != nil {
		return nil, err
	}
	resp := &matchingv1.ListMatchRequestsResponse{}
	for _, r := range list {
		resp.Requests = append(resp.Requests, pbconv.MatchRequest(r))
	}
	if len(list) > 0 {
		resp.NextPageToken = s.nextToken(page, len(list), list[len(list)-1].ID, filter)
	}
	return resp, nil
}

// ApproveMatchRequest approves a request and creates an accepted match.
func (s *Server) ApproveMatchRequest(ctx context.Context, req *matchingv1.ApproveMatchRequestRequest) (*matchingv1.MatchRequest, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.ApproveMatchRequest(ctx, tenant, req.GetId(), actor(ctx, req.GetParticipantId()))
	if err != nil {
		return nil, err
	}
	return pbconv.MatchRequest(r), nil
}

// RejectMatchRequest rejects a request.
func (s *Server) RejectMatchRequest(ctx context.Context, req *matchingv1.RejectMatchRequestRequest) (*matchingv1.MatchRequest, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.RejectMatchRequest(ctx, tenant, req.GetId(), actor(ctx, req.GetParticipantId()), req.GetReason())
	if err != nil {
		return nil, err
	}
	return pbconv.MatchRequest(r), nil
}

// CancelMatchRequest withdraws a request.
func (s *Server) CancelMatchRequest(ctx context.Context, req *matchingv1.CancelMatchRequestRequest) (*matchingv1.MatchRequest, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.CancelMatchRequest(ctx, tenant, req.GetId(), actor(ctx, req.GetParticipantId()))
	if err != nil {
		return nil, err
	}
	return pbconv.MatchRequest(r), nil
}
