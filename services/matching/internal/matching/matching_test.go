package matching_test

import (
	"errors"
	"math"
	"testing"

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
