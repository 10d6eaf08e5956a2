package matchingsvc_test

import (
	"context"
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
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/matchingsvc"
)

// reversePool is a small reverse-mentoring program: junior mentors who
// know AI or cloud, senior mentees who want to learn them. m3 reports to
// e3, so they may not be paired; e4 is junior to every mentor, so no pair
// with e4 is allowed in a reverse program.
var reversePool = []member{
	{id: "m1", mentor: true, seniority: 2, department: "Eng", skills: map[string]int32{"ai": 5}},
	{id: "m2", mentor: true, seniority: 1, department: "Data", skills: map[string]int32{"ai": 4, "cloud": 5}},
	{id: "m3", mentor: true, seniority: 3, department: "Eng", skills: map[string]int32{"cloud": 4}, manager: "e3"},
	{id: "e1", seniority: 8, department: "Sales", wants: map[string]int32{"ai": 4}},
	{id: "e2", seniority: 9, department: "Finance", wants: map[string]int32{"cloud": 4}},
	{id: "e3", seniority: 7, department: "Eng", wants: map[string]int32{"cloud": 3}},
	{id: "e4", seniority: 1, department: "Sales", wants: map[string]int32{"ai": 2}},
}

// runToEnd starts a run and waits until it has finished.
func (s *service) runToEnd(t *testing.T, ctx context.Context, req *matchingv1.CreateMatchRunRequest) *matchingv1.MatchRun {
	t.Helper()
	run, err := s.client.CreateMatchRun(ctx, req)
	require.NoError(t, err)
	require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING, run.GetState())
	last := int32(0)
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		got, err := s.client.GetMatchRun(ctx, &matchingv1.GetMatchRunRequest{Id: run.GetId()})
		require.NoError(t, err)
		require.GreaterOrEqual(t, got.GetProgressPercent(), last, "progress never goes back")
		last = got.GetProgressPercent()
		run = got
		return got.GetState() != matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING
	}, "run %s did not finish", run.GetId())
	return run
}

// allPairs reads every pair of a run, page by page.
func (s *service) allPairs(t *testing.T, ctx context.Context, runID string, pageSize int32) []*matchingv1.MatchRunPair {
	t.Helper()
	var out []*matchingv1.MatchRunPair
	token := ""
	for {
		resp, err := s.client.ListMatchRunPairs(ctx, &matchingv1.ListMatchRunPairsRequest{RunId: runID, PageSize: pageSize, PageToken: token})
		require.NoError(t, err)
		out = append(out, resp.GetPairs()...)
		if token = resp.GetNextPageToken(); token == "" {
			return out
		}
	}
}

func TestMatchRuns(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		s := start(t, url, matchingsvc.Config{})
		acme := testkit.RandomName("acme")
		s.seed(t, acme, "prog", participantv1.ProgramType_PROGRAM_TYPE_REVERSE, reversePool)
		manager := s.As(t, acme, auth.RoleProgramManager)
		analyst := s.As(t, acme, auth.RoleAnalyst)

		var optimal *matchingv1.MatchRun
		var optimalPairs []*matchingv1.MatchRunPair
		t.Run("an optimal run succeeds with explained pairs", func(t *testing.T) {
			optimal = s.runToEnd(t, manager, &matchingv1.CreateMatchRunRequest{ProgramId: "prog",
				Strategy: matchingv1.MatchStrategy_MATCH_STRATEGY_OPTIMAL})
			require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, optimal.GetState(), optimal.GetError())
			require.EqualValues(t, 100, optimal.GetProgressPercent())
			require.True(t, optimal.GetCertified())
			require.False(t, optimal.GetWhatIf())
			require.NotNil(t, optimal.GetFinishTime())
			require.EqualValues(t, 8, optimal.GetEpoch(), "read after the seed's eight events")

			optimalPairs = s.allPairs(t, analyst, optimal.GetId(), 1)
			require.NotEmpty(t, optimalPairs)
			metrics := optimal.GetMetrics()
			require.EqualValues(t, len(optimalPairs), metrics.GetPairs())
			require.EqualValues(t, 4, metrics.GetMentees())
			require.EqualValues(t, 3, metrics.GetMentors())
			require.InDelta(t, float64(len(optimalPairs))/4, metrics.GetCoverage(), 1e-9)
			histogram := int32(0)
			for _, n := range metrics.GetHistogram() {
				histogram += n
			}
			require.EqualValues(t, len(optimalPairs), histogram)
			require.NotEmpty(t, metrics.GetSegments())
			seen := map[string]bool{}
			for _, p := range optimalPairs {
				require.Len(t, p.GetFactors(), 9)
				for _, f := range p.GetFactors() {
					require.NotEmpty(t, f.GetExplanation(), "factor %s of %s–%s", f.GetFactor(), p.GetMentorParticipantId(), p.GetMenteeParticipantId())
				}
				require.Equal(t, personID(p.GetMentorParticipantId()), p.GetMentorPersonId())
				require.False(t, p.GetMentorParticipantId() == "m3" && p.GetMenteeParticipantId() == "e3", "a reporting line is never paired")
				require.NotEqual(t, "e4", p.GetMenteeParticipantId())
				require.False(t, seen[p.GetMenteeParticipantId()], "one mentor per mentee")
				seen[p.GetMenteeParticipantId()] = true
			}

			unmatched, err := s.client.ListMatchRunUnmatched(analyst, &matchingv1.ListMatchRunUnmatchedRequest{RunId: optimal.GetId()})
			require.NoError(t, err)
			var e4 *matchingv1.UnmatchedParticipant
			for _, u := range unmatched.GetUnmatched() {
				if u.GetParticipantId() == "e4" {
					e4 = u
				}
			}
			require.NotNil(t, e4, "e4 is unmatched")
			require.Equal(t, "no_eligible_partner", e4.GetReason())
			require.Equal(t, participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE, e4.GetRole())
			require.NotEmpty(t, e4.GetDetail())

			created := s.LastEvent(t, acme+".match_run.created", 1)
			var c eventsv1.MatchRunCreated
			require.NoError(t, proto.Unmarshal(created.Data, &c))
			require.Equal(t, optimal.GetId(), c.GetRun().GetId())
			done := s.LastEvent(t, acme+".match_run.succeeded", 1)
			var d eventsv1.MatchRunSucceeded
			require.NoError(t, proto.Unmarshal(done.Data, &d))
			require.EqualValues(t, len(optimalPairs), d.GetRun().GetMetrics().GetPairs())
		})

		var whatIf *matchingv1.MatchRun
		t.Run("a what-if run scores with the override and compares", func(t *testing.T) {
			override, err := s.client.GetScoringConfig(manager, &matchingv1.GetScoringConfigRequest{ProgramId: "prog"})
			require.NoError(t, err)
			override.Weights = &matchingv1.Weights{CrossDepartment: 100}
			whatIf = s.runToEnd(t, manager, &matchingv1.CreateMatchRunRequest{ProgramId: "prog",
				Strategy: matchingv1.MatchStrategy_MATCH_STRATEGY_STABLE, ConfigOverride: override})
			require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, whatIf.GetState(), whatIf.GetError())
			require.True(t, whatIf.GetWhatIf())
			require.False(t, whatIf.GetCertified(), "a stable run is not certified")
			require.Equal(t, 100.0, whatIf.GetConfig().GetWeights().GetCrossDepartment())
			otherPairs := s.allPairs(t, analyst, whatIf.GetId(), 0)

			cmp, err := s.client.CompareMatchRuns(analyst, &matchingv1.CompareMatchRunsRequest{RunId: optimal.GetId(), OtherRunId: whatIf.GetId()})
			require.NoError(t, err)
			require.Len(t, optimalPairs, len(cmp.GetInBoth())+len(cmp.GetOnlyInRun()))
			require.Len(t, otherPairs, len(cmp.GetInBoth())+len(cmp.GetOnlyInOther()))
			require.EqualValues(t, len(otherPairs)-len(optimalPairs), cmp.GetDelta().GetPairs())
			require.InDelta(t, whatIf.GetMetrics().GetTotalScore()-optimal.GetMetrics().GetTotalScore(), cmp.GetDelta().GetTotalScore(), 1e-9)
			for _, p := range cmp.GetInBoth() {
				require.Positive(t, p.GetScore())
				require.Positive(t, p.GetOtherScore())
			}
			for _, p := range cmp.GetOnlyInRun() {
				require.Zero(t, p.GetOtherScore())
			}
		})

		t.Run("runs are listed oldest first, page by page", func(t *testing.T) {
			first, err := s.client.ListMatchRuns(analyst, &matchingv1.ListMatchRunsRequest{ProgramId: "prog", PageSize: 1})
			require.NoError(t, err)
			require.Len(t, first.GetRuns(), 1)
			require.Equal(t, optimal.GetId(), first.GetRuns()[0].GetId())
			second, err := s.client.ListMatchRuns(analyst, &matchingv1.ListMatchRunsRequest{ProgramId: "prog", PageSize: 1,
				PageToken: first.GetNextPageToken()})
			require.NoError(t, err)
			require.Equal(t, whatIf.GetId(), second.GetRuns()[0].GetId())
			_, err = s.client.ListMatchRuns(analyst, &matchingv1.ListMatchRunsRequest{ProgramId: "prog", PageSize: 2, PageToken: first.GetNextPageToken()})
			require.NoError(t, err, "the page size is no part of the filter")
			_, err = s.client.ListMatchRuns(analyst, &matchingv1.ListMatchRunsRequest{ProgramId: "other", PageToken: first.GetNextPageToken()})
			require.Equal(t, codes.NotFound, status.Code(err), "an unknown program is refused before its token is read: %v", err)
		})

		t.Run("publishing creates proposed matches once", func(t *testing.T) {
			published, err := s.client.PublishMatchRun(manager, &matchingv1.PublishMatchRunRequest{Id: optimal.GetId()})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_PUBLISHED, published.GetState())
			require.EqualValues(t, len(optimalPairs), published.GetMatchesCreated())
			require.NotNil(t, published.GetPublishTime())
			s.LastEvent(t, acme+".match_run.published", 1)
			msg := s.LastEvent(t, acme+".match.proposed", len(optimalPairs))
			var proposed eventsv1.MatchProposed
			require.NoError(t, proto.Unmarshal(msg.Data, &proposed))
			require.Equal(t, matchingv1.MatchSource_MATCH_SOURCE_RUN, proposed.GetMatch().GetSource())
			require.Equal(t, optimal.GetId(), proposed.GetMatch().GetRunId())
			require.NotEmpty(t, proposed.GetMatch().GetMenteePersonId())
			require.Len(t, proposed.GetMatch().GetFactors(), 9)

			_, err = s.client.PublishMatchRun(manager, &matchingv1.PublishMatchRunRequest{Id: optimal.GetId()})
			requireFailedPrecondition(t, err, "published already")
		})

		t.Run("a run outdated by a publication is refused and writes nothing", func(t *testing.T) {
			_, err := s.client.PublishMatchRun(manager, &matchingv1.PublishMatchRunRequest{Id: whatIf.GetId()})
			requireFailedPrecondition(t, err, "run the matching again")
			require.Contains(t, status.Convert(err).Message(), "already in a live match")
			got, err := s.client.GetMatchRun(analyst, &matchingv1.GetMatchRunRequest{Id: whatIf.GetId()})
			require.NoError(t, err)
			require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, got.GetState())
			s.LastEvent(t, acme+".match.proposed", len(optimalPairs))
		})

		t.Run("the next run's pool leaves matched participants out", func(t *testing.T) {
			next := s.runToEnd(t, manager, &matchingv1.CreateMatchRunRequest{ProgramId: "prog", MaximiseParticipation: true})
			require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, next.GetState(), next.GetError())
			require.EqualValues(t, len(optimalPairs), next.GetMetrics().GetExcludedMentees())
			require.EqualValues(t, 4-len(optimalPairs), next.GetMetrics().GetMentees())
			for _, p := range s.allPairs(t, analyst, next.GetId(), 0) {
				for _, q := range optimalPairs {
					require.NotEqual(t, q.GetMenteeParticipantId(), p.GetMenteeParticipantId())
				}
			}
		})

		t.Run("a program that no longer matches refuses publication", func(t *testing.T) {
			run := s.runToEnd(t, manager, &matchingv1.CreateMatchRunRequest{ProgramId: "prog"})
			s.publish(t, acme, "program", "prog", "state_changed", &eventsv1.ProgramStateChanged{Program: &participantv1.Program{
				Id: "prog", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE, State: participantv1.ProgramState_PROGRAM_STATE_COMPLETED,
				DefaultMentorCapacity: 1, ManagerSubjects: []string{servicetest.Subject(acme)}}}, "")
			s.waitEpoch(t, acme, "prog", run.GetEpoch()+1) // the state change
			_, err := s.client.PublishMatchRun(manager, &matchingv1.PublishMatchRunRequest{Id: run.GetId()})
			requireFailedPrecondition(t, err, "COMPLETED")
		})

		t.Run("an unknown program or run is not found", func(t *testing.T) {
			_, err := s.client.CreateMatchRun(s.As(t, acme, auth.RoleTenantAdmin), &matchingv1.CreateMatchRunRequest{ProgramId: "nothing"})
			require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
			_, err = s.client.CreateMatchRun(manager, &matchingv1.CreateMatchRunRequest{ProgramId: "nothing"})
			require.Equal(t, codes.NotFound, status.Code(err), "an unknown program, for a manager too: %v", err)
			_, err = s.client.GetMatchRun(analyst, &matchingv1.GetMatchRunRequest{Id: "nothing"})
			require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
			_, err = s.client.ListMatchRunPairs(analyst, &matchingv1.ListMatchRunPairsRequest{RunId: "nothing"})
			require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
			_, err = s.client.GetMatchRun(s.As(t, "globex", auth.RoleTenantAdmin), &matchingv1.GetMatchRunRequest{Id: optimal.GetId()})
			require.Equal(t, codes.NotFound, status.Code(err), "another tenant's run: %v", err)
		})

		t.Run("invalid input names the field", func(t *testing.T) {
			badOverride := proto.CloneOf(optimal.GetConfig())
			badOverride.Weights = &matchingv1.Weights{}
			otherProgram := proto.CloneOf(optimal.GetConfig())
			otherProgram.ProgramId = "other"
			tests := []struct {
				name  string
				req   *matchingv1.CreateMatchRunRequest
				field string
			}{
				{"no program", &matchingv1.CreateMatchRunRequest{}, "program_id"},
				{"undefined strategy", &matchingv1.CreateMatchRunRequest{ProgramId: "prog", Strategy: 7}, "strategy"},
				{"override without weights", &matchingv1.CreateMatchRunRequest{ProgramId: "prog", ConfigOverride: badOverride}, "config_override.weights"},
				{"override of another program", &matchingv1.CreateMatchRunRequest{ProgramId: "prog", ConfigOverride: otherProgram}, "config_override.program_id"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					_, err := s.client.CreateMatchRun(manager, tt.req)
					servicetest.RequireFieldViolation(t, err, tt.field)
				})
			}
			_, err := s.client.ListMatchRunPairs(analyst, &matchingv1.ListMatchRunPairsRequest{RunId: optimal.GetId(), PageSize: 1001})
			servicetest.RequireFieldViolation(t, err, "page_size")
			_, err = s.client.CompareMatchRuns(analyst, &matchingv1.CompareMatchRunsRequest{RunId: optimal.GetId()})
			servicetest.RequireFieldViolation(t, err, "other_run_id")
		})

		t.Run("roles", func(t *testing.T) {
			_, err := s.client.CreateMatchRun(analyst, &matchingv1.CreateMatchRunRequest{ProgramId: "prog"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
			_, err = s.client.PublishMatchRun(analyst, &matchingv1.PublishMatchRunRequest{Id: whatIf.GetId()})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
			_, err = s.client.GetMatchRun(s.As(t, acme, auth.RoleParticipant), &matchingv1.GetMatchRunRequest{Id: optimal.GetId()})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
			_, err = s.client.ListCandidates(analyst, &matchingv1.ListCandidatesRequest{ProgramId: "prog", ParticipantId: "e1"})
			require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
		})
	})
}

// requireFailedPrecondition checks err is FailedPrecondition saying want.
func requireFailedPrecondition(t *testing.T, err error, want string) {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, codes.FailedPrecondition, st.Code(), "status %v", st)
	require.Contains(t, st.Message(), want)
}

func TestOrphanedRunIsResumed(t *testing.T) {
	url := testkit.SQLiteURL(t)
	s := start(t, url, matchingsvc.Config{})
	acme := testkit.RandomName("acme")
	s.seed(t, acme, "prog", participantv1.ProgramType_PROGRAM_TYPE_REVERSE, reversePool)

	// A replica stored a run, claimed it and died before finishing: its
	// lease runs out and the running service takes the run over.
	run := matching.MatchRun{ID: "orphan", ProgramID: "prog", State: matching.RunRunning, Strategy: matching.StrategyOptimal,
		Config: matching.DefaultScoringConfig("prog"), CreateTime: time.Now().UTC().Truncate(time.Microsecond)}
	require.NoError(t, s.store.CreateMatchRun(t.Context(), acme, run))
	job, ok, err := s.store.ClaimMatchRun(t.Context(), "dead-replica", 100*time.Millisecond)
	require.NoError(t, err)
	require.True(t, ok, "the test's claim came first")
	require.Equal(t, "orphan", job.Run.ID)

	manager := s.As(t, acme, auth.RoleProgramManager)
	var got *matchingv1.MatchRun
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		got, err = s.client.GetMatchRun(manager, &matchingv1.GetMatchRunRequest{Id: "orphan"})
		require.NoError(t, err)
		return got.GetState() != matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING
	}, "the orphaned run was not resumed")
	require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, got.GetState(), got.GetError())
	require.EqualValues(t, 100, got.GetProgressPercent())
	require.NotEmpty(t, s.allPairs(t, manager, "orphan", 0))
	require.ErrorIs(t, s.store.RenewMatchRun(t.Context(), acme, "orphan", "dead-replica", time.Minute, 50), matching.ErrLeaseLost)
}
