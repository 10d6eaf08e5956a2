package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// reversePool writes a CSV of n junior mentors (levels 1–4, strong in the
// digital skills) and n senior mentees (levels 7–12, wanting them), spread
// over departments, time zones and languages like a global company.
func reversePool(n int) string {
	zones := []string{"Europe/London", "America/New_York", "Asia/Kolkata", "Europe/Berlin", "Asia/Singapore", "America/Chicago"}
	departments := []string{"Sales", "Finance", "Engineering", "HR", "Marketing", "Operations"}
	skills := []string{"genai", "data", "social"}
	styles := []string{"structured", "exploratory"}
	var b strings.Builder
	b.WriteString("hris_id,display_name,email,department,title,seniority_level,time_zone,languages,role,competencies,development_areas,work_style,communication_style,motivation,capacity\n")
	for i := range n {
		s1, s2 := skills[i%3], skills[(i+1)%3]
		fmt.Fprintf(&b, "J%05d,Junior %d,j%d@acme.example,%s,Analyst,%d,%s,en,mentor,%s:%d|%s:%d,,%s,direct,teach leaders how %s changes the work,%d\n",
			i, i, i, departments[i%6], 1+i%4, zones[i%6], s1, 3+i%3, s2, 2+i%4, styles[i%2], s1, 1+i%2)
		fmt.Fprintf(&b, "S%05d,Senior %d,s%d@acme.example,%s,Director,%d,%s,en,mentee,,%s:1:%d,%s,direct,understand how %s changes the work,\n",
			i, i, i, departments[(i+2)%6], 7+i%6, zones[(i*7)%6], skills[(i*5)%3], 3+i%2, styles[(i+1)%2], skills[(i*5)%3])
	}
	return b.String()
}

// TestMatchingJourney is the matching issue's acceptance test: a reverse
// program of 2,000 participants is matched through the gateway, over HTTP
// and gRPC, with progress visible; the run is explained, compared with a
// what-if run, published and accepted; candidate lists come from Redis on
// the second call.
func TestMatchingJourney(t *testing.T) {
	const perSide = 1000
	redisClient, _ := testkit.Redis(t)
	dataDir := t.TempDir()
	addrs, _ := startDev(t, dataDir, "redis://"+redisClient.Options().Addr+"/0")
	base := "http://" + addrs.HTTP
	tenant := testkit.RandomName("t")
	admin := runCLI(t, "token", "--data-dir", dataDir, "--tenant", tenant, "--role", "tenant_admin", "--subject", "admin@acme.example")
	conn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	matching := matchingv1.NewMatchingServiceClient(conn)
	participants := participantv1.NewParticipantServiceClient(conn)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+admin)

	for _, skill := range []string{"genai", "data", "social"} {
		code, body := httpDo(t, http.MethodPost, base+"/v1/skills", admin, `{"id":"`+skill+`","displayName":"`+skill+`"}`)
		require.Equal(t, http.StatusOK, code, "body: %v", body)
	}
	now := time.Now().UTC()
	code, program := httpDo(t, http.MethodPost, base+"/v1/programs", admin, fmt.Sprintf(
		`{"displayName":"AI for leaders","type":"PROGRAM_TYPE_REVERSE","maxMentorCapacity":2,`+
			`"enrollmentOpenTime":%q,"enrollmentCloseTime":%q}`,
		now.Add(-time.Hour).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339)))
	require.Equal(t, http.StatusOK, code, "body: %v", program)
	programID := program["id"].(string)
	code, _ = httpDo(t, http.MethodPost, base+"/v1/programs/"+programID+":transition", admin, `{"state":"PROGRAM_STATE_ENROLLING"}`)
	require.Equal(t, http.StatusOK, code)

	request, err := json.Marshal(map[string]any{
		"csv": base64.StdEncoding.EncodeToString([]byte(reversePool(perSide))), "programId": programID,
	})
	require.NoError(t, err)
	code, job := httpDo(t, http.MethodPost, base+"/v1/imports", admin, string(request))
	require.Equal(t, http.StatusOK, code, "body: %v", job)
	testkit.Eventually(t, 2*time.Minute, func() bool {
		code, job = httpDo(t, http.MethodGet, base+"/v1/imports/"+job["id"].(string), admin, "")
		return code == http.StatusOK && job["state"] != "IMPORT_STATE_RUNNING"
	}, "import finished: %v", job)
	require.Equal(t, "IMPORT_STATE_SUCCEEDED", job["state"], "job: %v", job)
	require.EqualValues(t, 2*perSide, job["createdRows"])
	code, _ = httpDo(t, http.MethodPost, base+"/v1/programs/"+programID+":transition", admin, `{"state":"PROGRAM_STATE_MATCHING"}`)
	require.Equal(t, http.StatusOK, code)

	// The matching service learns of the participants through events. Every
	// event about the program moves its projection epoch by one: three
	// program events (created, enrolling, matching) and one enrolment per
	// participant. The epoch reaching that count means the projection holds
	// everyone (events of one import share a create time, so "the last
	// mentee" cannot be told from the listing).
	var all []*participantv1.Participant
	for token := ""; ; {
		page, err := participants.ListParticipants(ctx, &participantv1.ListParticipantsRequest{ProgramId: programID, PageSize: 1000, PageToken: token})
		require.NoError(t, err)
		all = append(all, page.GetParticipants()...)
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	require.Len(t, all, 2*perSide)
	var mentee *participantv1.Participant
	for _, p := range all {
		if p.GetRole() == participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE {
			mentee = p
			break
		}
	}
	candidatesURL := base + "/v1/programs/" + programID + "/participants/" + mentee.GetId() + "/candidates?k=5"
	wantEpoch := fmt.Sprint(3 + 2*perSide)
	var first map[string]any
	testkit.Eventually(t, 2*time.Minute, func() bool {
		code, first = httpDo(t, http.MethodGet, candidatesURL, admin, "")
		return code == http.StatusOK && first["epoch"] == wantEpoch
	}, "the matching service's projection reaches epoch %s: %v", wantEpoch, first)

	// Candidates: computed on the first call and cached in Redis; later
	// calls are served from Redis, as a doctored entry proves.
	cands := first["candidates"].([]any)
	require.Len(t, cands, 5)
	top := cands[0].(map[string]any)
	require.NotEmpty(t, top["factors"], "candidates are explained")
	keys, err := redisClient.Keys(context.Background(), "tandem:matching:candidates:"+tenant+":"+programID+":v*:e"+first["epoch"].(string)+":"+mentee.GetId()).Result()
	require.NoError(t, err)
	require.Len(t, keys, 1, "one cached list, keyed by tenant, program, config version and epoch")
	t.Cleanup(func() { redisClient.Del(context.Background(), keys...) })
	raw, err := redisClient.Get(context.Background(), keys[0]).Result()
	require.NoError(t, err)
	var cached map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &cached))
	cached["candidates"].([]any)[0].(map[string]any)["score"] = 42.42
	doctoredBytes, err := json.Marshal(cached)
	require.NoError(t, err)
	require.NoError(t, redisClient.Set(context.Background(), keys[0], doctoredBytes, time.Minute).Err())
	code, second := httpDo(t, http.MethodGet, candidatesURL, admin, "")
	require.Equal(t, http.StatusOK, code)
	require.InDelta(t, 42.42, second["candidates"].([]any)[0].(map[string]any)["score"], 1e-9, "second call served from Redis")
	require.NoError(t, redisClient.Set(context.Background(), keys[0], raw, time.Minute).Err())

	// An optimal run over HTTP, its progress polled until done.
	code, run := httpDo(t, http.MethodPost, base+"/v1/programs/"+programID+"/matchRuns", admin, `{"strategy":"MATCH_STRATEGY_OPTIMAL","maximiseParticipation":true}`)
	require.Equal(t, http.StatusOK, code, "body: %v", run)
	require.Equal(t, "MATCH_RUN_STATE_RUNNING", run["state"])
	runID := run["id"].(string)
	progress := []float64{}
	testkit.Eventually(t, 2*time.Minute, func() bool {
		code, run = httpDo(t, http.MethodGet, base+"/v1/matchRuns/"+runID, admin, "")
		require.Equal(t, http.StatusOK, code)
		p, _ := run["progressPercent"].(float64)
		progress = append(progress, p)
		return run["state"] != "MATCH_RUN_STATE_RUNNING"
	}, "run finished: %v", run)
	require.Equal(t, "MATCH_RUN_STATE_SUCCEEDED", run["state"], "run: %v", run)
	require.EqualValues(t, 100, run["progressPercent"])
	for k := 1; k < len(progress); k++ {
		require.GreaterOrEqual(t, progress[k], progress[k-1], "progress never goes back: %v", progress)
	}
	require.Equal(t, true, run["certified"])
	metrics := run["metrics"].(map[string]any)
	require.EqualValues(t, perSide, metrics["mentees"])
	require.EqualValues(t, perSide, metrics["mentors"])
	require.NotEmpty(t, metrics["segments"], "fairness view")
	t.Logf("run %s: progress seen %v, metrics %v", runID, progress, metrics)

	// Every pair is explained, factor by factor.
	got, err := matching.ListMatchRunPairs(ctx, &matchingv1.ListMatchRunPairsRequest{RunId: runID, PageSize: 100})
	require.NoError(t, err)
	require.NotEmpty(t, got.GetPairs())
	for _, p := range got.GetPairs() {
		require.Len(t, p.GetFactors(), 9)
		require.NotEmpty(t, p.GetFactors()[0].GetExplanation())
	}

	// A what-if run with other weights, over gRPC, compared with the first.
	config, err := matching.GetScoringConfig(ctx, &matchingv1.GetScoringConfigRequest{ProgramId: programID})
	require.NoError(t, err)
	config.GetWeights().TimeZoneOverlap = 100
	config.GetWeights().CompetencyCoverage = 1
	whatIf, err := matching.CreateMatchRun(ctx, &matchingv1.CreateMatchRunRequest{
		ProgramId: programID, Strategy: matchingv1.MatchStrategy_MATCH_STRATEGY_OPTIMAL, MaximiseParticipation: true, ConfigOverride: config,
	})
	require.NoError(t, err)
	testkit.Eventually(t, 2*time.Minute, func() bool {
		whatIf, err = matching.GetMatchRun(ctx, &matchingv1.GetMatchRunRequest{Id: whatIf.GetId()})
		require.NoError(t, err)
		return whatIf.GetState() != matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING
	}, "what-if run finished")
	require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, whatIf.GetState(), "error: %s", whatIf.GetError())
	code, comparison := httpDo(t, http.MethodGet, base+"/v1/matchRuns/"+runID+":compare?otherRunId="+whatIf.GetId(), admin, "")
	require.Equal(t, http.StatusOK, code, "body: %v", comparison)
	require.NotEmpty(t, comparison["onlyInRun"], "other weights give other pairs")
	require.Contains(t, comparison, "delta")

	// Publish the first run: proposed matches.
	code, published := httpDo(t, http.MethodPost, base+"/v1/matchRuns/"+runID+":publish", admin, `{}`)
	require.Equal(t, http.StatusOK, code, "body: %v", published)
	require.Equal(t, "MATCH_RUN_STATE_PUBLISHED", published["state"])
	var matches []*matchingv1.Match
	for token := ""; ; {
		page, err := matching.ListMatches(ctx, &matchingv1.ListMatchesRequest{ProgramId: programID, PageSize: 500, PageToken: token})
		require.NoError(t, err)
		matches = append(matches, page.GetMatches()...)
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	require.EqualValues(t, metrics["pairs"], len(matches))

	// Both sides accept every match: the mentors over gRPC, the mentees
	// over HTTP for a sample and gRPC for the rest.
	for n, m := range matches {
		require.Equal(t, matchingv1.MatchState_MATCH_STATE_PROPOSED, m.GetState())
		_, err := matching.AcceptMatch(ctx, &matchingv1.AcceptMatchRequest{Id: m.GetId(), ParticipantId: m.GetMentorParticipantId()})
		require.NoError(t, err)
		if n < 20 {
			code, body := httpDo(t, http.MethodPost, base+"/v1/matches/"+m.GetId()+":accept", admin, `{"participantId":"`+m.GetMenteeParticipantId()+`"}`)
			require.Equal(t, http.StatusOK, code, "body: %v", body)
			require.Equal(t, "MATCH_STATE_ACCEPTED", body["state"])
			continue
		}
		accepted, err := matching.AcceptMatch(ctx, &matchingv1.AcceptMatchRequest{Id: m.GetId(), ParticipantId: m.GetMenteeParticipantId()})
		require.NoError(t, err)
		require.Equal(t, matchingv1.MatchState_MATCH_STATE_ACCEPTED, accepted.GetState())
	}
	page, err := matching.ListMatches(ctx, &matchingv1.ListMatchesRequest{ProgramId: programID, State: matchingv1.MatchState_MATCH_STATE_PROPOSED})
	require.NoError(t, err)
	require.Empty(t, page.GetMatches(), "no match is left proposed")
}
