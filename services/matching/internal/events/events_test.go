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
	"github.com/tandem-oss/tandem/services/matching/engine"
	"github.com/tandem-oss/tandem/services/matching/internal/events"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	matchingsql "github.com/tandem-oss/tandem/services/matching/internal/sqlstore"
)

func TestHandler(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db, err := sqlstore.Open(ctx, url, eventbus.Migrations, matchingsql.Migrations)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		store := matchingsql.New(db, nil)
		handle := events.Handler(store, slog.New(slog.DiscardHandler))
		deliver := func(t *testing.T, typ string, payload proto.Message) {
			t.Helper()
			data, err := proto.Marshal(payload)
			require.NoError(t, err)
			deliverRaw(t, db, handle, typ, data)
		}
		epoch := func(t *testing.T) int64 {
			t.Helper()
			e, err := store.Epoch(ctx, "acme", "prog")
			require.NoError(t, err)
			return e
		}
		active := participantv1.EmploymentStatus_EMPLOYMENT_STATUS_ACTIVE
		program := &participantv1.Program{Id: "prog", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE,
			State: participantv1.ProgramState_PROGRAM_STATE_DRAFT, Format: participantv1.MeetingFormat_MEETING_FORMAT_REMOTE,
			DefaultMentorCapacity: 2, MaxMentorCapacity: 4}
		mentor := &participantv1.Participant{Id: "p-mentor", ProgramId: "prog", PersonId: "ann",
			Role: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR, State: participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED,
			Competencies:     []*participantv1.Competency{{SkillId: "ai", Level: 4}},
			DevelopmentAreas: []*participantv1.DevelopmentArea{{SkillId: "sales", CurrentLevel: 1, TargetLevel: 3}},
			WorkStyle:        "async", CommunicationStyle: "direct", Motivation: "give back",
			PreferredFormat: participantv1.MeetingFormat_MEETING_FORMAT_IN_PERSON, Capacity: 3,
			PreferPersonIds: []string{"bob"}, AvoidPersonIds: []string{"eve"}}
		mentee := &participantv1.Participant{Id: "p-mentee", ProgramId: "prog", PersonId: "bob",
			Role: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE, State: participantv1.ParticipantState_PARTICIPANT_STATE_ENROLLED}

		deliver(t, events.TypePersonCreated, &eventsv1.PersonCreated{Person: &participantv1.Person{Id: "boss", EmploymentStatus: active}})
		deliver(t, events.TypePersonCreated, &eventsv1.PersonCreated{Person: &participantv1.Person{Id: "ann", Department: "Eng",
			SeniorityLevel: 2, ManagerId: "boss", TimeZone: "Europe/Berlin", Languages: []string{"de", "en"}, Location: "Berlin",
			EmploymentStatus: active, DisplayName: "Ann", Email: "ann@example.com"}})
		deliver(t, events.TypePersonCreated, &eventsv1.PersonCreated{Person: &participantv1.Person{Id: "bob", Department: "Sales",
			SeniorityLevel: 7, EmploymentStatus: active}})
		deliver(t, events.TypeProgramCreated, &eventsv1.ProgramCreated{Program: program})
		deliver(t, events.TypeParticipantEnrolled, &eventsv1.ParticipantEnrolled{Participant: mentor})
		deliver(t, events.TypeParticipantEnrolled, &eventsv1.ParticipantEnrolled{Participant: mentee})
		enrolling := proto.CloneOf(program)
		enrolling.State = participantv1.ProgramState_PROGRAM_STATE_ENROLLING
		deliver(t, events.TypeProgramStateChanged, &eventsv1.ProgramStateChanged{Program: enrolling,
			PreviousState: participantv1.ProgramState_PROGRAM_STATE_DRAFT})

		t.Run("events become the projection", func(t *testing.T) {
			in, err := store.ProgramInput(ctx, "acme", "prog")
			require.NoError(t, err)
			require.Equal(t, matching.Program{ID: "prog", Type: matching.ProgramReverse, State: matching.ProgramEnrolling,
				Format: matching.FormatRemote, DefaultCapacity: 2, MaxCapacity: 4}, in.Program)
			require.Empty(t, cmp.Diff([]engine.Profile{{ID: "p-mentor", PersonID: "ann", Seniority: 2, Department: "Eng",
				Managers: []string{"boss"}, TimeZone: "Europe/Berlin", Languages: []string{"de", "en"}, Location: "Berlin",
				Format: engine.FormatInPerson, WorkStyle: "async", CommunicationStyle: "direct", Motivation: "give back",
				Competencies: map[string]int{"ai": 4}, Wants: []engine.Want{{Skill: "sales", Current: 1, Target: 3}},
				Capacity: 3, Prefer: []string{"bob"}, Avoid: []string{"eve"}}}, in.Mentors))
			require.Empty(t, cmp.Diff([]engine.Profile{{ID: "p-mentee", PersonID: "bob", Seniority: 7, Department: "Sales"}}, in.Mentees))
			require.EqualValues(t, 4, in.Epoch, "program created, two enrolments, state change")
		})

		t.Run("a withdrawal leaves the pool", func(t *testing.T) {
			withdrawn := proto.CloneOf(mentee)
			withdrawn.State = participantv1.ParticipantState_PARTICIPANT_STATE_WITHDRAWN
			deliver(t, events.TypeParticipantWithdrawn, &eventsv1.ParticipantWithdrawn{Participant: withdrawn, Reason: "left"})
			in, err := store.ProgramInput(ctx, "acme", "prog")
			require.NoError(t, err)
			require.Empty(t, in.Mentees)
			require.EqualValues(t, 5, in.Epoch)
			deliver(t, events.TypeParticipantUpdated, &eventsv1.ParticipantUpdated{Participant: mentee})
			require.EqualValues(t, 6, epoch(t))
		})

		t.Run("a person's update bumps their program", func(t *testing.T) {
			deliver(t, events.TypePersonUpdated, &eventsv1.PersonUpdated{Person: &participantv1.Person{Id: "bob", Department: "Sales",
				SeniorityLevel: 7, EmploymentStatus: participantv1.EmploymentStatus_EMPLOYMENT_STATUS_LEAVE}})
			require.EqualValues(t, 7, epoch(t))
			in, err := store.ProgramInput(ctx, "acme", "prog")
			require.NoError(t, err)
			require.Empty(t, in.Mentees, "a person on leave is not matched")
		})

		t.Run("unknown, unreadable and incomplete events change nothing", func(t *testing.T) {
			before := epoch(t)
			deliver(t, "tandem.participant.renamed", &eventsv1.ParticipantEnrolled{Participant: mentee})
			deliver(t, "tandem.match.proposed", &eventsv1.MatchProposed{})
			deliverRaw(t, db, handle, events.TypeParticipantEnrolled, []byte("\xff\xff not protobuf"))
			deliverRaw(t, db, handle, events.TypePersonUpdated, []byte("\xff\xff not protobuf"))
			deliver(t, events.TypeParticipantEnrolled, &eventsv1.ParticipantEnrolled{})
			noRole := proto.CloneOf(mentee)
			noRole.Role = participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED
			deliver(t, events.TypeParticipantUpdated, &eventsv1.ParticipantUpdated{Participant: noRole})
			deliver(t, events.TypeProgramUpdated, &eventsv1.ProgramUpdated{Program: &participantv1.Program{Id: "prog"}})
			deliver(t, events.TypePersonErased, &eventsv1.PersonErased{})
			require.Equal(t, before, epoch(t))
		})

		t.Run("person.erased keeps only ids", func(t *testing.T) {
			deliver(t, events.TypePersonErased, &eventsv1.PersonErased{PersonId: "ann"})
			p, err := store.Person(ctx, "acme", "ann")
			require.NoError(t, err)
			require.Equal(t, matching.Person{ID: "ann", Erased: true}, p)
			part, _, _, err := store.Participant(ctx, "acme", "p-mentor")
			require.NoError(t, err)
			require.Equal(t, matching.Participant{ID: "p-mentor", ProgramID: "prog", PersonID: "ann", Role: matching.RoleMentor,
				State: matching.ParticipantEnrolled, Capacity: 3}, part)
		})

		t.Run("an erased snapshot erases too", func(t *testing.T) {
			deliver(t, events.TypePersonUpdated, &eventsv1.PersonUpdated{Person: &participantv1.Person{Id: "bob", Erased: true,
				Department: "left over"}})
			p, err := store.Person(ctx, "acme", "bob")
			require.NoError(t, err)
			require.Equal(t, matching.Person{ID: "bob", Erased: true}, p)
		})
	})
}

// deliverRaw hands one event to the handler in a transaction, as the
// consumer does.
func deliverRaw(t *testing.T, db *sqlstore.DB, handle eventbus.Handler, typ string, data []byte) {
	t.Helper()
	require.NoError(t, db.InTx(t.Context(), func(tx *sql.Tx) error {
		return handle(t.Context(), tx, eventbus.Message{ID: testkit.RandomName("ev"), Type: typ, Tenant: "acme",
			Time: time.Now(), Data: data})
	}))
}
