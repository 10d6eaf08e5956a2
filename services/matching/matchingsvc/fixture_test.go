package matchingsvc_test

import (
	"context"
	"testing"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/servicetest"
)

// member is one person of a test program and their enrolment.
type member struct {
	id         string // participant id; the person id is "person-" + id
	mentor     bool
	seniority  int32
	department string
	manager    string // participant id of the manager's enrolment, or ""
	skills     map[string]int32
	wants      map[string]int32 // skill → target level
	capacity   int32
	avoid      []string // participant ids whose persons to avoid
}

func personID(participantID string) string { return "person-" + participantID }

// seed publishes a program in state ENROLLING and its members' people and
// enrolments, and waits until the projection has them all. It returns the
// program's epoch then.
func (s *service) seed(t testing.TB, tenant, programID string, typ participantv1.ProgramType, members []member) int64 {
	t.Helper()
	program := &participantv1.Program{Id: programID, Type: typ, State: participantv1.ProgramState_PROGRAM_STATE_ENROLLING,
		DefaultMentorCapacity: 1, MaxMentorCapacity: 5, ManagerSubjects: []string{servicetest.Subject(tenant)}}
	s.publish(t, tenant, "program", programID, "created", &eventsv1.ProgramCreated{Program: program}, "")
	for _, m := range members {
		person := &participantv1.Person{Id: personID(m.id), Department: m.department, SeniorityLevel: m.seniority,
			TimeZone: "Europe/Paris", Languages: []string{"en"}, EmploymentStatus: participantv1.EmploymentStatus_EMPLOYMENT_STATUS_ACTIVE,
			Subject: personID(m.id)}
		if m.manager != "" {
			person.ManagerId = personID(m.manager)
		}
		s.publish(t, tenant, "person", person.Id, "created", &eventsv1.PersonCreated{Person: person}, "")
	}
	for _, m := range members {
		s.publish(t, tenant, "participant", m.id, "enrolled", &eventsv1.ParticipantEnrolled{Participant: enrolment(programID, m)}, "")
	}
	want := int64(1 + len(members))
	s.waitEpoch(t, tenant, programID, want)
	return want
}

// enrolment is the participant message of a member.
func enrolment(programID string, m member) *participantv1.Participant {
	p := &participantv1.Participant{Id: m.id, ProgramId: programID, PersonId: personID(m.id),
		Role: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE, State: participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED,
		Capacity: m.capacity}
	if m.mentor {
		p.Role = participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR
	}
	for skill, level := range m.skills {
		p.Competencies = append(p.Competencies, &participantv1.Competency{SkillId: skill, Level: level})
	}
	for skill, target := range m.wants {
		p.DevelopmentAreas = append(p.DevelopmentAreas, &participantv1.DevelopmentArea{SkillId: skill, CurrentLevel: 1, TargetLevel: target})
	}
	for _, a := range m.avoid {
		p.AvoidPersonIds = append(p.AvoidPersonIds, personID(a))
	}
	return p
}

// asMember returns a context of the participant token of a member: its
// subject is the member's person id.
func (s *service) asMember(t *testing.T, tenant, participantID string) context.Context {
	t.Helper()
	return s.AsSubject(t, tenant, personID(participantID), auth.RoleParticipant)
}
