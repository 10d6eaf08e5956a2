package evaluation_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

var csvHeader = []string{
	"group", "dimension", "value", "week_start", "as_of", "suppressed",
	"people", "enrolled_mentors", "enrolled_mentees", "withdrawn", "matched", "match_rate",
	"pairs", "mean_match_score", "sessions_held", "sessions_per_pair",
	"ratings", "mean_rating", "nps_respondents", "nps",
	"goals", "goals_completed", "goal_completion_rate",
	"assessed_people", "mean_uplift", "retention_rate",
}

// readCSV writes r as CSV and parses it back.
func readCSV(t *testing.T, r evaluation.Report) [][]string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, evaluation.WriteReportCSV(&buf, r))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	return rows
}

// blanks returns n empty cells.
func blanks(n int) []string { return make([]string, n) }

func TestWriteReportCSV(t *testing.T) {
	t.Parallel()
	rows := readCSV(t, evaluation.BuildReport(programFixture()))
	// Header, program, 7 segments, 6 weeks.
	require.Len(t, rows, 15)
	require.Equal(t, csvHeader, rows[0])

	const asOf = "2026-02-14T12:00:00Z" // d40 12:00
	groups := []string{"program"}
	for range 7 {
		groups = append(groups, "segment")
	}
	for range 6 {
		groups = append(groups, "week")
	}
	for i, row := range rows[1:] {
		require.Len(t, row, len(csvHeader), "row %d", i+1)
		require.Equal(t, groups[i], row[0], "row %d", i+1)
		require.Equal(t, asOf, row[4], "row %d", i+1)
	}

	tests := []struct {
		name string
		row  int
		want []string
	}{
		{name: "program", row: 1, want: []string{
			"program", "", "", "", asOf, "false",
			"10", "3", "7", "1", "6", "0.6",
			"4", "71.25", "6", "1.5",
			"7", "3.7143", "6", "16.6667",
			"5", "2", "0.4",
			"6", "1.2857", "0.9",
		}},
		{name: "segment with answer figures left out", row: 3, want: []string{
			"segment", "department", "Eng", "", asOf, "false",
			"5", "2", "3", "1", "4", "0.8",
			"3", "70", "4", "1.3333",
			"6", "3.5", "4", "",
			"4", "2", "0.5",
			"4", "", "1",
		}},
		{name: "suppressed segment", row: 5, want: slices.Concat(
			[]string{"segment", "seniority_band", "L1-3", "", asOf, "true"}, blanks(20))},
		{name: "week", row: 10, want: []string{
			"week", "", "", "2026-01-12T00:00:00Z", asOf, "false",
			"9", "3", "7", "0", "7", "0.7",
			"4", "71.25", "2", "0.5",
			"3", "", "0", "",
			"5", "0", "0",
			"0", "", "1",
		}},
		{name: "last week", row: 14, want: []string{
			"week", "", "", "2026-02-09T00:00:00Z", asOf, "false",
			"10", "3", "7", "1", "6", "0.6",
			"4", "71.25", "6", "1.5",
			"7", "3.7143", "6", "16.6667",
			"5", "2", "0.4",
			"6", "1.2857", "0.9",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, rows[tt.row]); diff != "" {
				t.Errorf("row %d (-want +got):\n%s", tt.row, diff)
			}
		})
	}
}

func TestWriteReportCSVEmpty(t *testing.T) {
	t.Parallel()
	rows := readCSV(t, evaluation.BuildReport(evaluation.ProgramData{ProgramID: "prog"}))
	want := [][]string{csvHeader, slices.Concat([]string{"program", "", "", "", "", "true"}, blanks(20))}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestWriteReportCSVQuotes(t *testing.T) {
	t.Parallel()
	r := evaluation.Report{Segments: []evaluation.Segment{{Dimension: "department", Value: "R&D, \"Labs\"", Suppressed: true}}}
	rows := readCSV(t, r)
	require.Equal(t, "R&D, \"Labs\"", rows[2][2])
}

func TestWriteReportCSVFormulas(t *testing.T) {
	t.Parallel()
	values := []string{"=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tTab", "Sales-EMEA"}
	var r evaluation.Report
	for _, v := range values {
		r.Segments = append(r.Segments, evaluation.Segment{Dimension: "department", Value: v, Suppressed: true})
	}
	rows := readCSV(t, r)
	var got []string
	for _, row := range rows[2:] {
		got = append(got, row[2])
	}
	require.Equal(t, []string{"'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tTab", "Sales-EMEA"}, got)
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWriteReportCSVError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk full")
	err := evaluation.WriteReportCSV(failingWriter{boom}, evaluation.BuildReport(programFixture()))
	require.ErrorIs(t, err, boom)
}
