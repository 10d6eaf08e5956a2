package evaluation

import "time"

// MinGroupSize is the smallest group a report shows: a program, segment or
// week with fewer people is suppressed, and a figure drawn from answers
// (ratings, NPS, uplift) is left out when fewer people gave them.
const MinGroupSize = 5

// Figures are the outcome figures of one group of people as of a time t.
// A group is a set of people; "its participants" are the participants of
// those people, "its pairs" the pairs with at least one side in the group.
// All times compare as "at or before t".
type Figures struct {
	// People: distinct people of the group with a participant enrolled at
	// or before t (EnrolTime set and ≤ t), withdrawn or not.
	People int
	// EnrolledMentors, EnrolledMentees: participants enrolled at t
	// (Participant.EnrolledAt). Withdrawn: participants whose WithdrawTime
	// is ≤ t.
	EnrolledMentors int
	EnrolledMentees int
	Withdrawn       int
	// Matched: participants enrolled at t that are a side of a pair that
	// counts at t (Match.Counts). MatchRate = Matched / (EnrolledMentors +
	// EnrolledMentees), 0 when there are none.
	Matched   int
	MatchRate float64
	// Pairs: matches that count at t; MeanMatchScore their mean Score (0
	// without pairs).
	Pairs          int
	MeanMatchScore float64
	// SessionsHeld: sessions of those pairs with CompleteTime ≤ t;
	// SessionsPerPair = SessionsHeld / Pairs (0 without pairs).
	SessionsHeld    int
	SessionsPerPair float64
	// Ratings: feedback with SubmitTime ≤ t on sessions of those pairs, by
	// people of the group; MeanRating their mean, nil when fewer than
	// MinGroupSize distinct authors gave them.
	Ratings    int
	MeanRating *float64
	// NPSRespondents: people of the group with a pulse response submitted
	// ≤ t on one of those pairs; NPS over each one's newest such response
	// (by SubmitTime, then ID): 100 × (promoters (9–10) − detractors (0–6))
	// / respondents; nil when NPSRespondents < MinGroupSize.
	NPSRespondents int
	NPS            *float64
	// Goals: goals of those pairs created ≤ t; GoalsCompleted those with
	// CompleteTime ≤ t; GoalCompletionRate = GoalsCompleted / Goals (0
	// without goals).
	Goals              int
	GoalsCompleted     int
	GoalCompletionRate float64
	// AssessedPeople: people of the group with, for at least one skill, a
	// PRE and a POST level given ≤ t (on the same participant); MeanUplift
	// the mean of POST − PRE over every such (participant, skill), nil
	// when AssessedPeople < MinGroupSize.
	AssessedPeople int
	MeanUplift     *float64
	// RetentionRate: share of People whose person is not terminated at t
	// (TerminateTime zero or after t); 0 without people.
	RetentionRate float64
}

// Segment is one group of a program's people by a person attribute.
type Segment struct {
	// Dimension is "department" or "seniority_band" (see SeniorityBand);
	// Value the attribute's value ("" for people without a department,
	// "L0" for an unknown seniority level). Erased people belong to no
	// segment.
	Dimension string
	Value     string
	// Suppressed when the segment has fewer than MinGroupSize People; its
	// Figures are then zero.
	Suppressed bool
	Figures    Figures
}

// Week is the program as it stood at the end of one week.
type Week struct {
	// Start is the Monday 00:00 UTC that starts the week; the figures are as
	// of the week's end (Start + 7 days − 1 µs) or the report's AsOf,
	// whichever is earlier.
	Start      time.Time
	Suppressed bool // fewer than MinGroupSize People at the week's end
	Figures    Figures
}

// Report is a program's report.
type Report struct {
	ProgramID string
	// AsOf is the newest time in the data: the latest event or submit time
	// of any record; zero for a program without data. Every figure is as of
	// AsOf, so the report depends only on the events, never on when it is
	// read.
	AsOf time.Time
	// Suppressed when the program has fewer than MinGroupSize People; its
	// Figures are then zero.
	Suppressed bool
	Figures    Figures
	// Segments by dimension, then value.
	Segments []Segment
	// Weeks from the week of the earliest time in the data to the week of
	// AsOf, in order, none without data.
	Weeks []Week
}
