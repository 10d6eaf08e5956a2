package pbconv

import (
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

var (
	matchStates = map[matching.MatchState]matchingv1.MatchState{
		matching.MatchProposed: matchingv1.MatchState_MATCH_STATE_PROPOSED,
		matching.MatchAccepted: matchingv1.MatchState_MATCH_STATE_ACCEPTED,
		matching.MatchActive:   matchingv1.MatchState_MATCH_STATE_ACTIVE,
		matching.MatchDeclined: matchingv1.MatchState_MATCH_STATE_DECLINED,
		matching.MatchEnded:    matchingv1.MatchState_MATCH_STATE_ENDED,
	}
	sources = map[matching.MatchSource]matchingv1.MatchSource{
		matching.SourceRun:     matchingv1.MatchSource_MATCH_SOURCE_RUN,
		matching.SourceManual:  matchingv1.MatchSource_MATCH_SOURCE_MANUAL,
		matching.SourceRequest: matchingv1.MatchSource_MATCH_SOURCE_REQUEST,
	}
)

// Match converts a match to its message.
func Match(m matching.Match) *matchingv1.Match {
	return &matchingv1.Match{
		Id:                      m.ID,
		ProgramId:               m.ProgramID,
		MentorParticipantId:     m.MentorID,
		MenteeParticipantId:     m.MenteeID,
		State:                   matchStates[m.State],
		Score:                   m.Score,
		Factors:                 Factors(m.Factors),
		CreateTime:              ts(m.CreateTime),
		UpdateTime:              ts(m.UpdateTime),
		RunId:                   m.RunID,
		Source:                  sources[m.Source],
		MentorPersonId:          m.MentorPersonID,
		MenteePersonId:          m.MenteePersonID,
		MentorAccepted:          m.MentorAccepted,
		MenteeAccepted:          m.MenteeAccepted,
		EndReason:               m.EndReason,
		DeclineReason:           m.DeclineReason,
		DeclinedByParticipantId: m.DeclinedBy,
		RequestId:               m.RequestID,
	}
}

// MatchState converts a requested state filter; UNSPECIFIED is empty (no
// filter) and an undefined value stays unknown so that validation names
// it.
func MatchState(s matchingv1.MatchState) matching.MatchState {
	for k, v := range matchStates {
		if v == s {
			return k
		}
	}
	if s == matchingv1.MatchState_MATCH_STATE_UNSPECIFIED {
		return ""
	}
	return matching.MatchState(s.String())
}

var requestStates = map[matching.RequestState]matchingv1.MatchRequestState{
	matching.RequestPending:   matchingv1.MatchRequestState_MATCH_REQUEST_STATE_PENDING,
	matching.RequestApproved:  matchingv1.MatchRequestState_MATCH_REQUEST_STATE_APPROVED,
	matching.RequestRejected:  matchingv1.MatchRequestState_MATCH_REQUEST_STATE_REJECTED,
	matching.RequestCancelled: matchingv1.MatchRequestState_MATCH_REQUEST_STATE_CANCELLED,
	matching.RequestExpired:   matchingv1.MatchRequestState_MATCH_REQUEST_STATE_EXPIRED,
}

// MatchRequest converts a request to its message.
func MatchRequest(r matching.MatchRequest) *matchingv1.MatchRequest {
	return &matchingv1.MatchRequest{
		Id:                     r.ID,
		ProgramId:              r.ProgramID,
		RequesterParticipantId: r.RequesterID,
		TargetParticipantId:    r.TargetID,
		RequesterPersonId:      r.RequesterPersonID,
		TargetPersonId:         r.TargetPersonID,
		RequesterRole:          roles[r.RequesterRole],
		Message:                r.Message,
		State:                  requestStates[r.State],
		Reason:                 r.Reason,
		MatchId:                r.MatchID,
		CreateTime:             ts(r.CreateTime),
		UpdateTime:             ts(r.UpdateTime),
		ExpireTime:             ts(r.ExpireTime),
	}
}

// RequestState converts a requested state filter; UNSPECIFIED is empty
// (no filter) and an undefined value stays unknown so that validation
// names it.
func RequestState(s matchingv1.MatchRequestState) matching.RequestState {
	for k, v := range requestStates {
		if v == s {
			return k
		}
	}
	if s == matchingv1.MatchRequestState_MATCH_REQUEST_STATE_UNSPECIFIED {
		return ""
	}
	return matching.RequestState(s.String())
}
