package matchingsvc_test

import (
	"context"
	"testing"

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

// classicPool is a classic program: senior mentors, junior mentees. e3
// reports to mA; e4 avoids mB; mA takes two mentees, the others one.
var classicPool = []member{
	{id: "mA", mentor: true, seniority: 8, department: "Eng", skills: map[string]int32{"go": 5}, capacity: 2},
	{id: "mB", mentor: true, seniority: 7, department: "Sales", skills: map[string]int32{"sales": 5}},
	{id: "mC", mentor: true, seniority: 9, department: "Data", skills: map[string]int32{"go": 4}},
	{id: "e1", seniority: 2, department: "Data", wants: map[string]int32{"go": 4}},
	{id: "e2", seniority: 3, department: "Eng", wants: map[string]int32{"sales": 3}},
	{id: "e3", seniority: 1, department: "Eng", wants: map[string]int32{"go": 3}, manager: "mA"},
	{id: "e4", seniority: 2, department: "Ops", wants: map[string]int32{"sales": 4}, avoid: []string{"mB"}},
	{id: "e5", seniority: 1, department: "Ops", wants: map[string]int32{"go": 2}},
}

// pair creates a manual match.
func (s *service) pair(t *testing.T, ctx context.Context, mentor, mentee string) (*matchingv1.Match, error) {
	t.Helper()
	return s.client.CreateMatch(ctx, &matchingv1.CreateMatchRequest{ProgramId: "prog", MentorParticipantId: mentor, MenteeParticipantId: mentee})
}

// setAcceptance stores a new configuration version with the rule.
func (s *service) setAcceptance(t *testing.T, ctx context.Context, a matchingv1.Acceptance) {
	t.Helper()
	c, err := s.client.GetScoringConfig(ctx, &matchingv1.GetScoringConfigRequest{ProgramId: "prog"})
	require.NoError(t, err)
	c.Acceptance = a
	_, err = s.client.UpdateScoringConfig(ctx, &matchingv1.UpdateScoringConfigRequest{Config: c})
	require.NoError(t, err)
}

func TestMatchLifecycle(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		s := start(t, url, matchingsvc.Config{})
		acme := testkit.RandomName("acme")
		s.seed(t, acme, "prog", participantv1.ProgramType_PROGRAM_TYPE_CLASSIC, classicPool)
		manager := s.As(t, acme, auth.RoleProgramManager)
		participant := s.As(t, acme, auth.RoleParticipant)
		analyst := s.As(t, acme, auth.RoleAnalyst)
		state := func(t *testing.T, id string) matchingv1.MatchState {
			t.Helper()
			m, err := s.client.GetMatch(analyst, &matchingv1.GetMatchRequest{Id: id})
			require.NoError(t, err)
			return m.GetState()
		}

		var first *matchingv1.Match
		t.Run("a manual pair is proposed with its explained score", func(t *testing.T) {
			var err error
			first, err = s.pair(t, manager, "mA", "e1")
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_PROPOSED, first.GetState())
			require.Equal(t, matchingv1.MatchSource_MATCH_SOURCE_MANUAL, first.GetSource())
			require.Equal(t, personID("mA"), first.GetMentorPersonId())
			require.Equal(t, personID("e1"), first.GetMenteePersonId())
			require.Positive(t, first.GetScore())
			require.Len(t, first.GetFactors(), 9)
			msg := s.LastEvent(t, acme+".match.proposed", 1)
			var ev eventsv1.MatchProposed
			require.NoError(t, proto.Unmarshal(msg.Data, &ev))
			require.Equal(t, first.GetId(), ev.GetMatch().GetId())
		})

		t.Run("a manual pair still obeys the hard rules and the pool", func(t *testing.T) {
			tests := []struct {
				name, mentor, mentee, want string
			}{
				{"reporting chain", "mA", "e3", "reporting_chain"},
				{"avoid list", "mB", "e4", "avoid_list"},
				{"mentee already matched", "mB", "e1", "mentee e1 is already in a live match"},
				{"roles swapped", "e2", "mB", "participant e2 is a mentee of program prog, not a mentor"},
				{"unknown participant", "mB", "nobody", "participant nobody is not an enrolled, active mentee"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := s.pair(t, manager, tt.mentor, tt.mentee)
					requireFailedPrecondition(t, err, tt.want)
				})
			}
			_, err := s.client.CreateMatch(s.As(t, acme, auth.RoleTenantAdmin), &matchingv1.CreateMatchRequest{ProgramId: "nothing", MentorParticipantId: "mA", MenteeParticipantId: "e2"})
			require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
			_, err = s.client.CreateMatch(manager, &matchingv1.CreateMatchRequest{ProgramId: "nothing", MentorParticipantId: "mA", MenteeParticipantId: "e2"})
			require.Equal(t, codes.NotFound, status.Code(err), "an unknown program, for a manager too: %v", err)
		})

		t.Run("both sides accept, then it is activated and ended", func(t *testing.T) {
			m, err := s.client.AcceptMatch(s.asMember(t, acme, "e1"), &matchingv1.AcceptMatchRequest{Id: first.GetId(), ParticipantId: "e1"})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_PROPOSED, m.GetState(), "the mentor has not accepted yet")
			require.True(t, m.GetMenteeAccepted())
			again, err := s.client.AcceptMatch(s.asMember(t, acme, "e1"), &matchingv1.AcceptMatchRequest{Id: first.GetId(), ParticipantId: "e1"})
			require.NoError(t, err)
			require.Equal(t, m.GetUpdateTime().AsTime(), again.GetUpdateTime().AsTime(), "accepting twice changes nothing")

			_, err = s.client.AcceptMatch(manager, &matchingv1.AcceptMatchRequest{Id: first.GetId(), ParticipantId: "e2"})
			servicetest.RequireFieldViolation(t, err, "participant_id")
			_, err = s.client.AcceptMatch(s.asMember(t, acme, "e2"), &matchingv1.AcceptMatchRequest{Id: first.GetId(), ParticipantId: "e2"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "a participant outside the pair: %v", err)
			_, err = s.client.AcceptMatch(s.asMember(t, acme, "e1"), &matchingv1.AcceptMatchRequest{Id: first.GetId(), ParticipantId: "mA"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "a participant acting as their partner: %v", err)

			m, err = s.client.AcceptMatch(s.asMember(t, acme, "mA"), &matchingv1.AcceptMatchRequest{Id: first.GetId(), ParticipantId: "mA"})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_ACCEPTED, m.GetState())
			s.LastEvent(t, acme+".match.accepted", 1)

			_, err = s.client.AcceptMatch(s.asMember(t, acme, "mA"), &matchingv1.AcceptMatchRequest{Id: first.GetId(), ParticipantId: "mA"})
			requireFailedPrecondition(t, err, "is ACCEPTED; it can be accepted only when PROPOSED")
			_, err = s.client.EndMatch(manager, &matchingv1.EndMatchRequest{Id: first.GetId(), Reason: "done"})
			requireFailedPrecondition(t, err, "is ACCEPTED; it can be ended only when ACTIVE")

			m, err = s.client.ActivateMatch(manager, &matchingv1.ActivateMatchRequest{Id: first.GetId()})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_ACTIVE, m.GetState())
			s.LastEvent(t, acme+".match.activated", 1)
			_, err = s.client.ActivateMatch(manager, &matchingv1.ActivateMatchRequest{Id: first.GetId()})
			requireFailedPrecondition(t, err, "is ACTIVE")
			_, err = s.client.DeclineMatch(s.asMember(t, acme, "e1"), &matchingv1.DeclineMatchRequest{Id: first.GetId(), ParticipantId: "e1"})
			requireFailedPrecondition(t, err, "is ACTIVE; it can be declined only when PROPOSED or ACCEPTED")

			_, err = s.client.EndMatch(manager, &matchingv1.EndMatchRequest{Id: first.GetId()})
			servicetest.RequireFieldViolation(t, err, "reason")
			m, err = s.client.EndMatch(manager, &matchingv1.EndMatchRequest{Id: first.GetId(), Reason: "goals reached"})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_ENDED, m.GetState())
			require.Equal(t, "goals reached", m.GetEndReason())
			msg := s.LastEvent(t, acme+".match.ended", 1)
			var ev eventsv1.MatchEnded
			require.NoError(t, proto.Unmarshal(msg.Data, &ev))
			require.Equal(t, "goals reached", ev.GetMatch().GetEndReason())
			require.Equal(t, personID("e1"), ev.GetMatch().GetMenteePersonId())

			_, err = s.pair(t, manager, "mA", "e1")
			requireFailedPrecondition(t, err, "past_pair")
		})

		t.Run("a declined pair frees both and is never proposed again", func(t *testing.T) {
			m, err := s.pair(t, manager, "mC", "e2")
			require.NoError(t, err)
			declined, err := s.client.DeclineMatch(s.asMember(t, acme, "e2"), &matchingv1.DeclineMatchRequest{Id: m.GetId(), ParticipantId: "e2", Reason: "no time"})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_DECLINED, declined.GetState())
			require.Equal(t, "e2", declined.GetDeclinedByParticipantId())
			require.Equal(t, "no time", declined.GetDeclineReason())
			s.LastEvent(t, acme+".match.declined", 1)
			_, err = s.pair(t, manager, "mC", "e2")
			requireFailedPrecondition(t, err, "past_pair")
			_, err = s.client.DeclineMatch(manager, &matchingv1.DeclineMatchRequest{Id: m.GetId()})
			requireFailedPrecondition(t, err, "is DECLINED")

			// e2 is free again: another mentor may take them.
			again, err := s.pair(t, manager, "mB", "e2")
			require.NoError(t, err)
			_, err = s.client.DeclineMatch(s.asMember(t, acme, "e2"), &matchingv1.DeclineMatchRequest{Id: again.GetId()})
			servicetest.RequireFieldViolation(t, err, "participant_id")
			byManager, err := s.client.DeclineMatch(manager, &matchingv1.DeclineMatchRequest{Id: again.GetId(), Reason: "reorganised"})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_DECLINED, byManager.GetState())
			require.Empty(t, byManager.GetDeclinedByParticipantId())
		})

		t.Run("a mentor takes no more than their capacity", func(t *testing.T) {
			_, err := s.pair(t, manager, "mB", "e5")
			require.NoError(t, err)
			_, err = s.pair(t, manager, "mB", "e4")
			requireFailedPrecondition(t, err, "avoid_list")
			_, err = s.pair(t, manager, "mA", "e5")
			requireFailedPrecondition(t, err, "mentee e5 is already in a live match")
			s.publish(t, acme, "participant", "e6", "enrolled", &eventsv1.ParticipantEnrolled{Participant: enrolment("prog",
				member{id: "e6", wants: map[string]int32{"sales": 2}})}, "")
			s.publish(t, acme, "person", personID("e6"), "created", &eventsv1.PersonCreated{Person: &participantv1.Person{
				Id: personID("e6"), SeniorityLevel: 1, Languages: []string{"en"}, EmploymentStatus: participantv1.EmploymentStatus_EMPLOYMENT_STATUS_ACTIVE}}, "")
			testkit.Eventually(t, servicetest.WaitFor, func() bool {
				_, ok := s.input(t, acme, "prog").Mentee("e6")
				return ok
			}, "e6 not projected")
			_, err = s.pair(t, manager, "mB", "e6")
			requireFailedPrecondition(t, err, "mentor mB has no capacity left (1 live matches, capacity 1)")
		})

		t.Run("the mentee's acceptance suffices under ACCEPTANCE_MENTEE", func(t *testing.T) {
			s.setAcceptance(t, manager, matchingv1.Acceptance_ACCEPTANCE_MENTEE)
			m, err := s.pair(t, manager, "mA", "e2")
			require.NoError(t, err)
			got, err := s.client.AcceptMatch(s.asMember(t, acme, "mA"), &matchingv1.AcceptMatchRequest{Id: m.GetId(), ParticipantId: "mA"})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_PROPOSED, got.GetState(), "the mentor alone does not suffice")
			got, err = s.client.AcceptMatch(s.asMember(t, acme, "e2"), &matchingv1.AcceptMatchRequest{Id: m.GetId(), ParticipantId: "e2"})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_ACCEPTED, got.GetState())
		})

		t.Run("manual pairs are accepted at once under ACCEPTANCE_AUTOMATIC", func(t *testing.T) {
			s.setAcceptance(t, manager, matchingv1.Acceptance_ACCEPTANCE_AUTOMATIC)
			m, err := s.pair(t, manager, "mC", "e6")
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_ACCEPTED, m.GetState())
			require.True(t, m.GetMentorAccepted())
			require.True(t, m.GetMenteeAccepted())
			msg := s.LastEvent(t, acme+".match.accepted", 3)
			var ev eventsv1.MatchAccepted
			require.NoError(t, proto.Unmarshal(msg.Data, &ev))
			require.Equal(t, m.GetId(), ev.GetMatch().GetId())
		})

		t.Run("matches are listed by program, state and participant", func(t *testing.T) {
			all, err := s.client.ListMatches(analyst, &matchingv1.ListMatchesRequest{ProgramId: "prog"})
			require.NoError(t, err)
			require.Len(t, all.GetMatches(), 6)
			require.Equal(t, first.GetId(), all.GetMatches()[0].GetId(), "oldest first")
			declined, err := s.client.ListMatches(analyst, &matchingv1.ListMatchesRequest{State: matchingv1.MatchState_MATCH_STATE_DECLINED})
			require.NoError(t, err)
			require.Len(t, declined.GetMatches(), 2)
			var ids []string
			token := ""
			for {
				page, err := s.client.ListMatches(analyst, &matchingv1.ListMatchesRequest{ParticipantId: "e2", PageSize: 1, PageToken: token})
				require.NoError(t, err)
				for _, m := range page.GetMatches() {
					ids = append(ids, m.GetMenteeParticipantId())
				}
				if token = page.GetNextPageToken(); token == "" {
					break
				}
			}
			require.Equal(t, []string{"e2", "e2", "e2"}, ids)
			none, err := s.client.ListMatches(s.As(t, "globex", auth.RoleTenantAdmin), &matchingv1.ListMatchesRequest{})
			require.NoError(t, err)
			require.Empty(t, none.GetMatches())
			_, err = s.client.ListMatches(analyst, &matchingv1.ListMatchesRequest{State: 42})
			servicetest.RequireFieldViolation(t, err, "state")
		})

		t.Run("an erased person's matches keep only ids", func(t *testing.T) {
			s.publish(t, acme, "person", personID("e1"), "erased", &eventsv1.PersonErased{PersonId: personID("e1")}, "")
			testkit.Eventually(t, servicetest.WaitFor, func() bool {
				m, err := s.client.GetMatch(analyst, &matchingv1.GetMatchRequest{Id: first.GetId()})
				require.NoError(t, err)
				return len(m.GetFactors()) == 0
			}, "the erased mentee's match still explains the pair")
			m, err := s.client.GetMatch(analyst, &matchingv1.GetMatchRequest{Id: first.GetId()})
			require.NoError(t, err)
			require.Empty(t, m.GetEndReason())
			require.Equal(t, personID("e1"), m.GetMenteePersonId())
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_ENDED, m.GetState())
		})

		t.Run("roles", func(t *testing.T) {
			_, err := s.pair(t, participant, "mC", "e4")
			require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
			_, err = s.client.ActivateMatch(participant, &matchingv1.ActivateMatchRequest{Id: first.GetId()})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
			_, err = s.client.AcceptMatch(analyst, &matchingv1.AcceptMatchRequest{Id: first.GetId(), ParticipantId: "e1"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
			_, err = s.client.GetMatch(s.As(t, "globex", auth.RoleTenantAdmin), &matchingv1.GetMatchRequest{Id: first.GetId()})
			require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
			require.Equal(t, matchingv1.MatchState_MATCH_STATE_ENDED, state(t, first.GetId()))
		})
	})
}
