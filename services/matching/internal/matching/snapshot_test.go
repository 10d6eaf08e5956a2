package matching

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

func TestSnapshotConflicts(t *testing.T) {
	t.Parallel()
	active := Person{ID: "p", Status: EmploymentActive}
	snap := Snapshot{
		Program:      Program{ID: "prog", State: ProgramMatching, DefaultCapacity: 2},
		ProgramFound: true,
		Participants: map[string]Participant{
			"mentor":  {ID: "mentor", ProgramID: "prog", PersonID: "p", Role: RoleMentor, State: ParticipantEnrolled},
			"full":    {ID: "full", ProgramID: "prog", PersonID: "p", Role: RoleMentor, State: ParticipantEnrolled, Capacity: 1},
			"mentee":  {ID: "mentee", ProgramID: "prog", PersonID: "p", Role: RoleMentee, State: ParticipantEnrolled},
			"busy":    {ID: "busy", ProgramID: "prog", PersonID: "p", Role: RoleMentee, State: ParticipantEnrolled},
			"gone":    {ID: "gone", ProgramID: "prog", PersonID: "p", Role: RoleMentee, State: ParticipantWithdrawn},
			"foreign": {ID: "foreign", ProgramID: "other", PersonID: "p", Role: RoleMentee, State: ParticipantEnrolled},
		},
		People: map[string]Person{"p": active},
		Live:   map[string]int{"full": 1, "busy": 1},
	}
	tests := []struct {
		name           string
		mentor, mentee string
		added          map[string]int
		want           []string
	}{
		{name: "free pair", mentor: "mentor", mentee: "mentee"},
		{name: "mentor at capacity", mentor: "full", mentee: "mentee",
			want: []string{"mentor full has no capacity left (1 live matches, capacity 1)"}},
		{name: "capacity used up in the same transaction", mentor: "mentor", mentee: "mentee", added: map[string]int{"mentor": 2},
			want: []string{"mentor mentor has no capacity left (2 live matches, capacity 2)"}},
		{name: "mentee matched", mentor: "mentor", mentee: "busy", want: []string{"mentee busy is already in a live match"}},
		{name: "mentee withdrawn", mentor: "mentor", mentee: "gone", want: []string{"mentee gone is no longer enrolled and active"}},
		{name: "wrong roles", mentor: "mentee", mentee: "mentor",
			want: []string{"participant mentee is a mentee, not a mentor", "participant mentor is a mentor, not a mentee"}},
		{name: "unknown and foreign", mentor: "nobody", mentee: "foreign",
			want: []string{"participant nobody is not a participant of program prog", "participant foreign is not a participant of program prog"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, snap.conflicts(tt.mentor, tt.mentee, tt.added))
		})
	}
	require.NoError(t, snap.takesMatches())
	for _, state := range []ProgramState{ProgramDraft, ProgramCompleted, ProgramCancelled} {
		closed := snap
		closed.Program.State = state
		require.ErrorIs(t, closed.takesMatches(), apperr.ErrFailedPrecondition, "state %s", state)
	}
	require.ErrorIs(t, Snapshot{Program: Program{ID: "x"}}.takesMatches(), apperr.ErrFailedPrecondition)
}

func TestCreatedFollowsAcceptance(t *testing.T) {
	t.Parallel()
	m := Match{State: MatchProposed}
	require.Equal(t, m, ScoringConfig{Acceptance: AcceptanceBoth}.created(m))
	require.Equal(t, m, ScoringConfig{Acceptance: AcceptanceMentee}.created(m))
	require.Equal(t, Match{State: MatchAccepted, MentorAccepted: true, MenteeAccepted: true},
		ScoringConfig{Acceptance: AcceptanceAutomatic}.created(m))
}

func TestComparePairs(t *testing.T) {
	t.Parallel()
	a := []RunPair{{MentorID: "m1", MenteeID: "e1", Score: 50}, {MentorID: "m2", MenteeID: "e2", Score: 40}}
	b := []RunPair{{MentorID: "m1", MenteeID: "e1", Score: 55}, {MentorID: "m1", MenteeID: "e2", Score: 30},
		{MentorID: "m3", MenteeID: "e3", Score: 20}}
	got := comparePairs(a, b)
	require.Equal(t, Comparison{
		InBoth:      []ComparedPair{{MentorID: "m1", MenteeID: "e1", Score: 50, OtherScore: 55}},
		OnlyInRun:   []ComparedPair{{MentorID: "m2", MenteeID: "e2", Score: 40}},
		OnlyInOther: []ComparedPair{{MentorID: "m1", MenteeID: "e2", OtherScore: 30}, {MentorID: "m3", MenteeID: "e3", OtherScore: 20}},
	}, got)
}

func TestSummarise(t *testing.T) {
	t.Parallel()
	var many []string
	for i := range 12 {
		many = append(many, fmt.Sprint(i))
	}
	require.Equal(t, "0; 1; 2; 3; 4; 5; 6; 7; 8; 9; and 2 more", summarise(many))
	require.Equal(t, "a; b", summarise([]string{"a", "b"}))
}

func TestRequestReadsExpiredPastItsExpiry(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	r := MatchRequest{State: RequestPending, ExpireTime: at}
	require.Equal(t, RequestPending, r.At(at.Add(-time.Nanosecond)).State)
	require.Equal(t, RequestExpired, r.At(at).State)
	rejected := MatchRequest{State: RequestRejected, ExpireTime: at}
	require.Equal(t, RequestRejected, rejected.At(at.Add(time.Hour)).State, "only pending requests expire")
}

func TestAnswerable(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	r := MatchRequest{ID: "r", State: RequestPending, TargetID: "target", ExpireTime: at.Add(time.Hour)}
	require.NoError(t, r.answerable(at, Actor{ParticipantID: "target"}, "target", "approved"))
	require.NoError(t, r.answerable(at, Actor{Admin: true}, "target", "approved"))
	require.ErrorIs(t, r.answerable(at, Actor{ParticipantID: "other", Admin: true}, "target", "approved"), apperr.ErrPermissionDenied)
	require.ErrorIs(t, r.answerable(at, Actor{}, "target", "approved"), apperr.ErrInvalid)
	require.ErrorIs(t, r.answerable(at.Add(time.Hour), Actor{Admin: true}, "target", "approved"), apperr.ErrFailedPrecondition)
}

func TestAcceptanceRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		acceptance     Acceptance
		mentor, mentee bool
		want           bool
	}{
		{AcceptanceBoth, true, false, false},
		{AcceptanceBoth, false, true, false},
		{AcceptanceBoth, true, true, true},
		{AcceptanceMentee, true, false, false},
		{AcceptanceMentee, false, true, true},
		{AcceptanceAutomatic, true, false, true},
	}
	for _, tt := range tests {
		got := ScoringConfig{Acceptance: tt.acceptance}.accepts(Match{MentorAccepted: tt.mentor, MenteeAccepted: tt.mentee})
		require.Equal(t, tt.want, got, "%s mentor=%v mentee=%v", tt.acceptance, tt.mentor, tt.mentee)
	}
}

func TestIllegalMoveNamesTheState(t *testing.T) {
	t.Parallel()
	err := illegal(Match{ID: "m", State: MatchEnded}, "declined", MatchProposed, MatchAccepted)
	require.ErrorIs(t, err, apperr.ErrFailedPrecondition)
	require.EqualError(t, err, "match m is ENDED; it can be declined only when PROPOSED or ACCEPTED: failed precondition")
}
