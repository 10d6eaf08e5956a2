package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
)

// TestRedisDown runs the matching service on a private redis-server,
// kills it (SIGKILL) and keeps it down (5 s in CI, a minute in `make
// reliability`) while candidate look-ups and a match run go on: every
// answer is the same as with Redis up, no call fails, and the latency of
// each phase is printed. Then Redis comes back on the same port.
func TestRedisDown(t *testing.T) {
	perSide := pick(100, 500)
	outage := time.Duration(pick(5, 60)) * time.Second
	cache := privateRedis(t)
	c := startCluster(t, clusterOptions{redisURL: "redis://" + cache.addr + "/0"})
	admin := c.token("admin@e2e.example", "tenant_admin")
	ctx := c.ctx(admin)
	matching := matchingv1.NewMatchingServiceClient(c.conn)
	programID, mentees := reverseProgram(t, c, admin, perSide)
	if len(mentees) > 50 {
		mentees = mentees[:50]
	}

	// lookups asks for every mentee's top 5 until at least d has passed,
	// and returns the lists (participant:score) and the latencies.
	lookups := func(d time.Duration) (map[string]string, []time.Duration) {
		t.Helper()
		lists := map[string]string{}
		var took []time.Duration
		start := time.Now()
		for round := 0; round == 0 || time.Since(start) < d; round++ {
			require.Less(t, round, 100_000)
			for _, m := range mentees {
				t0 := time.Now()
				got, err := matching.ListCandidates(ctx, &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: m, K: 5})
				took = append(took, time.Since(t0))
				require.NoError(t, err, "candidates of %s", m)
				var b strings.Builder
				for _, cand := range got.GetCandidates() {
					fmt.Fprintf(&b, "%s:%.6f ", cand.GetParticipantId(), cand.GetScore())
				}
				if prev, ok := lists[m]; ok {
					require.Equal(t, prev, b.String(), "the same candidates every time")
				}
				lists[m] = b.String()
			}
		}
		return lists, took
	}
	runMetrics := func() *matchingv1.MatchRunMetrics {
		t.Helper()
		run, err := matching.CreateMatchRun(ctx, &matchingv1.CreateMatchRunRequest{
			ProgramId: programID, Strategy: matchingv1.MatchStrategy_MATCH_STRATEGY_OPTIMAL, MaximiseParticipation: true})
		require.NoError(t, err)
		poll(t, settle, "match run finished", func() error {
			run, err = matching.GetMatchRun(ctx, &matchingv1.GetMatchRunRequest{Id: run.GetId()})
			require.NoError(t, err)
			if run.GetState() == matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING {
				return fmt.Errorf("run at %d%%", run.GetProgressPercent())
			}
			return nil
		})
		require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, run.GetState(), run.GetError())
		return run.GetMetrics()
	}

	rdb := redis.NewClient(&redis.Options{Addr: cache.addr})
	defer rdb.Close()
	// cached checks that Redis holds at least one key per mentee.
	cached := func() error {
		n, err := rdb.DBSize(context.Background()).Result()
		if err == nil && n < int64(len(mentees)) {
			err = fmt.Errorf("%d keys in Redis for %d mentees", n, len(mentees))
		}
		return err
	}
	lookups(0) // computes and caches
	require.NoError(t, cached(), "the candidate lists are cached in Redis")
	want, upTook := lookups(time.Second)
	wantRun := runMetrics()
	cache.signal(syscall.SIGKILL, 10*time.Second)
	down, downTook := lookups(outage)
	downRun := runMetrics()
	back := cache.restartServer()
	poll(t, 30*time.Second, "the cache fills Redis again", func() error {
		lookups(0)
		return cached()
	})
	after, afterTook := lookups(time.Second)

	require.Equal(t, want, down, "candidates with Redis down")
	require.Equal(t, want, after, "candidates with Redis back")
	require.Equal(t, wantRun.GetPairs(), downRun.GetPairs(), "pairs of a run with Redis down")
	require.InDelta(t, wantRun.GetTotalScore(), downRun.GetTotalScore(), 1e-6, "total score of a run with Redis down")
	t.Logf("FIGURE Redis down for %s: %d candidate look-ups, 0 failed, all identical to Redis up; run with Redis down: %d pairs, total score %.3f (same as up); Redis back after %s",
		outage, len(downTook), downRun.GetPairs(), downRun.GetTotalScore(), back.Round(time.Millisecond))
	for _, phase := range []struct {
		name string
		took []time.Duration
	}{{"Redis up", upTook}, {"Redis down", downTook}, {"Redis back", afterTook}} {
		t.Logf("FIGURE candidate look-up through the gateway, %-10s: n=%d p50=%s p99=%s", phase.name, len(phase.took), quantile(phase.took, 0.5), quantile(phase.took, 0.99))
	}
}

// quantile returns the q-quantile of took (nearest rank).
func quantile(took []time.Duration, q float64) time.Duration {
	s := slices.Clone(took)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))].Round(10 * time.Microsecond)
}

// reverseProgram creates the skills and a reverse program, imports
// perSide junior mentors and senior mentees into it, moves it to
// matching, waits until the matching service holds everyone, and returns
// the program and its mentees' participant ids.
func reverseProgram(t *testing.T, c *cluster, admin string, perSide int) (string, []string) {
	t.Helper()
	ctx := c.ctx(admin)
	people := participantv1.NewParticipantServiceClient(c.conn)
	for _, skill := range []string{"genai", "data", "social"} {
		code, body := httpJSON(t, "POST", c.HTTP+"/v1/skills", admin, `{"id":"`+skill+`","displayName":"`+skill+`"}`)
		require.Equal(t, 200, code, "skill: %v", body)
	}
	now := time.Now().UTC()
	program, err := people.CreateProgram(ctx, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "Reverse (e2e)", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE, MaxMentorCapacity: 1,
		EnrollmentOpenTime: timestamppb.New(now.Add(-time.Hour)), EnrollmentCloseTime: timestamppb.New(now.Add(24 * time.Hour)),
	}})
	require.NoError(t, err)
	for _, state := range []participantv1.ProgramState{participantv1.ProgramState_PROGRAM_STATE_ENROLLING, participantv1.ProgramState_PROGRAM_STATE_MATCHING} {
		if state == participantv1.ProgramState_PROGRAM_STATE_MATCHING {
			job, err := people.CreateImport(ctx, &participantv1.CreateImportRequest{Csv: reversePool(perSide), ProgramId: program.GetId()})
			require.NoError(t, err)
			poll(t, settle, "import finished", func() error {
				job, err = people.GetImport(ctx, &participantv1.GetImportRequest{Id: job.GetId()})
				require.NoError(t, err)
				if job.GetState() != participantv1.ImportState_IMPORT_STATE_SUCCEEDED {
					return fmt.Errorf("import %s at %d%%: %s", job.GetState(), job.GetProgressPercent(), job.GetError())
				}
				return nil
			})
			require.EqualValues(t, 2*perSide, job.GetCreatedRows())
		}
		_, err = people.TransitionProgram(ctx, &participantv1.TransitionProgramRequest{Id: program.GetId(), State: state})
		require.NoError(t, err)
	}
	var all []*participantv1.Participant
	for token, pages := "", 0; pages == 0 || token != ""; pages++ {
		require.Less(t, pages, 100)
		page, err := people.ListParticipants(ctx, &participantv1.ListParticipantsRequest{ProgramId: program.GetId(), PageSize: 1000, PageToken: token})
		require.NoError(t, err)
		all = append(all, page.GetParticipants()...)
		token = page.GetNextPageToken()
	}
	require.Len(t, all, 2*perSide)
	waitMatchingEpoch(t, c, admin, program.GetId(), all, int64(3+2*perSide))
	var mentees []string
	for _, p := range all {
		if p.GetRole() == participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE {
			mentees = append(mentees, p.GetId())
		}
	}
	return program.GetId(), mentees
}
