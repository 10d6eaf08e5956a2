package grpcapi

import (
	"context"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
)

// actor is who calls: the participant the request names, and whether the
// caller runs programs (and so may act for either side).
func actor(ctx context.Context, participantID string) matching.Actor {
	p, _ := auth.FromContext(ctx)
	return matching.Actor{ParticipantID: participantID, Admin: p.HasRole(auth.RoleTenantAdmin, auth.RoleProgramManager)}
}

// GetMatch returns one match.
func (s *Server) GetMatch(ctx context.Context, req *matchingv1.GetMatchRequest) (*matchingv1.Match, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.svc.Match(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.Match(m), nil
}

// ListMatches returns one page of matches.
func (s *Server) ListMatches(ctx context.Context, req *matchingv1.ListMatchesRequest) (*matchingv1.ListMatchesResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &matchingv1.ListMatchesRequest{ProgramId: req.GetProgramId(), State: req.GetState(),
		ParticipantId: req.GetParticipantId()})
	page, err := s.page(req.GetPageToken(), req.GetPageSize(), filter)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListMatches(ctx, tenant, matching.MatchFilter{ProgramID: req.GetProgramId(),
		State: pbconv.MatchState(req.GetState()), ParticipantID: req.GetParticipantId()}, page)
	if err != nil {
		return nil, err
	}
	resp := &matchingv1.ListMatchesResponse{}
	for _, m := range list {
		resp.Matches = append(resp.Matches, pbconv.Match(m))
	}
	if len(list) > 0 {
		resp.NextPageToken = s.nextToken(page, len(list), list[len(list)-1].ID, filter)
	}
	return resp, nil
}

// CreateMatch pairs two participants by hand.
func (s *Server) CreateMatch(ctx context.Context, req *matchingv1.CreateMatchRequest) (*matchingv1.Match, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.svc.CreateMatch(ctx, tenant, req.GetProgramId(), req.GetMentorParticipantId(), req.GetMenteeParticipantId())
	if err != nil {
		return nil, err
	}
	return pbconv.Match(m), nil
}

// AcceptMatch records one side's acceptance.
func (s *Server) AcceptMatch(ctx context.Context, req *matchingv1.AcceptMatchRequest) (*matchingv1.Match, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.svc.AcceptMatch(ctx, tenant, req.GetId(), req.GetParticipantId())
	if err != nil {
		return nil, err
	}
	return pbconv.Match(m), nil
}

// DeclineMatch declines a match.
func (s *Server) DeclineMatch(ctx context.Context, req *matchingv1.DeclineMatchRequest) (*matchingv1.Match, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.svc.DeclineMatch(ctx, tenant, req.GetId(), actor(ctx, req.GetParticipantId()), req.GetReason())
	if err != nil {
		return nil, err
	}
	return pbconv.Match(m), nil
}

// ActivateMatch starts an accepted match.
func (s *Server) ActivateMatch(ctx context.Context, req *matchingv1.ActivateMatchRequest) (*matchingv1.Match, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.svc.ActivateMatch(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.Match(m), nil
}

// EndMatch ends an active match.
func (s *Server) EndMatch(ctx context.Context, req *matchingv1.EndMatchRequest) (*matchingv1.Match, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	m, err := s.svc.EndMatch(ctx, tenant, req.GetId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return pbconv.Match(m), nil
}
