package matching

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDecodeTop: the first k candidates of an entry, in order, whatever
// the field order; a damaged entry is an error (the list is computed
// again), never a partial list taken for a whole one.
func TestDecodeTop(t *testing.T) {
	list := CandidateList{ConfigVersion: 3, Epoch: 7}
	for i := range 5 {
		list.Candidates = append(list.Candidates, Candidate{ParticipantID: fmt.Sprintf("m%d", i), PersonID: fmt.Sprintf("p%d", i),
			Score: float64(90 - i), Factors: []Factor{{Name: "competency_coverage", Value: 0.5, Weight: 40, Explanation: `"quoted", [braces]`}}})
	}
	data, err := json.Marshal(list)
	require.NoError(t, err)
	for _, k := range []int{1, 3, 5, 10} {
		top, err := decodeTop(data, k)
		require.NoError(t, err)
		require.Equal(t, list.Candidates[:min(k, 5)], top, "k=%d", k)
	}

	reordered := fmt.Sprintf(`{"epoch":7,"extra":{"a":[1,{"b":2}]},"candidates":%s}`, mustJSON(t, list.Candidates))
	top, err := decodeTop([]byte(reordered), 2)
	require.NoError(t, err)
	require.Equal(t, list.Candidates[:2], top)

	empty, err := decodeTop([]byte(`{"candidates":[],"epoch":1}`), 10)
	require.NoError(t, err)
	require.Empty(t, empty)

	for _, bad := range []string{``, `[]`, `{"epoch":1}`, `{"candidates":null}`, `{"candidates":[{"score":"x"}]}`, string(data[:len(data)/3])} {
		_, err := decodeTop([]byte(bad), 5)
		require.Error(t, err, "%.40s", bad)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}
