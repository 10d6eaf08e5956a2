package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/testkit"
)

// seResult is what one in-process run of the CLI printed and its exit code.
type seResult struct {
	out, errOut string
	code        int
	msg         string // the error message main would print
}

// seCLI runs tandem commands in-process against one `tandem dev`, as a
// tenant admin of one tenant.
type seCLI struct {
	t                     *testing.T
	grpcAddr, dir, tenant string
}

func (c seCLI) run(args ...string) seResult {
	c.t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(append(args, "--addr", c.grpcAddr, "--data-dir", c.dir, "--tenant", c.tenant))
	root.SetOut(&out)
	root.SetErr(&errOut)
	res := seResult{}
	if err := root.ExecuteContext(context.Background()); err != nil {
		res.code, res.msg = exitCode(err)
	}
	res.out, res.errOut = out.String(), errOut.String()
	return res
}

// ok runs a command that must succeed and returns its stdout.
func (c seCLI) ok(args ...string) string {
	c.t.Helper()
	res := c.run(args...)
	require.Equal(c.t, 0, res.code, "tandem %v: %s", args, res.msg)
	return res.out
}

// json runs a command with -o json and decodes its output into v.
func (c seCLI) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-o", "json")...)
	require.NoError(c.t, json.Unmarshal([]byte(out), v), "tandem %v: %s", args, out)
}

// seLine returns the first line of a table output that contains want.
func seLine(t *testing.T, out, want string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, want) {
			return line
		}
	}
	require.Failf(t, "no row", "no line with %q in:\n%s", want, out)
	return ""
}

// seRow returns the cells of the first line of a table output that
// contains want.
func seRow(t *testing.T, out, want string) []string {
	t.Helper()
	return strings.Fields(seLine(t, out, want))
}

// seKeyRow returns the cells of the first line of a table output whose
// first cell is key: a date can also appear inside another line (the
// report's "as of" time on the day a week starts).
func seKeyRow(t *testing.T, out, key string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if cells := strings.Fields(line); len(cells) > 0 && cells[0] == key {
			return cells
		}
	}
	require.Failf(t, "no row", "no line starting with %q in:\n%s", key, out)
	return nil
}

// TestSchedulingAndEvaluationCLI drives the scheduling and evaluation
// commands from a match made the real way (import, run, publish, accept,
// activate): slots, a booked, confirmed and completed session, a series,
// the calendar feed, feedback, health and the program report.
func TestSchedulingAndEvaluationCLI(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	dir := t.TempDir()
	addrs, _ := startDev(t, dir)
	base := "http://" + addrs.HTTP
	tenant := testkit.RandomName("t")
	cli := seCLI{t: t, grpcAddr: addrs.GRPC, dir: dir, tenant: tenant}
	admin := runCLI(t, "token", "--data-dir", dir, "--tenant", tenant, "--role", "tenant_admin", "--subject", "admin@acme.example")
	call := func(method, path, body string) map[string]any {
		t.Helper()
		code, out := httpDo(t, method, base+path, admin, body)
		require.Equal(t, http.StatusOK, code, "%s %s: %v", method, path, out)
		return out
	}

	// A reverse program of 3 mentors and 3 mentees, imported, matched by a
	// published run, one pair accepted by both sides and activated.
	for _, skill := range []string{"genai", "data", "social"} {
		call(http.MethodPost, "/v1/skills", `{"id":"`+skill+`","displayName":"`+skill+`"}`)
	}
	now := time.Now().UTC()
	programID := call(http.MethodPost, "/v1/programs", fmt.Sprintf(
		`{"displayName":"AI for leaders","type":"PROGRAM_TYPE_REVERSE","maxMentorCapacity":2,"meetingCadence":"MEETING_CADENCE_WEEKLY",`+
			`"enrollmentOpenTime":%q,"enrollmentCloseTime":%q}`,
		now.Add(-time.Hour).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339)))["id"].(string)
	call(http.MethodPost, "/v1/programs/"+programID+":transition", `{"state":"PROGRAM_STATE_ENROLLING"}`)
	request, err := json.Marshal(map[string]any{"csv": base64.StdEncoding.EncodeToString([]byte(reversePool(3))), "programId": programID})
	require.NoError(t, err)
	job := call(http.MethodPost, "/v1/imports", string(request))
	testkit.Eventually(t, time.Minute, func() bool {
		job = call(http.MethodGet, "/v1/imports/"+job["id"].(string), "")
		return job["state"] != "IMPORT_STATE_RUNNING"
	}, "import finished: %v", job)
	require.Equal(t, "IMPORT_STATE_SUCCEEDED", job["state"], "job: %v", job)
	require.EqualValues(t, 6, job["createdRows"], "job: %v", job)
	call(http.MethodPost, "/v1/programs/"+programID+":transition", `{"state":"PROGRAM_STATE_MATCHING"}`)
	var mentee string
	for _, p := range call(http.MethodGet, "/v1/programs/"+programID+"/participants", "")["participants"].([]any) {
		if p := p.(map[string]any); p["role"] == "PARTICIPANT_ROLE_MENTEE" {
			mentee = p["id"].(string)
		}
	}
	// The matching service holds everyone once its projection epoch counts
	// the three program events and the six enrolments.
	testkit.Eventually(t, time.Minute, func() bool {
		code, got := httpDo(t, http.MethodGet, base+"/v1/programs/"+programID+"/participants/"+mentee+"/candidates?k=1", admin, "")
		return code == http.StatusOK && got["epoch"] == "9"
	}, "the matching service knows the six participants")
	run := call(http.MethodPost, "/v1/programs/"+programID+"/matchRuns", `{"strategy":"MATCH_STRATEGY_OPTIMAL","maximiseParticipation":true}`)
	testkit.Eventually(t, time.Minute, func() bool {
		run = call(http.MethodGet, "/v1/matchRuns/"+run["id"].(string), "")
		return run["state"] != "MATCH_RUN_STATE_RUNNING"
	}, "run finished: %v", run)
	require.Equal(t, "MATCH_RUN_STATE_SUCCEEDED", run["state"], "run: %v", run)
	call(http.MethodPost, "/v1/matchRuns/"+run["id"].(string)+":publish", `{}`)
	matches := call(http.MethodGet, "/v1/matches?programId="+programID, "")["matches"].([]any)
	require.NotEmpty(t, matches)
	match := matches[0].(map[string]any)
	matchID, mentorID, menteeID := match["id"].(string), match["mentorPersonId"].(string), match["menteePersonId"].(string)
	for _, part := range []string{match["mentorParticipantId"].(string), match["menteeParticipantId"].(string)} {
		call(http.MethodPost, "/v1/matches/"+matchID+":accept", fmt.Sprintf(`{"participantId":%q}`, part))
	}
	require.Equal(t, "MATCH_STATE_ACTIVE", call(http.MethodPost, "/v1/matches/"+matchID+":activate", `{}`)["state"])

	// Availability: New York mornings for the mentor, London afternoons
	// for the mentee, both preferred.
	windows := func(start, end string) string {
		var ws []string
		for _, d := range []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"} {
			ws = append(ws, fmt.Sprintf(`{"day":"DAY_OF_WEEK_%s","start":%q,"end":%q,"preferred":true}`, d, start, end))
		}
		return "[" + strings.Join(ws, ",") + "]"
	}
	call(http.MethodPut, "/v1/people/"+mentorID+"/availability", fmt.Sprintf(`{"personId":%q,"timeZone":"America/New_York","windows":%s}`, mentorID, windows("08:00", "12:00")))
	call(http.MethodPut, "/v1/people/"+menteeID+"/availability", fmt.Sprintf(`{"personId":%q,"timeZone":"Europe/London","windows":%s}`, menteeID, windows("13:00", "17:00")))

	t.Run("slots", func(t *testing.T) {
		var res seResult
		testkit.Eventually(t, time.Minute, func() bool {
			res = cli.run("slots", matchID, "--weeks", "2", "--duration", "60m")
			return res.code == 0
		}, "the scheduling service knows the match: %s", res.msg)
		var slots []map[string]any
		cli.json(&slots, "slots", matchID, "--weeks", "2", "--duration", "60m")
		require.NotEmpty(t, slots)
		best := slots[0]
		start := parseTime(t, best["startTime"])
		require.Equal(t, time.Hour, parseTime(t, best["endTime"]).Sub(start))
		var reasons []string
		for _, r := range best["reasons"].([]any) {
			reasons = append(reasons, r.(string))
		}
		require.Contains(t, strings.Join(reasons, "; "), "preferred windows", "both sides prefer these hours")
		ny, err := time.LoadLocation("America/New_York")
		require.NoError(t, err)
		require.Equal(t, start.In(ny).Format(time.RFC3339), best["mentorLocalStart"])

		require.Equal(t, []string{"START", "(UTC)", "MENTOR", "LOCAL", "MENTEE", "LOCAL", "SCORE", "REASONS"}, strings.Fields(strings.SplitN(res.out, "\n", 2)[0]))
		first := seRow(t, res.out, start.Format(time.RFC3339))
		require.Equal(t, start.In(ny).Format("Mon"), first[1], "the mentor's weekday: %v", first)
		require.Equal(t, start.In(ny).Format("15:04"), first[2], "the mentor's clock: %v", first)
		require.Equal(t, fmt.Sprint(best["score"]), first[7])
		require.Contains(t, seLine(t, res.out, start.Format(time.RFC3339)), strings.Join(reasons, "; "))

		bad := cli.run("slots", matchID, "--duration", "90s")
		require.Equal(t, exitUsage, bad.code)
		require.Contains(t, bad.msg, "--duration")
	})

	// One session starting in a few seconds, so it can be completed soon.
	start := time.Now().UTC().Add(4 * time.Second).Truncate(time.Second)
	var sessionID string
	t.Run("book, confirm and complete a session", func(t *testing.T) {
		var booked map[string]any
		cli.json(&booked, "session", "book", matchID, "--start", start.Format(time.RFC3339), "--duration", "30m", "--as", menteeID)
		sessionID = booked["id"].(string)
		require.Equal(t, "SESSION_STATE_PROPOSED", booked["state"])
		require.Equal(t, menteeID, booked["proposedByPersonId"])
		require.Equal(t, 30*time.Minute, parseTime(t, booked["endTime"]).Sub(parseTime(t, booked["startTime"])))

		out := cli.ok("session", "confirm", sessionID, "--as", mentorID)
		require.Equal(t, []string{"ID", "START", "(UTC)", "MINUTES", "STATE", "MENTOR", "MENTEE", "ROOM"}, strings.Fields(strings.SplitN(out, "\n", 2)[0]))
		require.Equal(t, []string{sessionID, start.Format(time.RFC3339), "30", "confirmed", mentorID, menteeID, "-"}, seRow(t, out, sessionID))

		// The mentee proposed it: the mentee cannot confirm it as well.
		again := cli.run("session", "confirm", sessionID, "--as", menteeID)
		require.Equal(t, exitConflict, again.code, again.msg)

		var done map[string]any
		testkit.Eventually(t, 20*time.Second, func() bool {
			res := cli.run("session", "complete", sessionID, "-o", "json")
			if res.code != 0 {
				require.Equal(t, exitConflict, res.code, "not started yet: %s", res.msg)
				return false
			}
			require.NoError(t, json.Unmarshal([]byte(res.out), &done))
			return true
		}, "the session started and is completed")
		require.Equal(t, "SESSION_STATE_COMPLETED", done["state"])
		require.Equal(t, sessionID, done["id"])
	})

	t.Run("series, list and cancel", func(t *testing.T) {
		next := start.Add(7 * 24 * time.Hour)
		out := cli.ok("session", "series", matchID, "--start", next.Format(time.RFC3339), "--count", "2", "--cadence", "weekly", "--as", mentorID)
		require.Contains(t, out, ", weekly\n")
		var proposed [][]string
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, " proposed ") {
				proposed = append(proposed, strings.Fields(line))
			}
		}
		require.Len(t, proposed, 2, "two weekly meetings:\n%s", out)
		for k, p := range proposed {
			require.Equal(t, next.AddDate(0, 0, 7*k).Format("2006-01-02"), p[1][:10], "week %d: %v", k, p)
			require.Equal(t, []string{"60", "proposed", mentorID, menteeID}, p[2:6])
		}
		seriesSession := proposed[0][0]
		var all []map[string]any
		cli.json(&all, "session", "list", "--match", matchID)
		require.Len(t, all, 3)
		require.Equal(t, sessionID, all[0]["id"], "by start time")
		require.Equal(t, "SESSION_STATE_COMPLETED", all[0]["state"])
		byPerson := cli.ok("session", "list", "--person", menteeID)
		require.Equal(t, "completed", seRow(t, byPerson, sessionID)[3])

		var cancelled map[string]any
		cli.json(&cancelled, "session", "cancel", seriesSession, "--as", menteeID, "--reason", "board meeting")
		require.Equal(t, "SESSION_STATE_CANCELLED", cancelled["state"])
		require.Equal(t, "board meeting", cancelled["cancelReason"])

		bad := cli.run("session", "series", matchID, "--start", next.Format(time.RFC3339), "--count", "2", "--cadence", "daily", "--as", mentorID)
		require.Equal(t, exitUsage, bad.code)
		require.Contains(t, bad.msg, "weekly, biweekly or monthly")
		both := cli.run("session", "list", "--match", matchID, "--person", menteeID)
		require.Equal(t, exitUsage, both.code)
		missing := cli.run("session", "book", matchID, "--start", next.Format(time.RFC3339))
		require.Equal(t, exitUsage, missing.code)
		require.Contains(t, missing.msg, "--as is required")
	})

	t.Run("calendar url", func(t *testing.T) {
		url := strings.TrimSpace(cli.ok("calendar", "url", menteeID, "--base-url", base))
		require.True(t, strings.HasPrefix(url, base+"/v1/calendars/") && strings.HasSuffix(url, ".ics"), url)
		resp, err := http.Get(url)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar"), resp.Header.Get("Content-Type"))
		require.Contains(t, string(body), "UID:"+sessionID+"@tandem")

		var tok map[string]any
		cli.json(&tok, "calendar", "url", mentorID)
		require.Equal(t, mentorID, tok["personId"])
		require.Equal(t, "/v1/calendars/"+tok["token"].(string)+".ics", tok["feedPath"])
	})

	t.Run("feedback", func(t *testing.T) {
		bad := cli.run("feedback", "submit", sessionID, "--as", menteeID, "--rating", "9")
		require.Equal(t, exitUsage, bad.code, bad.msg)
		require.Contains(t, bad.msg, "InvalidArgument")
		require.Contains(t, bad.msg, "rating")

		var res seResult
		testkit.Eventually(t, 30*time.Second, func() bool {
			res = cli.run("feedback", "submit", sessionID, "--as", menteeID, "--rating", "4", "--tag", "prepared", "--tag", "practical",
				"--comment", "clear next steps", "--private-comment", "a bit fast")
			return res.code == 0
		}, "the evaluation service knows the session is completed: %s", res.msg)
		require.Equal(t, []string{"ID", "SESSION", "AUTHOR", "RATING", "TAGS", "PRIVATE", "COMMENT"}, strings.Fields(strings.SplitN(res.out, "\n", 2)[0]))
		require.Equal(t, []string{sessionID, menteeID, "4", "prepared,practical", "true", "clear", "next", "steps"}, seRow(t, res.out, sessionID)[1:])

		var fb map[string]any
		cli.json(&fb, "feedback", "submit", sessionID, "--as", mentorID, "--rating", "5")
		require.EqualValues(t, 5, fb["rating"])
		require.Equal(t, mentorID, fb["authorPersonId"])
		require.Equal(t, matchID, fb["matchId"])

		twice := cli.run("feedback", "submit", sessionID, "--as", mentorID, "--rating", "5")
		require.Equal(t, exitConflict, twice.code, twice.msg)
	})

	t.Run("report", func(t *testing.T) {
		var rep map[string]any
		testkit.Eventually(t, 30*time.Second, func() bool {
			cli.json(&rep, "report", programID)
			f, _ := rep["figures"].(map[string]any)
			return f["sessionsHeld"] == float64(1) && f["ratings"] == float64(2)
		}, "the report counts the held session and both ratings: %v", rep)
		figures := rep["figures"].(map[string]any)
		require.EqualValues(t, 6, figures["people"])
		require.Equal(t, programID, rep["programId"])
		require.NotContains(t, figures, "meanRating", "fewer than 5 ratings: left out")

		out := cli.ok("report", programID)
		require.Equal(t, []string{"FIGURE", "VALUE"}, seKeyRow(t, out, "FIGURE"))
		require.Equal(t, []string{"people", "6"}, seKeyRow(t, out, "people"))
		require.Equal(t, []string{"sessions_held", "1"}, seKeyRow(t, out, "sessions_held"))
		require.Equal(t, []string{"mean_rating", "-"}, seKeyRow(t, out, "mean_rating"))
		require.Equal(t, fmt.Sprint(figures["pairs"]), seKeyRow(t, out, "pairs")[1])
		require.Equal(t, []string{"DIMENSION", "VALUE", "PEOPLE", "MATCH_RATE", "PAIRS", "SESSIONS", "MEAN_RATING"}, seKeyRow(t, out, "DIMENSION"))
		require.Equal(t, "suppressed", seKeyRow(t, out, "seniority_band")[2], "3 people in a band")
		weeks := rep["weeks"].([]any)
		lastWeek := weeks[len(weeks)-1].(map[string]any)
		week := seKeyRow(t, out, parseTime(t, lastWeek["weekStartTime"]).Format("2006-01-02"))
		require.Equal(t, []string{"6", fmt.Sprint(lastWeek["figures"].(map[string]any)["matchRate"]), fmt.Sprint(figures["pairs"]), "1", "-"}, week[1:])

		csv := cli.ok("report", programID, "--format", "csv")
		lines := strings.Split(strings.TrimSpace(csv), "\n")
		require.True(t, strings.HasPrefix(lines[0], "group,dimension,value,week_start,as_of,suppressed"), lines[0])
		require.True(t, strings.HasPrefix(lines[1], "program,"), lines[1])
		require.Len(t, lines, 1+1+len(rep["segments"].([]any))+len(weeks), "one row per group")

		bad := cli.run("report", programID, "--format", "xlsx")
		require.Equal(t, exitUsage, bad.code)
		require.Contains(t, bad.msg, "table or csv")
	})

	t.Run("health", func(t *testing.T) {
		var res seResult
		testkit.Eventually(t, 30*time.Second, func() bool {
			res = cli.run("health", "show", matchID)
			return res.code == 0
		}, "the evaluation service knows the active pair: %s", res.msg)
		require.Equal(t, []string{"MATCH", "STATUS", "SINCE", "REASONS"}, strings.Fields(strings.SplitN(res.out, "\n", 2)[0]))
		require.Equal(t, "on-track", seRow(t, res.out, matchID)[1])
		var h map[string]any
		cli.json(&h, "health", "show", matchID)
		require.Equal(t, "HEALTH_STATUS_ON_TRACK", h["status"])
		require.Equal(t, programID, h["programId"])

		out := cli.ok("health", "at-risk", "--program", programID, "--min", "needs-attention")
		require.Equal(t, "MATCH  STATUS  SINCE  REASONS", strings.TrimSpace(out), "a header and no pair")
		var pairs []map[string]any
		cli.json(&pairs, "health", "at-risk", "--program", programID)
		require.Empty(t, pairs)
		require.NotNil(t, pairs, "an empty JSON array")

		bad := cli.run("health", "at-risk", "--program", programID, "--min", "on-track")
		require.Equal(t, exitUsage, bad.code)
		require.Contains(t, bad.msg, "needs-attention or at-risk")
		unknown := cli.run("health", "show", "no-such-match")
		require.Equal(t, exitNotFound, unknown.code, unknown.msg)
	})
}
