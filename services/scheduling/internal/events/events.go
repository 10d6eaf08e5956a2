// Package events consumes the matching and participant services' events
// into the scheduling service's projections of matches and programs, and
// carries out what they imply: an ended or declined match cancels its
// future sessions, an erased person loses their availability and calendar
// tokens. Each event is applied inside the consumer's transaction, which
// also records it in the inbox, so a redelivered event is applied once.
package events

import (
	"context"
	"database/sql"
	"log/slog"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

// ConsumerName is the durable consumer of the scheduling service and its
// inbox key.
const ConsumerName = "scheduling"

// FilterSubject selects every event of every tenant; the handler picks the
// ones it applies (the machine's NATS takes one filter per consumer).
const FilterSubject = "*.>"

// CloudEvents types the handler applies.
const (
	TypeMatchProposed       = "tandem.match.proposed"
	TypeMatchAccepted       = "tandem.match.accepted"
	TypeMatchActivated      = "tandem.match.activated"
	TypeMatchDeclined       = "tandem.match.declined"
	TypeMatchEnded          = "tandem.match.ended"
	TypeProgramCreated      = "tandem.program.created"
	TypeProgramUpdated      = "tandem.program.updated"
	TypeProgramStateChanged = "tandem.program.state_changed"
	TypePersonErased        = "tandem.person.erased"
)

var (
	matchStates = map[matchingv1.MatchState]scheduling.MatchState{
		matchingv1.MatchState_MATCH_STATE_PROPOSED: scheduling.MatchProposed,
		matchingv1.MatchState_MATCH_STATE_ACCEPTED: scheduling.MatchAccepted,
		matchingv1.MatchState_MATCH_STATE_ACTIVE:   scheduling.MatchActive,
		matchingv1.MatchState_MATCH_STATE_DECLINED: scheduling.MatchDeclined,
		matchingv1.MatchState_MATCH_STATE_ENDED:    scheduling.MatchEnded,
	}
	cadences = map[participantv1.MeetingCadence]scheduling.Cadence{
		participantv1.MeetingCadence_MEETING_CADENCE_WEEKLY:   scheduling.Weekly,
		participantv1.MeetingCadence_MEETING_CADENCE_BIWEEKLY: scheduling.Biweekly,
		participantv1.MeetingCadence_MEETING_CADENCE_MONTHLY:  scheduling.Monthly,
	}
)

// Handler returns the consumer's handler. An event that can never be
// applied (unreadable or incomplete payload) is logged and skipped rather
// than retried; other event types are ignored.
func Handler(p scheduling.Projector, log *slog.Logger) eventbus.Handler {
	return func(ctx context.Context, tx *sql.Tx, m eventbus.Message) error {
		skip := func(why string, err error) error {
			log.ErrorContext(ctx, "scheduling: skipping "+why+" event", "event_id", m.ID, "type", m.Type, "error", err)
			return nil
		}
		switch m.Type {
		case TypeMatchProposed, TypeMatchAccepted, TypeMatchActivated, TypeMatchDeclined, TypeMatchEnded:
			var msg eventsv1.MatchEnded // the match is field 1 of all five
			if err := proto.Unmarshal(m.Data, &msg); err != nil {
				return skip("unreadable", err)
			}
			pb := msg.GetMatch()
			match := scheduling.Match{
				ID: pb.GetId(), ProgramID: pb.GetProgramId(), State: matchStates[pb.GetState()],
				MentorPersonID: pb.GetMentorPersonId(), MenteePersonID: pb.GetMenteePersonId(),
			}
			if match.ID == "" || match.MentorPersonID == "" || match.MenteePersonID == "" || match.State == 0 {
				return skip("incomplete", nil)
			}
			if err := p.ApplyMatch(ctx, tx, m.Tenant, match); err != nil {
				return err
			}
			switch match.State {
			case scheduling.MatchEnded:
				return p.CancelSessionsFrom(ctx, tx, m.Tenant, match.ID, m.Time.UTC(), "the match ended: "+pb.GetEndReason())
			case scheduling.MatchDeclined:
				return p.CancelSessionsFrom(ctx, tx, m.Tenant, match.ID, m.Time.UTC(), "the match was declined")
			}
			return nil
		case TypeProgramCreated, TypeProgramUpdated, TypeProgramStateChanged:
			var msg eventsv1.ProgramStateChanged // the program is field 1 of all three
			if err := proto.Unmarshal(m.Data, &msg); err != nil {
				return skip("unreadable", err)
			}
			if msg.GetProgram().GetId() == "" {
				return skip("incomplete", nil)
			}
			return p.ApplyProgram(ctx, tx, m.Tenant, scheduling.Program{
				ID: msg.GetProgram().GetId(), Cadence: cadences[msg.GetProgram().GetMeetingCadence()],
			})
		case TypePersonErased:
			var msg eventsv1.PersonErased
			if err := proto.Unmarshal(m.Data, &msg); err != nil {
				return skip("unreadable", err)
			}
			if msg.GetPersonId() == "" {
				return skip("incomplete", nil)
			}
			return p.ErasePerson(ctx, tx, m.Tenant, msg.GetPersonId())
		default:
			return nil
		}
	}
}
