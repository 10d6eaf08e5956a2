package grpcapi

import (
	"context"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
)

// Candidates serves ListCandidates from the domain's cached candidate
// lists.
type Candidates struct {
	lists *matching.Candidates
}

var _ CandidateLister = (*Candidates)(nil)

// NewCandidates returns the ListCandidates handler over lists.
func NewCandidates(lists *matching.Candidates) *Candidates {
	return &Candidates{lists: lists}
}

// ListCandidates returns the participant's best partners, best first.
func (c *Candidates) ListCandidates(ctx context.Context, req *matchingv1.ListCandidatesRequest) (*matchingv1.ListCandidatesResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	list, err := c.lists.List(ctx, tenant, req.GetProgramId(), req.GetParticipantId(), int(req.GetK()))
	if err != nil {
		return nil, err
	}
	resp := &matchingv1.ListCandidatesResponse{ConfigVersion: list.ConfigVersion, Epoch: list.Epoch}
	for _, cand := range list.Candidates {
		resp.Candidates = append(resp.Candidates, &matchingv1.Candidate{
			ParticipantId: cand.ParticipantID, PersonId: cand.PersonID, Score: cand.Score, Factors: pbconv.Factors(cand.Factors),
		})
	}
	return resp, nil
}
