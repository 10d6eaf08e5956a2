// Package pbconv converts between the matching domain and its protobuf
// messages, for the gRPC API and for event payloads.
package pbconv

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

// ScoringConfig converts a domain configuration to its message.
func ScoringConfig(c matching.ScoringConfig) *matchingv1.ScoringConfig {
	w := c.Weights
	return &matchingv1.ScoringConfig{
		ProgramId: c.ProgramID,
		Version:   c.Version,
		Weights: &matchingv1.Weights{
			CompetencyCoverage: w.CompetencyCoverage,
			SeniorityGap:       w.SeniorityGap,
			CrossDepartment:    w.CrossDepartment,
			TimeZoneOverlap:    w.TimeZoneOverlap,
			SharedLanguage:     w.SharedLanguage,
			FormatFit:          w.FormatFit,
			StyleComplement:    w.StyleComplement,
			Preference:         w.Preference,
		},
		ReportingChainDepth:   int32(c.ReportingChainDepth),
		RequireSharedLanguage: c.RequireSharedLanguage,
		MinPairScore:          c.MinPairScore,
		UpdateTime:            ts(c.UpdateTime),
	}
}

// ScoringConfigFromPB converts a message to a domain configuration; absent
// weights are all zero, which validation refuses.
func ScoringConfigFromPB(c *matchingv1.ScoringConfig) matching.ScoringConfig {
	w := c.GetWeights()
	return matching.ScoringConfig{
		ProgramID: c.GetProgramId(),
		Version:   c.GetVersion(),
		Weights: matching.Weights{
			CompetencyCoverage: w.GetCompetencyCoverage(),
			SeniorityGap:       w.GetSeniorityGap(),
			CrossDepartment:    w.GetCrossDepartment(),
			TimeZoneOverlap:    w.GetTimeZoneOverlap(),
			SharedLanguage:     w.GetSharedLanguage(),
			FormatFit:          w.GetFormatFit(),
			StyleComplement:    w.GetStyleComplement(),
			Preference:         w.GetPreference(),
		},
		ReportingChainDepth:   int(c.GetReportingChainDepth()),
		RequireSharedLanguage: c.GetRequireSharedLanguage(),
		MinPairScore:          c.GetMinPairScore(),
		UpdateTime:            fromTS(c.GetUpdateTime()),
	}
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}
