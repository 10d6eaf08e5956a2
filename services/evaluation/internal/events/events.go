// Package events consumes the domain events the evaluation service builds
// its projections from. Each event is applied inside the consumer's
// transaction, which also records it in the inbox, so a redelivered event
// is applied once.
package events

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// ConsumerName is the durable consumer of the evaluation service and its
// inbox key.
const ConsumerName = "evaluation"

// CloudEvents types of the participant events the projection applies.
const (
	TypeParticipantEnrolled  = "tandem.participant.enrolled"
	TypeParticipantUpdated   = "tandem.participant.updated"
	TypeParticipantWithdrawn = "tandem.participant.withdrawn"
)

// FilterSubject selects the events the projections need, without the
// stream's subject prefix: every participant event of every tenant.
const FilterSubject = "*.participant.>"

// Projector writes the projections inside the consumer's transaction.
type Projector interface {
	ApplyParticipant(ctx context.Context, tx *sql.Tx, tenant string, p evaluation.Participant) error
}

// Handler returns the consumer's handler: it decodes each participant
// event and applies it to p. An event that can never be applied, because
// its payload is unreadable or incomplete, is logged and skipped rather than
// retried: redelivering it would fail the same way. Event types it does not
// know are ignored, so the participant service may add new ones.
func Handler(p Projector, log *slog.Logger) eventbus.Handler {
	return func(ctx context.Context, tx *sql.Tx, m eventbus.Message) error {
		var msg interface {
			proto.Message
			GetParticipant() *participantv1.Participant
		}
		switch m.Type {
		case TypeParticipantEnrolled:
			msg = &eventsv1.ParticipantEnrolled{}
		case TypeParticipantUpdated:
			msg = &eventsv1.ParticipantUpdated{}
		case TypeParticipantWithdrawn:
			msg = &eventsv1.ParticipantWithdrawn{}
		default:
			return nil
		}
		if err := proto.Unmarshal(m.Data, msg); err != nil {
			log.ErrorContext(ctx, "evaluation: skipping unreadable event", "event_id", m.ID, "type", m.Type, "error", err)
			return nil
		}
		participant := fromPB(msg.GetParticipant(), m.Time)
		if err := participant.Validate(); err != nil {
			log.ErrorContext(ctx, "evaluation: skipping incomplete event", "event_id", m.ID, "type", m.Type, "error", err)
			return nil
		}
		return p.ApplyParticipant(ctx, tx, m.Tenant, participant)
	}
}

var (
	roles = map[participantv1.ParticipantRole]evaluation.Role{
		participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR: evaluation.RoleMentor,
		participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE: evaluation.RoleMentee,
	}
	states = map[participantv1.ParticipantState]evaluation.ParticipantState{
		participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED:  evaluation.ParticipantEnrolled,
		participantv1.ParticipantState_PARTICIPANT_STATE_WITHDRAWN: evaluation.ParticipantWithdrawn,
	}
)

// fromPB converts the participant of an event recorded at eventTime. The
// time is cut to microseconds, the precision PostgreSQL keeps, so that
// events compare the same on both engines.
func fromPB(p *participantv1.Participant, eventTime time.Time) evaluation.Participant {
	return evaluation.Participant{
		ID:        p.GetId(),
		ProgramID: p.GetProgramId(),
		Role:      roles[p.GetRole()],
		State:     states[p.GetState()],
		EventTime: eventTime.UTC().Truncate(time.Microsecond),
	}
}
