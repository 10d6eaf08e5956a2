// Package matching is the domain of the matching service. This first version
// holds the versioned scoring configuration of each program; scoring, match
// runs and the match lifecycle build on it. It imports no transport or
// storage; adapters implement Store.
package matching

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Bounds of a scoring configuration's numbers.
const (
	MaxWeight              = 100
	MaxPairScore           = 100
	MaxReportingChainDepth = 10
)

// Weights are the relative importance of the scoring factors, each from 0
// to MaxWeight. A pair's score is the weighted mean of its factor values,
// so only the ratios between the weights matter.
type Weights struct {
	CompetencyCoverage float64
	SeniorityGap       float64
	CrossDepartment    float64
	TimeZoneOverlap    float64
	SharedLanguage     float64
	FormatFit          float64
	StyleComplement    float64
	Preference         float64
}

// factors lists the weights with the names of their request fields.
func (w Weights) factors() []struct {
	field string
	value float64
} {
	return []struct {
		field string
		value float64
	}{
		{"competency_coverage", w.CompetencyCoverage},
		{"seniority_gap", w.SeniorityGap},
		{"cross_department", w.CrossDepartment},
		{"time_zone_overlap", w.TimeZoneOverlap},
		{"shared_language", w.SharedLanguage},
		{"format_fit", w.FormatFit},
		{"style_complement", w.StyleComplement},
		{"preference", w.Preference},
	}
}

// ScoringConfig is one version of a program's weights and hard rules.
type ScoringConfig struct {
	ProgramID string
	// Version counts the stored updates; 0 means the defaults, never stored.
	Version int64
	Weights Weights
	// ReportingChainDepth forbids pairs within this many levels of one
	// reporting chain.
	ReportingChainDepth   int
	RequireSharedLanguage bool
	// MinPairScore (0 to MaxPairScore) is the score below which a pair is
	// never proposed.
	MinPairScore float64
	// UpdateTime is when this version was stored; zero for the defaults.
	UpdateTime time.Time
}

// DefaultScoringConfig is the configuration of a program that has none
// stored: competency coverage dominates, as the point of a reverse-mentoring
// pair is what the mentor can teach; the soft factors break ties.
func DefaultScoringConfig(programID string) ScoringConfig {
	return ScoringConfig{
		ProgramID: programID,
		Weights: Weights{
			CompetencyCoverage: 35,
			SeniorityGap:       15,
			CrossDepartment:    10,
			TimeZoneOverlap:    15,
			SharedLanguage:     10,
			FormatFit:          5,
			StyleComplement:    5,
			Preference:         5,
		},
		ReportingChainDepth:   2,
		RequireSharedLanguage: true,
	}
}

// Validate checks what every stored configuration must satisfy. Field paths
// are those of an UpdateScoringConfig request ("config.…").
func (c ScoringConfig) Validate() error {
	var vs apperr.Violations
	if strings.TrimSpace(c.ProgramID) == "" {
		vs.Add("config.program_id", "must not be empty")
	}
	if c.Version < 0 {
		vs.Add("config.version", "must not be negative")
	}
	positive := false
	for _, f := range c.Weights.factors() {
		if math.IsNaN(f.value) || f.value < 0 || f.value > MaxWeight {
			vs.Add("config.weights."+f.field, fmt.Sprintf("must be between 0 and %d", MaxWeight))
			continue
		}
		if f.value > 0 {
			positive = true
		}
	}
	if !positive {
		vs.Add("config.weights", "at least one weight must be above 0")
	}
	if c.ReportingChainDepth < 0 || c.ReportingChainDepth > MaxReportingChainDepth {
		vs.Add("config.reporting_chain_depth", fmt.Sprintf("must be between 0 and %d", MaxReportingChainDepth))
	}
	if math.IsNaN(c.MinPairScore) || c.MinPairScore < 0 || c.MinPairScore > MaxPairScore {
		vs.Add("config.min_pair_score", fmt.Sprintf("must be between 0 and %d", MaxPairScore))
	}
	return vs.Err()
}

// Store keeps the matching service's data, scoped by tenant. Every change
// writes its domain event in the same transaction.
type Store interface {
	// ScoringConfig returns the newest stored version of the program's
	// configuration, or an error wrapping apperr.ErrNotFound when none was
	// stored.
	ScoringConfig(ctx context.Context, tenant, programID string) (ScoringConfig, error)
	// AddScoringConfig stores c as the program's newest version and writes
	// a scoring_config.updated event. It fails with an error wrapping
	// apperr.ErrAborted unless the newest stored version is c.Version-1 (0
	// when none is stored), also when a concurrent update won the race.
	AddScoringConfig(ctx context.Context, tenant string, c ScoringConfig) error
}

// Service carries out the matching service's use cases. Callers pass the
// tenant of the verified caller; every lookup is scoped to it.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// ScoringConfig returns the program's current configuration, or the
// defaults (version 0) when none was stored.
func (s *Service) ScoringConfig(ctx context.Context, tenant, programID string) (ScoringConfig, error) {
	if strings.TrimSpace(programID) == "" {
		return ScoringConfig{}, apperr.Invalid("program_id", "must not be empty")
	}
	c, err := s.store.ScoringConfig(ctx, tenant, programID)
	if errors.Is(err, apperr.ErrNotFound) {
		return DefaultScoringConfig(programID), nil
	}
	return c, err
}

// UpdateScoringConfig stores c as the next version of its program's
// configuration. c.Version must be the version the caller read (0 for the
// defaults); when another update came first the call fails with
// apperr.ErrAborted and the caller should read again.
func (s *Service) UpdateScoringConfig(ctx context.Context, tenant string, c ScoringConfig) (ScoringConfig, error) {
	if err := c.Validate(); err != nil {
		return ScoringConfig{}, err
	}
	c.Version++
	c.UpdateTime = s.now()
	if err := s.store.AddScoringConfig(ctx, tenant, c); err != nil {
		return ScoringConfig{}, err
	}
	return c, nil
}
