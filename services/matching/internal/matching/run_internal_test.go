package matching

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/services/matching/engine"
)

// TestRunResultsWithMoreMentorsThanMentees is the regression test of a
// panic: an unmatched mentor's index counts mentors, and was first used to
// read the (shorter) list of mentees.
func TestRunResultsWithMoreMentorsThanMentees(t *testing.T) {
	mentors := []engine.Profile{{ID: "r0", PersonID: "pr0"}, {ID: "r1", PersonID: "pr1"}, {ID: "r2", PersonID: "pr2"}}
	mentees := []engine.Profile{{ID: "e0", PersonID: "pe0"}}
	model, err := engine.NewModel(engine.Rules{Weights: engine.Weights{CrossDepartment: 1}}, mentors, mentees)
	require.NoError(t, err)
	_, unmatched := runResults(model, engine.Result{Unmatched: []engine.Unmatched{
		{Side: engine.SideMentor, Index: 2, Reason: "no_candidate"},
		{Side: engine.SideMentee, Index: 0, Reason: "no_candidate"},
	}})
	require.Len(t, unmatched, 2)
	require.Equal(t, "r2", unmatched[0].ParticipantID)
	require.Equal(t, RoleMentor, unmatched[0].Role)
	require.Equal(t, "e0", unmatched[1].ParticipantID)
	require.Equal(t, RoleMentee, unmatched[1].Role)
}
