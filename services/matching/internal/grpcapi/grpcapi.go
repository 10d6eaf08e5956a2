// Package grpcapi serves tandem.matching.v1.MatchingService over gRPC on top
// of the matching domain.
package grpcapi

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/pagetoken"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
)

var (
	managers     = []string{auth.RoleTenantAdmin, auth.RoleProgramManager}
	readers      = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleAnalyst, auth.RoleService}
	participants = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleParticipant}
	requesters   = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleParticipant, auth.RoleService}
)

// Policy says which roles may call each RPC. Those who run programs run
// matchings, publish them, pair by hand and move matches along; analysts
// and services read configurations, runs, their metrics and matches;
// participants answer proposals, make and answer requests and look up
// candidates. Which participant a participant may act as, and which
// programs a program manager runs, is each RPC's object rule (Objects).
var Policy = auth.Policy{
	matchingv1.MatchingService_GetScoringConfig_FullMethodName:      readers,
	matchingv1.MatchingService_UpdateScoringConfig_FullMethodName:   managers,
	matchingv1.MatchingService_CreateMatchRun_FullMethodName:        managers,
	matchingv1.MatchingService_GetMatchRun_FullMethodName:           readers,
	matchingv1.MatchingService_ListMatchRuns_FullMethodName:         readers,
	matchingv1.MatchingService_ListMatchRunPairs_FullMethodName:     readers,
	matchingv1.MatchingService_ListMatchRunUnmatched_FullMethodName: readers,
	matchingv1.MatchingService_CompareMatchRuns_FullMethodName:      readers,
	matchingv1.MatchingService_PublishMatchRun_FullMethodName:       managers,
	matchingv1.MatchingService_GetMatch_FullMethodName:              readers,
	matchingv1.MatchingService_ListMatches_FullMethodName:           readers,
	matchingv1.MatchingService_CreateMatch_FullMethodName:           managers,
	matchingv1.MatchingService_AcceptMatch_FullMethodName:           participants,
	matchingv1.MatchingService_DeclineMatch_FullMethodName:          participants,
	matchingv1.MatchingService_ActivateMatch_FullMethodName:         managers,
	matchingv1.MatchingService_EndMatch_FullMethodName:              managers,
	matchingv1.MatchingService_CreateMatchRequest_FullMethodName:    participants,
	matchingv1.MatchingService_GetMatchRequest_FullMethodName:       requesters,
	matchingv1.MatchingService_ListMatchRequests_FullMethodName:     requesters,
	matchingv1.MatchingService_ApproveMatchRequest_FullMethodName:   participants,
	matchingv1.MatchingService_RejectMatchRequest_FullMethodName:    participants,
	matchingv1.MatchingService_CancelMatchRequest_FullMethodName:    participants,
	matchingv1.MatchingService_ListCandidates_FullMethodName:        requesters,
}

// CandidateLister serves ListCandidates. The candidates adapter implements
// it; without one the RPC answers Unimplemented.
type CandidateLister interface {
	ListCandidates(ctx context.Context, req *matchingv1.ListCandidatesRequest) (*matchingv1.ListCandidatesResponse, error)
}

// Server implements matchingv1.MatchingServiceServer.
type Server struct {
	matchingv1.UnimplementedMatchingServiceServer
	svc        *matching.Service
	tokens     *pagetoken.Codec
	candidates CandidateLister
}

// Option adjusts a Server.
type Option func(*Server)

// WithCandidates serves ListCandidates with c.
func WithCandidates(c CandidateLister) Option { return func(s *Server) { s.candidates = c } }

// New returns a Server over the domain service; tokens signs page tokens.
func New(svc *matching.Service, tokens *pagetoken.Codec, opts ...Option) *Server {
	s := &Server{svc: svc, tokens: tokens}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// ListCandidates is served by the candidates adapter given WithCandidates.
func (s *Server) ListCandidates(ctx context.Context, req *matchingv1.ListCandidatesRequest) (*matchingv1.ListCandidatesResponse, error) {
	if s.candidates == nil {
		return nil, status.Error(codes.Unimplemented, "candidate lists are not served yet")
	}
	return s.candidates.ListCandidates(ctx, req)
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

// filterKey binds a page token to the tenant and the listing's filter.
func filterKey(tenant string, filter proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(filter)
	return fmt.Sprintf("%s/%T/%x", tenant, filter, b)
}

// page decodes a listing's page token into the domain's page.
func (s *Server) page(token string, size int32, filter string) (matching.Page, error) {
	after, err := s.tokens.Decode(token, filter)
	if err != nil {
		return matching.Page{}, err
	}
	return matching.Page{Size: int(size), After: after}, nil
}

// nextToken is the token of the page after one that ended with key last
// and held n items; empty when the page was not full.
func (s *Server) nextToken(page matching.Page, n int, last, filter string) string {
	if n == 0 || n < page.Clamped().Size {
		return ""
	}
	return s.tokens.Encode(last, filter)
}
