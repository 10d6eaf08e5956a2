package evaluation

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// reportCSVHeader names the columns of a report's CSV export.
var reportCSVHeader = []string{
	"group", "dimension", "value", "week_start", "as_of", "suppressed",
	"people", "enrolled_mentors", "enrolled_mentees", "withdrawn", "matched", "match_rate",
	"pairs", "mean_match_score", "sessions_held", "sessions_per_pair",
	"ratings", "mean_rating", "nps_respondents", "nps",
	"goals", "goals_completed", "goal_completion_rate",
	"assessed_people", "mean_uplift", "retention_rate",
}

// WriteReportCSV writes r as CSV: a header row, then one row for the
// program, one per segment and one per week, in the report's order. The
// group column is "program", "segment" or "week"; week_start (weeks only)
// and as_of (every row; empty for a report without data) are RFC 3339 in
// UTC. A suppressed row leaves every figure cell empty, as does a figure
// left out for too few answers. Floats are written in their shortest form.
// A segment value that a spreadsheet would run as a formula (it starts
// with =, +, -, @, tab or carriage return) is written with a leading
// apostrophe, as OWASP advises against CSV injection.
func WriteReportCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	rows := [][]string{reportCSVHeader, reportCSVRow("program", "", "", time.Time{}, r.AsOf, r.Suppressed, r.Figures)}
	for _, s := range r.Segments {
		rows = append(rows, reportCSVRow("segment", s.Dimension, s.Value, time.Time{}, r.AsOf, s.Suppressed, s.Figures))
	}
	for _, wk := range r.Weeks {
		rows = append(rows, reportCSVRow("week", "", "", wk.Start, r.AsOf, wk.Suppressed, wk.Figures))
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("evaluation: write report csv: %w", err)
	}
	return nil
}

// reportCSVRow lays out one group's row in the order of reportCSVHeader.
func reportCSVRow(group, dimension, value string, weekStart, asOf time.Time, suppressed bool, f Figures) []string {
	row := []string{group, dimension, csvText(value), csvTime(weekStart), csvTime(asOf), strconv.FormatBool(suppressed)}
	if suppressed {
		return append(row, make([]string, len(reportCSVHeader)-len(row))...)
	}
	return append(row,
		strconv.Itoa(f.People), strconv.Itoa(f.EnrolledMentors), strconv.Itoa(f.EnrolledMentees),
		strconv.Itoa(f.Withdrawn), strconv.Itoa(f.Matched), csvFloat(f.MatchRate),
		strconv.Itoa(f.Pairs), csvFloat(f.MeanMatchScore), strconv.Itoa(f.SessionsHeld), csvFloat(f.SessionsPerPair),
		strconv.Itoa(f.Ratings), csvOptional(f.MeanRating), strconv.Itoa(f.NPSRespondents), csvOptional(f.NPS),
		strconv.Itoa(f.Goals), strconv.Itoa(f.GoalsCompleted), csvFloat(f.GoalCompletionRate),
		strconv.Itoa(f.AssessedPeople), csvOptional(f.MeanUplift), csvFloat(f.RetentionRate),
	)
}

// csvTime formats t in RFC 3339 (UTC, with fractional seconds when it has
// them); empty when t is zero.
func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// csvText neutralises text a spreadsheet would take for a formula.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// csvOptional formats a figure that may be left out; empty when it is.
func csvOptional(x *float64) string {
	if x == nil {
		return ""
	}
	return csvFloat(*x)
}
