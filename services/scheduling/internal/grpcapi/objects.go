package grpcapi

import (
	"context"

	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
)

// Objects declares what each RPC acts on, for the object-level rules the
// server enforces after the role policy (auth.Allow). Availability and
// calendar tokens are a person's own; a session belongs to its match's
// program and pair. A participant acting "as" a person_id must be that
// person and, for a session, one of the pair; without a person_id the call
// acts as the program's staff, which a participant is not.
func (s *Server) Objects() auth.Objects {
	return auth.Objects{
		schedulingv1.SchedulingService_GetAvailability_FullMethodName: auth.Rule(func(_ context.Context, r *schedulingv1.GetAvailabilityRequest) (auth.Object, error) {
			return auth.PersonField("person_id", r.GetPersonId())
		}),
		schedulingv1.SchedulingService_SetAvailability_FullMethodName: auth.Rule(func(_ context.Context, r *schedulingv1.SetAvailabilityRequest) (auth.Object, error) {
			return auth.PersonField("availability.person_id", r.GetAvailability().GetPersonId())
		}),
		schedulingv1.SchedulingService_SuggestSlots_FullMethodName: auth.Rule(func(ctx context.Context, r *schedulingv1.SuggestSlotsRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), "")
		}),
		schedulingv1.SchedulingService_CreateSession_FullMethodName: auth.Rule(func(ctx context.Context, r *schedulingv1.CreateSessionRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), r.GetPersonId())
		}),
		schedulingv1.SchedulingService_CreateSeries_FullMethodName: auth.Rule(func(ctx context.Context, r *schedulingv1.CreateSeriesRequest) (auth.Object, error) {
			return s.matchObject(ctx, r.GetMatchId(), r.GetPersonId())
		}),
		schedulingv1.SchedulingService_GetSession_FullMethodName: auth.Rule(func(ctx context.Context, r *schedulingv1.GetSessionRequest) (auth.Object, error) {
			return s.sessionObject(ctx, r.GetId(), "")
		}),
		schedulingv1.SchedulingService_ListSessions_FullMethodName: auth.Rule(func(ctx context.Context, r *schedulingv1.ListSessionsRequest) (auth.Object, error) {
			switch {
			case r.GetMatchId() != "":
				return s.matchObject(ctx, r.GetMatchId(), "")
			case r.GetPersonId() != "":
				return auth.PersonField("person_id", r.GetPersonId())
			}
			return auth.Everyone, nil
		}),
		schedulingv1.SchedulingService_ConfirmSession_FullMethodName: auth.Rule(func(ctx context.Context, r *schedulingv1.ConfirmSessionRequest) (auth.Object, error) {
			return s.sessionObject(ctx, r.GetId(), r.GetPersonId())
		}),
		schedulingv1.SchedulingService_RescheduleSession_FullMethodName: auth.Rule(func(ctx context.Context, r *schedulingv1.RescheduleSessionRequest) (auth.Object, error) {
			return s.sessionObject(ctx, r.GetId(), r.GetPersonId())
		}),
		schedulingv1.SchedulingService_CancelSession_FullMethodName: auth.Rule(func(ctx context.Context, r *schedulingv1.CancelSessionRequest) (auth.Object, error) {
			return s.sessionObject(ctx, r.GetId(), r.GetPersonId())
		}),
		schedulingv1.SchedulingService_CompleteSession_FullMethodName: auth.Rule(func(ctx context.Context, r *schedulingv1.CompleteSessionRequest) (auth.Object, error) {
			return s.sessionObject(ctx, r.GetId(), "")
		}),
		schedulingv1.SchedulingService_MarkNoShow_FullMethodName: auth.Rule(func(ctx context.Context, r *schedulingv1.MarkNoShowRequest) (auth.Object, error) {
			return s.sessionObject(ctx, r.GetId(), "")
		}),
		schedulingv1.SchedulingService_CreateRoom_FullMethodName: auth.Tenantwide,
		schedulingv1.SchedulingService_ListRooms_FullMethodName:  auth.Tenantwide,
		schedulingv1.SchedulingService_CreateCalendarToken_FullMethodName: auth.Rule(func(_ context.Context, r *schedulingv1.CreateCalendarTokenRequest) (auth.Object, error) {
			return auth.PersonField("person_id", r.GetPersonId())
		}),
		schedulingv1.SchedulingService_ListCalendarTokens_FullMethodName: auth.Rule(func(_ context.Context, r *schedulingv1.ListCalendarTokensRequest) (auth.Object, error) {
			return auth.PersonField("person_id", r.GetPersonId())
		}),
		schedulingv1.SchedulingService_RevokeCalendarToken_FullMethodName: auth.Rule(func(_ context.Context, r *schedulingv1.RevokeCalendarTokenRequest) (auth.Object, error) {
			return auth.PersonField("person_id", r.GetPersonId())
		}),
	}
}

// matchObject is a match's program and pair. With actor set (the person a
// call acts as) the pair narrows to the actor, who must be one of it.
func (s *Server) matchObject(ctx context.Context, matchID, actor string) (auth.Object, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return auth.Object{}, err
	}
	m, err := s.svc.Match(ctx, tenant, matchID)
	if err != nil {
		return auth.Object{}, err
	}
	return auth.Pair(m.ProgramID, m.MentorPersonID, m.MenteePersonID, actor), nil
}

// sessionObject is the object of a session's match, as matchObject.
func (s *Server) sessionObject(ctx context.Context, id, actor string) (auth.Object, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return auth.Object{}, err
	}
	sess, err := s.svc.Session(ctx, tenant, id)
	if err != nil {
		return auth.Object{}, err
	}
	return s.matchObject(ctx, sess.MatchID, actor)
}
