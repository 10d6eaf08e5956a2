package matching_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

func TestDefaultScoringConfigIsValid(t *testing.T) {
	t.Parallel()
	c := matching.DefaultScoringConfig("p1")
	require.NoError(t, c.Validate())
	require.Zero(t, c.Version)
	require.True(t, c.UpdateTime.IsZero())
	require.Equal(t, matching.AcceptanceBoth, c.Acceptance)
	require.Equal(t, 3, c.MaxPendingRequests)
	require.Equal(t, 168, c.RequestTTLHours)
	require.Equal(t, 7*24*time.Hour, c.RequestTTL())
}

func TestWithDefaultsFillsOnlyUnsetPolicies(t *testing.T) {
	t.Parallel()
	got := matching.ScoringConfig{Acceptance: matching.AcceptanceMentee, RequestTTLHours: 5}.WithDefaults()
	require.Equal(t, matching.ScoringConfig{Acceptance: matching.AcceptanceMentee, MaxPendingRequests: 3, RequestTTLHours: 5}, got)
}

func TestScoringConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*matching.ScoringConfig)
		fields []string // nil: valid
	}{
		{name: "defaults", change: func(*matching.ScoringConfig) {}},
		{name: "one positive weight is enough", change: func(c *matching.ScoringConfig) {
			c.Weights = matching.Weights{Preference: 1}
		}},
		{name: "bounds are inclusive", change: func(c *matching.ScoringConfig) {
			c.Weights.CompetencyCoverage, c.MinPairScore, c.ReportingChainDepth = 100, 100, 10
			c.MaxPendingRequests, c.RequestTTLHours = 20, 2160
		}},
		{name: "lower bounds of the policies", change: func(c *matching.ScoringConfig) {
			c.MaxPendingRequests, c.RequestTTLHours, c.Acceptance = 1, 1, matching.AcceptanceAutomatic
		}},
		{name: "missing program", change: func(c *matching.ScoringConfig) { c.ProgramID = " " },
			fields: []string{"config.program_id"}},
		{name: "negative version", change: func(c *matching.ScoringConfig) { c.Version = -1 },
			fields: []string{"config.version"}},
		{name: "all weights zero", change: func(c *matching.ScoringConfig) { c.Weights = matching.Weights{} },
			fields: []string{"config.weights"}},
		{name: "negative weight", change: func(c *matching.ScoringConfig) { c.Weights.CompetencyCoverage = -1 },
			fields: []string{"config.weights.competency_coverage"}},
		{name: "weight above 100", change: func(c *matching.ScoringConfig) { c.Weights.Preference = 100.5 },
			fields: []string{"config.weights.preference"}},
		{name: "NaN weight", change: func(c *matching.ScoringConfig) { c.Weights.TimeZoneOverlap = math.NaN() },
			fields: []string{"config.weights.time_zone_overlap"}},
		{name: "only invalid weights are not positive", change: func(c *matching.ScoringConfig) {
			c.Weights = matching.Weights{SeniorityGap: 101}
		}, fields: []string{"config.weights.seniority_gap", "config.weights"}},
		{name: "chain depth out of range", change: func(c *matching.ScoringConfig) { c.ReportingChainDepth = 11 },
			fields: []string{"config.reporting_chain_depth"}},
		{name: "min pair score out of range", change: func(c *matching.ScoringConfig) { c.MinPairScore = -0.1 },
			fields: []string{"config.min_pair_score"}},
		{name: "motivation weight above 100", change: func(c *matching.ScoringConfig) { c.Weights.Motivation = 101 },
			fields: []string{"config.weights.motivation"}},
		{name: "unknown acceptance", change: func(c *matching.ScoringConfig) { c.Acceptance = "maybe" },
			fields: []string{"config.acceptance"}},
		{name: "no pending requests allowed", change: func(c *matching.ScoringConfig) { c.MaxPendingRequests = 0 },
			fields: []string{"config.max_pending_requests"}},
		{name: "too many pending requests", change: func(c *matching.ScoringConfig) { c.MaxPendingRequests = 21 },
			fields: []string{"config.max_pending_requests"}},
		{name: "request ttl beyond 90 days", change: func(c *matching.ScoringConfig) { c.RequestTTLHours = 2161 },
			fields: []string{"config.request_ttl_hours"}},
		{name: "request ttl zero", change: func(c *matching.ScoringConfig) { c.RequestTTLHours = 0 },
			fields: []string{"config.request_ttl_hours"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := matching.DefaultScoringConfig("p1")
			tt.change(&c)
			err := c.Validate()
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, apperr.ErrInvalid)
			var invalid *apperr.InvalidError
			require.True(t, errors.As(err, &invalid))
			var got []string
			for _, v := range invalid.Violations {
				got = append(got, v.Field)
			}
			require.ElementsMatch(t, tt.fields, got)
		})
	}
}
