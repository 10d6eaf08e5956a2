// Package events consumes the participant service's events into the
// matching service's projection of people, programs and participants. Each
// event is applied inside the consumer's transaction, which also records
// it in the inbox, so a redelivered event is applied once.
package events

import (
	"context"
	"database/sql"
	"log/slog"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/services/matching/engine"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

// ConsumerName is the durable consumer of the matching service and its
// inbox key.
const ConsumerName = "matching"

// FilterSubject selects every event of every tenant, without the stream's
// subject prefix. The machine's NATS server takes one filter subject per
// consumer, so the handler picks the person, program and participant
// events itself and ignores the rest.
const FilterSubject = "*.>"

// CloudEvents types the projection applies.
const (
	TypePersonCreated        = "tandem.person.created"
	TypePersonUpdated        = "tandem.person.updated"
	TypePersonErased         = "tandem.person.erased"
	TypeProgramCreated       = "tandem.program.created"
	TypeProgramUpdated       = "tandem.program.updated"
	TypeProgramStateChanged  = "tandem.program.state_changed"
	TypeParticipantEnrolled  = "tandem.participant.enrolled"
	TypeParticipantUpdated   = "tandem.participant.updated"
	TypeParticipantWithdrawn = "tandem.participant.withdrawn"
)

// Projector writes the projection inside the consumer's transaction.
type Projector interface {
	ApplyPerson(ctx context.Context, tx *sql.Tx, tenant string, p matching.Person) error
	ErasePerson(ctx context.Context, tx *sql.Tx, tenant, personID string) error
	ApplyProgram(ctx context.Context, tx *sql.Tx, tenant string, p matching.Program) error
	ApplyParticipant(ctx context.Context, tx *sql.Tx, tenant string, p matching.Participant) error
}

// Handler returns the consumer's handler: it decodes each event it knows
// and applies it to p. An event that can never be applied, because its
// payload is unreadable or incomplete, is logged and skipped rather than
// retried: redelivering it would fail the same way. Other event types
// (the matching service's own among them) are ignored.
func Handler(p Projector, log *slog.Logger) eventbus.Handler {
	return func(ctx context.Context, tx *sql.Tx, m eventbus.Message) error {
		skip := func(why string, err error) error {
			log.ErrorContext(ctx, "matching: skipping "+why+" event", "event_id", m.ID, "type", m.Type, "error", err)
			return nil
		}
		switch m.Type {
		case TypePersonCreated, TypePersonUpdated:
			var msg eventsv1.PersonUpdated // PersonCreated has the same shape
			if err := proto.Unmarshal(m.Data, &msg); err != nil {
				return skip("unreadable", err)
			}
			person := personFromPB(msg.GetPerson())
			if err := person.Validate(); err != nil {
				return skip("incomplete", err)
			}
			if person.Erased {
				return p.ErasePerson(ctx, tx, m.Tenant, person.ID)
			}
			return p.ApplyPerson(ctx, tx, m.Tenant, person)
		case TypePersonErased:
			var msg eventsv1.PersonErased
			if err := proto.Unmarshal(m.Data, &msg); err != nil {
				return skip("unreadable", err)
			}
			if msg.GetPersonId() == "" {
				return skip("incomplete", nil)
			}
			return p.ErasePerson(ctx, tx, m.Tenant, msg.GetPersonId())
		case TypeProgramCreated, TypeProgramUpdated, TypeProgramStateChanged:
			var msg eventsv1.ProgramStateChanged // the program is field 1 of all three
			if err := proto.Unmarshal(m.Data, &msg); err != nil {
				return skip("unreadable", err)
			}
			program := programFromPB(msg.GetProgram())
			if err := program.Validate(); err != nil {
				return skip("incomplete", err)
			}
			return p.ApplyProgram(ctx, tx, m.Tenant, program)
		case TypeParticipantEnrolled, TypeParticipantUpdated, TypeParticipantWithdrawn:
			var msg eventsv1.ParticipantWithdrawn // the participant is field 1 of all three
			if err := proto.Unmarshal(m.Data, &msg); err != nil {
				return skip("unreadable", err)
			}
			participant := participantFromPB(msg.GetParticipant())
			if err := participant.Validate(); err != nil {
				return skip("incomplete", err)
			}
			return p.ApplyParticipant(ctx, tx, m.Tenant, participant)
		default:
			return nil
		}
	}
}

var (
	statuses = map[participantv1.EmploymentStatus]matching.EmploymentStatus{
		participantv1.EmploymentStatus_EMPLOYMENT_STATUS_ACTIVE:     matching.EmploymentActive,
		participantv1.EmploymentStatus_EMPLOYMENT_STATUS_LEAVE:      matching.EmploymentLeave,
		participantv1.EmploymentStatus_EMPLOYMENT_STATUS_TERMINATED: matching.EmploymentTerminated,
	}
	programTypes = map[participantv1.ProgramType]matching.ProgramType{
		participantv1.ProgramType_PROGRAM_TYPE_REVERSE: matching.ProgramReverse,
		participantv1.ProgramType_PROGRAM_TYPE_CLASSIC: matching.ProgramClassic,
		participantv1.ProgramType_PROGRAM_TYPE_PEER:    matching.ProgramPeer,
		participantv1.ProgramType_PROGRAM_TYPE_GROUP:   matching.ProgramGroup,
	}
	programStates = map[participantv1.ProgramState]matching.ProgramState{
		participantv1.ProgramState_PROGRAM_STATE_DRAFT:     matching.ProgramDraft,
		participantv1.ProgramState_PROGRAM_STATE_ENROLLING: matching.ProgramEnrolling,
		participantv1.ProgramState_PROGRAM_STATE_MATCHING:  matching.ProgramMatching,
		participantv1.ProgramState_PROGRAM_STATE_ACTIVE:    matching.ProgramActive,
		participantv1.ProgramState_PROGRAM_STATE_COMPLETED: matching.ProgramCompleted,
		participantv1.ProgramState_PROGRAM_STATE_CANCELLED: matching.ProgramCancelled,
	}
	formats = map[participantv1.MeetingFormat]matching.Format{
		participantv1.MeetingFormat_MEETING_FORMAT_IN_PERSON: matching.FormatInPerson,
		participantv1.MeetingFormat_MEETING_FORMAT_REMOTE:    matching.FormatRemote,
		participantv1.MeetingFormat_MEETING_FORMAT_HYBRID:    matching.FormatHybrid,
	}
	roles = map[participantv1.ParticipantRole]matching.Role{
		participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR: matching.RoleMentor,
		participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE: matching.RoleMentee,
	}
	participantStates = map[participantv1.ParticipantState]matching.ParticipantState{
		participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED:  matching.ParticipantEnrolled,
		participantv1.ParticipantState_PARTICIPANT_STATE_WITHDRAWN: matching.ParticipantWithdrawn,
	}
)

func personFromPB(p *participantv1.Person) matching.Person {
	return matching.Person{
		ID:         p.GetId(),
		Department: p.GetDepartment(),
		Seniority:  int(p.GetSeniorityLevel()),
		ManagerID:  p.GetManagerId(),
		TimeZone:   p.GetTimeZone(),
		Languages:  p.GetLanguages(),
		Location:   p.GetLocation(),
		Status:     statuses[p.GetEmploymentStatus()],
		Erased:     p.GetErased(),
	}
}

func programFromPB(p *participantv1.Program) matching.Program {
	return matching.Program{
		ID:              p.GetId(),
		Type:            programTypes[p.GetType()],
		State:           programStates[p.GetState()],
		Format:          formats[p.GetFormat()],
		DefaultCapacity: int(p.GetDefaultMentorCapacity()),
		MaxCapacity:     int(p.GetMaxMentorCapacity()),
	}
}

func participantFromPB(p *participantv1.Participant) matching.Participant {
	out := matching.Participant{
		ID:                 p.GetId(),
		ProgramID:          p.GetProgramId(),
		PersonID:           p.GetPersonId(),
		Role:               roles[p.GetRole()],
		State:              participantStates[p.GetState()],
		WorkStyle:          p.GetWorkStyle(),
		CommunicationStyle: p.GetCommunicationStyle(),
		Motivation:         p.GetMotivation(),
		Format:             formats[p.GetPreferredFormat()],
		Capacity:           int(p.GetCapacity()),
		Prefer:             p.GetPreferPersonIds(),
		Avoid:              p.GetAvoidPersonIds(),
	}
	for _, c := range p.GetCompetencies() {
		if out.Competencies == nil {
			out.Competencies = map[string]int{}
		}
		out.Competencies[c.GetSkillId()] = int(c.GetLevel())
	}
	for _, d := range p.GetDevelopmentAreas() {
		out.Wants = append(out.Wants, engine.Want{Skill: d.GetSkillId(), Current: int(d.GetCurrentLevel()), Target: int(d.GetTargetLevel())})
	}
	return out
}
