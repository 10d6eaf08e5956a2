package pbconv

import (
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

var (
	runStates = map[matching.RunState]matchingv1.MatchRunState{
		matching.RunRunning:   matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING,
		matching.RunSucceeded: matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED,
		matching.RunFailed:    matchingv1.MatchRunState_MATCH_RUN_STATE_FAILED,
		matching.RunPublished: matchingv1.MatchRunState_MATCH_RUN_STATE_PUBLISHED,
	}
	strategies = map[matching.Strategy]matchingv1.MatchStrategy{
		matching.StrategyOptimal: matchingv1.MatchStrategy_MATCH_STRATEGY_OPTIMAL,
		matching.StrategyStable:  matchingv1.MatchStrategy_MATCH_STRATEGY_STABLE,
	}
	roles = map[matching.Role]participantv1.ParticipantRole{
		matching.RoleMentor: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR,
		matching.RoleMentee: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE,
	}
)

// Strategy converts a requested strategy; UNSPECIFIED is empty, which the
// domain reads as optimal, and an undefined value stays unknown so that
// validation names it.
func Strategy(s matchingv1.MatchStrategy) matching.Strategy {
	switch s {
	case matchingv1.MatchStrategy_MATCH_STRATEGY_UNSPECIFIED:
		return ""
	case matchingv1.MatchStrategy_MATCH_STRATEGY_OPTIMAL:
		return matching.StrategyOptimal
	case matchingv1.MatchStrategy_MATCH_STRATEGY_STABLE:
		return matching.StrategyStable
	default:
		return matching.Strategy(s.String())
	}
}

// MatchRun converts a run to its message.
func MatchRun(r matching.MatchRun) *matchingv1.MatchRun {
	out := &matchingv1.MatchRun{
		Id:                    r.ID,
		ProgramId:             r.ProgramID,
		State:                 runStates[r.State],
		Strategy:              strategies[r.Strategy],
		MaximiseParticipation: r.MaximiseParticipation,
		ProgressPercent:       int32(r.ProgressPercent),
		Error:                 r.Error,
		Config:                ScoringConfig(r.Config),
		ConfigVersion:         r.ConfigVersion,
		WhatIf:                r.WhatIf,
		Certified:             r.Certified,
		CreateTime:            ts(r.CreateTime),
		FinishTime:            ts(r.FinishTime),
		PublishTime:           ts(r.PublishTime),
		Epoch:                 r.Epoch,
		MatchesCreated:        int32(r.MatchesCreated),
	}
	if r.State == matching.RunSucceeded || r.State == matching.RunPublished {
		m := r.Metrics
		out.Metrics = &matchingv1.MatchRunMetrics{
			Mentees: int32(m.Mentees), Mentors: int32(m.Mentors), Pairs: int32(m.Pairs), Coverage: m.Coverage,
			MeanScore: m.MeanScore, MinScore: m.MinScore, TotalScore: m.TotalScore,
			ExcludedMentees: int32(m.ExcludedMentees), ExcludedMentors: int32(m.ExcludedMentors),
		}
		for _, n := range m.Histogram {
			out.Metrics.Histogram = append(out.Metrics.Histogram, int32(n))
		}
		for _, s := range m.Segments {
			out.Metrics.Segments = append(out.Metrics.Segments, &matchingv1.SegmentMetrics{Dimension: s.Dimension, Name: s.Name,
				Mentees: int32(s.Mentees), Matched: int32(s.Matched), MeanScore: s.MeanScore, MinScore: s.MinScore})
		}
	}
	return out
}

// Factors converts a score's explanation.
func Factors(fs []matching.Factor) []*matchingv1.FactorScore {
	out := make([]*matchingv1.FactorScore, len(fs))
	for i, f := range fs {
		out[i] = &matchingv1.FactorScore{Factor: f.Name, Value: f.Value, Weight: f.Weight, Explanation: f.Explanation}
	}
	return out
}

// RunPair converts one pair of a run.
func RunPair(p matching.RunPair) *matchingv1.MatchRunPair {
	return &matchingv1.MatchRunPair{MentorParticipantId: p.MentorID, MenteeParticipantId: p.MenteeID,
		MentorPersonId: p.MentorPersonID, MenteePersonId: p.MenteePersonID, Score: p.Score, Factors: Factors(p.Factors)}
}

// Unmatched converts one unmatched participant of a run.
func Unmatched(u matching.Unmatched) *matchingv1.UnmatchedParticipant {
	return &matchingv1.UnmatchedParticipant{ParticipantId: u.ParticipantID, PersonId: u.PersonID, Role: roles[u.Role],
		Reason: u.Reason, Detail: u.Detail}
}

// Comparison converts a comparison of two runs.
func Comparison(c matching.Comparison) *matchingv1.CompareMatchRunsResponse {
	pairs := func(ps []matching.ComparedPair) []*matchingv1.ComparedPair {
		out := make([]*matchingv1.ComparedPair, len(ps))
		for i, p := range ps {
			out[i] = &matchingv1.ComparedPair{MentorParticipantId: p.MentorID, MenteeParticipantId: p.MenteeID,
				Score: p.Score, OtherScore: p.OtherScore}
		}
		return out
	}
	return &matchingv1.CompareMatchRunsResponse{
		InBoth: pairs(c.InBoth), OnlyInRun: pairs(c.OnlyInRun), OnlyInOther: pairs(c.OnlyInOther),
		Delta: &matchingv1.MetricsDelta{Pairs: int32(c.DeltaPairs), Coverage: c.DeltaCoverage, MeanScore: c.DeltaMeanScore,
			MinScore: c.DeltaMinScore, TotalScore: c.DeltaTotalScore},
	}
}
