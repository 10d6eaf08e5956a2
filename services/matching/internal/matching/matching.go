// Package matching is the domain of the matching service: the versioned
// scoring configuration of each program, the projection of people,
// programs and participants it matches from, match runs, the match
// lifecycle and self-matching requests. It imports no transport or
// storage; adapters implement Store. Scoring and assignment are the pure
// engine package's.
package matching

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/matching/engine"
)

// Bounds of a scoring configuration's numbers.
const (
	MaxWeight              = 100
	MaxPairScore           = 100
	MaxReportingChainDepth = 10
	MaxPendingRequestsCap  = 20
	MaxRequestTTLHours     = 2160
)

// Defaults of the match policies of a configuration.
const (
	DefaultMaxPendingRequests = 3
	DefaultRequestTTLHours    = 168
)

// Acceptance says whose acceptance turns a proposed match into an
// accepted one.
type Acceptance string

// Acceptance rules.
const (
	// AcceptanceBoth: the mentor and the mentee must both accept.
	AcceptanceBoth Acceptance = "both"
	// AcceptanceMentee: the mentee's acceptance suffices.
	AcceptanceMentee Acceptance = "mentee"
	// AcceptanceAutomatic: publishing a run and manual pairing create
	// accepted matches.
	AcceptanceAutomatic Acceptance = "automatic"
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
	Motivation         float64
}

// Engine returns the weights as the scoring engine takes them.
func (w Weights) Engine() engine.Weights {
	return engine.Weights{
		CompetencyCoverage: w.CompetencyCoverage,
		SeniorityGap:       w.SeniorityGap,
		CrossDepartment:    w.CrossDepartment,
		TimeZoneOverlap:    w.TimeZoneOverlap,
		SharedLanguage:     w.SharedLanguage,
		FormatFit:          w.FormatFit,
		StyleComplement:    w.StyleComplement,
		Motivation:         w.Motivation,
		Preference:         w.Preference,
	}
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
		{"motivation", w.Motivation},
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
	// Acceptance is whose acceptance a proposed match needs.
	Acceptance Acceptance
	// MaxPendingRequests bounds the pending match requests of one
	// requester (1 to MaxPendingRequestsCap).
	MaxPendingRequests int
	// RequestTTLHours is how long a match request stays pending (1 to
	// MaxRequestTTLHours).
	RequestTTLHours int
}

// WithDefaults returns c with its unset match policies (zero values, as
// an update that leaves them out sends them) set to their defaults.
func (c ScoringConfig) WithDefaults() ScoringConfig {
	if c.Acceptance == "" {
		c.Acceptance = AcceptanceBoth
	}
	if c.MaxPendingRequests == 0 {
		c.MaxPendingRequests = DefaultMaxPendingRequests
	}
	if c.RequestTTLHours == 0 {
		c.RequestTTLHours = DefaultRequestTTLHours
	}
	return c
}

// RequestTTL is how long a match request stays pending.
func (c ScoringConfig) RequestTTL() time.Duration {
	return time.Duration(c.RequestTTLHours) * time.Hour
}

// DefaultScoringConfig is the configuration of a program that has none
// stored: competency coverage dominates, as the point of a reverse-mentoring
// pair is what the mentor can teach; the soft factors break ties. Both
// sides accept a proposal; three requests may be pending for a week.
func DefaultScoringConfig(programID string) ScoringConfig {
	return ScoringConfig{
		ProgramID: programID,
		Weights: Weights{
			CompetencyCoverage: 30,
			SeniorityGap:       15,
			CrossDepartment:    10,
			TimeZoneOverlap:    15,
			SharedLanguage:     10,
			FormatFit:          5,
			StyleComplement:    5,
			Motivation:         5,
			Preference:         5,
		},
		ReportingChainDepth:   2,
		RequireSharedLanguage: true,
	}.WithDefaults()
}

// Validate checks what every stored configuration must satisfy. Field paths
// are those of an UpdateScoringConfig request ("config.…").
func (c ScoringConfig) Validate() error {
	return c.validate("config")
}

// validate checks c, naming fields under prefix (e.g. "config_override").
func (c ScoringConfig) validate(prefix string) error {
	var vs apperr.Violations
	field := func(name string) string { return prefix + "." + name }
	if strings.TrimSpace(c.ProgramID) == "" {
		vs.Add(field("program_id"), "must not be empty")
	}
	if c.Version < 0 {
		vs.Add(field("version"), "must not be negative")
	}
	positive := false
	for _, f := range c.Weights.factors() {
		if math.IsNaN(f.value) || f.value < 0 || f.value > MaxWeight {
			vs.Add(field("weights."+f.field), fmt.Sprintf("must be between 0 and %d", MaxWeight))
			continue
		}
		if f.value > 0 {
			positive = true
		}
	}
	if !positive {
		vs.Add(field("weights"), "at least one weight must be above 0")
	}
	if c.ReportingChainDepth < 0 || c.ReportingChainDepth > MaxReportingChainDepth {
		vs.Add(field("reporting_chain_depth"), fmt.Sprintf("must be between 0 and %d", MaxReportingChainDepth))
	}
	if math.IsNaN(c.MinPairScore) || c.MinPairScore < 0 || c.MinPairScore > MaxPairScore {
		vs.Add(field("min_pair_score"), fmt.Sprintf("must be between 0 and %d", MaxPairScore))
	}
	switch c.Acceptance {
	case AcceptanceBoth, AcceptanceMentee, AcceptanceAutomatic:
	default:
		vs.Add(field("acceptance"), "must be BOTH, MENTEE or AUTOMATIC")
	}
	if c.MaxPendingRequests < 1 || c.MaxPendingRequests > MaxPendingRequestsCap {
		vs.Add(field("max_pending_requests"), fmt.Sprintf("must be between 1 and %d", MaxPendingRequestsCap))
	}
	if c.RequestTTLHours < 1 || c.RequestTTLHours > MaxRequestTTLHours {
		vs.Add(field("request_ttl_hours"), fmt.Sprintf("must be between 1 and %d (90 days)", MaxRequestTTLHours))
	}
	return vs.Err()
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
	c = c.WithDefaults()
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
