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
			Motivation:         w.Motivation,
		},
		ReportingChainDepth:   int32(c.ReportingChainDepth),
		RequireSharedLanguage: c.RequireSharedLanguage,
		MinPairScore:          c.MinPairScore,
		UpdateTime:            ts(c.UpdateTime),
		Acceptance:            acceptanceToPB[c.Acceptance],
		MaxPendingRequests:    int32(c.MaxPendingRequests),
		RequestTtlHours:       int32(c.RequestTTLHours),
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
			Motivation:         w.GetMotivation(),
		},
		ReportingChainDepth:   int(c.GetReportingChainDepth()),
		RequireSharedLanguage: c.GetRequireSharedLanguage(),
		MinPairScore:          c.GetMinPairScore(),
		UpdateTime:            fromTS(c.GetUpdateTime()),
		Acceptance:            acceptanceFromPB[c.GetAcceptance()],
		MaxPendingRequests:    int(c.GetMaxPendingRequests()),
		RequestTTLHours:       int(c.GetRequestTtlHours()),
	}
}

// acceptanceToPB and acceptanceFromPB map the acceptance rule; UNSPECIFIED
// reads as empty, which the domain defaults to BOTH.
var (
	acceptanceToPB = map[matching.Acceptance]matchingv1.Acceptance{
		matching.AcceptanceBoth:      matchingv1.Acceptance_ACCEPTANCE_BOTH,
		matching.AcceptanceMentee:    matchingv1.Acceptance_ACCEPTANCE_MENTEE,
		matching.AcceptanceAutomatic: matchingv1.Acceptance_ACCEPTANCE_AUTOMATIC,
	}
	acceptanceFromPB = map[matchingv1.Acceptance]matching.Acceptance{
		matchingv1.Acceptance_ACCEPTANCE_BOTH:      matching.AcceptanceBoth,
		matchingv1.Acceptance_ACCEPTANCE_MENTEE:    matching.AcceptanceMentee,
		matchingv1.Acceptance_ACCEPTANCE_AUTOMATIC: matching.AcceptanceAutomatic,
	}
)

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
