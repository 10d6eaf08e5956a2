// Package grpcapi serves tandem.scheduling.v1.SchedulingService over gRPC
// on top of the scheduling domain.
package grpcapi

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/pagetoken"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

// Roles of the RPCs. Which records a caller may act on is the object rule
// of each RPC (Objects): a participant acts only for themselves.
var (
	everyone = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleParticipant, auth.RoleService}
	managers = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleService}
	readers  = []string{auth.RoleTenantAdmin, auth.RoleProgramManager, auth.RoleAnalyst, auth.RoleParticipant, auth.RoleService}
)

// Policy says which roles may call each RPC. GetCalendarFeed is Anyone:
// its token is the credential.
var Policy = auth.Policy{
	schedulingv1.SchedulingService_GetAvailability_FullMethodName:     everyone,
	schedulingv1.SchedulingService_SetAvailability_FullMethodName:     everyone,
	schedulingv1.SchedulingService_SuggestSlots_FullMethodName:        everyone,
	schedulingv1.SchedulingService_CreateSession_FullMethodName:       everyone,
	schedulingv1.SchedulingService_CreateSeries_FullMethodName:        everyone,
	schedulingv1.SchedulingService_GetSession_FullMethodName:          everyone,
	schedulingv1.SchedulingService_ListSessions_FullMethodName:        everyone,
	schedulingv1.SchedulingService_ConfirmSession_FullMethodName:      everyone,
	schedulingv1.SchedulingService_RescheduleSession_FullMethodName:   everyone,
	schedulingv1.SchedulingService_CancelSession_FullMethodName:       everyone,
	schedulingv1.SchedulingService_CompleteSession_FullMethodName:     everyone,
	schedulingv1.SchedulingService_MarkNoShow_FullMethodName:          everyone,
	schedulingv1.SchedulingService_CreateRoom_FullMethodName:          managers,
	schedulingv1.SchedulingService_ListRooms_FullMethodName:           readers,
	schedulingv1.SchedulingService_CreateCalendarToken_FullMethodName: everyone,
	schedulingv1.SchedulingService_ListCalendarTokens_FullMethodName:  everyone,
	schedulingv1.SchedulingService_RevokeCalendarToken_FullMethodName: everyone,
	schedulingv1.SchedulingService_GetCalendarFeed_FullMethodName:     {auth.Anyone},
}

// Server implements schedulingv1.SchedulingServiceServer.
type Server struct {
	schedulingv1.UnimplementedSchedulingServiceServer
	svc    *scheduling.Service
	tokens *pagetoken.Codec
}

// New returns a Server over the domain service; tokens signs page tokens.
func New(svc *scheduling.Service, tokens *pagetoken.Codec) *Server {
	return &Server{svc: svc, tokens: tokens}
}

// GetAvailability returns a person's availability.
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

// SetAvailability replaces a person's availability.
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

// SuggestSlots proposes meeting times for a match.
func (s *Server) SuggestSlots(ctx context.Context, req *schedulingv1.SuggestSlotsRequest) (*schedulingv1.SuggestSlotsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	slots, err := s.svc.Slots(ctx, tenant, scheduling.SlotRequest{
		MatchID: req.GetMatchId(), Weeks: int(req.GetWeeks()), Duration: time.Duration(req.GetDurationMinutes()) * time.Minute,
		Limit: int(req.GetLimit()), From: pbconv.FromTS(req.GetStartTime()),
	})
	if err != nil {
		return nil, err
	}
	resp := &schedulingv1.SuggestSlotsResponse{}
	for _, sl := range slots {
		resp.Slots = append(resp.Slots, &schedulingv1.Slot{
			StartTime: pbconv.TS(sl.Start), EndTime: pbconv.TS(sl.End), Score: int32(sl.Score), Reasons: sl.Reasons,
			MentorLocalStart: sl.MentorLocal.Format(time.RFC3339), MenteeLocalStart: sl.MenteeLocal.Format(time.RFC3339),
		})
	}
	return resp, nil
}

// CreateSession proposes one meeting.
func (s *Server) CreateSession(ctx context.Context, req *schedulingv1.CreateSessionRequest) (*schedulingv1.Session, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := s.svc.CreateSession(ctx, tenant, scheduling.NewSession{
		MatchID: req.GetMatchId(), PersonID: req.GetPersonId(),
		Start: pbconv.FromTS(req.GetStartTime()), End: pbconv.FromTS(req.GetEndTime()), RoomID: req.GetRoomId(),
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Session(sess), nil
}

// CreateSeries proposes a meeting series.
func (s *Server) CreateSeries(ctx context.Context, req *schedulingv1.CreateSeriesRequest) (*schedulingv1.Series, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	series, err := s.svc.CreateSeries(ctx, tenant, scheduling.NewSeries{
		MatchID: req.GetMatchId(), PersonID: req.GetPersonId(), Cadence: scheduling.Cadence(req.GetCadence()),
		FirstStart: pbconv.FromTS(req.GetFirstStartTime()), Duration: time.Duration(req.GetDurationMinutes()) * time.Minute,
		Occurrences: int(req.GetOccurrences()), RoomID: req.GetRoomId(),
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Series(series), nil
}

// GetSession returns one session.
func (s *Server) GetSession(ctx context.Context, req *schedulingv1.GetSessionRequest) (*schedulingv1.Session, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := s.svc.Session(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.Session(sess), nil
}

// Page sizes of listings.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// ListSessions lists sessions by start time.
func (s *Server) ListSessions(ctx context.Context, req *schedulingv1.ListSessionsRequest) (*schedulingv1.ListSessionsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetMatchId() != "" && req.GetPersonId() != "" {
		return nil, apperr.Invalid("person_id", "give match_id or person_id, not both")
	}
	filter := filterKey(tenant, &schedulingv1.ListSessionsRequest{MatchId: req.GetMatchId(), PersonId: req.GetPersonId(),
		State: req.GetState(), StartTime: req.GetStartTime(), EndTime: req.GetEndTime()})
	after, err := s.tokens.Decode(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	f := scheduling.SessionFilter{
		MatchID: req.GetMatchId(), PersonID: req.GetPersonId(), State: scheduling.SessionState(req.GetState()),
		From: pbconv.FromTS(req.GetStartTime()), To: pbconv.FromTS(req.GetEndTime()), Limit: pageSize(req.GetPageSize()),
	}
	if after != "" {
		micros, id, ok := strings.Cut(after, "/")
		n, err := strconv.ParseInt(micros, 10, 64)
		if !ok || err != nil {
			return nil, apperr.Invalid("page_token", "not a page token issued for this listing")
		}
		f.AfterStart, f.AfterID = time.UnixMicro(n).UTC(), id
	}
	list, err := s.svc.ListSessions(ctx, tenant, f)
	if err != nil {
		return nil, err
	}
	resp := &schedulingv1.ListSessionsResponse{Sessions: pbconv.Sessions(list)}
	if len(list) == f.Limit {
		last := list[len(list)-1]
		resp.NextPageToken = s.tokens.Encode(fmt.Sprintf("%d/%s", last.Start.UnixMicro(), last.ID), filter)
	}
	return resp, nil
}

func pageSize(n int32) int {
	if n <= 0 {
		return defaultPageSize
	}
	return min(int(n), maxPageSize)
}

// filterKey binds a page token to the tenant and the listing's filter.
func filterKey(tenant string, filter proto.Message) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(filter)
	return fmt.Sprintf("%s/%T/%x", tenant, filter, b)
}

// ConfirmSession confirms a proposed session.
func (s *Server) ConfirmSession(ctx context.Context, req *schedulingv1.ConfirmSessionRequest) (*schedulingv1.Session, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := s.svc.ConfirmSession(ctx, tenant, req.GetId(), req.GetPersonId(), req.GetWholeSeries())
	if err != nil {
		return nil, err
	}
	return pbconv.Session(sess), nil
}

// RescheduleSession moves a session.
func (s *Server) RescheduleSession(ctx context.Context, req *schedulingv1.RescheduleSessionRequest) (*schedulingv1.Session, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := s.svc.RescheduleSession(ctx, tenant, scheduling.Reschedule{
		ID: req.GetId(), PersonID: req.GetPersonId(), Start: pbconv.FromTS(req.GetStartTime()),
		End: pbconv.FromTS(req.GetEndTime()), Reason: req.GetReason(), RoomID: req.GetRoomId(),
	})
	if err != nil {
		return nil, err
	}
	return pbconv.Session(sess), nil
}

// CancelSession cancels a session.
func (s *Server) CancelSession(ctx context.Context, req *schedulingv1.CancelSessionRequest) (*schedulingv1.Session, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := s.svc.CancelSession(ctx, tenant, req.GetId(), req.GetPersonId(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return pbconv.Session(sess), nil
}

// CompleteSession records that a session took place.
func (s *Server) CompleteSession(ctx context.Context, req *schedulingv1.CompleteSessionRequest) (*schedulingv1.Session, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := s.svc.CompleteSession(ctx, tenant, req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.Session(sess), nil
}

// MarkNoShow records who did not come.
func (s *Server) MarkNoShow(ctx context.Context, req *schedulingv1.MarkNoShowRequest) (*schedulingv1.Session, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := s.svc.MarkNoShow(ctx, tenant, req.GetId(), req.GetAbsentPersonId())
	if err != nil {
		return nil, err
	}
	return pbconv.Session(sess), nil
}

// CreateRoom adds a room.
func (s *Server) CreateRoom(ctx context.Context, req *schedulingv1.CreateRoomRequest) (*schedulingv1.Room, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.svc.CreateRoom(ctx, tenant, pbconv.RoomFromPB(req.GetRoom()))
	if err != nil {
		return nil, err
	}
	return pbconv.Room(r), nil
}

// ListRooms lists rooms in creation order.
func (s *Server) ListRooms(ctx context.Context, req *schedulingv1.ListRoomsRequest) (*schedulingv1.ListRoomsResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	filter := filterKey(tenant, &schedulingv1.ListRoomsRequest{})
	after, err := s.tokens.Decode(req.GetPageToken(), filter)
	if err != nil {
		return nil, err
	}
	limit := pageSize(req.GetPageSize())
	rooms, err := s.svc.ListRooms(ctx, tenant, after, limit)
	if err != nil {
		return nil, err
	}
	resp := &schedulingv1.ListRoomsResponse{}
	for _, r := range rooms {
		resp.Rooms = append(resp.Rooms, pbconv.Room(r))
	}
	if len(rooms) == limit {
		resp.NextPageToken = s.tokens.Encode(rooms[len(rooms)-1].ID, filter)
	}
	return resp, nil
}

// CreateCalendarToken issues a feed token.
func (s *Server) CreateCalendarToken(ctx context.Context, req *schedulingv1.CreateCalendarTokenRequest) (*schedulingv1.CalendarToken, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.svc.CreateCalendarToken(ctx, tenant, req.GetPersonId())
	if err != nil {
		return nil, err
	}
	return pbconv.CalendarToken(t), nil
}

// ListCalendarTokens lists a person's feed tokens.
func (s *Server) ListCalendarTokens(ctx context.Context, req *schedulingv1.ListCalendarTokensRequest) (*schedulingv1.ListCalendarTokensResponse, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	tokens, err := s.svc.CalendarTokens(ctx, tenant, req.GetPersonId())
	if err != nil {
		return nil, err
	}
	resp := &schedulingv1.ListCalendarTokensResponse{}
	for _, t := range tokens {
		resp.Tokens = append(resp.Tokens, pbconv.CalendarToken(t))
	}
	return resp, nil
}

// RevokeCalendarToken revokes a feed token.
func (s *Server) RevokeCalendarToken(ctx context.Context, req *schedulingv1.RevokeCalendarTokenRequest) (*schedulingv1.CalendarToken, error) {
	tenant, err := auth.TenantFrom(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.svc.RevokeCalendarToken(ctx, tenant, req.GetPersonId(), req.GetId())
	if err != nil {
		return nil, err
	}
	return pbconv.CalendarToken(t), nil
}

// GetCalendarFeed renders the calendar a token opens. It needs no bearer
// token: the feed token is the credential and names the tenant.
func (s *Server) GetCalendarFeed(ctx context.Context, req *schedulingv1.GetCalendarFeedRequest) (*schedulingv1.CalendarFeed, error) {
	ics, err := s.svc.CalendarFeed(ctx, req.GetToken())
	if err != nil {
		return nil, err
	}
	return &schedulingv1.CalendarFeed{Ics: string(ics)}, nil
}
