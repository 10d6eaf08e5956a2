// Package evaluation is the domain of the evaluation service: mentoring
// agreements, goals, session feedback, pulse surveys, self-assessments,
// relationship health and program reports. The service learns about the
// rest of the platform only from events, which it keeps as its own
// projections (see Projector). It imports no transport or storage;
// adapters implement Store.
package evaluation

import (
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Role is a participant's side of a pair.
type Role string

// Roles.
const (
	RoleMentor Role = "mentor"
	RoleMentee Role = "mentee"
)

// ParticipantState says whether a participant takes part.
type ParticipantState string

// Participant states.
const (
	ParticipantEnrolled  ParticipantState = "enrolled"
	ParticipantWithdrawn ParticipantState = "withdrawn"
)

// Participant is what the evaluation service knows of one participant, as
// told by the newest participant event applied.
type Participant struct {
	ID        string
	ProgramID string
	PersonID  string
	Role      Role
	State     ParticipantState
	// DevelopmentSkills are the skills the participant develops: the ones
	// they self-assess.
	DevelopmentSkills []string
	// EnrolTime is the time of the first event that showed the participant
	// enrolled; WithdrawTime of the event that showed them withdrawn (zero
	// while enrolled).
	EnrolTime    time.Time
	WithdrawTime time.Time
	// EventTime is when the participant service recorded the change; a
	// projection keeps the participant of the newest event, so events
	// that arrive late or twice change nothing.
	EventTime time.Time
}

// EnrolledAt reports whether the participant was enrolled at t.
func (p Participant) EnrolledAt(t time.Time) bool {
	return at(p.EnrolTime, t) && !at(p.WithdrawTime, t)
}

// Validate checks that an event told enough to project the participant.
func (p Participant) Validate() error {
	var vs apperr.Violations
	if strings.TrimSpace(p.ID) == "" {
		vs.Add("participant.id", "must not be empty")
	}
	if strings.TrimSpace(p.ProgramID) == "" {
		vs.Add("participant.program_id", "must not be empty")
	}
	if p.Role != RoleMentor && p.Role != RoleMentee {
		vs.Add("participant.role", "must be MENTOR or MENTEE")
	}
	if p.State != ParticipantEnrolled && p.State != ParticipantWithdrawn {
		vs.Add("participant.state", "must be ENROLLED or WITHDRAWN")
	}
	if p.EventTime.IsZero() {
		vs.Add("event.time", "must be set")
	}
	return vs.Err()
}
