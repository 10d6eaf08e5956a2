package matchingsvc_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/matchingsvc"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// ask creates a match request.
func (s *service) ask(t *testing.T, ctx context.Context, requester, target string) (*matchingv1.MatchRequest, error) {
	t.Helper()
	return s.client.CreateMatchRequest(ctx, &matchingv1.CreateMatchRequestRequest{ProgramId: "prog",
		RequesterParticipantId: requester, TargetParticipantId: target, Message: "shall we?"})
}

// limitRequests stores a configuration with the request policies.
func (s *service) limitRequests(t *testing.T, ctx context.Context, pending, ttlHours int32) {
	t.Helper()
	c, err := s.client.GetScoringConfig(ctx, &matchingv1.GetScoringConfigRequest{ProgramId: "prog"})
	require.NoError(t, err)
	c.MaxPendingRequests, c.RequestTtlHours = pending, ttlHours
	_, err = s.client.UpdateScoringConfig(ctx, &matchingv1.UpdateScoringConfigRequest{Config: c})
	require.NoError(t, err)
}

func TestMatchRequests(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		clk := newClock()
		// The sweeper runs once at the start, then not within the test:
		// reads alone must show expiry.
		s := start(t, url, matchingsvc.Config{Now: clk.Now, RequestSweepInterval: time.Hour})
		acme := testkit.RandomName("acme")
		s.seed(t, acme, "prog", participantv1.ProgramType_PROGRAM_TYPE_CLASSIC, classicPool)
		manager := s.As(t, acme, auth.RoleProgramManager)
		s.limitRequests(t, manager, 2, 1)

		var toA, toB *matchingv1.MatchRequest
		t.Run("a requester has at most the program's pending requests", func(t *testing.T) {
			var err error
			toA, err = s.ask(t, s.asMember(t, acme, "e1"), "e1", "mA")
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchRequestState_MATCH_REQUEST_STATE_PENDING, toA.GetState())
			require.Equal(t, participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE, toA.GetRequesterRole())
			require.Equal(t, personID("e1"), toA.GetRequesterPersonId())
			require.Equal(t, personID("mA"), toA.GetTargetPersonId())
			require.Equal(t, clk.Now().Add(time.Hour), toA.GetExpireTime().AsTime())
			msg := s.LastEvent(t, acme+".match_request.created", 1)
			var ev eventsv1.MatchRequestCreated
			require.NoError(t, proto.Unmarshal(msg.Data, &ev))
			require.Equal(t, toA.GetId(), ev.GetRequest().GetId())

			toB, err = s.ask(t, s.asMember(t, acme, "e1"), "e1", "mB")
			require.NoError(t, err)
			_, err = s.ask(t, s.asMember(t, acme, "e1"), "e1", "mC")
			requireFailedPrecondition(t, err, "participant e1 has 2 pending requests, the program's limit is 2")
		})

		t.Run("one pending request per pair", func(t *testing.T) {
			_, err := s.ask(t, s.asMember(t, acme, "mA"), "mA", "e1")
			require.Equal(t, codes.AlreadyExists, status.Code(err), "%v", err)
		})

		t.Run("the requester cancels; then there is room again", func(t *testing.T) {
			_, err := s.client.CancelMatchRequest(s.asMember(t, acme, "mB"), &matchingv1.CancelMatchRequestRequest{Id: toB.GetId(), ParticipantId: "mB"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "only the requester cancels: %v", err)
			cancelled, err := s.client.CancelMatchRequest(s.asMember(t, acme, "e1"), &matchingv1.CancelMatchRequestRequest{Id: toB.GetId(), ParticipantId: "e1"})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchRequestState_MATCH_REQUEST_STATE_CANCELLED, cancelled.GetState())
			s.LastEvent(t, acme+".match_request.cancelled", 1)
			_, err = s.client.CancelMatchRequest(s.asMember(t, acme, "e1"), &matchingv1.CancelMatchRequestRequest{Id: toB.GetId(), ParticipantId: "e1"})
			requireFailedPrecondition(t, err, "is CANCELLED")
		})

		t.Run("the target rejects with a reason", func(t *testing.T) {
			toC, err := s.ask(t, s.asMember(t, acme, "e1"), "e1", "mC")
			require.NoError(t, err)
			rejected, err := s.client.RejectMatchRequest(s.asMember(t, acme, "mC"), &matchingv1.RejectMatchRequestRequest{Id: toC.GetId(),
				ParticipantId: "mC", Reason: "full calendar"})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchRequestState_MATCH_REQUEST_STATE_REJECTED, rejected.GetState())
			require.Equal(t, "full calendar", rejected.GetReason())
			s.LastEvent(t, acme+".match_request.rejected", 1)
		})

		t.Run("the target approves and an accepted match is created", func(t *testing.T) {
			_, err := s.client.ApproveMatchRequest(s.asMember(t, acme, "e1"), &matchingv1.ApproveMatchRequestRequest{Id: toA.GetId(), ParticipantId: "e1"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "the requester does not approve: %v", err)
			_, err = s.client.ApproveMatchRequest(s.asMember(t, acme, "mA"), &matchingv1.ApproveMatchRequestRequest{Id: toA.GetId()})
			servicetest.RequireFieldViolation(t, err, "participant_id")

			approved, err := s.client.ApproveMatchRequest(s.asMember(t, acme, "mA"), &matchingv1.ApproveMatchRequestRequest{Id: toA.GetId(), ParticipantId: "mA"})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchRequestState_MATCH_REQUEST_STATE_APPROVED, approved.GetState())
			require.NotEmpty(t, approved.GetMatchId())
			m, err := s.client.GetMatch(manager, &matchingv1.GetMatchRequest{Id: approved.GetMatchId()})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_ACCEPTED, m.GetState())
			require.Equal(t, matchingv1.MatchSource_MATCH_SOURCE_REQUEST, m.GetSource())
			require.Equal(t, toA.GetId(), m.GetRequestId())
			require.Equal(t, "mA", m.GetMentorParticipantId())
			require.Equal(t, "e1", m.GetMenteeParticipantId())
			require.True(t, m.GetMentorAccepted() && m.GetMenteeAccepted())
			require.Len(t, m.GetFactors(), 9)
			s.LastEvent(t, acme+".match_request.approved", 1)
			msg := s.LastEvent(t, acme+".match.accepted", 1)
			var ev eventsv1.MatchAccepted
			require.NoError(t, proto.Unmarshal(msg.Data, &ev))
			require.Equal(t, m.GetId(), ev.GetMatch().GetId())

			_, err = s.ask(t, s.asMember(t, acme, "e1"), "e1", "mC")
			requireFailedPrecondition(t, err, "mentee e1 is already in a live match")
		})

		t.Run("hard rules apply to requests", func(t *testing.T) {
			_, err := s.ask(t, s.asMember(t, acme, "e3"), "e3", "mA")
			requireFailedPrecondition(t, err, "reporting_chain")
			_, err = s.ask(t, s.asMember(t, acme, "mA"), "mA", "mB")
			requireFailedPrecondition(t, err, "participant mB is a mentor of program prog, not a mentee")
		})

		var late *matchingv1.MatchRequest
		t.Run("a request past its expiry reads EXPIRED", func(t *testing.T) {
			var err error
			late, err = s.ask(t, s.asMember(t, acme, "mC"), "mC", "e2")
			require.NoError(t, err)
			clk.Add(time.Hour)
			got, err := s.client.GetMatchRequest(s.asMember(t, acme, "e2"), &matchingv1.GetMatchRequestRequest{Id: late.GetId()})
			require.NoError(t, err)
			_, err = s.client.GetMatchRequest(s.asMember(t, acme, "e1"), &matchingv1.GetMatchRequestRequest{Id: late.GetId()})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "another participant's request: %v", err)
			require.Equal(t, matchingv1.MatchRequestState_MATCH_REQUEST_STATE_EXPIRED, got.GetState())
			expired, err := s.client.ListMatchRequests(s.asMember(t, acme, "e2"), &matchingv1.ListMatchRequestsRequest{
				ParticipantId: "e2", State: matchingv1.MatchRequestState_MATCH_REQUEST_STATE_EXPIRED})
			require.NoError(t, err)
			require.Len(t, expired.GetRequests(), 1)
			pending, err := s.client.ListMatchRequests(manager, &matchingv1.ListMatchRequestsRequest{ProgramId: "prog",
				State: matchingv1.MatchRequestState_MATCH_REQUEST_STATE_PENDING})
			require.NoError(t, err)
			require.Empty(t, pending.GetRequests())
			_, err = s.client.ApproveMatchRequest(s.asMember(t, acme, "e2"), &matchingv1.ApproveMatchRequestRequest{Id: late.GetId(), ParticipantId: "e2"})
			requireFailedPrecondition(t, err, "is EXPIRED")
			// An expired request no longer counts against the limit.
			_, err = s.ask(t, s.asMember(t, acme, "mC"), "mC", "e2")
			require.NoError(t, err)
		})

		t.Run("requests are listed by program and participant", func(t *testing.T) {
			all, err := s.client.ListMatchRequests(manager, &matchingv1.ListMatchRequestsRequest{ProgramId: "prog", PageSize: 2})
			require.NoError(t, err)
			require.Len(t, all.GetRequests(), 2)
			require.Equal(t, toA.GetId(), all.GetRequests()[0].GetId())
			rest, err := s.client.ListMatchRequests(manager, &matchingv1.ListMatchRequestsRequest{ProgramId: "prog", PageSize: 2,
				PageToken: all.GetNextPageToken()})
			require.NoError(t, err)
			require.Len(t, rest.GetRequests(), 2)
			mine, err := s.client.ListMatchRequests(s.asMember(t, acme, "mC"), &matchingv1.ListMatchRequestsRequest{ParticipantId: "mC"})
			require.NoError(t, err)
			require.Len(t, mine.GetRequests(), 3, "asked by e1, made to e2 twice")
		})

		t.Run("an admin answers for the target", func(t *testing.T) {
			r, err := s.ask(t, s.asMember(t, acme, "e4"), "e4", "mC")
			require.NoError(t, err)
			approved, err := s.client.ApproveMatchRequest(manager, &matchingv1.ApproveMatchRequestRequest{Id: r.GetId()})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchRequestState_MATCH_REQUEST_STATE_APPROVED, approved.GetState())
		})

		t.Run("invalid input names the field", func(t *testing.T) {
			tests := []struct {
				name  string
				req   *matchingv1.CreateMatchRequestRequest
				field string
			}{
				{"no program", &matchingv1.CreateMatchRequestRequest{RequesterParticipantId: "e5", TargetParticipantId: "mC"}, "program_id"},
				{"no target", &matchingv1.CreateMatchRequestRequest{ProgramId: "prog", RequesterParticipantId: "e5"}, "target_participant_id"},
				{"to oneself", &matchingv1.CreateMatchRequestRequest{ProgramId: "prog", RequesterParticipantId: "e5", TargetParticipantId: "e5"}, "target_participant_id"},
				{"long message", &matchingv1.CreateMatchRequestRequest{ProgramId: "prog", RequesterParticipantId: "e5", TargetParticipantId: "mC",
					Message: strings.Repeat("x", 2001)}, "message"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := s.client.CreateMatchRequest(s.asMember(t, acme, "e5"), tt.req)
					servicetest.RequireFieldViolation(t, err, tt.field)
				})
			}
			_, err := s.client.ListMatchRequests(manager, &matchingv1.ListMatchRequestsRequest{ProgramId: "prog", PageToken: "forged"})
			servicetest.RequireFieldViolation(t, err, "page_token")
		})

		t.Run("roles", func(t *testing.T) {
			_, err := s.ask(t, s.As(t, acme, auth.RoleAnalyst), "e5", "mC")
			require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
			_, err = s.client.GetMatchRequest(s.As(t, "globex", auth.RoleTenantAdmin), &matchingv1.GetMatchRequestRequest{Id: toA.GetId()})
			require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
		})
	})
}

func TestExpiredRequestsAreSwept(t *testing.T) {
	clk := newClock()
	s := start(t, testkit.SQLiteURL(t), matchingsvc.Config{Now: clk.Now, RequestSweepInterval: 10 * time.Millisecond})
	acme := testkit.RandomName("acme")
	s.seed(t, acme, "prog", participantv1.ProgramType_PROGRAM_TYPE_CLASSIC, classicPool)
	r, err := s.ask(t, s.asMember(t, acme, "e2"), "e2", "mB")
	require.NoError(t, err)
	clk.Add(168*time.Hour - time.Second)
	fresh, err := s.ask(t, s.asMember(t, acme, "e5"), "e5", "mC")
	require.NoError(t, err)
	clk.Add(time.Second)

	msg := s.LastEvent(t, acme+".match_request.expired", 1)
	var ev eventsv1.MatchRequestExpired
	require.NoError(t, proto.Unmarshal(msg.Data, &ev))
	require.Equal(t, r.GetId(), ev.GetRequest().GetId())
	require.Equal(t, matchingv1.MatchRequestState_MATCH_REQUEST_STATE_EXPIRED, ev.GetRequest().GetState())
	got, err := s.client.GetMatchRequest(s.asMember(t, acme, "e5"), &matchingv1.GetMatchRequestRequest{Id: fresh.GetId()})
	require.NoError(t, err)
	require.Equal(t, matchingv1.MatchRequestState_MATCH_REQUEST_STATE_PENDING, got.GetState(), "not yet expired")
}
