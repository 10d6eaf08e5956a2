package matchingsvc_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/matchingsvc"
)

func TestProjectionFromTheStream(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		s := start(t, url, matchingsvc.Config{})
		acme := testkit.RandomName("acme")
		members := []member{
			{id: "m1", mentor: true, seniority: 2, department: "Eng", skills: map[string]int32{"ai": 5}, capacity: 2},
			{id: "e1", seniority: 8, department: "Sales", wants: map[string]int32{"ai": 4}},
		}
		epoch := s.seed(t, acme, "prog", participantv1.ProgramType_PROGRAM_TYPE_REVERSE, members)

		in := s.input(t, acme, "prog")
		require.Len(t, in.Mentors, 1)
		require.Len(t, in.Mentees, 1)
		require.Equal(t, 2, in.Mentors[0].Capacity)
		require.Equal(t, map[string]int{"ai": 5}, in.Mentors[0].Competencies)

		t.Run("a redelivered event is applied once", func(t *testing.T) {
			changed := enrolment("prog", members[0])
			changed.Capacity = 4
			id := s.publish(t, acme, "participant", "m1", "updated", &eventsv1.ParticipantUpdated{Participant: changed}, "")
			// The same event again (same ce-id, past JetStream's duplicate
			// window: a new Nats-Msg-Id), carrying other data to tell.
			again := enrolment("prog", members[0])
			again.Capacity = 5
			s.publish(t, acme, "participant", "m1", "updated", &eventsv1.ParticipantUpdated{Participant: again}, id)
			// A third event marks the end of the sequence.
			s.publish(t, acme, "program", "prog", "updated", &eventsv1.ProgramUpdated{Program: &participantv1.Program{Id: "prog",
				Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE, State: participantv1.ProgramState_PROGRAM_STATE_MATCHING,
				DefaultMentorCapacity: 1}}, "")
			s.waitEpoch(t, acme, "prog", epoch+2)
			in := s.input(t, acme, "prog")
			require.Equal(t, 4, in.Mentors[0].Capacity, "the duplicate was not applied")
			require.EqualValues(t, epoch+2, in.Epoch)
		})

		t.Run("other tenants' events stay theirs", func(t *testing.T) {
			globex := testkit.RandomName("globex")
			s.seed(t, globex, "prog", participantv1.ProgramType_PROGRAM_TYPE_CLASSIC, members[:1])
			require.Len(t, s.input(t, globex, "prog").Mentees, 0)
			require.Len(t, s.input(t, acme, "prog").Mentees, 1)
		})
	})
}
