package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// matchCLI runs `tandem` in-process against one tandem dev and tenant.
type matchCLI struct {
	t                     *testing.T
	addr, dataDir, tenant string
}

// run runs the command line with args and the connection flags, and
// returns its stdout, stderr and exit code.
func (m matchCLI) run(args ...string) (stdout, stderr string, code int) {
	m.t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(append(args, "--addr", m.addr, "--data-dir", m.dataDir, "--tenant", m.tenant))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		var msg string
		code, msg = exitCode(err)
		errOut.WriteString("tandem: " + msg + "\n")
	}
	return out.String(), errOut.String(), code
}

// ok runs args, requires exit code 0 and returns stdout.
func (m matchCLI) ok(args ...string) string {
	m.t.Helper()
	out, errOut, code := m.run(args...)
	require.Zero(m.t, code, "tandem %v: stderr %s", args, errOut)
	return out
}

// json runs args with -o json and unmarshals stdout into msg.
func (m matchCLI) json(msg proto.Message, args ...string) {
	m.t.Helper()
	out := m.ok(append(args, "-o", "json")...)
	require.NoError(m.t, protojson.Unmarshal([]byte(out), msg), "stdout: %s", out)
}

// jsonList runs args with -o json and unmarshals the array on stdout, one
// message per element made by newMsg.
func jsonList[M proto.Message](m matchCLI, newMsg func() M, args ...string) []M {
	m.t.Helper()
	out := m.ok(append(args, "-o", "json")...)
	var raws []json.RawMessage
	require.NoError(m.t, json.Unmarshal([]byte(out), &raws), "stdout: %s", out)
	msgs := make([]M, len(raws))
	for i, raw := range raws {
		msgs[i] = newMsg()
		require.NoError(m.t, protojson.Unmarshal(raw, msgs[i]))
	}
	return msgs
}

// tableRow returns the line of a table output that contains s.
func tableRow(t *testing.T, out, s string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	t.Fatalf("no line with %q in:\n%s", s, out)
	return ""
}

// matchReadyProgram creates a reverse program of perSide mentors and
// mentees through the gateway, each mentor taking one mentee, in state
// MATCHING, and waits until the matching service's projection holds all of
// them.
func matchReadyProgram(t *testing.T, base, admin string, perSide int) string {
	t.Helper()
	for _, skill := range []string{"genai", "data", "social"} {
		code, body := httpDo(t, http.MethodPost, base+"/v1/skills", admin, `{"id":"`+skill+`","displayName":"`+skill+`"}`)
		require.Equal(t, http.StatusOK, code, "body: %v", body)
	}
	now := time.Now().UTC()
	code, program := httpDo(t, http.MethodPost, base+"/v1/programs", admin, fmt.Sprintf(
		`{"displayName":"AI for leaders","type":"PROGRAM_TYPE_REVERSE","maxMentorCapacity":1,`+
			`"enrollmentOpenTime":%q,"enrollmentCloseTime":%q}`,
		now.Add(-time.Hour).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339)))
	require.Equal(t, http.StatusOK, code, "body: %v", program)
	programID := program["id"].(string)
	code, _ = httpDo(t, http.MethodPost, base+"/v1/programs/"+programID+":transition", admin, `{"state":"PROGRAM_STATE_ENROLLING"}`)
	require.Equal(t, http.StatusOK, code)
	pool := strings.ReplaceAll(reversePool(perSide), ",2\n", ",1\n") // the capacity column ends mentor rows
	request, err := json.Marshal(map[string]any{
		"csv": base64.StdEncoding.EncodeToString([]byte(pool)), "programId": programID,
	})
	require.NoError(t, err)
	code, job := httpDo(t, http.MethodPost, base+"/v1/imports", admin, string(request))
	require.Equal(t, http.StatusOK, code, "body: %v", job)
	testkit.Eventually(t, time.Minute, func() bool {
		code, job = httpDo(t, http.MethodGet, base+"/v1/imports/"+job["id"].(string), admin, "")
		return code == http.StatusOK && job["state"] != "IMPORT_STATE_RUNNING"
	}, "import finished: %v", job)
	require.Equal(t, "IMPORT_STATE_SUCCEEDED", job["state"], "job: %v", job)
	require.EqualValues(t, 2*perSide, job["createdRows"])
	code, _ = httpDo(t, http.MethodPost, base+"/v1/programs/"+programID+":transition", admin, `{"state":"PROGRAM_STATE_MATCHING"}`)
	require.Equal(t, http.StatusOK, code)

	// Three program events and one enrolment per participant move the
	// program's projection epoch; reaching their count means the matching
	// service knows everyone.
	code, page := httpDo(t, http.MethodGet, base+"/v1/programs/"+programID+"/participants?pageSize=1", admin, "")
	require.Equal(t, http.StatusOK, code, "body: %v", page)
	participant := page["participants"].([]any)[0].(map[string]any)["id"].(string)
	wantEpoch := fmt.Sprint(3 + 2*perSide)
	var cands map[string]any
	testkit.Eventually(t, time.Minute, func() bool {
		code, cands = httpDo(t, http.MethodGet, base+"/v1/programs/"+programID+"/participants/"+participant+"/candidates?k=1", admin, "")
		return code == http.StatusOK && cands["epoch"] == wantEpoch
	}, "the matching projection reaches epoch %s: %v", wantEpoch, cands)
	return programID
}

// TestMatchCLI drives a reverse program through the match commands: two
// runs with the progress bar, their results, a comparison, publishing,
// listing, accepting and declining, each as a table and as JSON.
func TestMatchCLI(t *testing.T) {
	const perSide = 12
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dataDir := t.TempDir()
	addrs, _ := startDev(t, dataDir)
	tenant := testkit.RandomName("t")
	admin := runCLI(t, "token", "--data-dir", dataDir, "--tenant", tenant, "--role", "tenant_admin", "--subject", "admin@acme.example")
	programID := matchReadyProgram(t, "http://"+addrs.HTTP, admin, perSide)
	cli := matchCLI{t: t, addr: addrs.GRPC, dataDir: dataDir, tenant: tenant}

	// An optimal run: the bar reaches 100 % on stderr, the metrics on stdout.
	out, errOut, code := cli.run("match", "run", "--program", programID, "--maximise-participation")
	require.Zero(t, code, "stderr: %s", errOut)
	require.Contains(t, errOut, "100% matching")
	require.Contains(t, out, "PAIRS")
	require.Contains(t, out, "COVERAGE")
	runA := strings.Fields(tableRow(t, out, "succeeded"))
	require.Len(t, runA, 11, "ID STATE STRATEGY MENTEES MENTORS PAIRS COVERAGE MEAN MIN UNMATCHED CREATED: %v", runA)
	runAID := runA[0]
	require.Equal(t, "optimal", runA[2])
	require.Equal(t, fmt.Sprint(perSide), runA[3], "mentees")
	require.Equal(t, fmt.Sprint(perSide), runA[5], "every mentee paired")
	require.Equal(t, "100.0%", runA[6])
	require.Equal(t, "0", runA[9], "unmatched mentees")

	// A stable run as JSON.
	var runB matchingv1.MatchRun
	cli.json(&runB, "match", "run", "--program", programID, "--strategy", "stable")
	require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, runB.GetState(), "error: %s", runB.GetError())
	require.Equal(t, matchingv1.MatchStrategy_MATCH_STRATEGY_STABLE, runB.GetStrategy())
	require.EqualValues(t, 100, runB.GetProgressPercent())
	require.EqualValues(t, perSide, runB.GetMetrics().GetMentees())

	// --no-wait returns the run still RUNNING; --min-score makes a what-if run.
	var noWait matchingv1.MatchRun
	cli.json(&noWait, "match", "run", "--program", programID, "--no-wait", "--min-score", "99.5")
	require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING, noWait.GetState())
	require.True(t, noWait.GetWhatIf())
	require.InDelta(t, 99.5, noWait.GetConfig().GetMinPairScore(), 1e-9)

	// runs and show-run.
	out = cli.ok("match", "runs", "--program", programID)
	require.Contains(t, out, "STRATEGY")
	require.Contains(t, tableRow(t, out, runB.GetId()), "stable")
	require.Contains(t, tableRow(t, out, noWait.GetId()), "what-if")
	runs := jsonList(cli, func() *matchingv1.MatchRun { return &matchingv1.MatchRun{} }, "match", "runs", "--program", programID)
	require.Len(t, runs, 3)
	require.Equal(t, runAID, runs[0].GetId(), "oldest first")
	out = cli.ok("match", "show-run", runAID)
	require.Contains(t, out, "DIMENSION")
	require.Contains(t, tableRow(t, out, "seniority_band"), "seniority_band")
	var shown matchingv1.MatchRun
	cli.json(&shown, "match", "show-run", runAID)
	require.Equal(t, runAID, shown.GetId())
	require.NotEmpty(t, shown.GetMetrics().GetSegments())

	// Pairs, explained factor by factor.
	out = cli.ok("match", "pairs", runAID, "--explain")
	require.Contains(t, out, "EXPLANATION")
	factor := strings.Fields(tableRow(t, out, "competency_coverage"))
	require.Equal(t, "competency_coverage", factor[0], "a factor line has no pair cells: %v", factor)
	pairs := jsonList(cli, func() *matchingv1.MatchRunPair { return &matchingv1.MatchRunPair{} }, "match", "pairs", runAID)
	require.Len(t, pairs, perSide)
	require.Len(t, pairs[0].GetFactors(), 9)
	out = cli.ok("match", "pairs", runAID)
	first := strings.Fields(tableRow(t, out, pairs[0].GetMenteeParticipantId()))
	require.Equal(t, []string{pairs[0].GetMentorParticipantId(), pairs[0].GetMenteeParticipantId(), fmt.Sprintf("%.1f", pairs[0].GetScore())}, first)

	// Unmatched: nobody reaches the what-if run's minimum score of 99.5.
	testkit.Eventually(t, time.Minute, func() bool {
		cli.json(&noWait, "match", "show-run", noWait.GetId())
		return noWait.GetState() != matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING
	}, "what-if run finished: %v", &noWait)
	require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, noWait.GetState(), "error: %s", noWait.GetError())
	require.Zero(t, noWait.GetMetrics().GetPairs())
	unmatched := jsonList(cli, func() *matchingv1.UnmatchedParticipant { return &matchingv1.UnmatchedParticipant{} }, "match", "unmatched", noWait.GetId())
	require.Len(t, unmatched, 2*perSide, "every mentee and every mentor")
	reasons := map[string]int{}
	for _, u := range unmatched {
		reasons[u.GetRole().String()+" "+u.GetReason()]++
	}
	require.Equal(t, map[string]int{"PARTICIPANT_ROLE_MENTEE below_min_score": perSide, "PARTICIPANT_ROLE_MENTOR below_min_score": perSide}, reasons)
	out = cli.ok("match", "unmatched", noWait.GetId())
	require.Contains(t, out, "REASON")
	require.Equal(t, []string{unmatched[0].GetParticipantId(), strings.ToLower(strings.TrimPrefix(unmatched[0].GetRole().String(), "PARTICIPANT_ROLE_")), unmatched[0].GetReason()},
		strings.Fields(tableRow(t, out, unmatched[0].GetParticipantId()))[:3])

	// Compare the optimal and the stable run.
	var cmp matchingv1.CompareMatchRunsResponse
	cli.json(&cmp, "match", "compare", runAID, runB.GetId())
	require.Len(t, cmp.GetInBoth(), perSide-len(cmp.GetOnlyInRun()))
	require.Len(t, cmp.GetOnlyInOther(), int(runB.GetMetrics().GetPairs())-len(cmp.GetInBoth()))
	out = cli.ok("match", "compare", runAID, runB.GetId())
	require.Contains(t, out, "METRIC")
	require.Equal(t, []string{"pairs", fmt.Sprint(perSide), fmt.Sprint(runB.GetMetrics().GetPairs()), fmt.Sprintf("%+d", cmp.GetDelta().GetPairs())},
		strings.Fields(tableRow(t, out, "pairs ")))
	require.Contains(t, out, fmt.Sprintf("%d pairs in both runs", len(cmp.GetInBoth())))
	onlyB := 0
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 5 && f[0] == "RUN_B" && f[3] == "-" {
			onlyB++
		}
	}
	require.Equal(t, len(cmp.GetOnlyInOther()), onlyB, "a row per pair only RUN_B proposes")

	// Publish: proposed matches.
	out = cli.ok("match", "publish", runAID)
	require.Contains(t, out, "MATCHES")
	require.Equal(t, []string{runAID, "published", fmt.Sprint(perSide)}, strings.Fields(tableRow(t, out, runAID))[:3])
	_, errOut, code = cli.run("match", "publish", runAID)
	require.Equal(t, exitConflict, code, "a published run cannot be published again: %s", errOut)

	out = cli.ok("match", "list", "--program", programID, "--state", "proposed")
	require.Contains(t, out, "ACCEPTED_BY")
	matches := jsonList(cli, func() *matchingv1.Match { return &matchingv1.Match{} }, "match", "list", "--program", programID, "--state", "proposed")
	require.Len(t, matches, perSide)
	require.Contains(t, tableRow(t, out, matches[0].GetId()), "proposed")

	// Decline two matches whose people the stable run pairs otherwise, so
	// that a later run has an allowed pair; accept two others.
	swap := cmp.GetOnlyInOther()[0]
	var toDecline, toAccept []*matchingv1.Match
	for _, m := range matches {
		if m.GetMenteeParticipantId() == swap.GetMenteeParticipantId() || m.GetMentorParticipantId() == swap.GetMentorParticipantId() {
			toDecline = append(toDecline, m)
		} else {
			toAccept = append(toAccept, m)
		}
	}
	require.Len(t, toDecline, 2)

	// Accept: both sides at once, then one side as JSON.
	out = cli.ok("match", "accept", toAccept[0].GetId(), "--as", "both")
	require.Equal(t, []string{toAccept[0].GetId(), "accepted"}, strings.Fields(tableRow(t, out, toAccept[0].GetId()))[:2])
	var half matchingv1.Match
	cli.json(&half, "match", "accept", toAccept[1].GetId(), "--as", "mentor")
	require.Equal(t, matchingv1.MatchState_MATCH_STATE_PROPOSED, half.GetState())
	require.True(t, half.GetMentorAccepted())
	require.False(t, half.GetMenteeAccepted())

	// Decline: by the mentee, then by a program manager as JSON.
	out = cli.ok("match", "decline", toDecline[0].GetId(), "--as", "mentee", "--reason", "time zones too far apart")
	require.Contains(t, tableRow(t, out, toDecline[0].GetId()), "declined")
	var declined matchingv1.Match
	cli.json(&declined, "match", "decline", toDecline[1].GetId(), "--reason", "reorganisation")
	require.Equal(t, matchingv1.MatchState_MATCH_STATE_DECLINED, declined.GetState())
	require.Equal(t, "reorganisation", declined.GetDeclineReason())
	require.Empty(t, declined.GetDeclinedByParticipantId())
	accepted := jsonList(cli, func() *matchingv1.Match { return &matchingv1.Match{} }, "match", "list", "--program", programID, "--state", "accepted")
	require.Len(t, accepted, 1)
	require.Equal(t, toAccept[0].GetId(), accepted[0].GetId())

	// The declined pairs are back in the pool: a new run pairs at least the
	// stable run's pair (never again a declined one), and publishing it (as
	// JSON) proposes its pairs.
	var runC matchingv1.MatchRun
	cli.json(&runC, "match", "run", "--program", programID)
	require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, runC.GetState(), "error: %s", runC.GetError())
	require.EqualValues(t, 2, runC.GetMetrics().GetMentees())
	require.EqualValues(t, 2, runC.GetMetrics().GetMentors())
	require.NotZero(t, runC.GetMetrics().GetPairs())
	var runCPairs [][2]string
	for _, p := range jsonList(cli, func() *matchingv1.MatchRunPair { return &matchingv1.MatchRunPair{} }, "match", "pairs", runC.GetId()) {
		runCPairs = append(runCPairs, [2]string{p.GetMentorParticipantId(), p.GetMenteeParticipantId()})
	}
	require.Contains(t, runCPairs, [2]string{swap.GetMentorParticipantId(), swap.GetMenteeParticipantId()})
	var published matchingv1.MatchRun
	cli.json(&published, "match", "publish", runC.GetId())
	require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_PUBLISHED, published.GetState())
	require.Equal(t, runC.GetMetrics().GetPairs(), published.GetMatchesCreated())

	// Errors: exit codes and what to fix.
	_, errOut, code = cli.run("match", "show-run", "00000000-0000-7000-8000-000000000000")
	require.Equal(t, exitNotFound, code, "stderr: %s", errOut)
	require.Contains(t, errOut, "tandem: NotFound: ")
	_, errOut, code = cli.run("match", "list", "--program", programID, "--state", "pending")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, `--state "pending": must be proposed, accepted, active, declined or ended`)
	_, errOut, code = cli.run("match", "run", "--program", programID, "--strategy", "greedy")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, `--strategy "greedy": must be optimal or stable`)
	_, errOut, code = cli.run("match", "accept", toAccept[2].GetId())
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, `--as "": must be mentor, mentee or both`)
}
