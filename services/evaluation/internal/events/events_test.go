package events_test

import (
	"database/sql"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	"github.com/tandem-oss/tandem/services/evaluation/internal/events"
	evaluationsql "github.com/tandem-oss/tandem/services/evaluation/internal/sqlstore"
)

func TestHandler(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db, err := sqlstore.Open(ctx, url, eventbus.Migrations, evaluationsql.Migrations)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		store := evaluationsql.New(db)
		handle := events.Handler(store, slog.New(slog.DiscardHandler))
		t0 := time.Date(2026, 5, 1, 12, 0, 0, 123456789, time.UTC)
		deliver := func(t *testing.T, typ string, payload []byte, when time.Time) {
			t.Helper()
			require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error {
				return handle(ctx, tx, eventbus.Message{ID: testkit.RandomName("ev"), Type: typ, Tenant: "acme", Time: when, Data: payload})
			}))
		}
		marshal := func(m proto.Message) []byte {
			b, err := proto.Marshal(m)
			require.NoError(t, err)
			return b
		}
		pt := func(id string, role participantv1.ParticipantRole, state participantv1.ParticipantState) *participantv1.Participant {
			return &participantv1.Participant{Id: id, ProgramId: "prog-1", PersonId: "person-" + id, Role: role, State: state}
		}
		mentor, mentee := participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR, participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE
		enrolled, withdrawn := participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED, participantv1.ParticipantState_PARTICIPANT_STATE_WITHDRAWN

		deliver(t, events.TypeParticipantEnrolled, marshal(&eventsv1.ParticipantEnrolled{Participant: pt("a", mentor, enrolled)}), t0)
		deliver(t, events.TypeParticipantEnrolled, marshal(&eventsv1.ParticipantEnrolled{Participant: pt("b", mentee, enrolled)}), t0.Add(time.Second))
		deliver(t, events.TypeParticipantEnrolled, marshal(&eventsv1.ParticipantEnrolled{Participant: pt("c", mentee, enrolled)}), t0.Add(2*time.Second))
		deliver(t, events.TypeParticipantUpdated, marshal(&eventsv1.ParticipantUpdated{Participant: pt("b", mentee, enrolled)}), t0.Add(3*time.Second))
		deliver(t, events.TypeParticipantWithdrawn, marshal(&eventsv1.ParticipantWithdrawn{Participant: pt("c", mentee, withdrawn), Reason: "moved"}), t0.Add(4*time.Second))
		want := evaluation.ProgramReport{ProgramID: "prog-1", EnrolledMentors: 1, EnrolledMentees: 1, Withdrawn: 1,
			AsOfTime: t0.Add(4 * time.Second).Truncate(time.Microsecond)}

		t.Run("participant events are projected", func(t *testing.T) {
			got, err := store.ProgramReport(ctx, "acme", "prog-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(want, got))
		})

		t.Run("unknown, unreadable and incomplete events are skipped", func(t *testing.T) {
			later := t0.Add(time.Hour)
			deliver(t, "tandem.participant.renamed", marshal(&eventsv1.ParticipantEnrolled{Participant: pt("d", mentor, enrolled)}), later)
			deliver(t, events.TypeParticipantEnrolled, []byte("\xff\xff not protobuf"), later)
			deliver(t, events.TypeParticipantEnrolled, marshal(&eventsv1.ParticipantEnrolled{
				Participant: pt("e", participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED, enrolled)}), later)
			deliver(t, events.TypeParticipantEnrolled, marshal(&eventsv1.ParticipantEnrolled{}), later)
			got, err := store.ProgramReport(ctx, "acme", "prog-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(want, got))
		})
	})
}
