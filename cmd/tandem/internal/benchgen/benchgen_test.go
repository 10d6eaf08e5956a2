package benchgen

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/services/matching/engine"
)

func TestFileRoundTrip(t *testing.T) {
	t.Parallel()
	// More cells than WriteFile's chunk, so that the chunking is exercised.
	m := Uniform(37, 53, 1<<30, 5)
	m.Cost[0], m.Cost[1], m.Cost[2] = math.MinInt32, -1, engine.Forbidden
	path := filepath.Join(t.TempDir(), "m.bin")
	require.NoError(t, WriteFile(path, m))

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, data, 8+4*37*53)
	require.Equal(t, uint32(37), binary.LittleEndian.Uint32(data[0:]))
	require.Equal(t, uint32(53), binary.LittleEndian.Uint32(data[4:]))
	require.Equal(t, uint32(math.MaxInt32), binary.LittleEndian.Uint32(data[16:]), "cell 2, little-endian")

	got, err := ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, m, got)
}

func TestWriteFileRefusesInconsistentMatrices(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.bin")
	require.ErrorContains(t, WriteFile(path, Matrix{Rows: 2, Cols: 2, Cost: make([]int32, 3)}), "a 2×2 matrix with 3 costs")
	require.ErrorContains(t, WriteFile(path, Matrix{}), "a 0×0 matrix")
}

func TestReadFileRefusesHugeFilesUnread(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "huge.bin")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(8+4*MaxCells+1)) // sparse: no disk used
	require.NoError(t, f.Close())
	_, err = ReadFile(path)
	require.ErrorIs(t, err, ErrBadFile)
	require.ErrorContains(t, err, "800000009 bytes, more than the 800000008")
}

func TestUniform(t *testing.T) {
	t.Parallel()
	m := Uniform(100, 50, 1000, 1)
	require.Equal(t, 100, m.Rows)
	require.Equal(t, 50, m.Cols)
	require.Len(t, m.Cost, 5000)
	seen := map[int32]bool{}
	for _, c := range m.Cost {
		require.GreaterOrEqual(t, c, int32(0))
		require.Less(t, c, int32(1000))
		seen[c] = true
	}
	require.Greater(t, len(seen), 900, "costs spread over the range")
	require.Equal(t, m, Uniform(100, 50, 1000, 1), "same seed, same matrix")
	require.NotEqual(t, m.Cost, Uniform(100, 50, 1000, 2).Cost, "another seed, another matrix")
}

func TestScored(t *testing.T) {
	t.Parallel()
	m, err := Scored(400, 300, 1)
	require.NoError(t, err)
	require.Equal(t, 400, m.Rows)
	require.Equal(t, 300, m.Cols)
	require.Len(t, m.Cost, 400*300)
	forbidden := 0
	lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
	for _, c := range m.Cost {
		if c == engine.Forbidden {
			forbidden++
			continue
		}
		lo, hi = min(lo, c), max(hi, c)
	}
	require.GreaterOrEqual(t, lo, int32(0))
	require.LessOrEqual(t, hi, int32(engine.ScoreScale))
	require.Greater(t, hi-lo, int32(engine.ScoreScale/4), "scores spread over the scale")
	// A reverse program forbids most pairs (the mentor must be the junior
	// and know a wanted skill at the target level), but not all.
	require.Greater(t, forbidden, len(m.Cost)/2)
	require.Less(t, forbidden, len(m.Cost)*19/20)

	again, err := Scored(400, 300, 1)
	require.NoError(t, err)
	require.Equal(t, m, again, "same seed, same matrix")
	other, err := Scored(400, 300, 2)
	require.NoError(t, err)
	require.NotEqual(t, m.Cost, other.Cost, "another seed, another matrix")
}

func TestPoolScoresAsTheEngineDoes(t *testing.T) {
	t.Parallel()
	rules, mentors, mentees := Pool(30, 40, 9)
	require.Len(t, mentors, 30)
	require.Len(t, mentees, 40)
	require.Equal(t, engine.Reverse, rules.Type)
	model, err := engine.NewModel(rules, mentors, mentees)
	require.NoError(t, err)
	m, err := Scored(40, 30, 9)
	require.NoError(t, err)
	for i := range mentees {
		for j := range mentors {
			score, allowed := model.Score(j, i)
			want := engine.ScoreScale - score
			if !allowed {
				want = engine.Forbidden
			}
			require.Equal(t, want, m.Cost[i*30+j], "mentee %d, mentor %d", i, j)
		}
	}
}

func TestReplaceForbidden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		cost, want  []int32
		replacement int32
		replaced    int
	}{
		{"ten times the largest finite cost", []int32{3, engine.Forbidden, 70, engine.Forbidden}, []int32{3, 700, 70, 700}, 700, 2},
		{"nothing forbidden", []int32{1, 2}, []int32{1, 2}, 20, 0},
		{"all forbidden", []int32{engine.Forbidden}, []int32{1}, 1, 1},
		{"clamped below Forbidden", []int32{math.MaxInt32 - 5, engine.Forbidden}, []int32{math.MaxInt32 - 5, math.MaxInt32 - 1}, math.MaxInt32 - 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := Matrix{Rows: 1, Cols: len(tc.cost), Cost: tc.cost}
			replacement, replaced := ReplaceForbidden(m)
			require.Equal(t, tc.want, m.Cost)
			require.Equal(t, tc.replacement, replacement)
			require.Equal(t, tc.replaced, replaced)
		})
	}
}

func TestWriteScipyScript(t *testing.T) {
	t.Parallel()
	path, err := WriteScipyScript(t.TempDir())
	require.NoError(t, err)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(got), "linear_sum_assignment(work)")
	require.Contains(t, string(got), "np.repeat(cost, capacity, axis=1)")
}
