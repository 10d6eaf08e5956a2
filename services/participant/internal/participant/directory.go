package participant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// UpsertPerson creates the person with p's HRIS id, or updates it when a
// field differs; it reports whether anything changed. An erased person's
// HRIS id is not revived.
func (s *Service) UpsertPerson(ctx context.Context, tenant string, p Person) (Person, bool, error) {
	if strings.TrimSpace(p.HRISID) == "" {
		return Person{}, false, apperr.Invalid("person.hris_id", "required to upsert")
	}
	existing, err := s.store.PersonByHRISID(ctx, tenant, p.HRISID)
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return Person{}, false, err
	}
	if err != nil {
		created, err := s.CreatePerson(ctx, tenant, p)
		return created, err == nil, err
	}
	if existing.Erased {
		return Person{}, false, fmt.Errorf("person with hris_id %q was erased: %w", p.HRISID, apperr.ErrFailedPrecondition)
	}
	if p.EmploymentStatus == "" {
		p.EmploymentStatus = existing.EmploymentStatus
	}
	if p.Subject == "" {
		p.Subject = p.Email
	}
	p.ID, p.CreateTime, p.UpdateTime = existing.ID, existing.CreateTime, existing.UpdateTime
	if samePerson(existing, p) {
		return existing, false, nil
	}
	updated, err := s.UpdatePerson(ctx, tenant, existing.ID, func(cur *Person) error {
		*cur = p
		return nil
	})
	return updated, err == nil, err
}

// samePerson compares every writable field.
func samePerson(a, b Person) bool {
	a.CreateTime, a.UpdateTime, b.CreateTime, b.UpdateTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a.ID == b.ID && a.HRISID == b.HRISID && a.DisplayName == b.DisplayName && a.Email == b.Email &&
		a.Department == b.Department && a.Title == b.Title && a.SeniorityLevel == b.SeniorityLevel &&
		a.ManagerID == b.ManagerID && a.HireDate == b.HireDate && a.PromotionDate == b.PromotionDate &&
		a.Location == b.Location && a.TimeZone == b.TimeZone && slices.Equal(a.Languages, b.Languages) &&
		a.EmploymentStatus == b.EmploymentStatus && a.Subject == b.Subject && a.Erased == b.Erased
}

// MaxReportingChainDepth bounds GetReportingChain.
const MaxReportingChainDepth = 20

// ReportingChain returns the ids of a person's managers, direct manager
// first, up to depth levels (0: the tenant's setting). It stops at the top
// of the hierarchy and at a cycle in the data.
func (s *Service) ReportingChain(ctx context.Context, tenant, id string, depth int) ([]string, error) {
	if depth == 0 {
		t, err := s.store.GetTenant(ctx, tenant)
		if err != nil {
			return nil, err
		}
		depth = t.ReportingChainDepth
	}
	depth = min(depth, MaxReportingChainDepth)
	p, err := s.store.GetPerson(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	chain := []string{}
	for len(chain) < depth && p.ManagerID != "" && p.ManagerID != id && !slices.Contains(chain, p.ManagerID) {
		chain = append(chain, p.ManagerID)
		if p, err = s.store.GetPerson(ctx, tenant, p.ManagerID); err != nil {
			if errors.Is(err, apperr.ErrNotFound) {
				break
			}
			return nil, err
		}
	}
	return chain, nil
}

// SelfEnroll enrols the caller whose login is subject: only in a program
// that is ENROLLING, inside its enrolment window, and only as themselves.
func (s *Service) SelfEnroll(ctx context.Context, tenant, subject string, p Participant) (Participant, error) {
	people, err := s.store.PeopleBySubject(ctx, tenant, subject)
	if err != nil {
		return Participant{}, err
	}
	switch {
	case len(people) == 0:
		return Participant{}, fmt.Errorf("no person in the directory has your login %q: %w", subject, apperr.ErrPermissionDenied)
	case len(people) > 1:
		return Participant{}, fmt.Errorf("%d people share your login %q; ask HR to fix the directory: %w", len(people), subject, apperr.ErrFailedPrecondition)
	}
	if p.PersonID == "" {
		p.PersonID = people[0].ID
	}
	if p.PersonID != people[0].ID {
		return Participant{}, fmt.Errorf("participants can enrol only themselves: %w", apperr.ErrPermissionDenied)
	}
	program, err := s.store.GetProgram(ctx, tenant, p.ProgramID)
	if err != nil {
		return Participant{}, err
	}
	now := s.now()
	switch {
	case program.State != ProgramEnrolling:
		return Participant{}, fmt.Errorf("program %s is not open for enrolment (it is %s): %w", program.ID, program.State, apperr.ErrFailedPrecondition)
	case !program.EnrollmentOpenTime.IsZero() && now.Before(program.EnrollmentOpenTime):
		return Participant{}, fmt.Errorf("enrolment opens at %s: %w", program.EnrollmentOpenTime.Format(time.RFC3339), apperr.ErrFailedPrecondition)
	case !program.EnrollmentCloseTime.IsZero() && !now.Before(program.EnrollmentCloseTime):
		return Participant{}, fmt.Errorf("enrolment closed at %s: %w", program.EnrollmentCloseTime.Format(time.RFC3339), apperr.ErrFailedPrecondition)
	}
	return s.Enroll(ctx, tenant, p)
}

// checkSkills refuses competencies and development areas naming skills
// that are not in the tenant's catalogue.
func (s *Service) checkSkills(ctx context.Context, tenant string, pr Profile) error {
	var ids []string
	for _, c := range pr.Competencies {
		ids = append(ids, c.SkillID)
	}
	for _, d := range pr.DevelopmentAreas {
		ids = append(ids, d.SkillID)
	}
	if len(ids) == 0 {
		return nil
	}
	missing, err := s.store.MissingSkills(ctx, tenant, ids)
	if err != nil || len(missing) == 0 {
		return err
	}
	var vs apperr.Violations
	for i, c := range pr.Competencies {
		if slices.Contains(missing, c.SkillID) {
			vs.Add(fmt.Sprintf("participant.competencies[%d].skill_id", i), fmt.Sprintf("unknown skill %q: add it to the skills catalogue first", c.SkillID))
		}
	}
	for i, d := range pr.DevelopmentAreas {
		if slices.Contains(missing, d.SkillID) {
			vs.Add(fmt.Sprintf("participant.development_areas[%d].skill_id", i), fmt.Sprintf("unknown skill %q: add it to the skills catalogue first", d.SkillID))
		}
	}
	return vs.Err()
}

// CreateSkill adds a skill to the catalogue.
func (s *Service) CreateSkill(ctx context.Context, tenant string, sk Skill) (Skill, error) {
	sk.CreateTime, sk.UpdateTime = s.now(), s.now()
	if err := sk.Validate(); err != nil {
		return Skill{}, err
	}
	if err := s.store.CreateSkill(ctx, tenant, sk); err != nil {
		return Skill{}, err
	}
	return sk, nil
}

// UpdateSkill applies change to a skill; its id is fixed.
func (s *Service) UpdateSkill(ctx context.Context, tenant, id string, change func(*Skill) error) (Skill, error) {
	return s.store.UpdateSkill(ctx, tenant, id, func(sk *Skill) error {
		before := *sk
		if err := change(sk); err != nil {
			return err
		}
		sk.ID, sk.CreateTime, sk.UpdateTime = before.ID, before.CreateTime, s.now()
		return sk.Validate()
	})
}

// ListSkills returns one page of the catalogue ordered by id.
func (s *Service) ListSkills(ctx context.Context, tenant string, f SkillFilter, page Page) ([]Skill, error) {
	return s.store.ListSkills(ctx, tenant, f, page.Clamped())
}

// ExportPerson returns everything held about a person. The access is
// audited first: without an audit record there is no export.
func (s *Service) ExportPerson(ctx context.Context, tenant, actor, id, reason string) (Person, []Participant, time.Time, error) {
	if strings.TrimSpace(reason) == "" {
		return Person{}, nil, time.Time{}, apperr.Invalid("reason", "required: it is recorded in the audit trail")
	}
	p, err := s.store.GetPerson(ctx, tenant, id)
	if err != nil {
		return Person{}, nil, time.Time{}, err
	}
	now := s.now()
	if err := s.store.RecordAudit(ctx, tenant, AuditEntry{Actor: actor, Action: "person_exported", ResourceType: "person",
		ResourceID: id, Reason: reason, Time: now}); err != nil {
		return Person{}, nil, time.Time{}, err
	}
	parts, err := s.store.ParticipationsOf(ctx, tenant, id)
	if err != nil {
		return Person{}, nil, time.Time{}, err
	}
	return p, parts, now, nil
}

// ErasePerson removes a person's personal data for good (see
// Store.ErasePerson); the act is audited.
func (s *Service) ErasePerson(ctx context.Context, tenant, actor, id, reason string) (Erasure, error) {
	if strings.TrimSpace(reason) == "" {
		return Erasure{}, apperr.Invalid("reason", "required: it is recorded in the audit trail")
	}
	return s.store.ErasePerson(ctx, tenant, id, AuditEntry{Actor: actor, Action: "person_erased", ResourceType: "person",
		ResourceID: id, Reason: reason, Time: s.now()})
}

// ParticipationsOf lists every participation of a person.
func (s *Service) ParticipationsOf(ctx context.Context, tenant, personID string) ([]Participant, error) {
	return s.store.ParticipationsOf(ctx, tenant, personID)
}

// PersonID returns the person whose login is subject, or "" when nobody
// (or more than one person) has it. With Manages it answers the object
// rules of the API.
func (s *Service) PersonID(ctx context.Context, tenant, subject string) (string, error) {
	people, err := s.store.PeopleBySubject(ctx, tenant, subject)
	if err != nil || len(people) != 1 {
		return "", err
	}
	return people[0].ID, nil
}

// ProgramExists reports whether the tenant has the program.
func (s *Service) ProgramExists(ctx context.Context, tenant, id string) (bool, error) {
	_, err := s.store.GetProgram(ctx, tenant, id)
	if errors.Is(err, apperr.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// PersonExists reports whether the tenant has the (not erased) person.
func (s *Service) PersonExists(ctx context.Context, tenant, id string) (bool, error) {
	p, err := s.store.GetPerson(ctx, tenant, id)
	if errors.Is(err, apperr.ErrNotFound) {
		return false, nil
	}
	return err == nil && !p.Erased, err
}

// Manages reports whether subject is one of the program's managers; an
// unknown program is NotFound.
func (s *Service) Manages(ctx context.Context, tenant, programID, subject string) (bool, error) {
	p, err := s.store.GetProgram(ctx, tenant, programID)
	if err != nil {
		return false, err
	}
	return slices.Contains(p.ManagerSubjects, subject), nil
}
