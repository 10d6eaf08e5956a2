package events_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/services/scheduling/internal/events"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

// recorder is a Projector that records what it is asked to do.
type recorder struct{ calls []string }

func (r *recorder) ApplyMatch(_ context.Context, _ *sql.Tx, tenant string, m scheduling.Match) error {
	r.calls = append(r.calls, "match "+tenant+" "+m.ID+" "+m.State.String()+" "+m.MentorPersonID+"/"+m.MenteePersonID)
	return nil
}

func (r *recorder) ApplyProgram(_ context.Context, _ *sql.Tx, tenant string, p scheduling.Program) error {
	r.calls = append(r.calls, fmt.Sprintf("program %s %s cadence %d", tenant, p.ID, p.Cadence))
	return nil
}

func (r *recorder) CancelSessionsFrom(_ context.Context, _ *sql.Tx, tenant, matchID string, from time.Time, reason string) error {
	r.calls = append(r.calls, "cancel "+tenant+" "+matchID+" from "+from.Format(time.RFC3339)+": "+reason)
	return nil
}

func (r *recorder) ErasePerson(_ context.Context, _ *sql.Tx, tenant, personID string) error {
	r.calls = append(r.calls, "erase "+tenant+" "+personID)
	return nil
}

func TestHandler(t *testing.T) {
	t.Parallel()
	at := time.Date(2027, 1, 4, 9, 30, 0, 0, time.UTC)
	msg := func(typ string, payload proto.Message) eventbus.Message {
		data, err := proto.Marshal(payload)
		require.NoError(t, err)
		return eventbus.Message{ID: "ev", Type: typ, Tenant: "acme", Time: at, Data: data}
	}
	match := func(state matchingv1.MatchState) *matchingv1.Match {
		return &matchingv1.Match{Id: "m-1", ProgramId: "p-1", State: state, MentorPersonId: "ann", MenteePersonId: "bob", EndReason: "goals met"}
	}
	tests := []struct {
		name  string
		msg   eventbus.Message
		calls []string
	}{
		{"accepted match", msg(events.TypeMatchAccepted, &eventsv1.MatchAccepted{Match: match(matchingv1.MatchState_MATCH_STATE_ACCEPTED)}),
			[]string{"match acme m-1 accepted ann/bob"}},
		{"ended match cancels from the event's time", msg(events.TypeMatchEnded, &eventsv1.MatchEnded{Match: match(matchingv1.MatchState_MATCH_STATE_ENDED)}),
			[]string{"match acme m-1 ended ann/bob", "cancel acme m-1 from 2027-01-04T09:30:00Z: the match ended: goals met"}},
		{"declined match", msg(events.TypeMatchDeclined, &eventsv1.MatchDeclined{Match: match(matchingv1.MatchState_MATCH_STATE_DECLINED)}),
			[]string{"match acme m-1 declined ann/bob", "cancel acme m-1 from 2027-01-04T09:30:00Z: the match was declined"}},
		{"match without its people is skipped", msg(events.TypeMatchAccepted, &eventsv1.MatchAccepted{Match: &matchingv1.Match{
			Id: "m-2", State: matchingv1.MatchState_MATCH_STATE_ACCEPTED}}), nil},
		{"program cadence", msg(events.TypeProgramUpdated, &eventsv1.ProgramUpdated{Program: &participantv1.Program{
			Id: "p-1", MeetingCadence: participantv1.MeetingCadence_MEETING_CADENCE_BIWEEKLY}}), []string{"program acme p-1 cadence 2"}},
		{"erased person", msg(events.TypePersonErased, &eventsv1.PersonErased{PersonId: "bob"}), []string{"erase acme bob"}},
		{"unreadable payload is skipped", eventbus.Message{ID: "ev", Type: events.TypeMatchEnded, Tenant: "acme", Data: []byte{0xff, 0xff}}, nil},
		{"other events are ignored", msg("tandem.session.proposed", &eventsv1.SessionProposed{}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &recorder{}
			h := events.Handler(r, slog.New(slog.NewTextHandler(io.Discard, nil)))
			require.NoError(t, h(t.Context(), nil, tt.msg))
			require.Equal(t, tt.calls, r.calls)
		})
	}
}
