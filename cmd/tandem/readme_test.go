package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
}
