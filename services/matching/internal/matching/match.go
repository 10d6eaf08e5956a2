package matching

import (
	"fmt"
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"

	"github.com/tandem-oss/tandem/services/matching/engine"
)

// MatchState is a step of a match's lifecycle: proposed → accepted →
// active → ended, or declined before active.
type MatchState string

// Match states.
const (
	MatchProposed MatchState = "proposed"
	MatchAccepted MatchState = "accepted"
	MatchActive   MatchState = "active"
	MatchDeclined MatchState = "declined"
	MatchEnded    MatchState = "ended"
)

// Live reports whether a match in state s holds its participants: a mentee
// has at most one live match, a mentor at most their capacity.
func (s MatchState) Live() bool {
	return s == MatchProposed || s == MatchAccepted || s == MatchActive
}

// MatchSource says how a match came about.
type MatchSource string

// Match sources.
const (
	SourceRun     MatchSource = "run"
	SourceManual  MatchSource = "manual"
	SourceRequest MatchSource = "request"
)

// Factor explains one factor of a pair's score.
type Factor struct {
	Name        string  `json:"name"`
	Value       float64 `json:"value"`
	Weight      float64 `json:"weight"`
	Explanation string  `json:"explanation"`
}

// Factors converts the engine's factor explanations.
func Factors(fs []engine.Factor) []Factor {
	out := make([]Factor, len(fs))
	for i, f := range fs {
		out[i] = Factor{Name: f.Name, Value: f.Value, Weight: f.Weight, Explanation: f.Explanation}
	}
	return out
}

// Match pairs a mentor with a mentee in a program.
type Match struct {
	ID        string
	ProgramID string
	// RunID names the published run that proposed it, RequestID the
	// approved request it came from.
	RunID     string
	RequestID string
	Source    MatchSource
	// Participant and person ids of both sides.
	MentorID       string
	MenteeID       string
	MentorPersonID string
	MenteePersonID string
	State          MatchState
	// Score is 0 to 100; Factors explain it.
	Score          float64
	Factors        []Factor
	MentorAccepted bool
	MenteeAccepted bool
	DeclineReason  string
	// DeclinedBy is the declining participant; empty when a program
	// manager declined.
	DeclinedBy string
	EndReason  string
	CreateTime time.Time
	UpdateTime time.Time
}

// Snapshot is what the store reads, in the transaction that creates
// matches of a program, about the program and the participants concerned.
// The transaction holds the program's lock, so nothing it read changes
// before the matches are written.
type Snapshot struct {
	Program      Program
	ProgramFound bool
	// Config is the configuration in force.
	Config ScoringConfig
	// Participants are the participants asked for, by id; People their
	// people, by person id.
	Participants map[string]Participant
	People       map[string]Person
	// Live counts the live matches of each of those participants.
	Live map[string]int
}

// takesMatches fails unless the program may get new matches.
func (s Snapshot) takesMatches() error {
	if !s.ProgramFound {
		return fmt.Errorf("program %s is not known to the matching service: %w", s.Program.ID, apperr.ErrFailedPrecondition)
	}
	if !s.Program.State.TakesMatches() {
		return fmt.Errorf("program %s is %s; matches are made while it is ENROLLING, MATCHING or ACTIVE: %w",
			s.Program.ID, strings.ToUpper(string(s.Program.State)), apperr.ErrFailedPrecondition)
	}
	return nil
}

// conflicts says what keeps mentorID and menteeID from a new match, given
// the matches added earlier in the same transaction.
func (s Snapshot) conflicts(mentorID, menteeID string, added map[string]int) []string {
	var out []string
	if reason := s.ineligible(mentorID, RoleMentor); reason != "" {
		out = append(out, reason)
	} else if capacity, live := s.Participants[mentorID].EffectiveCapacity(s.Program), s.Live[mentorID]+added[mentorID]; live >= capacity {
		out = append(out, fmt.Sprintf("mentor %s has no capacity left (%d live matches, capacity %d)", mentorID, live, capacity))
	}
	if reason := s.ineligible(menteeID, RoleMentee); reason != "" {
		out = append(out, reason)
	} else if s.Live[menteeID]+added[menteeID] > 0 {
		out = append(out, fmt.Sprintf("mentee %s is already in a live match", menteeID))
	}
	return out
}

// ineligible says why a participant cannot be matched in role, or "".
func (s Snapshot) ineligible(id string, role Role) string {
	p, ok := s.Participants[id]
	switch {
	case !ok || p.ProgramID != s.Program.ID:
		return fmt.Sprintf("participant %s is not a participant of program %s", id, s.Program.ID)
	case p.Role != role:
		return fmt.Sprintf("participant %s is a %s, not a %s", id, p.Role, role)
	}
	person, found := s.People[p.PersonID]
	if !p.Eligible(person, found) {
		return fmt.Sprintf("%s %s is no longer enrolled and active", role, id)
	}
	return ""
}

// created returns a new match as the acceptance rule wants it created:
// accepted by both at once under automatic acceptance.
func (c ScoringConfig) created(m Match) Match {
	if c.Acceptance == AcceptanceAutomatic && m.State == MatchProposed {
		m.State, m.MentorAccepted, m.MenteeAccepted = MatchAccepted, true, true
	}
	return m
}
