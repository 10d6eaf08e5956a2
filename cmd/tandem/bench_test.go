package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/cmd/tandem/internal/benchgen"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/engine"
)

// solveLine is the one line `tandem bench solve` prints.
var solveLine = regexp.MustCompile(`^cost=(-?\d+) assigned=(\d+) seconds=(\d+\.\d{3}) certified=(true|false)$`)

// benchSolve runs `tandem bench solve` on m written to a file and returns
// the printed cost, rows assigned and certificate.
func benchSolve(t *testing.T, m benchgen.Matrix, capacity int) (cost int64, assigned int, certified bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "costs.bin")
	require.NoError(t, benchgen.WriteFile(path, m))
	line := runCLI(t, "bench", "solve", "--in", path, "--capacity", strconv.Itoa(capacity))
	got := solveLine.FindStringSubmatch(line)
	require.NotNil(t, got, "bench solve printed %q", line)
	cost, err := strconv.ParseInt(got[1], 10, 64)
	require.NoError(t, err)
	assigned, err = strconv.Atoi(got[2])
	require.NoError(t, err)
	return cost, assigned, got[4] == "true"
}

func TestBenchSolveRoundTrip(t *testing.T) {
	t.Parallel()
	scored, err := benchgen.Scored(60, 25, 7)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		m    benchgen.Matrix
	}{
		{"uniform", benchgen.Uniform(60, 25, 1000, 7)},
		{"scored, with forbidden pairs", scored},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			caps := make([]int32, tc.m.Cols)
			for j := range caps {
				caps[j] = 2
			}
			a := engine.Assignment{Rows: tc.m.Rows, Cols: tc.m.Cols, Cost: tc.m.Cost, Capacity: caps}
			a.Unassigned = engine.MaxCardinalityPenalty(a)
			want, err := engine.Solve(a, nil)
			require.NoError(t, err)

			cost, assigned, certified := benchSolve(t, tc.m, 2)
			require.Equal(t, want.Cost, cost)
			require.Equal(t, maxCardinality(tc.m, 2), assigned)
			require.True(t, certified)
		})
	}
}

// maxCardinality is the most rows of m that can be assigned to allowed
// columns of the capacity, by augmenting paths (Kuhn's algorithm on the
// columns repeated capacity times).
func maxCardinality(m benchgen.Matrix, capacity int) int {
	slotRow := make([]int, m.Cols*capacity) // row+1 in the slot, 0 free
	var augment func(row int, seen []bool) bool
	augment = func(row int, seen []bool) bool {
		for slot := range slotRow {
			if m.Cost[row*m.Cols+slot/capacity] == engine.Forbidden || seen[slot] {
				continue
			}
			seen[slot] = true
			if slotRow[slot] == 0 || augment(slotRow[slot]-1, seen) {
				slotRow[slot] = row + 1
				return true
			}
		}
		return false
	}
	n := 0
	for row := range m.Rows {
		if augment(row, make([]bool, len(slotRow))) {
			n++
		}
	}
	return n
}

func TestBenchSolveMatchesBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(rows, cols int) benchgen.Matrix {
		m := benchgen.Matrix{Rows: rows, Cols: cols, Cost: make([]int32, rows*cols)}
		for i := range m.Cost {
			m.Cost[i] = rng.Int32N(100)
		}
		return m
	}
	withForbidden := random(8, 4)
	for j := range 4 {
		withForbidden.Cost[0*4+j] = engine.Forbidden // row 0 cannot be matched
	}
	withForbidden.Cost[1*4+0] = engine.Forbidden
	withForbidden.Cost[1*4+1] = engine.Forbidden
	withForbidden.Cost[1*4+2] = engine.Forbidden // row 1 only to column 3
	tight := random(8, 4)
	for i := range 8 {
		tight.Cost[i*4+3] = 0 // the cheapest column for all, but it takes 2
	}
	for _, tc := range []struct {
		name     string
		m        benchgen.Matrix
		capacity int
	}{
		{"8x4 cap 2", random(8, 4), 2},
		{"8x4 cap 2, one column everyone wants", tight, 2},
		{"9x4 cap 2, one row left out", random(9, 4), 2},
		{"8x4 cap 2, forbidden pairs", withForbidden, 2},
		{"5x4 cap 1", random(5, 4), 1},
		{"6x3 cap 3, negative costs", func() benchgen.Matrix {
			m := random(6, 3)
			for i := range m.Cost {
				m.Cost[i] -= 50
			}
			return m
		}(), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantCost, wantAssigned := bruteForce(tc.m, tc.capacity)
			cost, assigned, certified := benchSolve(t, tc.m, tc.capacity)
			require.Equal(t, wantAssigned, assigned, "rows assigned")
			require.Equal(t, wantCost, cost, "total cost")
			require.True(t, certified)
		})
	}
}

// bruteForce tries every assignment of m's rows (a column or none) within
// the capacity and returns the cheapest among those assigning the most
// rows: what scipy and MaxCardinalityPenalty both mean by optimal.
func bruteForce(m benchgen.Matrix, capacity int) (cost int64, assigned int) {
	load := make([]int, m.Cols)
	bestAssigned, bestCost := -1, int64(0)
	var try func(row, assigned int, cost int64)
	try = func(row, assigned int, cost int64) {
		if row == m.Rows {
			if assigned > bestAssigned || (assigned == bestAssigned && cost < bestCost) {
				bestAssigned, bestCost = assigned, cost
			}
			return
		}
		try(row+1, assigned, cost)
		for j := range m.Cols {
			c := m.Cost[row*m.Cols+j]
			if c == engine.Forbidden || load[j] == capacity {
				continue
			}
			load[j]++
			try(row+1, assigned+1, cost+int64(c))
			load[j]--
		}
	}
	try(0, 0, 0)
	return bestCost, bestAssigned
}

func TestBenchSolveRejectsBadFiles(t *testing.T) {
	t.Parallel()
	header := func(rows, cols int32, body int) []byte {
		b := binary.LittleEndian.AppendUint32(nil, uint32(rows))
		b = binary.LittleEndian.AppendUint32(b, uint32(cols))
		return append(b, make([]byte, body)...)
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"empty", nil, "short header: 0 bytes"},
		{"short header", []byte{1, 0, 0}, "short header: 3 bytes"},
		{"negative rows", header(-3, 4, 0), "rows = -3, must be positive"},
		{"zero cols", header(3, 0, 0), "cols = 0, must be positive"},
		{"too many cells", header(20_000, 20_000, 0), "20000×20000 = 400000000 cells, more than the 200000000 allowed"},
		{"truncated", header(2, 3, 20), "truncated: 28 bytes, a 2×3 matrix needs 32"},
		{"trailing bytes", header(2, 3, 25), "trailing bytes: 33 bytes, a 2×3 matrix needs 32 (1 too many)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "bad.bin")
			require.NoError(t, os.WriteFile(path, tc.data, 0o600))
			err := runCLIErr("bench", "solve", "--in", path)
			require.ErrorIs(t, err, benchgen.ErrBadFile)
			require.ErrorContains(t, err, tc.wantErr)
			require.ErrorContains(t, err, path)
		})
	}
}

func TestBenchSolveFlags(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "costs.bin")
	require.NoError(t, benchgen.WriteFile(path, benchgen.Uniform(3, 3, 10, 1)))
	require.ErrorContains(t, runCLIErr("bench", "solve", "--in", path, "--capacity", "0"), "--capacity 0: must be at least 1")
	require.ErrorContains(t, runCLIErr("bench", "solve", "--in", filepath.Join(t.TempDir(), "missing.bin")), "no such file")
	require.ErrorContains(t, runCLIErr("bench", "solve"), `"in" not set`)
}

func TestBenchAssignFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--kind", "random"}, `--kind "random": must be uniform, scored, classic, both or all`},
		{[]string{"--mentees", "0"}, "--mentees 0: must be at least 1"},
		{[]string{"--mentors", "-1"}, "--mentors -1: must be at least 1"},
		{[]string{"--mentees", "20000", "--mentors", "20000"}, "400000000 cells: at most 200000000"},
		{[]string{"--capacity", "0"}, "--capacity 0: must be at least 1"},
		{[]string{"--rounds", "0"}, "--rounds 0: must be at least 1"},
		{[]string{"--max-cost", "0"}, "--max-cost 0: must be from 1 to 2147483647"},
		{[]string{"--max-cost", "2147483648"}, "--max-cost 2147483648"},
		// A python without scipy (here: one that fails everything).
		{[]string{"--mentees", "4", "--mentors", "2", "--python", "false"}, "install python3-scipy (Debian)"},
	} {
		t.Run(tc.wantErr, func(t *testing.T) {
			t.Parallel()
			require.ErrorContains(t, runCLIErr(append([]string{"bench", "assign"}, tc.args...)...), tc.wantErr)
		})
	}
}

func TestCheckSolutionCatchesWrongAnswers(t *testing.T) {
	t.Parallel()
	a := engine.Assignment{Rows: 3, Cols: 2, Cost: []int32{1, 2, 3, engine.Forbidden, 5, 6}, Capacity: []int32{2, 1}}
	require.NoError(t, checkSolution(a, engine.Solution{Col: []int32{0, 0, 1}, Cost: 10, Assigned: 3}))
	require.NoError(t, checkSolution(a, engine.Solution{Col: []int32{-1, 0, 1}, Cost: 9, Assigned: 2}))
	for _, tc := range []struct {
		name    string
		sol     engine.Solution
		wantErr string
	}{
		{"too few rows", engine.Solution{Col: []int32{0, 0}}, "2 columns for 3 rows"},
		{"column out of range", engine.Solution{Col: []int32{2, -1, -1}}, "row 0: column 2 out of range"},
		{"forbidden pair", engine.Solution{Col: []int32{-1, 1, -1}}, "row 1: forbidden column 1"},
		{"over capacity", engine.Solution{Col: []int32{1, -1, 1}}, "column 1: more than its capacity 1"},
		{"wrong cost", engine.Solution{Col: []int32{0, 0, 1}, Cost: 9, Assigned: 3}, "reports cost=9 assigned=3, its columns give cost=10 assigned=3"},
		{"wrong count", engine.Solution{Col: []int32{0, 0, 1}, Cost: 10, Assigned: 2}, "its columns give cost=10 assigned=3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorContains(t, checkSolution(a, tc.sol), tc.wantErr)
		})
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	got, err := parseFields("cost=12 assigned=3 seconds=0.001\n", "cost", "assigned", "seconds")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"cost": "12", "assigned": "3", "seconds": "0.001"}, got)
	_, err = parseFields("cost=12 assigned=3", "cost", "assigned", "seconds")
	require.ErrorContains(t, err, "no seconds=")
	_, err = parseFields("Traceback (most recent call last)", "cost")
	require.ErrorContains(t, err, `"Traceback" is not key=value`)
}

func TestMedian(t *testing.T) {
	t.Parallel()
	require.Equal(t, 3*time.Millisecond, median([]time.Duration{5 * time.Millisecond, time.Millisecond, 3 * time.Millisecond}))
	require.Equal(t, 2*time.Millisecond, median([]time.Duration{3 * time.Millisecond, time.Millisecond}))
}

// requireScipy skips unless /usr/bin/python3 imports numpy and scipy;
// under CI=true it fails instead (.ci/run installs python3-scipy).
func requireScipy(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import numpy, scipy.optimize").Run(); err != nil {
		testkit.Unavailable(t, "python3-scipy for /usr/bin/python3 (Debian package python3-scipy)", err)
	}
}

func TestScipyScriptAgreesWithBruteForce(t *testing.T) {
	t.Parallel()
	requireScipy(t)
	script, err := benchgen.WriteScipyScript(t.TempDir())
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		m        benchgen.Matrix
		capacity int
	}{
		{"8x4 cap 2", benchgen.Uniform(8, 4, 100, 11), 2},
		{"9x4 cap 2, one row left out", benchgen.Uniform(9, 4, 100, 12), 2},
		{"3x5 cap 1, columns left over", benchgen.Uniform(3, 5, 100, 13), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "costs.bin")
			require.NoError(t, benchgen.WriteFile(path, tc.m))
			got, err := runScipy(context.Background(), "/usr/bin/python3", script, path, tc.capacity)
			require.NoError(t, err)
			wantCost, wantAssigned := bruteForce(tc.m, tc.capacity)
			require.Equal(t, wantCost, got.cost)
			require.Equal(t, wantAssigned, got.assigned)
		})
	}
}

func TestBenchAssignAgainstScipy(t *testing.T) {
	t.Parallel()
	requireScipy(t)
	var out, errOut bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs([]string{"bench", "assign", "--mentees", "60", "--mentors", "25", "--capacity", "2", "--kind", "both", "--rounds", "2"})
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	require.NoError(t, cmd.ExecuteContext(context.Background()))
	require.Regexp(t, `(?m)^\s+uniform\s.*\s2/2\s`, out.String())
	require.Regexp(t, `(?m)^\s+scored\s.*\s2/2\s`, out.String())
	require.Regexp(t, `(?m)^scored: generated in .*; \d+ forbidden pairs given cost \d+$`, out.String())
	require.Contains(t, errOut.String(), "[8/8] scored round 2/2: ours")
}

func TestBenchAssignFailsLoudlyOnDisagreement(t *testing.T) {
	t.Parallel()
	// A stand-in for python that imports anything and finds a cost no
	// solver can match.
	fake := filepath.Join(t.TempDir(), "python")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho cost=-1 assigned=3 seconds=0.001\n"), 0o755))
	err := runCLIErr("bench", "assign", "--mentees", "4", "--mentors", "3", "--capacity", "1", "--python", fake)
	require.ErrorIs(t, err, errWrongResult)
	require.ErrorContains(t, err, "scipy cost=-1 assigned=3")

	kept := regexp.MustCompile(`--in (\S+) --capacity 1$`).FindStringSubmatch(err.Error())
	require.NotNil(t, kept, "the error names the kept matrix: %v", err)
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(kept[1])) })
	m, err := benchgen.ReadFile(kept[1])
	require.NoError(t, err)
	require.Equal(t, benchgen.Uniform(4, 3, 1_000_000, 1), m)
}

func TestBenchAssignReportsBrokenScipyOutput(t *testing.T) {
	t.Parallel()
	fake := filepath.Join(t.TempDir(), "python")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\necho Traceback\n"), 0o755))
	err := runCLIErr("bench", "assign", "--mentees", "4", "--mentors", "3", "--python", fake)
	require.ErrorContains(t, err, `scipy: "Traceback": "Traceback" is not key=value`)
}

// runCLIErr runs tandem with args and returns its error.
func runCLIErr(args ...string) error {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.ExecuteContext(context.Background())
	if err == nil {
		return errors.New("no error")
	}
	return err
}
