// Package pbconv converts between the participant domain and its protobuf
// messages, for the gRPC API and for event payloads.
package pbconv

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
)

var (
	programTypes = map[participantv1.ProgramType]participant.ProgramType{
		participantv1.ProgramType_PROGRAM_TYPE_REVERSE: participant.ProgramReverse,
		participantv1.ProgramType_PROGRAM_TYPE_CLASSIC: participant.ProgramClassic,
		participantv1.ProgramType_PROGRAM_TYPE_PEER:    participant.ProgramPeer,
		participantv1.ProgramType_PROGRAM_TYPE_GROUP:   participant.ProgramGroup,
	}
	programStates = map[participantv1.ProgramState]participant.ProgramState{
		participantv1.ProgramState_PROGRAM_STATE_DRAFT:     participant.ProgramDraft,
		participantv1.ProgramState_PROGRAM_STATE_ENROLLING: participant.ProgramEnrolling,
		participantv1.ProgramState_PROGRAM_STATE_MATCHING:  participant.ProgramMatching,
		participantv1.ProgramState_PROGRAM_STATE_ACTIVE:    participant.ProgramActive,
		participantv1.ProgramState_PROGRAM_STATE_COMPLETED: participant.ProgramCompleted,
		participantv1.ProgramState_PROGRAM_STATE_CANCELLED: participant.ProgramCancelled,
	}
	employment = map[participantv1.EmploymentStatus]participant.EmploymentStatus{
		participantv1.EmploymentStatus_EMPLOYMENT_STATUS_ACTIVE:     participant.EmploymentActive,
		participantv1.EmploymentStatus_EMPLOYMENT_STATUS_LEAVE:      participant.EmploymentLeave,
		participantv1.EmploymentStatus_EMPLOYMENT_STATUS_TERMINATED: participant.EmploymentTerminated,
	}
	roles = map[participantv1.ParticipantRole]participant.Role{
		participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR: participant.RoleMentor,
		participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE: participant.RoleMentee,
	}
	participantStates = map[participantv1.ParticipantState]participant.ParticipantState{
		participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED:  participant.ParticipantEnrolled,
		participantv1.ParticipantState_PARTICIPANT_STATE_WITHDRAWN: participant.ParticipantWithdrawn,
	}
)

// reverse inverts an enum table.
func reverse[K, V comparable](m map[K]V) map[V]K {
	r := make(map[V]K, len(m))
	for k, v := range m {
		r[v] = k
	}
	return r
}

var (
	programTypesPB      = reverse(programTypes)
	programStatesPB     = reverse(programStates)
	employmentPB        = reverse(employment)
	rolesPB             = reverse(roles)
	participantStatesPB = reverse(participantStates)
)

// ProgramState converts a protobuf program state ("" for UNSPECIFIED).
func ProgramState(s participantv1.ProgramState) participant.ProgramState { return programStates[s] }

// Role converts a protobuf role ("" for UNSPECIFIED).
func Role(r participantv1.ParticipantRole) participant.Role { return roles[r] }

// ParticipantState converts a protobuf participant state ("" for UNSPECIFIED).
func ParticipantState(s participantv1.ParticipantState) participant.ParticipantState {
	return participantStates[s]
}

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func fromTS(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime().UTC()
}

// Tenant converts a domain tenant.
func Tenant(t participant.Tenant) *participantv1.Tenant {
	return &participantv1.Tenant{
		Id:                  t.ID,
		DisplayName:         t.DisplayName,
		ReportingChainDepth: int32(t.ReportingChainDepth),
		MinReportGroupSize:  int32(t.MinReportGroupSize),
		CreateTime:          ts(t.CreateTime),
		UpdateTime:          ts(t.UpdateTime),
	}
}

// TenantFromPB converts a protobuf tenant.
func TenantFromPB(t *participantv1.Tenant) participant.Tenant {
	return participant.Tenant{
		ID:                  t.GetId(),
		DisplayName:         t.GetDisplayName(),
		ReportingChainDepth: int(t.GetReportingChainDepth()),
		MinReportGroupSize:  int(t.GetMinReportGroupSize()),
		CreateTime:          fromTS(t.GetCreateTime()),
		UpdateTime:          fromTS(t.GetUpdateTime()),
	}
}

// Person converts a domain person.
func Person(p participant.Person) *participantv1.Person {
	return &participantv1.Person{
		Id:               p.ID,
		HrisId:           p.HRISID,
		DisplayName:      p.DisplayName,
		Email:            p.Email,
		Department:       p.Department,
		Title:            p.Title,
		SeniorityLevel:   int32(p.SeniorityLevel),
		ManagerId:        p.ManagerID,
		HireDate:         p.HireDate,
		PromotionDate:    p.PromotionDate,
		Location:         p.Location,
		TimeZone:         p.TimeZone,
		Languages:        p.Languages,
		EmploymentStatus: employmentPB[p.EmploymentStatus],
		CreateTime:       ts(p.CreateTime),
		UpdateTime:       ts(p.UpdateTime),
		Subject:          p.Subject,
		Erased:           p.Erased,
	}
}

// PersonFromPB converts a protobuf person.
func PersonFromPB(p *participantv1.Person) participant.Person {
	return participant.Person{
		ID:               p.GetId(),
		HRISID:           p.GetHrisId(),
		DisplayName:      p.GetDisplayName(),
		Email:            p.GetEmail(),
		Department:       p.GetDepartment(),
		Title:            p.GetTitle(),
		SeniorityLevel:   int(p.GetSeniorityLevel()),
		ManagerID:        p.GetManagerId(),
		HireDate:         p.GetHireDate(),
		PromotionDate:    p.GetPromotionDate(),
		Location:         p.GetLocation(),
		TimeZone:         p.GetTimeZone(),
		Languages:        p.GetLanguages(),
		EmploymentStatus: employment[p.GetEmploymentStatus()],
		CreateTime:       fromTS(p.GetCreateTime()),
		UpdateTime:       fromTS(p.GetUpdateTime()),
		Subject:          p.GetSubject(),
		Erased:           p.GetErased(),
	}
}

// Program converts a domain program.
func Program(p participant.Program) *participantv1.Program {
	return &participantv1.Program{
		Id:                    p.ID,
		DisplayName:           p.DisplayName,
		Description:           p.Description,
		Type:                  programTypesPB[p.Type],
		State:                 programStatesPB[p.State],
		Goals:                 p.Goals,
		SuccessMetrics:        p.SuccessMetrics,
		DurationWeeks:         int32(p.DurationWeeks),
		MeetingCadence:        participantv1.MeetingCadence(participantv1.MeetingCadence_value[p.MeetingCadence]),
		Format:                participantv1.MeetingFormat(participantv1.MeetingFormat_value[p.Format]),
		EnrollmentOpenTime:    ts(p.EnrollmentOpenTime),
		EnrollmentCloseTime:   ts(p.EnrollmentCloseTime),
		DefaultMentorCapacity: int32(p.DefaultMentorCapacity),
		MaxMentorCapacity:     int32(p.MaxMentorCapacity),
		ManagerSubjects:       p.ManagerSubjects,
		ScoringConfigId:       p.ScoringConfigID,
		Pilot:                 p.Pilot,
		CreateTime:            ts(p.CreateTime),
		UpdateTime:            ts(p.UpdateTime),
	}
}

// enumName returns the name of a set enum value, "" for UNSPECIFIED.
func enumName(name string, value int32) string {
	if value == 0 {
		return ""
	}
	return name
}

// ProgramFromPB converts a protobuf program.
func ProgramFromPB(p *participantv1.Program) participant.Program {
	return participant.Program{
		ID:                    p.GetId(),
		DisplayName:           p.GetDisplayName(),
		Description:           p.GetDescription(),
		Type:                  programTypes[p.GetType()],
		State:                 programStates[p.GetState()],
		Goals:                 p.GetGoals(),
		SuccessMetrics:        p.GetSuccessMetrics(),
		DurationWeeks:         int(p.GetDurationWeeks()),
		MeetingCadence:        enumName(p.GetMeetingCadence().String(), int32(p.GetMeetingCadence())),
		Format:                enumName(p.GetFormat().String(), int32(p.GetFormat())),
		EnrollmentOpenTime:    fromTS(p.GetEnrollmentOpenTime()),
		EnrollmentCloseTime:   fromTS(p.GetEnrollmentCloseTime()),
		DefaultMentorCapacity: int(p.GetDefaultMentorCapacity()),
		MaxMentorCapacity:     int(p.GetMaxMentorCapacity()),
		ManagerSubjects:       p.GetManagerSubjects(),
		ScoringConfigID:       p.GetScoringConfigId(),
		Pilot:                 p.GetPilot(),
		CreateTime:            fromTS(p.GetCreateTime()),
		UpdateTime:            fromTS(p.GetUpdateTime()),
	}
}

// Participant converts a domain participant.
func Participant(p participant.Participant) *participantv1.Participant {
	out := &participantv1.Participant{
		Id:                 p.ID,
		ProgramId:          p.ProgramID,
		PersonId:           p.PersonID,
		Role:               rolesPB[p.Role],
		State:              participantStatesPB[p.State],
		WorkStyle:          p.Profile.WorkStyle,
		CommunicationStyle: p.Profile.CommunicationStyle,
		Motivation:         p.Profile.Motivation,
		PreferredFormat:    participantv1.MeetingFormat(participantv1.MeetingFormat_value[p.Profile.PreferredFormat]),
		Capacity:           int32(p.Profile.Capacity),
		PreferPersonIds:    p.Profile.PreferPersonIDs,
		AvoidPersonIds:     p.Profile.AvoidPersonIDs,
		CreateTime:         ts(p.CreateTime),
		UpdateTime:         ts(p.UpdateTime),
	}
	for _, c := range p.Profile.Competencies {
		out.Competencies = append(out.Competencies, &participantv1.Competency{SkillId: c.SkillID, Level: int32(c.Level)})
	}
	for _, d := range p.Profile.DevelopmentAreas {
		out.DevelopmentAreas = append(out.DevelopmentAreas, &participantv1.DevelopmentArea{
			SkillId: d.SkillID, CurrentLevel: int32(d.CurrentLevel), TargetLevel: int32(d.TargetLevel),
		})
	}
	return out
}

// ParticipantFromPB converts a protobuf participant.
func ParticipantFromPB(p *participantv1.Participant) participant.Participant {
	out := participant.Participant{
		ID:        p.GetId(),
		ProgramID: p.GetProgramId(),
		PersonID:  p.GetPersonId(),
		Role:      roles[p.GetRole()],
		State:     participantStates[p.GetState()],
		Profile: participant.Profile{
			WorkStyle:          p.GetWorkStyle(),
			CommunicationStyle: p.GetCommunicationStyle(),
			Motivation:         p.GetMotivation(),
			PreferredFormat:    enumName(p.GetPreferredFormat().String(), int32(p.GetPreferredFormat())),
			Capacity:           int(p.GetCapacity()),
			PreferPersonIDs:    p.GetPreferPersonIds(),
			AvoidPersonIDs:     p.GetAvoidPersonIds(),
		},
		CreateTime: fromTS(p.GetCreateTime()),
		UpdateTime: fromTS(p.GetUpdateTime()),
	}
	for _, c := range p.GetCompetencies() {
		out.Profile.Competencies = append(out.Profile.Competencies, participant.Competency{SkillID: c.GetSkillId(), Level: int(c.GetLevel())})
	}
	for _, d := range p.GetDevelopmentAreas() {
		out.Profile.DevelopmentAreas = append(out.Profile.DevelopmentAreas, participant.DevelopmentArea{
			SkillID: d.GetSkillId(), CurrentLevel: int(d.GetCurrentLevel()), TargetLevel: int(d.GetTargetLevel()),
		})
	}
	return out
}

// Skill converts a domain skill.
func Skill(s participant.Skill) *participantv1.Skill {
	return &participantv1.Skill{Id: s.ID, DisplayName: s.DisplayName, Category: s.Category, Description: s.Description,
		CreateTime: ts(s.CreateTime), UpdateTime: ts(s.UpdateTime)}
}

// SkillFromPB converts a protobuf skill.
func SkillFromPB(s *participantv1.Skill) participant.Skill {
	return participant.Skill{ID: s.GetId(), DisplayName: s.GetDisplayName(), Category: s.GetCategory(), Description: s.GetDescription(),
		CreateTime: fromTS(s.GetCreateTime()), UpdateTime: fromTS(s.GetUpdateTime())}
}
