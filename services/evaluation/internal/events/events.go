// Package events consumes the domain events the evaluation service builds
// its projections from: the directory's people, participants, matches and
// sessions, and the service's own events, so that replaying the stream
// into an empty database rebuilds every record the reports use. Each event
// is applied inside the consumer's transaction, which also records it in
// the inbox, so a redelivered event is applied once; events that may
// change a pair's health re-evaluate it in the same transaction.
package events

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	"github.com/tandem-oss/tandem/services/evaluation/internal/pbconv"
)

// ConsumerName is the default durable consumer of the evaluation service
// and its inbox key.
const ConsumerName = "evaluation"

// FilterSubject selects every event of every tenant; the handler picks the
// ones it applies (the machine's NATS takes one filter per consumer).
const FilterSubject = "*.>"

// errSkip marks an event that can never be applied.
type errSkip string

func (e errSkip) Error() string { return string(e) }

// apply applies one decoded event; now is the service's clock.
type apply func(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, now time.Time) error

// handlers maps each CloudEvents type the service applies to its handler.
var handlers = map[string]apply{
	"tandem.person.created":        person,
	"tandem.person.updated":        person,
	"tandem.person.erased":         erased,
	"tandem.participant.enrolled":  participant,
	"tandem.participant.updated":   participant,
	"tandem.participant.withdrawn": participant,
	"tandem.match.proposed":        match,
	"tandem.match.accepted":        match,
	"tandem.match.activated":       match,
	"tandem.match.declined":        match,
	"tandem.match.ended":           match,
	"tandem.session.proposed":      session,
	"tandem.session.confirmed":     session,
	"tandem.session.rescheduled":   session,
	"tandem.session.cancelled":     session,
	"tandem.session.completed":     session,
	"tandem.session.no_show":       session,

	"tandem.evaluation_settings.updated": settings,
	"tandem.agreement.created":           agreement,
	"tandem.agreement.updated":           agreement,
	"tandem.agreement.signed":            agreement,
	"tandem.goal.created":                goal,
	"tandem.goal.updated":                goal,
	"tandem.feedback.submitted":          feedback,
	"tandem.pulse_response.submitted":    pulse,
	"tandem.self_assessment.submitted":   assessment,
}

// Handler returns the consumer's handler. An event that can never be
// applied (unreadable or incomplete payload) is logged and skipped rather
// than retried: redelivering it would fail the same way. Other event types
// are ignored.
func Handler(p evaluation.Projector, now func() time.Time, log *slog.Logger) eventbus.Handler {
	return func(ctx context.Context, tx *sql.Tx, m eventbus.Message) error {
		h, ok := handlers[m.Type]
		if !ok {
			return nil
		}
		m.Time = m.Time.UTC().Truncate(time.Microsecond) // the precision PostgreSQL keeps
		err := h(ctx, tx, p, m, now().UTC().Truncate(time.Microsecond))
		if skip, ok := err.(errSkip); ok {
			log.ErrorContext(ctx, "evaluation: skipping event", "event_id", m.ID, "type", m.Type, "reason", string(skip))
			return nil
		}
		return err
	}
}

// decode reads m's payload into msg.
func decode(m eventbus.Message, msg proto.Message) error {
	if err := proto.Unmarshal(m.Data, msg); err != nil {
		return errSkip("unreadable payload: " + err.Error())
	}
	return nil
}

var employment = map[participantv1.EmploymentStatus]evaluation.Employment{
	participantv1.EmploymentStatus_EMPLOYMENT_STATUS_ACTIVE:     evaluation.EmploymentActive,
	participantv1.EmploymentStatus_EMPLOYMENT_STATUS_LEAVE:      evaluation.EmploymentLeave,
	participantv1.EmploymentStatus_EMPLOYMENT_STATUS_TERMINATED: evaluation.EmploymentTerminated,
}

func person(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, _ time.Time) error {
	var msg eventsv1.PersonUpdated // the person is field 1 of created and updated
	if err := decode(m, &msg); err != nil {
		return err
	}
	pb := msg.GetPerson()
	if pb.GetId() == "" {
		return errSkip("no person id")
	}
	ps := evaluation.Person{
		ID: pb.GetId(), Department: pb.GetDepartment(), Seniority: int(pb.GetSeniorityLevel()),
		Employment: employment[pb.GetEmploymentStatus()], Erased: pb.GetErased(), EventTime: m.Time,
	}
	if ps.Employment == evaluation.EmploymentTerminated {
		ps.TerminateTime = m.Time
	}
	return p.ApplyPerson(ctx, tx, m.Tenant, ps)
}

func erased(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, _ time.Time) error {
	var msg eventsv1.PersonErased
	if err := decode(m, &msg); err != nil {
		return err
	}
	if msg.GetPersonId() == "" {
		return errSkip("no person id")
	}
	return p.ErasePerson(ctx, tx, m.Tenant, msg.GetPersonId())
}

var (
	roles = map[participantv1.ParticipantRole]evaluation.Role{
		participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR: evaluation.RoleMentor,
		participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE: evaluation.RoleMentee,
	}
	participantStates = map[participantv1.ParticipantState]evaluation.ParticipantState{
		participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED:  evaluation.ParticipantEnrolled,
		participantv1.ParticipantState_PARTICIPANT_STATE_WITHDRAWN: evaluation.ParticipantWithdrawn,
	}
)

func participant(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, _ time.Time) error {
	var msg eventsv1.ParticipantWithdrawn // the participant is field 1 of all three
	if err := decode(m, &msg); err != nil {
		return err
	}
	pb := msg.GetParticipant()
	pt := evaluation.Participant{
		ID: pb.GetId(), ProgramID: pb.GetProgramId(), PersonID: pb.GetPersonId(),
		Role: roles[pb.GetRole()], State: participantStates[pb.GetState()], EventTime: m.Time,
	}
	for _, d := range pb.GetDevelopmentAreas() {
		pt.DevelopmentSkills = append(pt.DevelopmentSkills, d.GetSkillId())
	}
	switch pt.State {
	case evaluation.ParticipantEnrolled:
		pt.EnrolTime = m.Time
	case evaluation.ParticipantWithdrawn:
		pt.WithdrawTime = m.Time
	}
	if err := pt.Validate(); err != nil {
		return errSkip(err.Error())
	}
	return p.ApplyParticipant(ctx, tx, m.Tenant, pt)
}

var matchStates = map[matchingv1.MatchState]evaluation.MatchState{
	matchingv1.MatchState_MATCH_STATE_PROPOSED: evaluation.MatchProposed,
	matchingv1.MatchState_MATCH_STATE_ACCEPTED: evaluation.MatchAccepted,
	matchingv1.MatchState_MATCH_STATE_ACTIVE:   evaluation.MatchActive,
	matchingv1.MatchState_MATCH_STATE_DECLINED: evaluation.MatchDeclined,
	matchingv1.MatchState_MATCH_STATE_ENDED:    evaluation.MatchEnded,
}

func match(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, now time.Time) error {
	var msg eventsv1.MatchEnded // the match is field 1 of all five
	if err := decode(m, &msg); err != nil {
		return err
	}
	pb := msg.GetMatch()
	mt := evaluation.Match{
		ID: pb.GetId(), ProgramID: pb.GetProgramId(),
		MentorParticipantID: pb.GetMentorParticipantId(), MenteeParticipantID: pb.GetMenteeParticipantId(),
		MentorPersonID: pb.GetMentorPersonId(), MenteePersonID: pb.GetMenteePersonId(),
		State: matchStates[pb.GetState()], Score: pb.GetScore(), EventTime: m.Time,
	}
	if mt.ID == "" || mt.ProgramID == "" || mt.MentorPersonID == "" || mt.MenteePersonID == "" || mt.State == "" {
		return errSkip("match without id, program, people or state")
	}
	switch mt.State {
	case evaluation.MatchProposed:
		mt.ProposeTime = m.Time
	case evaluation.MatchAccepted:
		mt.AcceptTime = m.Time
	case evaluation.MatchActive:
		mt.AcceptTime, mt.ActivateTime = m.Time, m.Time
	case evaluation.MatchDeclined:
		mt.DeclineTime = m.Time
	case evaluation.MatchEnded:
		mt.EndTime = m.Time
	}
	if err := p.ApplyMatch(ctx, tx, m.Tenant, mt); err != nil {
		return err
	}
	return p.RefreshHealth(ctx, tx, m.Tenant, mt.ID, now)
}

var sessionStates = map[schedulingv1.SessionState]evaluation.SessionState{
	schedulingv1.SessionState_SESSION_STATE_PROPOSED:  evaluation.SessionProposed,
	schedulingv1.SessionState_SESSION_STATE_CONFIRMED: evaluation.SessionConfirmed,
	schedulingv1.SessionState_SESSION_STATE_CANCELLED: evaluation.SessionCancelled,
	schedulingv1.SessionState_SESSION_STATE_COMPLETED: evaluation.SessionCompleted,
	schedulingv1.SessionState_SESSION_STATE_NO_SHOW:   evaluation.SessionNoShow,
}

func session(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, now time.Time) error {
	var msg eventsv1.SessionCompleted // the session is field 1 of every session event
	if err := decode(m, &msg); err != nil {
		return err
	}
	pb := msg.GetSession()
	s := evaluation.Session{
		ID: pb.GetId(), MatchID: pb.GetMatchId(), State: sessionStates[pb.GetState()],
		StartTime: pbconv.FromTS(pb.GetStartTime()), EndTime: pbconv.FromTS(pb.GetEndTime()), EventTime: m.Time,
	}
	if s.ID == "" || s.MatchID == "" || s.State == "" {
		return errSkip("session without id, match or state")
	}
	switch s.State {
	case evaluation.SessionCompleted:
		s.CompleteTime = m.Time
	case evaluation.SessionCancelled:
		s.CancelTime, s.CancelledBy = m.Time, pb.GetCancelledByPersonId()
	}
	if err := p.ApplySession(ctx, tx, m.Tenant, s); err != nil {
		return err
	}
	if s.State != evaluation.SessionCompleted && s.State != evaluation.SessionCancelled {
		return nil // health counts held and cancelled sessions only
	}
	return p.RefreshHealth(ctx, tx, m.Tenant, s.MatchID, now)
}

func settings(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, _ time.Time) error {
	var msg eventsv1.EvaluationSettingsUpdated
	if err := decode(m, &msg); err != nil {
		return err
	}
	s := pbconv.SettingsFromPB(msg.GetSettings())
	if s.ProgramID == "" || s.UpdateTime.IsZero() {
		return errSkip("settings without program or update time")
	}
	return p.ApplySettings(ctx, tx, m.Tenant, s)
}

func agreement(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, now time.Time) error {
	var msg eventsv1.AgreementSigned // the agreement is field 1 of all three
	if err := decode(m, &msg); err != nil {
		return err
	}
	a := pbconv.AgreementFromPB(msg.GetAgreement())
	if a.MatchID == "" || a.Version < 1 {
		return errSkip("agreement without match or version")
	}
	if err := p.ApplyAgreement(ctx, tx, m.Tenant, a); err != nil {
		return err
	}
	return p.RefreshHealth(ctx, tx, m.Tenant, a.MatchID, now)
}

func goal(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, _ time.Time) error {
	var msg eventsv1.GoalUpdated // the goal is field 1 of both
	if err := decode(m, &msg); err != nil {
		return err
	}
	g := pbconv.GoalFromPB(msg.GetGoal())
	if g.ID == "" || g.MatchID == "" || g.Revision < 1 {
		return errSkip("goal without id, match or revision")
	}
	return p.ApplyGoal(ctx, tx, m.Tenant, g)
}

func feedback(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, now time.Time) error {
	var msg eventsv1.FeedbackSubmitted
	if err := decode(m, &msg); err != nil {
		return err
	}
	f := pbconv.FeedbackFromPB(msg.GetFeedback())
	if f.ID == "" || f.SessionID == "" || f.MatchID == "" || f.AuthorPersonID == "" || f.Rating < 1 || f.Rating > 5 {
		return errSkip("feedback without id, session, match, author or a rating of 1 to 5")
	}
	if err := p.ApplyFeedback(ctx, tx, m.Tenant, f); err != nil {
		return err
	}
	return p.RefreshHealth(ctx, tx, m.Tenant, f.MatchID, now)
}

func pulse(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, _ time.Time) error {
	var msg eventsv1.PulseResponseSubmitted
	if err := decode(m, &msg); err != nil {
		return err
	}
	r := pbconv.PulseResponseFromPB(msg.GetResponse())
	if r.ID == "" || r.MatchID == "" || r.PersonID == "" || r.Recommend < 0 || r.Recommend > 10 {
		return errSkip("pulse response without id, match, person or a recommendation of 0 to 10")
	}
	return p.ApplyPulseResponse(ctx, tx, m.Tenant, r)
}

func assessment(ctx context.Context, tx *sql.Tx, p evaluation.Projector, m eventbus.Message, _ time.Time) error {
	var msg eventsv1.SelfAssessmentSubmitted
	if err := decode(m, &msg); err != nil {
		return err
	}
	a := pbconv.SelfAssessmentFromPB(msg.GetAssessment())
	if a.ParticipantID == "" || a.Phase == "" || a.SubmitTime.IsZero() {
		return errSkip("self-assessment without participant, phase or submit time")
	}
	return p.ApplyAssessment(ctx, tx, m.Tenant, a)
}
