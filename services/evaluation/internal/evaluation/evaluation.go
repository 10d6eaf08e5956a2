// Package evaluation is the domain of the evaluation service. The service
// learns about the rest of the platform only from events, which it keeps as
// its own projections; this first version projects participants and builds
// the enrolment part of a program's report from them. It imports no
// transport or storage; adapters implement Store.
package evaluation

import (
	"context"
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
	Role      Role
	State     ParticipantState
	// EventTime is when the participant service recorded the change; a
	// projection keeps the participant of the newest event, so events
	// that arrive late or twice change nothing.
	EventTime time.Time
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

// ProgramReport aggregates a program's outcomes as projected from events.
type ProgramReport struct {
	ProgramID       string
	EnrolledMentors int
	EnrolledMentees int
	Withdrawn       int
	// AsOfTime is the time of the newest event reflected; zero when no
	// event about the program arrived yet.
	AsOfTime time.Time
}

// Store keeps the evaluation service's projections, scoped by tenant.
// Projections are written by the event consumer (see the events adapter),
// not through this interface.
type Store interface {
	// ProgramReport computes the report of a program from the projections;
	// a program without events has an empty report.
	ProgramReport(ctx context.Context, tenant, programID string) (ProgramReport, error)
}

// Service carries out the evaluation service's use cases. Callers pass the
// tenant of the verified caller; every lookup is scoped to it.
type Service struct {
	store Store
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store}
}

// ProgramReport returns the program's report as projected so far.
func (s *Service) ProgramReport(ctx context.Context, tenant, programID string) (ProgramReport, error) {
	if strings.TrimSpace(programID) == "" {
		return ProgramReport{}, apperr.Invalid("program_id", "must not be empty")
	}
	return s.store.ProgramReport(ctx, tenant, programID)
}
