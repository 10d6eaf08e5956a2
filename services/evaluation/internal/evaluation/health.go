package evaluation

import "time"

// EvaluateHealth computes an active pair's health at now from its activity.
// It fills every field but SinceTime and EvaluateTime, which the store
// keeps. (Rules being written: see docs/evaluation.md.)
func EvaluateHealth(a PairActivity, now time.Time) Health {
	return Health{
		MatchID:        a.Match.ID,
		ProgramID:      a.Match.ProgramID,
		MentorPersonID: a.Match.MentorPersonID,
		MenteePersonID: a.Match.MenteePersonID,
		Status:         OnTrack,
	}
}
