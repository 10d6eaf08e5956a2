package grpcapi

import (
	"context"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
)

// CreateMatchRun starts a run and returns it RUNNING.
func (s *Server) CreateMatchRun(ctx context.Context, req *matchingv1.CreateMatchRunRequest) (*matchingv1.MatchRun, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	r := matching.RunRequest{ProgramID: req.GetProgramId(), Strategy: pbconv.Strategy(req.GetStrategy()),
		MaximiseParticipation: req.GetMaximiseParticipation()}
	if req.GetConfigOverride() != nil {
		c := pbconv.ScoringConfigFromPB(req.GetConfigOverride())
		r.Override = &c
	}
	run, err := s.svc.CreateMatchRun(ctx, tenant, r)
	if err != nil {
		return nil, err
	}
	return pbconv.MatchRun(run), nil
}

// GetMatchRun returns a run with its progress.
func (s *Server) GetMatchRun(ctx context.Context, req *matchingv1.GetMatchRunRequest) (*matchingv1.MatchRun, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	run, err := s.svc.MatchRun(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.MatchRun(run), nil
}

// ListMatchRuns returns one page of a program's runs.
func (s *Server) ListMatchRuns(ctx context.Context, req *matchingv1.ListMatchRunsRequest) (*matchingv1.ListMatchRunsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &matchingv1.ListMatchRunsRequest{ProgramId: req.GetProgramId()})
	page, err := s.page(req.GetPageToken(), req.GetPageSize(), filter)
	if err != nil {
		return nil, err
	}
	runs, err := s.svc.ListMatchRuns(ctx, tenant, req.GetProgramId(), page)
	if err != nil {
		return nil, err
	}
	resp := &matchingv1.ListMatchRunsResponse{}
	for _, r := range runs {
		resp.Runs = append(resp.Runs, pbconv.MatchRun(r))
	}
	if len(runs) > 0 {
		resp.NextPageToken = s.nextToken(page, len(runs), runs[len(runs)-1].ID, filter)
	}
	return resp, nil
}

// ListMatchRunPairs returns one page of a run's pairs.
func (s *Server) ListMatchRunPairs(ctx context.Context, req *matchingv1.ListMatchRunPairsRequest) (*matchingv1.ListMatchRunPairsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &matchingv1.ListMatchRunPairsRequest{RunId: req.GetRunId()})
	page, err := s.page(req.GetPageToken(), req.GetPageSize(), filter)
	if err != nil {
		return nil, err
	}
	pairs, err := s.svc.ListRunPairs(ctx, tenant, req.GetRunId(), page)
	if err != nil {
		return nil, err
	}
	resp := &matchingv1.ListMatchRunPairsResponse{}
	for _, p := range pairs {
		resp.Pairs = append(resp.Pairs, pbconv.RunPair(p))
	}
	if len(pairs) > 0 {
		resp.NextPageToken = s.nextToken(page, len(pairs), pairs[len(pairs)-1].MenteeID, filter)
	}
	return resp, nil
}

// ListMatchRunUnmatched returns one page of a run's unmatched participants.
func (s *Server) ListMatchRunUnmatched(ctx context.Context, req *matchingv1.ListMatchRunUnmatchedRequest) (*matchingv1.ListMatchRunUnmatchedResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &matchingv1.ListMatchRunUnmatchedRequest{RunId: req.GetRunId()})
	page, err := s.page(req.GetPageToken(), req.GetPageSize(), filter)
	if err != nil {
		return nil, err
	}
	list, err := s.svc.ListRunUnmatched(ctx, tenant, req.GetRunId(), page)
	if err != nil {
		return nil, err
	}
	resp := &matchingv1.ListMatchRunUnmatchedResponse{}
	for _, u := range list {
		resp.Unmatched = append(resp.Unmatched, pbconv.Unmatched(u))
	}
	if len(list) > 0 {
		resp.NextPageToken = s.nextToken(page, len(list), list[len(list)-1].ParticipantID, filter)
	}
	return resp, nil
}

// CompareMatchRuns compares two runs of one program.
func (s *Server) CompareMatchRuns(ctx context.Context, req *matchingv1.CompareMatchRunsRequest) (*matchingv1.CompareMatchRunsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.svc.CompareMatchRuns(ctx, tenant, req.GetRunId(), req.GetOtherRunId())
	if err != nil {
		return nil, err
	}
	return pbconv.Comparison(c), nil
}

// PublishMatchRun turns a run's pairs into matches.
func (s *Server) PublishMatchRun(ctx context.Context, req *matchingv1.PublishMatchRunRequest) (*matchingv1.MatchRun, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	run, err := s.svc.PublishMatchRun(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.MatchRun(run), nil
}
