package participant

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// DefaultPageSize and MaxPageSize bound listings.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Service carries out the participant service's use cases. Callers pass the
// tenant of the verified caller; every lookup is scoped to it, so an id of
// another tenant is simply not found.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service over store.
func NewService(store Store) *Service {
	return &Service{store: store, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// EnsureTenant creates the tenant when it does not exist yet and returns it,
// reporting whether it was created.
func (s *Service) EnsureTenant(ctx context.Context, id, displayName string) (Tenant, bool, error) {
	if !validTenantID(id) {
		return Tenant{}, false, apperr.Invalid("tenant.id", "must be 1-63 lowercase letters, digits or '-', starting with a letter")
	}
	if displayName == "" {
		displayName = id
	}
	now := s.now()
	t := Tenant{ID: id, DisplayName: displayName, ReportingChainDepth: 2, MinReportGroupSize: 5, CreateTime: now, UpdateTime: now}
	return s.store.EnsureTenant(ctx, t)
}

// validTenantID accepts ids that are safe as a NATS subject token and a
// Redis key part.
func validTenantID(id string) bool {
	if len(id) == 0 || len(id) > 63 || id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for _, r := range id {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return false
		}
	}
	return true
}

// GetTenant returns the tenant.
func (s *Service) GetTenant(ctx context.Context, tenant string) (Tenant, error) {
	return s.store.GetTenant(ctx, tenant)
}

// UpdateTenant applies change to the tenant's settings.
func (s *Service) UpdateTenant(ctx context.Context, tenant string, change func(*Tenant) error) (Tenant, error) {
	return s.store.UpdateTenant(ctx, tenant, func(t *Tenant) error {
		before := *t
		if err := change(t); err != nil {
			return err
		}
		t.ID, t.CreateTime, t.UpdateTime = before.ID, before.CreateTime, s.now()
		return t.Validate()
	})
}

// CreatePerson adds p to the directory and returns it with its id.
func (s *Service) CreatePerson(ctx context.Context, tenant string, p Person) (Person, error) {
	p.ID = newID()
	p.CreateTime, p.UpdateTime = s.now(), s.now()
	if p.EmploymentStatus == "" {
		p.EmploymentStatus = EmploymentActive
	}
	if p.Subject == "" {
		p.Subject = p.Email
	}
	if err := p.Validate(); err != nil {
		return Person{}, err
	}
	if err := s.checkManager(ctx, tenant, p); err != nil {
		return Person{}, err
	}
	if err := s.store.CreatePerson(ctx, tenant, p); err != nil {
		return Person{}, err
	}
	return p, nil
}

func (s *Service) checkManager(ctx context.Context, tenant string, p Person) error {
	if p.ManagerID == "" {
		return nil
	}
	manager, err := s.store.GetPerson(ctx, tenant, p.ManagerID)
	if err != nil || manager.Erased {
		return apperr.Invalid("person.manager_id", "no person with this id")
	}
	// Walk up from the new manager: meeting p again would close a cycle.
	for depth := 0; manager.ManagerID != "" && depth < maxHierarchyDepth; depth++ {
		if manager.ManagerID == p.ID {
			return apperr.Invalid("person.manager_id", "would make a reporting cycle")
		}
		if manager, err = s.store.GetPerson(ctx, tenant, manager.ManagerID); err != nil {
			return nil // a dangling link above is not this change's fault
		}
	}
	return nil
}

// maxHierarchyDepth bounds walks up the reporting hierarchy.
const maxHierarchyDepth = 100

// GetPerson returns one person.
func (s *Service) GetPerson(ctx context.Context, tenant, id string) (Person, error) {
	return s.store.GetPerson(ctx, tenant, id)
}

// UpdatePerson applies change to a person; id and timestamps are kept.
func (s *Service) UpdatePerson(ctx context.Context, tenant, id string, change func(*Person) error) (Person, error) {
	return s.store.UpdatePerson(ctx, tenant, id, func(p *Person) error {
		before := *p
		if before.Erased {
			return fmt.Errorf("person %s was erased: %w", id, apperr.ErrFailedPrecondition)
		}
		if err := change(p); err != nil {
			return err
		}
		p.ID, p.Erased, p.CreateTime, p.UpdateTime = before.ID, false, before.CreateTime, s.now()
		if err := p.Validate(); err != nil {
			return err
		}
		if p.ManagerID != before.ManagerID {
			return s.checkManager(ctx, tenant, *p)
		}
		return nil
	})
}

// ListPeople returns one page of people ordered by id.
func (s *Service) ListPeople(ctx context.Context, tenant string, f PersonFilter, page Page) ([]Person, error) {
	return s.store.ListPeople(ctx, tenant, f, page.Clamped())
}

// CreateProgram defines a program in state draft.
func (s *Service) CreateProgram(ctx context.Context, tenant string, p Program) (Program, error) {
	p.ID = newID()
	p.State = ProgramDraft
	p.CreateTime, p.UpdateTime = s.now(), s.now()
	if p.DefaultMentorCapacity == 0 {
		p.DefaultMentorCapacity = 1
	}
	if err := p.Validate(); err != nil {
		return Program{}, err
	}
	if err := s.store.CreateProgram(ctx, tenant, p); err != nil {
		return Program{}, err
	}
	return p, nil
}

// GetProgram returns one program.
func (s *Service) GetProgram(ctx context.Context, tenant, id string) (Program, error) {
	return s.store.GetProgram(ctx, tenant, id)
}

// UpdateProgram applies change to a program's settings. Its type is fixed
// at creation and its state changes only through TransitionProgram.
func (s *Service) UpdateProgram(ctx context.Context, tenant, id string, change func(*Program) error) (Program, error) {
	return s.store.UpdateProgram(ctx, tenant, id, "", func(p *Program) error {
		before := *p
		if err := change(p); err != nil {
			return err
		}
		if p.Type != before.Type {
			return apperr.Invalid("program.type", "cannot change after creation")
		}
		if before.State == ProgramCompleted || before.State == ProgramCancelled {
			return fmt.Errorf("program %s is %s: %w", id, before.State, apperr.ErrFailedPrecondition)
		}
		p.ID, p.State, p.CreateTime, p.UpdateTime = before.ID, before.State, before.CreateTime, s.now()
		return p.Validate()
	})
}

// ListPrograms returns one page of programs ordered by id.
func (s *Service) ListPrograms(ctx context.Context, tenant string, f ProgramFilter, page Page) ([]Program, error) {
	return s.store.ListPrograms(ctx, tenant, f, page.Clamped())
}

// TransitionProgram moves a program to state to; an illegal move is
// FailedPrecondition and a cancellation needs a reason.
func (s *Service) TransitionProgram(ctx context.Context, tenant, id string, to ProgramState, reason string) (Program, error) {
	if to == ProgramCancelled && reason == "" {
		return Program{}, apperr.Invalid("reason", "required to cancel a program")
	}
	return s.store.UpdateProgram(ctx, tenant, id, reason, func(p *Program) error {
		if !CanTransition(p.State, to) {
			return fmt.Errorf("program %s cannot go from %s to %s: %w", id, p.State, to, apperr.ErrFailedPrecondition)
		}
		p.State, p.UpdateTime = to, s.now()
		return nil
	})
}

// enrollableStates are the program states in which participants may join.
var enrollableStates = []ProgramState{ProgramDraft, ProgramEnrolling, ProgramMatching}

// Enroll makes a person a participant of a program.
func (s *Service) Enroll(ctx context.Context, tenant string, p Participant) (Participant, error) {
	p.ID = newID()
	p.State = ParticipantEnrolled
	p.CreateTime, p.UpdateTime = s.now(), s.now()
	if err := p.Validate(); err != nil {
		return Participant{}, err
	}
	program, err := s.store.GetProgram(ctx, tenant, p.ProgramID)
	if err != nil {
		return Participant{}, err
	}
	if !slices.Contains(enrollableStates, program.State) {
		return Participant{}, fmt.Errorf("program %s is %s and takes no enrolments: %w", program.ID, program.State, apperr.ErrFailedPrecondition)
	}
	person, err := s.store.GetPerson(ctx, tenant, p.PersonID)
	if err != nil || person.Erased {
		return Participant{}, apperr.Invalid("participant.person_id", "no person with this id")
	}
	if err := s.checkSkills(ctx, tenant, p.Profile); err != nil {
		return Participant{}, err
	}
	if err := checkCapacity(program, p); err != nil {
		return Participant{}, err
	}
	if person.EmploymentStatus == EmploymentTerminated {
		return Participant{}, fmt.Errorf("person %s is no longer employed: %w", person.ID, apperr.ErrFailedPrecondition)
	}
	if err := s.store.CreateParticipant(ctx, tenant, p); err != nil {
		return Participant{}, err
	}
	return p, nil
}

// GetParticipant returns one participant.
func (s *Service) GetParticipant(ctx context.Context, tenant, id string) (Participant, error) {
	return s.store.GetParticipant(ctx, tenant, id)
}

// UpdateParticipant applies change to an enrolled participant's profile;
// program, person, role and state are fixed.
func (s *Service) UpdateParticipant(ctx context.Context, tenant, id string, change func(*Participant) error) (Participant, error) {
	return s.store.UpdateParticipant(ctx, tenant, id, "", func(p *Participant) error {
		before := *p
		if before.State != ParticipantEnrolled {
			return fmt.Errorf("participant %s is %s: %w", id, before.State, apperr.ErrFailedPrecondition)
		}
		if err := change(p); err != nil {
			return err
		}
		var vs apperr.Violations
		if p.ProgramID != before.ProgramID {
			vs.Add("participant.program_id", "cannot change; enrol in the other program instead")
		}
		if p.PersonID != before.PersonID {
			vs.Add("participant.person_id", "cannot change")
		}
		if p.Role != before.Role {
			vs.Add("participant.role", "cannot change; withdraw and enrol again")
		}
		if err := vs.Err(); err != nil {
			return err
		}
		p.ID, p.State, p.CreateTime, p.UpdateTime = before.ID, before.State, before.CreateTime, s.now()
		if err := p.Validate(); err != nil {
			return err
		}
		program, err := s.store.GetProgram(ctx, tenant, p.ProgramID)
		if err != nil {
			return err
		}
		if err := checkCapacity(program, *p); err != nil {
			return err
		}
		return s.checkSkills(ctx, tenant, p.Profile)
	})
}

// checkCapacity applies the program's capacity rule to a mentor.
func checkCapacity(program Program, p Participant) error {
	if p.Role == RoleMentor && program.MaxMentorCapacity != 0 && p.Profile.Capacity > program.MaxMentorCapacity {
		return apperr.Invalid("participant.capacity", fmt.Sprintf("program %s allows at most %d mentees per mentor", program.ID, program.MaxMentorCapacity))
	}
	return nil
}

// Withdraw takes a participant out of its program.
func (s *Service) Withdraw(ctx context.Context, tenant, id, reason string) (Participant, error) {
	return s.store.UpdateParticipant(ctx, tenant, id, reason, func(p *Participant) error {
		if p.State == ParticipantWithdrawn {
			return fmt.Errorf("participant %s already withdrawn: %w", id, apperr.ErrFailedPrecondition)
		}
		p.State, p.UpdateTime = ParticipantWithdrawn, s.now()
		return nil
	})
}

// ListParticipants returns one page of a program's participants.
func (s *Service) ListParticipants(ctx context.Context, tenant string, f ParticipantFilter, page Page) ([]Participant, error) {
	if _, err := s.store.GetProgram(ctx, tenant, f.ProgramID); err != nil {
		return nil, err
	}
	return s.store.ListParticipants(ctx, tenant, f, page.Clamped())
}

// Clamped returns p with its size defaulted and capped, as listings apply
// it; a listing that returns a full clamped page may have more.
func (p Page) Clamped() Page {
	if p.Size <= 0 {
		p.Size = DefaultPageSize
	}
	p.Size = min(p.Size, MaxPageSize)
	return p
}
