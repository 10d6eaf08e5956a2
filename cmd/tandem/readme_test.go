package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/testkit"
)

// TestREADMEWalkthrough builds the tandem binary and runs the README's
// walk-through block, as written, against a running `tandem dev`: seeding,
// matching, publishing, accepting, booking and the report, in table, JSON
// and CSV. Only the block's `go build` line is replaced by the binary
// built here.
func TestREADMEWalkthrough(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	block := regexp.MustCompile("(?s)<!-- walkthrough:start -->\\s*```sh\\n(.*?)```\\s*<!-- walkthrough:end -->").FindSubmatch(readme)
	require.NotNil(t, block, "the README has a walk-through block")
	var script []string
	for _, line := range strings.Split(string(block[1]), "\n") {
		if !strings.HasPrefix(line, "go build ") {
			script = append(script, line)
		}
	}

	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "tandem"), ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	addrs, _ := startDev(t, filepath.Join(dir, "tandem-data"))

	sh := exec.Command("bash", "-eu", "-c", strings.Join(script, "\n"))
	sh.Dir = dir
	sh.Env = append(os.Environ(), "TANDEM_ADDR="+addrs.GRPC)
	var stdout, stderr bytes.Buffer
	sh.Stdout, sh.Stderr = &stdout, &stderr
	require.NoError(t, sh.Run(), "walk-through failed\nstdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	out := stdout.String()
	t.Logf("walk-through output:\n%s", out)

	var seed struct {
		ProgramID string `json:"programId"`
		People    int    `json:"people"`
		Mentors   int    `json:"mentors"`
		Mentees   int    `json:"mentees"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "seed.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &seed))
	require.Equal(t, 1000, seed.People)
	require.Positive(t, seed.Mentors)
	require.Positive(t, seed.Mentees)

	// Tables: the program, the run with its fairness view and
	// explanations, the published run, the booked session, the report.
	for _, want := range []string{
		seed.ProgramID, "REVERSE", "ENROLLING",
		"COVERAGE", "seniority_band", "competency_coverage", "time_zone_overlap",
		"published", "accepted", "preferred windows", "proposed",
		"FIGURE", "people",
	} {
		require.Contains(t, strings.ToUpper(out), strings.ToUpper(want), "walk-through output")
	}
	require.Contains(t, stderr.String(), "100% matching", "the match run's progress bar")

	var report struct {
		ProgramID string `json:"programId"`
		Figures   struct {
			People          int `json:"people"`
			EnrolledMentors int `json:"enrolledMentors"`
			EnrolledMentees int `json:"enrolledMentees"`
		} `json:"figures"`
		Segments []struct {
			Suppressed bool `json:"suppressed"`
		} `json:"segments"`
	}
	b, err = os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &report))
	require.Equal(t, seed.ProgramID, report.ProgramID)
	require.Equal(t, seed.Mentors+seed.Mentees, report.Figures.People, "everyone enrolled is in the report")
	require.Equal(t, seed.Mentors, report.Figures.EnrolledMentors)
	require.Equal(t, seed.Mentees, report.Figures.EnrolledMentees)
	require.NotEmpty(t, report.Segments)

	f, err := os.Open(filepath.Join(dir, "report.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 2)
	require.Equal(t, "program", rows[1][0])

	// The rest of the journey with the same binary: a session that takes
	// place, its feedback, the pair's health and the report that counts
	// them.
	tandem := func(args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(dir, "tandem"), append([]string{"--addr", addrs.GRPC, "--tenant", "acme"}, args...)...)
		cmd.Dir = dir
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if err != nil {
			return out.String(), fmt.Errorf("tandem %v: %w: %s", args, err, errOut.String())
		}
		return out.String(), nil
	}
	proposed, err := os.ReadFile(filepath.Join(dir, "proposed.json"))
	require.NoError(t, err)
	var matches []struct {
		ID             string `json:"id"`
		MentorPersonID string `json:"mentorPersonId"`
		MenteePersonID string `json:"menteePersonId"`
	}
	require.NoError(t, json.Unmarshal(proposed, &matches))
	m := matches[0]
	start := time.Now().UTC().Add(3 * time.Second).Truncate(time.Second)
	out, err = tandem("session", "book", m.ID, "--start", start.Format(time.RFC3339), "--duration", "30m", "--as", m.MenteePersonID, "-o", "json")
	require.NoError(t, err)
	var session struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &session))
	require.Equal(t, "SESSION_STATE_PROPOSED", session.State)
	out, err = tandem("session", "confirm", session.ID, "--as", m.MentorPersonID)
	require.NoError(t, err)
	require.Contains(t, out, "confirmed")
	testkit.Eventually(t, 20*time.Second, func() bool {
		out, err = tandem("session", "complete", session.ID)
		return err == nil
	}, "the session starts and is completed: %v", err)
	require.Contains(t, out, "completed")
	testkit.Eventually(t, 20*time.Second, func() bool {
		out, err = tandem("feedback", "submit", session.ID, "--as", m.MenteePersonID, "--rating", "5", "--comment", "eye-opening")
		return err == nil
	}, "the evaluation service learns the session took place: %v", err)
	require.Contains(t, out, "eye-opening")
	out, err = tandem("health", "at-risk", "--program", seed.ProgramID, "-o", "json")
	require.NoError(t, err)
	require.JSONEq(t, "[]", out, "no pair is at risk on day one")

	var after struct {
		Figures struct {
			SessionsHeld int `json:"sessionsHeld"`
			Ratings      int `json:"ratings"`
		} `json:"figures"`
	}
	testkit.Eventually(t, 20*time.Second, func() bool {
		out, err = tandem("report", seed.ProgramID, "-o", "json")
		return err == nil && json.Unmarshal([]byte(out), &after) == nil && after.Figures.Ratings == 1
	}, "the report counts the feedback: %s", out)
	require.Equal(t, 1, after.Figures.SessionsHeld)
	out, err = tandem("report", seed.ProgramID)
	require.NoError(t, err)
	require.Regexp(t, `(?m)^sessions_held\s+1$`, out)
}
