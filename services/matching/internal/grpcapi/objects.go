package grpcapi

import (
	"context"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

// Participants finds a projected participant's program and person, for
// the object rules; the SQL store implements it.
type Participants interface {
	ParticipantRef(ctx context.Context, tenant, id string) (programID, personID string, err error)
}

// Objects declares what each RPC acts on, for the object-level rules the
// server enforces after the role policy (auth.Allow). Configurations,
// runs and matches belong to their program; a match and a match request
// also to the people of both sides. A call that acts as a participant_id
// must come from that participant's person, who must be one of the pair;
// without one it acts as the program's staff, which a participant is not.
func (s *Server) Objects(participants Participants) auth.Objects {
	r := objectRules{svc: s.svc, participants: participants}
	program := func(id string) (auth.Object, error) { return auth.Program(id), nil }
	return auth.Objects{
		matchingv1.MatchingService_GetScoringConfig_FullMethodName: auth.Rule(func(_ context.Context, q *matchingv1.GetScoringConfigRequest) (auth.Object, error) {
			return program(q.GetProgramId())
		}),
		matchingv1.MatchingService_UpdateScoringConfig_FullMethodName: auth.Rule(func(_ context.Context, q *matchingv1.UpdateScoringConfigRequest) (auth.Object, error) {
			return program(q.GetConfig().GetProgramId())
		}),
		matchingv1.MatchingService_CreateMatchRun_FullMethodName: auth.Rule(func(_ context.Context, q *matchingv1.CreateMatchRunRequest) (auth.Object, error) {
			return program(q.GetProgramId())
		}),
		matchingv1.MatchingService_ListMatchRuns_FullMethodName: auth.Rule(func(_ context.Context, q *matchingv1.ListMatchRunsRequest) (auth.Object, error) {
			return program(q.GetProgramId())
		}),
		matchingv1.MatchingService_GetMatchRun_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.GetMatchRunRequest) (auth.Object, error) {
			return r.run(ctx, q.GetId())
		}),
		matchingv1.MatchingService_ListMatchRunPairs_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.ListMatchRunPairsRequest) (auth.Object, error) {
			return r.run(ctx, q.GetRunId())
		}),
		matchingv1.MatchingService_ListMatchRunUnmatched_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.ListMatchRunUnmatchedRequest) (auth.Object, error) {
			return r.run(ctx, q.GetRunId())
		}),
		matchingv1.MatchingService_PublishMatchRun_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.PublishMatchRunRequest) (auth.Object, error) {
			return r.run(ctx, q.GetId())
		}),
		matchingv1.MatchingService_CompareMatchRuns_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.CompareMatchRunsRequest) (auth.Object, error) {
			obj, err := r.run(ctx, q.GetRunId())
			if err != nil {
				return obj, err
			}
			other, err := r.run(ctx, q.GetOtherRunId())
			if err != nil {
				return other, err
			}
			if other.ProgramID != obj.ProgramID {
				return auth.Object{}, apperr.Invalid("other_run_id", "must be a run of the same program")
			}
			return obj, nil
		}),
		matchingv1.MatchingService_GetMatch_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.GetMatchRequest) (auth.Object, error) {
			return r.match(ctx, q.GetId(), "")
		}),
		matchingv1.MatchingService_ListMatches_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.ListMatchesRequest) (auth.Object, error) {
			return r.listing(ctx, q.GetProgramId(), q.GetParticipantId())
		}),
		matchingv1.MatchingService_CreateMatch_FullMethodName: auth.Rule(func(_ context.Context, q *matchingv1.CreateMatchRequest) (auth.Object, error) {
			return program(q.GetProgramId())
		}),
		matchingv1.MatchingService_AcceptMatch_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.AcceptMatchRequest) (auth.Object, error) {
			return r.match(ctx, q.GetId(), q.GetParticipantId())
		}),
		matchingv1.MatchingService_DeclineMatch_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.DeclineMatchRequest) (auth.Object, error) {
			return r.match(ctx, q.GetId(), q.GetParticipantId())
		}),
		matchingv1.MatchingService_ActivateMatch_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.ActivateMatchRequest) (auth.Object, error) {
			return r.match(ctx, q.GetId(), "")
		}),
		matchingv1.MatchingService_EndMatch_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.EndMatchRequest) (auth.Object, error) {
			return r.match(ctx, q.GetId(), "")
		}),
		matchingv1.MatchingService_CreateMatchRequest_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.CreateMatchRequestRequest) (auth.Object, error) {
			return r.participant(ctx, q.GetRequesterParticipantId())
		}),
		matchingv1.MatchingService_GetMatchRequest_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.GetMatchRequestRequest) (auth.Object, error) {
			return r.request(ctx, q.GetId(), "")
		}),
		matchingv1.MatchingService_ListMatchRequests_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.ListMatchRequestsRequest) (auth.Object, error) {
			return r.listing(ctx, q.GetProgramId(), q.GetParticipantId())
		}),
		matchingv1.MatchingService_ApproveMatchRequest_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.ApproveMatchRequestRequest) (auth.Object, error) {
			return r.request(ctx, q.GetId(), q.GetParticipantId())
		}),
		matchingv1.MatchingService_RejectMatchRequest_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.RejectMatchRequestRequest) (auth.Object, error) {
			return r.request(ctx, q.GetId(), q.GetParticipantId())
		}),
		matchingv1.MatchingService_CancelMatchRequest_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.CancelMatchRequestRequest) (auth.Object, error) {
			return r.request(ctx, q.GetId(), q.GetParticipantId())
		}),
		matchingv1.MatchingService_ListCandidates_FullMethodName: auth.Rule(func(ctx context.Context, q *matchingv1.ListCandidatesRequest) (auth.Object, error) {
			// The handler checks that the participant is one of the program.
			obj, err := r.participant(ctx, q.GetParticipantId())
			obj.ProgramID = q.GetProgramId()
			return obj, err
		}),
	}
}

// objectRules reads what the rules need.
type objectRules struct {
	svc          *matching.Service
	participants Participants
}

// run is the object of a match run: its program.
func (r objectRules) run(ctx context.Context, id string) (auth.Object, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return auth.Object{}, err
	}
	run, err := r.svc.MatchRun(ctx, tenant, id)
	if err != nil {
		return auth.Object{}, err
	}
	return auth.Program(run.ProgramID), nil
}

// match is a match's program and pair, narrowed to the person of the
// acting participant when there is one (auth.Pair).
func (r objectRules) match(ctx context.Context, id, actor string) (auth.Object, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return auth.Object{}, err
	}
	m, err := r.svc.Match(ctx, tenant, id)
	if err != nil {
		return auth.Object{}, err
	}
	person, err := r.personOf(ctx, tenant, actor)
	if err != nil {
		return auth.Object{}, err
	}
	return auth.Pair(m.ProgramID, m.MentorPersonID, m.MenteePersonID, person), nil
}

// request is a match request's program and both sides, narrowed as match.
func (r objectRules) request(ctx context.Context, id, actor string) (auth.Object, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return auth.Object{}, err
	}
	q, err := r.svc.MatchRequest(ctx, tenant, id)
	if err != nil {
		return auth.Object{}, err
	}
	person, err := r.personOf(ctx, tenant, actor)
	if err != nil {
		return auth.Object{}, err
	}
	return auth.Pair(q.ProgramID, q.RequesterPersonID, q.TargetPersonID, person), nil
}

// participant is a participant's program and person.
func (r objectRules) participant(ctx context.Context, id string) (auth.Object, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return auth.Object{}, err
	}
	programID, personID, err := r.participants.ParticipantRef(ctx, tenant, id)
	if err != nil {
		return auth.Object{}, err
	}
	return auth.Object{ProgramID: programID, PersonIDs: []string{personID}}, nil
}

// listing is the object of a listing filtered by participant or program,
// or of everyone's records without a filter.
func (r objectRules) listing(ctx context.Context, programID, participantID string) (auth.Object, error) {
	switch {
	case participantID != "":
		return r.participant(ctx, participantID)
	case programID != "":
		return auth.Program(programID), nil
	}
	return auth.Everyone, nil
}

// personOf is the person of a participant; "" for no participant.
func (r objectRules) personOf(ctx context.Context, tenant, participantID string) (string, error) {
	if participantID == "" {
		return "", nil
	}
	_, personID, err := r.participants.ParticipantRef(ctx, tenant, participantID)
	return personID, err
}
