package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/tandem-oss/tandem/cmd/tandem/internal/demo"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// runDemoCLI runs the command line in-process and returns its standard
// output, standard error and exit code.
func runDemoCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	code := 0
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		var msg string
		code, msg = exitCode(err)
		errOut.WriteString(msg)
	}
	return out.String(), errOut.String(), code
}

// TestDemoSeed seeds a company of 300 into a running `tandem dev`, checks
// the summary against the API, and matches the program it left.
func TestDemoSeed(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dataDir := t.TempDir()
	addrs, _ := startDev(t, dataDir)
	tenant := testkit.RandomName("t")
	conn := []string{"--addr", addrs.GRPC, "--data-dir", dataDir, "--tenant", tenant}
	org, err := demo.Generate(demo.Config{People: 300, Seed: 7, Today: time.Now()})
	require.NoError(t, err)
	want := demoSummary{People: 300, Mentors: org.Count(demo.RoleMentor), Mentees: org.Count(demo.RoleMentee),
		Departments: len(org.Departments), TimeZones: len(org.TimeZones())}

	start := time.Now()
	out, errOut, code := runDemoCLI(t, append([]string{"demo", "seed", "--people", "300", "--seed", "7"}, conn...)...)
	require.Equal(t, 0, code, "stderr: %s", errOut)
	t.Logf("seeded 300 people in %s", time.Since(start).Round(time.Millisecond))
	require.Contains(t, errOut, "100% importing directory: 300 people", "progress of the directory import")
	require.Contains(t, errOut, "100% importing enrolment:", "progress of the enrolment import")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, "header and one row: %s", out)
	require.Equal(t, []string{"PROGRAM", "PEOPLE", "MENTORS", "MENTEES", "DEPARTMENTS", "TIME", "ZONES"}, strings.Fields(lines[0]))
	cells := strings.Fields(lines[1])
	require.Len(t, cells, 6)
	programID := cells[0]
	want.ProgramID = programID
	require.Equal(t, []string{programID, "300", strconv.Itoa(want.Mentors), strconv.Itoa(want.Mentees), strconv.Itoa(want.Departments), strconv.Itoa(want.TimeZones)}, cells)
	require.True(t, want.Mentors+want.Mentees >= 75 && want.Mentors+want.Mentees <= 105, "25-35 %% enrolled: %+v", want)

	// Seeding again updates the same people and makes another program.
	out, errOut, code = runDemoCLI(t, append([]string{"demo", "seed", "--people", "300", "--seed", "7", "--program-name", "AI for leaders", "-o", "json"}, conn...)...)
	require.Equal(t, 0, code, "stderr: %s", errOut)
	var second demoSummary
	require.NoError(t, json.Unmarshal([]byte(out), &second), "output: %s", out)
	require.NotEqual(t, programID, second.ProgramID)
	require.Contains(t, out, `"programId"`)
	second.ProgramID = programID
	require.Equal(t, want, second)

	grpcConn, err := grpc.NewClient(addrs.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer grpcConn.Close()
	token := runCLI(t, "token", "--data-dir", dataDir, "--tenant", tenant, "--role", "tenant_admin", "--subject", "admin")
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	participants := participantv1.NewParticipantServiceClient(grpcConn)

	program, err := participants.GetProgram(ctx, &participantv1.GetProgramRequest{Id: programID})
	require.NoError(t, err)
	require.Equal(t, participantv1.ProgramState_PROGRAM_STATE_ENROLLING, program.GetState())
	require.Equal(t, participantv1.ProgramType_PROGRAM_TYPE_REVERSE, program.GetType())
	require.Equal(t, "Reverse mentoring "+strconv.Itoa(time.Now().Year()), program.GetDisplayName())

	roles := map[participantv1.ParticipantRole]int{}
	for page := ""; ; {
		resp, err := participants.ListParticipants(ctx, &participantv1.ListParticipantsRequest{ProgramId: programID, PageSize: 1000, PageToken: page})
		require.NoError(t, err)
		for _, p := range resp.GetParticipants() {
			roles[p.GetRole()]++
			if p.GetRole() == participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE {
				require.NotEmpty(t, p.GetDevelopmentAreas(), "mentee %s", p.GetId())
			} else {
				require.NotEmpty(t, p.GetCompetencies(), "mentor %s", p.GetId())
			}
		}
		if page = resp.GetNextPageToken(); page == "" {
			break
		}
	}
	require.Equal(t, map[participantv1.ParticipantRole]int{
		participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR: want.Mentors,
		participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE: want.Mentees,
	}, roles)

	people := 0
	for page := ""; ; {
		resp, err := participants.ListPeople(ctx, &participantv1.ListPeopleRequest{PageSize: 1000, PageToken: page})
		require.NoError(t, err)
		people += len(resp.GetPeople())
		if page = resp.GetNextPageToken(); page == "" {
			break
		}
	}
	require.Equal(t, 300, people, "everyone is in the directory, once")

	// Ready to match: the seed returned once the matching service had seen
	// every enrolment, so a run at once covers the whole cohort.
	matching := matchingv1.NewMatchingServiceClient(grpcConn)
	run, err := matching.CreateMatchRun(ctx, &matchingv1.CreateMatchRunRequest{ProgramId: programID, MaximiseParticipation: true})
	require.NoError(t, err)
	testkit.Eventually(t, 60*time.Second, func() bool {
		run, err = matching.GetMatchRun(ctx, &matchingv1.GetMatchRunRequest{Id: run.GetId()})
		require.NoError(t, err)
		return run.GetState() != matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING
	}, "run %s finishes", run.GetId())
	require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, run.GetState(), "error: %s", run.GetError())
	require.EqualValues(t, want.Mentees, run.GetMetrics().GetMentees(), "the run sees every mentee")
	require.EqualValues(t, want.Mentors, run.GetMetrics().GetMentors(), "the run sees every mentor")
	t.Logf("run %s: %d pairs of %d mentees, mean score %.1f", run.GetId(), run.GetMetrics().GetPairs(), run.GetMetrics().GetMentees(), run.GetMetrics().GetMeanScore())
	require.Greater(t, run.GetMetrics().GetPairs(), int32(want.Mentees*8/10), "most mentees are matched: %v", run.GetMetrics())
}

func TestDemoSeedRefusesBadFlags(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"too few people", []string{"--people", "10"}, "--people 10: must be 50 to 100000"},
		{"not a number", []string{"--people", "many"}, `invalid argument "many" for "--people"`},
		{"no time", []string{"--timeout", "0s"}, "--timeout 0s: must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runDemoCLI(t, append([]string{"demo", "seed", "--tenant", "acme", "--data-dir", t.TempDir()}, tc.args...)...)
			require.Equal(t, exitUsage, code, "stderr: %s", errOut)
			require.Contains(t, errOut, tc.want)
			require.Empty(t, out)
		})
	}
}
