package matching

import (
	"fmt"
	"strings"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/services/matching/engine"
)

// The matching service never reads the participant service's tables: it
// keeps its own copy of what it matches from, fed by the participant
// service's events. These are the rows of that projection.

// EmploymentStatus is a person's status in the directory.
type EmploymentStatus string

// Employment statuses; only active people are matched.
const (
	EmploymentActive     EmploymentStatus = "active"
	EmploymentLeave      EmploymentStatus = "leave"
	EmploymentTerminated EmploymentStatus = "terminated"
)

// Person is what matching keeps of a directory entry.
type Person struct {
	ID         string
	Department string
	// Seniority is the directory's level; larger is more senior.
	Seniority int
	ManagerID string
	TimeZone  string
	Languages []string
	Location  string
	Status    EmploymentStatus
	// Erased people keep only their id.
	Erased bool
}

// Validate checks what a projected person needs.
func (p Person) Validate() error {
	if strings.TrimSpace(p.ID) == "" {
		return apperr.Invalid("person.id", "must not be empty")
	}
	return nil
}

// ProgramType is the kind of a program; it decides the direction of the
// seniority rule.
type ProgramType string

// Program types.
const (
	ProgramReverse ProgramType = "reverse"
	ProgramClassic ProgramType = "classic"
	ProgramPeer    ProgramType = "peer"
	ProgramGroup   ProgramType = "group"
)

// ProgramState is a step of a program's lifecycle.
type ProgramState string

// Program states, as the participant service moves them.
const (
	ProgramDraft     ProgramState = "draft"
	ProgramEnrolling ProgramState = "enrolling"
	ProgramMatching  ProgramState = "matching"
	ProgramActive    ProgramState = "active"
	ProgramCompleted ProgramState = "completed"
	ProgramCancelled ProgramState = "cancelled"
)

// TakesMatches reports whether matches may be created in a program in
// state s: while it enrols, matches or runs.
func (s ProgramState) TakesMatches() bool {
	return s == ProgramEnrolling || s == ProgramMatching || s == ProgramActive
}

// Format is a meeting format; empty means no preference.
type Format string

// Meeting formats.
const (
	FormatAny      Format = ""
	FormatInPerson Format = "in_person"
	FormatRemote   Format = "remote"
	FormatHybrid   Format = "hybrid"
)

// Engine returns the format as the engine takes it.
func (f Format) Engine() engine.Format {
	switch f {
	case FormatInPerson:
		return engine.FormatInPerson
	case FormatRemote:
		return engine.FormatRemote
	case FormatHybrid:
		return engine.FormatHybrid
	default:
		return engine.FormatAny
	}
}

// Program is what matching keeps of a program.
type Program struct {
	ID     string
	Type   ProgramType
	State  ProgramState
	Format Format
	// DefaultCapacity is the mentees per mentor when a mentor states none.
	DefaultCapacity int
	// MaxCapacity caps a mentor's capacity (0: no cap).
	MaxCapacity int
}

// Validate checks what a projected program needs.
func (p Program) Validate() error {
	var vs apperr.Violations
	if strings.TrimSpace(p.ID) == "" {
		vs.Add("program.id", "must not be empty")
	}
	switch p.Type {
	case ProgramReverse, ProgramClassic, ProgramPeer, ProgramGroup:
	default:
		vs.Add("program.type", fmt.Sprintf("unknown type %q", p.Type))
	}
	if p.State == "" {
		vs.Add("program.state", "must not be empty")
	}
	return vs.Err()
}

// EngineType returns the engine's program type: a group program pairs like
// a classic one (the more senior mentors).
func (p Program) EngineType() engine.ProgramType {
	switch p.Type {
	case ProgramReverse:
		return engine.Reverse
	case ProgramPeer:
		return engine.Peer
	default:
		return engine.Classic
	}
}

// Role is a participant's side of a pair.
type Role string

// Roles.
const (
	RoleMentor Role = "mentor"
	RoleMentee Role = "mentee"
)

// ParticipantState is a step of an enrolment.
type ParticipantState string

// Participant states; only enrolled participants are matched.
const (
	ParticipantEnrolled  ParticipantState = "enrolled"
	ParticipantWithdrawn ParticipantState = "withdrawn"
)

// Participant is a person's enrolment in a program with what they bring
// and want.
type Participant struct {
	ID        string
	ProgramID string
	PersonID  string
	Role      Role
	State     ParticipantState
	// Competencies are the skills the participant can teach, level 1 to 5.
	Competencies map[string]int
	// Wants are the development areas, most important first.
	Wants              []engine.Want
	WorkStyle          string
	CommunicationStyle string
	Motivation         string
	Format             Format
	// Capacity is the mentees a mentor takes; 0 means the program's
	// default.
	Capacity int
	// Prefer and Avoid are person ids.
	Prefer []string
	Avoid  []string
}

// Validate checks what a projected participant needs.
func (p Participant) Validate() error {
	var vs apperr.Violations
	for _, f := range []struct{ field, value string }{
		{"participant.id", p.ID}, {"participant.program_id", p.ProgramID}, {"participant.person_id", p.PersonID},
	} {
		if strings.TrimSpace(f.value) == "" {
			vs.Add(f.field, "must not be empty")
		}
	}
	if p.Role != RoleMentor && p.Role != RoleMentee {
		vs.Add("participant.role", "must be mentor or mentee")
	}
	if p.State != ParticipantEnrolled && p.State != ParticipantWithdrawn {
		vs.Add("participant.state", "must be enrolled or withdrawn")
	}
	return vs.Err()
}

// EffectiveCapacity is how many live matches a mentor may have in program:
// their own capacity, else the program's default, at least 1.
func (p Participant) EffectiveCapacity(program Program) int {
	c := p.Capacity
	if c <= 0 {
		c = program.DefaultCapacity
	}
	return max(c, 1)
}

// Eligible reports whether the participant can be matched: enrolled, and
// their person known, active and not erased.
func (p Participant) Eligible(person Person, found bool) bool {
	return p.State == ParticipantEnrolled && found && !person.Erased && person.Status == EmploymentActive
}

// MaxManagerChain bounds the reporting chain a profile carries: the deepest
// reporting-chain rule a configuration can ask for.
const MaxManagerChain = MaxReportingChainDepth

// ManagerChain walks the manager links from personID up to MaxManagerChain
// levels, nearest first. It stops at a person without a manager, an
// unknown one, or a cycle in the links.
func ManagerChain(personID string, managerOf func(string) (string, bool)) []string {
	var chain []string
	seen := map[string]bool{personID: true}
	cur := personID
	for len(chain) < MaxManagerChain {
		m, ok := managerOf(cur)
		if !ok || m == "" || seen[m] {
			break
		}
		seen[m] = true
		chain = append(chain, m)
		cur = m
	}
	return chain
}

// Profile joins a participant with their person (and manager chain) into
// what the engine scores. Capacity is the effective capacity for mentors,
// 0 for mentees.
func Profile(p Participant, person Person, managers []string, program Program) engine.Profile {
	capacity := 0
	if p.Role == RoleMentor {
		capacity = p.EffectiveCapacity(program)
	}
	return engine.Profile{
		ID:                 p.ID,
		PersonID:           p.PersonID,
		Seniority:          person.Seniority,
		Department:         person.Department,
		Managers:           managers,
		TimeZone:           person.TimeZone,
		Languages:          person.Languages,
		Location:           person.Location,
		Format:             p.Format.Engine(),
		WorkStyle:          p.WorkStyle,
		CommunicationStyle: p.CommunicationStyle,
		Motivation:         p.Motivation,
		Competencies:       p.Competencies,
		Wants:              p.Wants,
		Capacity:           capacity,
		Prefer:             p.Prefer,
		Avoid:              p.Avoid,
	}
}
