package matching_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/services/matching/engine"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
)

func TestManagerChain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		links map[string]string
		want  []string
	}{
		{name: "no manager", links: map[string]string{}, want: nil},
		{name: "nearest first", links: map[string]string{"a": "b", "b": "c"}, want: []string{"b", "c"}},
		{name: "stops at an unknown manager's missing link", links: map[string]string{"a": "b"}, want: []string{"b"}},
		{name: "a cycle ends the walk", links: map[string]string{"a": "b", "b": "c", "c": "a"}, want: []string{"b", "c"}},
		{name: "a self loop is no manager", links: map[string]string{"a": "a"}, want: nil},
		{name: "a cycle above the person", links: map[string]string{"a": "b", "b": "c", "c": "b"}, want: []string{"b", "c"}},
		{name: "at most ten levels", links: map[string]string{
			"a": "1", "1": "2", "2": "3", "3": "4", "4": "5", "5": "6", "6": "7", "7": "8", "8": "9", "9": "10", "10": "11",
		}, want: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := matching.ManagerChain("a", func(id string) (string, bool) {
				m, ok := tt.links[id]
				return m, ok
			})
			require.Equal(t, tt.want, got)
		})
	}
}

func TestEffectiveCapacity(t *testing.T) {
	t.Parallel()
	program := matching.Program{DefaultCapacity: 3}
	require.Equal(t, 2, matching.Participant{Capacity: 2}.EffectiveCapacity(program))
	require.Equal(t, 3, matching.Participant{}.EffectiveCapacity(program))
	require.Equal(t, 1, matching.Participant{}.EffectiveCapacity(matching.Program{}))
}

func TestEligible(t *testing.T) {
	t.Parallel()
	enrolled := matching.Participant{State: matching.ParticipantEnrolled}
	active := matching.Person{ID: "x", Status: matching.EmploymentActive}
	require.True(t, enrolled.Eligible(active, true))
	require.False(t, enrolled.Eligible(active, false), "unknown person")
	require.False(t, matching.Participant{State: matching.ParticipantWithdrawn}.Eligible(active, true))
	require.False(t, enrolled.Eligible(matching.Person{ID: "x", Status: matching.EmploymentLeave}, true))
	require.False(t, enrolled.Eligible(matching.Person{ID: "x", Status: matching.EmploymentActive, Erased: true}, true))
}

func TestInputPool(t *testing.T) {
	t.Parallel()
	in := matching.Input{
		Mentors:   []engine.Profile{{ID: "m1", Capacity: 2}, {ID: "m2", Capacity: 1}, {ID: "m3", Capacity: 3}},
		Mentees:   []engine.Profile{{ID: "e1"}, {ID: "e2"}},
		Remaining: map[string]int{"m1": 1, "m2": 0, "m3": 3},
		Live:      map[string]bool{"m1": true, "m2": true, "e2": true},
	}
	got := in.Pool()
	require.Equal(t, matching.Pool{
		Mentors:         []engine.Profile{{ID: "m1", Capacity: 1}, {ID: "m3", Capacity: 3}},
		Mentees:         []engine.Profile{{ID: "e1"}},
		ExcludedMentors: 1,
		ExcludedMentees: 1,
	}, got)
	require.Equal(t, 2, in.Mentors[0].Capacity, "the input keeps whole capacities")
}

func TestRulesFor(t *testing.T) {
	t.Parallel()
	c := matching.DefaultScoringConfig("p")
	c.MinPairScore = 20
	past := [][2]string{{"a", "b"}}
	got := matching.RulesFor(matching.Program{Type: matching.ProgramReverse, Format: matching.FormatRemote}, c, past)
	require.Equal(t, engine.Rules{
		Type: engine.Reverse, Weights: c.Weights.Engine(), ReportingChainDepth: 2, RequireSharedLanguage: true,
		MinPairScore: 20, ProgramFormat: engine.FormatRemote, PastPairs: past,
	}, got)
	require.Equal(t, engine.Classic, matching.Program{Type: matching.ProgramGroup}.EngineType())
	require.Equal(t, engine.Peer, matching.Program{Type: matching.ProgramPeer}.EngineType())
	in := matching.Input{Program: matching.Program{Type: matching.ProgramPeer}, Config: c}
	other := c
	other.ReportingChainDepth = 5
	require.Equal(t, 5, in.WithConfig(other).Rules.ReportingChainDepth)
}
