// Package participant is the domain of the participant service: tenants,
// the people directory, programs with their lifecycle, and participants.
// It imports no transport or storage; adapters implement Store.
package participant

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Tenant is one enterprise; all other data is scoped to a tenant.
type Tenant struct {
	ID                  string
	DisplayName         string
	ReportingChainDepth int
	MinReportGroupSize  int
	CreateTime          time.Time
	UpdateTime          time.Time
}

// Validate checks the tenant's settings.
func (t Tenant) Validate() error {
	var vs apperr.Violations
	if strings.TrimSpace(t.DisplayName) == "" {
		vs.Add("tenant.display_name", "must not be empty")
	}
	if t.MinReportGroupSize != 0 && t.MinReportGroupSize < 5 {
		vs.Add("tenant.min_report_group_size", "must be at least 5 to protect privacy")
	}
	return vs.Err()
}

// EmploymentStatus says whether a person still works for the tenant.
type EmploymentStatus string

// Employment statuses.
const (
	EmploymentActive     EmploymentStatus = "active"
	EmploymentLeave      EmploymentStatus = "leave"
	EmploymentTerminated EmploymentStatus = "terminated"
)

// Person is an employee of the tenant's directory.
type Person struct {
	ID               string
	HRISID           string
	DisplayName      string
	Email            string
	Department       string
	Title            string
	SeniorityLevel   int
	ManagerID        string
	HireDate         string
	PromotionDate    string
	Location         string
	TimeZone         string
	Languages        []string
	EmploymentStatus EmploymentStatus
	// Subject is the person's login (the "sub" of their token).
	Subject    string
	Erased     bool
	CreateTime time.Time
	UpdateTime time.Time
}

// Validate checks what every stored person must satisfy.
func (p Person) Validate() error {
	var vs apperr.Violations
	if strings.TrimSpace(p.DisplayName) == "" {
		vs.Add("person.display_name", "must not be empty")
	}
	if strings.TrimSpace(p.Email) == "" {
		vs.Add("person.email", "must not be empty")
	}
	if p.TimeZone == "" {
		vs.Add("person.time_zone", "must be an IANA time zone such as Europe/London")
	} else if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "Local" {
		vs.Add("person.time_zone", fmt.Sprintf("unknown IANA time zone %q", p.TimeZone))
	}
	if p.ManagerID != "" && p.ManagerID == p.ID {
		vs.Add("person.manager_id", "a person cannot be their own manager")
	}
	for _, d := range []struct{ field, value string }{{"person.hire_date", p.HireDate}, {"person.promotion_date", p.PromotionDate}} {
		if d.value == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, d.value); err != nil {
			vs.Add(d.field, "must be a date YYYY-MM-DD")
		}
	}
	switch p.EmploymentStatus {
	case EmploymentActive, EmploymentLeave, EmploymentTerminated:
	default:
		vs.Add("person.employment_status", "unknown employment status")
	}
	return vs.Err()
}

// ProgramType is the kind of mentoring.
type ProgramType string

// Program types.
const (
	ProgramReverse ProgramType = "reverse"
	ProgramClassic ProgramType = "classic"
	ProgramPeer    ProgramType = "peer"
	ProgramGroup   ProgramType = "group"
)

// ProgramState is a step of the program lifecycle.
type ProgramState string

// Program states.
const (
	ProgramDraft     ProgramState = "draft"
	ProgramEnrolling ProgramState = "enrolling"
	ProgramMatching  ProgramState = "matching"
	ProgramActive    ProgramState = "active"
	ProgramCompleted ProgramState = "completed"
	ProgramCancelled ProgramState = "cancelled"
)

// transitions lists the legal next states of each state. Matching may go
// back to enrolling to admit latecomers.
var transitions = map[ProgramState][]ProgramState{
	ProgramDraft:     {ProgramEnrolling, ProgramCancelled},
	ProgramEnrolling: {ProgramMatching, ProgramCancelled},
	ProgramMatching:  {ProgramEnrolling, ProgramActive, ProgramCancelled},
	ProgramActive:    {ProgramCompleted, ProgramCancelled},
}

// CanTransition reports whether a program may move from one state to another.
func CanTransition(from, to ProgramState) bool {
	return slices.Contains(transitions[from], to)
}

// Program is one mentoring program.
type Program struct {
	ID                    string
	DisplayName           string
	Description           string
	Type                  ProgramType
	State                 ProgramState
	Goals                 []string
	SuccessMetrics        []string
	DurationWeeks         int
	MeetingCadence        string
	Format                string
	EnrollmentOpenTime    time.Time
	EnrollmentCloseTime   time.Time
	DefaultMentorCapacity int
	MaxMentorCapacity     int // 0: no limit beyond MaxCapacity
	// ManagerSubjects are the token subjects of the program managers who
	// run the program.
	ManagerSubjects []string
	ScoringConfigID string
	Pilot           bool
	CreateTime      time.Time
	UpdateTime      time.Time
}

// Validate checks what every stored program must satisfy.
func (p Program) Validate() error {
	var vs apperr.Violations
	if strings.TrimSpace(p.DisplayName) == "" {
		vs.Add("program.display_name", "must not be empty")
	}
	switch p.Type {
	case ProgramReverse, ProgramClassic, ProgramPeer, ProgramGroup:
	default:
		vs.Add("program.type", "must be one of REVERSE, CLASSIC, PEER, GROUP")
	}
	if !p.EnrollmentOpenTime.IsZero() && !p.EnrollmentCloseTime.IsZero() && !p.EnrollmentCloseTime.After(p.EnrollmentOpenTime) {
		vs.Add("program.enrollment_close_time", "must be after enrollment_open_time")
	}
	if p.DefaultMentorCapacity < 1 {
		vs.Add("program.default_mentor_capacity", "must be at least 1")
	}
	if p.MaxMentorCapacity != 0 && p.MaxMentorCapacity < p.DefaultMentorCapacity {
		vs.Add("program.max_mentor_capacity", "must be at least default_mentor_capacity")
	}
	return vs.Err()
}

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

// Competency is a skill a mentor teaches, level 1–5.
type Competency struct {
	SkillID string `json:"skill_id"`
	Level   int    `json:"level"`
}

// DevelopmentArea is a skill a mentee wants to grow.
type DevelopmentArea struct {
	SkillID      string `json:"skill_id"`
	CurrentLevel int    `json:"current_level"`
	TargetLevel  int    `json:"target_level"`
}

// Profile is what a participant tells the matcher about themselves.
type Profile struct {
	Competencies       []Competency      `json:"competencies,omitempty"`
	DevelopmentAreas   []DevelopmentArea `json:"development_areas,omitempty"`
	WorkStyle          string            `json:"work_style,omitempty"`
	CommunicationStyle string            `json:"communication_style,omitempty"`
	Motivation         string            `json:"motivation,omitempty"`
	PreferredFormat    string            `json:"preferred_format,omitempty"`
	Capacity           int               `json:"capacity,omitempty"`
	PreferPersonIDs    []string          `json:"prefer_person_ids,omitempty"`
	AvoidPersonIDs     []string          `json:"avoid_person_ids,omitempty"`
}

// Participant is a person in a program with a role.
type Participant struct {
	ID         string
	ProgramID  string
	PersonID   string
	Role       Role
	State      ParticipantState
	Profile    Profile
	CreateTime time.Time
	UpdateTime time.Time
}

// Validate checks what every stored participant must satisfy.
func (p Participant) Validate() error {
	var vs apperr.Violations
	if p.ProgramID == "" {
		vs.Add("participant.program_id", "must not be empty")
	}
	if p.PersonID == "" {
		vs.Add("participant.person_id", "must not be empty")
	}
	if p.Role != RoleMentor && p.Role != RoleMentee {
		vs.Add("participant.role", "must be MENTOR or MENTEE")
	}
	seen := map[string]bool{}
	for i, c := range p.Profile.Competencies {
		if seen[c.SkillID] {
			vs.Add(fmt.Sprintf("participant.competencies[%d].skill_id", i), "listed twice")
		}
		seen[c.SkillID] = true
	}
	seen = map[string]bool{}
	for i, d := range p.Profile.DevelopmentAreas {
		if seen[d.SkillID] {
			vs.Add(fmt.Sprintf("participant.development_areas[%d].skill_id", i), "listed twice")
		}
		seen[d.SkillID] = true
		if d.CurrentLevel > d.TargetLevel {
			vs.Add(fmt.Sprintf("participant.development_areas[%d].target_level", i), "must not be below current_level")
		}
	}
	if p.Role == RoleMentee && p.Profile.Capacity != 0 {
		vs.Add("participant.capacity", "only mentors have a capacity")
	}
	for i, id := range p.Profile.AvoidPersonIDs {
		if id == p.PersonID {
			vs.Add(fmt.Sprintf("participant.avoid_person_ids[%d]", i), "cannot avoid oneself")
		}
		if slices.Contains(p.Profile.PreferPersonIDs, id) {
			vs.Add(fmt.Sprintf("participant.avoid_person_ids[%d]", i), "also in prefer_person_ids")
		}
	}
	return vs.Err()
}

// Page asks for one page of a listing ordered by id.
type Page struct {
	Size  int
	After string // exclusive lower bound on id; empty for the first page
}

// ProgramFilter narrows a program listing.
type ProgramFilter struct {
	State ProgramState
}

// PersonFilter narrows a people listing.
type PersonFilter struct {
	Department string
}

// ParticipantFilter narrows a participant listing.
type ParticipantFilter struct {
	ProgramID  string
	Role       Role
	State      ParticipantState
	Department string // of the participant's person
}

// Skill is an entry of the tenant's skills catalogue.
type Skill struct {
	ID          string
	DisplayName string
	Category    string
	Description string
	CreateTime  time.Time
	UpdateTime  time.Time
}

// Validate checks what every stored skill must satisfy.
func (s Skill) Validate() error {
	var vs apperr.Violations
	if !validSkillID(s.ID) {
		vs.Add("skill.id", "must be 1-64 of a-z, 0-9, '.', '_' or '-', starting with a letter")
	}
	if strings.TrimSpace(s.DisplayName) == "" {
		vs.Add("skill.display_name", "must not be empty")
	}
	return vs.Err()
}

func validSkillID(id string) bool {
	if len(id) == 0 || len(id) > 64 || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for _, r := range id {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '.' && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

// SkillFilter narrows a skills listing.
type SkillFilter struct {
	Category string
}

// AuditEntry records an access to personal data or an irreversible act.
type AuditEntry struct {
	Actor        string // token subject of the caller
	Action       string // e.g. "person_exported"
	ResourceType string
	ResourceID   string
	Reason       string
	Time         time.Time
}

// Erasure is the outcome of erasing a person.
type Erasure struct {
	PersonID                 string
	ParticipationsAnonymised int
	Time                     time.Time
}

// Store keeps the participant service's data. Every mutating method writes
// its domain event in the same transaction as the change. Update methods
// load the current value, call fn, validate and store the result
// atomically; an error from fn leaves everything unchanged. Lookups of a
// missing row return an error wrapping apperr.ErrNotFound.
type Store interface {
	EnsureTenant(ctx context.Context, t Tenant) (Tenant, bool, error)
	GetTenant(ctx context.Context, id string) (Tenant, error)
	UpdateTenant(ctx context.Context, id string, fn func(*Tenant) error) (Tenant, error)

	CreatePerson(ctx context.Context, tenant string, p Person) error
	GetPerson(ctx context.Context, tenant, id string) (Person, error)
	UpdatePerson(ctx context.Context, tenant, id string, fn func(*Person) error) (Person, error)
	ListPeople(ctx context.Context, tenant string, f PersonFilter, page Page) ([]Person, error)
	// PersonByHRISID finds a person by HRIS id (ErrNotFound when none).
	PersonByHRISID(ctx context.Context, tenant, hrisID string) (Person, error)
	// PeopleBySubject lists the people whose login subject is subject.
	PeopleBySubject(ctx context.Context, tenant, subject string) ([]Person, error)
	// ParticipationsOf lists every participation of a person.
	ParticipationsOf(ctx context.Context, tenant, personID string) ([]Participant, error)
	// ErasePerson anonymises a person and their participations (withdrawing
	// enrolled ones) and writes person.erased and the audit entry, in one
	// transaction. Erasing an erased person changes nothing but the audit.
	ErasePerson(ctx context.Context, tenant, id string, audit AuditEntry) (Erasure, error)
	// RecordAudit writes an audit event.
	RecordAudit(ctx context.Context, tenant string, e AuditEntry) error

	CreateSkill(ctx context.Context, tenant string, s Skill) error
	UpdateSkill(ctx context.Context, tenant, id string, fn func(*Skill) error) (Skill, error)
	ListSkills(ctx context.Context, tenant string, f SkillFilter, page Page) ([]Skill, error)
	// MissingSkills returns those of ids that are not in the catalogue.
	MissingSkills(ctx context.Context, tenant string, ids []string) ([]string, error)

	CreateProgram(ctx context.Context, tenant string, p Program) error
	GetProgram(ctx context.Context, tenant, id string) (Program, error)
	// UpdateProgram's event is "updated", or "state_changed" (with reason)
	// when the state changed.
	UpdateProgram(ctx context.Context, tenant, id, reason string, fn func(*Program) error) (Program, error)
	ListPrograms(ctx context.Context, tenant string, f ProgramFilter, page Page) ([]Program, error)

	// CreateParticipant fails with ErrAlreadyExists when the person is
	// already in the program.
	CreateParticipant(ctx context.Context, tenant string, p Participant) error
	GetParticipant(ctx context.Context, tenant, id string) (Participant, error)
	// UpdateParticipant's event is "updated", or "withdrawn" (with reason)
	// when the state became withdrawn.
	UpdateParticipant(ctx context.Context, tenant, id, reason string, fn func(*Participant) error) (Participant, error)
	ListParticipants(ctx context.Context, tenant string, f ParticipantFilter, page Page) ([]Participant, error)
}
