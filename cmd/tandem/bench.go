package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-oss/tandem/cmd/tandem/internal/benchgen"
	"github.com/tandem-oss/tandem/services/matching/engine"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark the matching solver, alone or against scipy",
	}
	cmd.AddCommand(newBenchSolveCmd(), newBenchAssignCmd())
	return cmd
}

func newBenchSolveCmd() *cobra.Command {
	var in string
	var capacity int
	cmd := &cobra.Command{
		Use:   "solve",
		Short: "Solve a cost-matrix file with the matching solver and print the result",
		Long: `Reads FILE (little-endian int32 rows, int32 cols, then rows×cols int32 costs
in row order, minimised; rows are mentees, cols mentors taking up to
--capacity rows each; 2147483647 forbids a pair), assigns as many rows as
possible at the least total cost, like scipy's linear_sum_assignment, and
prints one line:

  cost=<total> assigned=<rows assigned> seconds=<solve time> certified=<true|false>

The time covers the solver alone, not reading the file.`,
		Example: `  tandem bench solve --in costs.bin --capacity 2`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if capacity < 1 {
				return fmt.Errorf("--capacity %d: must be at least 1", capacity)
			}
			m, err := benchgen.ReadFile(in)
			if err != nil {
				return err
			}
			res, err := solveMatrix(m, capacity)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cost=%d assigned=%d seconds=%.3f certified=%t\n",
				res.cost, res.assigned, res.elapsed.Seconds(), res.certified)
			return nil
		},
	}
	cmd.Flags().StringVar(&in, "in", "", "instance file to solve")
	cmd.Flags().IntVar(&capacity, "capacity", 1, "rows each column (mentor) takes at most")
	_ = cmd.MarkFlagRequired("in")
	return cmd
}

// assignConfig is what `tandem bench assign` runs.
type assignConfig struct {
	mentees, mentors, capacity int
	kind                       string
	seed                       uint64
	rounds                     int
	python                     string
	maxCost                    int64
}

func newBenchAssignCmd() *cobra.Command {
	var cfg assignConfig
	cmd := &cobra.Command{
		Use:   "assign",
		Short: "Race the matching solver against scipy's linear_sum_assignment on seeded instances",
		Long: `Generates seeded mentees×mentors cost matrices, writes each to a file and
solves it --rounds times with the matching solver (in this process) and with
scipy's linear_sum_assignment (python3 with Debian's python3-scipy, each
mentor's column repeated --capacity times), alternating which goes first.
Both must find the same total cost; the command fails loudly otherwise.

Kinds: uniform (costs uniform in [0, --max-cost)), scored (10,000 minus
the matching engine's score of a seeded synthetic reverse-mentoring pool
under the default scoring configuration, where most pairs break a hard
rule) and classic (the same pool scored as a classic program, where only
the sparse rules forbid a pair); both is uniform and scored, all is the
three. Forbidden pairs become a finite cost of ten times the largest other
one, in the file too, so that both solvers solve the same matrix.

Timed: the solver calls alone (not generating, writing or reading). Peak
RSS is this process's VmHWM after its solves, cost matrix included.`,
		Example: `  tandem bench assign --kind all
  tandem bench assign --mentees 1000 --mentors 1000 --capacity 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchAssign(cmd, cfg)
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.mentees, "mentees", 10_000, "rows of the cost matrix")
	f.IntVar(&cfg.mentors, "mentors", 5_000, "columns of the cost matrix")
	f.IntVar(&cfg.capacity, "capacity", 2, "mentees each mentor takes at most")
	f.StringVar(&cfg.kind, "kind", "uniform", "instances: uniform, scored, classic, both (uniform and scored) or all")
	f.Uint64Var(&cfg.seed, "seed", 1, "seed of the generators")
	f.IntVar(&cfg.rounds, "rounds", 3, "times each solver solves each instance")
	f.StringVar(&cfg.python, "python", "/usr/bin/python3", "python with numpy and scipy")
	f.Int64Var(&cfg.maxCost, "max-cost", 1_000_000, "uniform costs are drawn from [0, max-cost)")
	return cmd
}

// validate checks the flags; its errors name the flag.
func (c assignConfig) validate() error {
	switch {
	case c.mentees < 1:
		return fmt.Errorf("--mentees %d: must be at least 1", c.mentees)
	case c.mentors < 1:
		return fmt.Errorf("--mentors %d: must be at least 1", c.mentors)
	case int64(c.mentees)*int64(c.mentors) > benchgen.MaxCells:
		return fmt.Errorf("--mentees × --mentors = %d cells: at most %d", int64(c.mentees)*int64(c.mentors), benchgen.MaxCells)
	case c.capacity < 1:
		return fmt.Errorf("--capacity %d: must be at least 1", c.capacity)
	case c.rounds < 1:
		return fmt.Errorf("--rounds %d: must be at least 1", c.rounds)
	case c.maxCost < 1 || c.maxCost > math.MaxInt32:
		return fmt.Errorf("--max-cost %d: must be from 1 to %d", c.maxCost, math.MaxInt32)
	}
	if _, err := c.kinds(); err != nil {
		return err
	}
	return nil
}

// kinds lists the instance kinds --kind asks for.
func (c assignConfig) kinds() ([]string, error) {
	switch c.kind {
	case "uniform", "scored", "classic":
		return []string{c.kind}, nil
	case "both":
		return []string{"uniform", "scored"}, nil
	case "all":
		return []string{"uniform", "scored", "classic"}, nil
	}
	return nil, fmt.Errorf("--kind %q: must be uniform, scored, classic, both or all", c.kind)
}

// generate makes the instance of one kind with forbidden pairs replaced.
func (c assignConfig) generate(kind string) (m benchgen.Matrix, replacement int32, replaced int, err error) {
	switch kind {
	case "uniform":
		m = benchgen.Uniform(c.mentees, c.mentors, int32(c.maxCost), c.seed)
	case "classic":
		m, err = benchgen.ScoredAs(engine.Classic, c.mentees, c.mentors, c.seed)
	default:
		m, err = benchgen.Scored(c.mentees, c.mentors, c.seed)
	}
	if err != nil {
		return benchgen.Matrix{}, 0, 0, err
	}
	replacement, replaced = benchgen.ReplaceForbidden(m)
	return m, replacement, replaced, nil
}

// kindResult is one kind's figures over all rounds.
type kindResult struct {
	kind        string
	ours, scipy []time.Duration
	certified   int
	peakRSS     int64 // bytes; 0 when /proc is not there
	// generated and written are the untimed preparation; replaced
	// forbidden pairs were given the finite cost replacement.
	generated, written time.Duration
	replaced           int
	replacement        int32
}

// errWrongResult is wrapped by the error of a race where the two solvers
// disagree.
var errWrongResult = errors.New("WRONG RESULT")

func runBenchAssign(cmd *cobra.Command, cfg assignConfig) (err error) {
	if err := cfg.validate(); err != nil {
		return err
	}
	kinds, _ := cfg.kinds()
	if err := checkScipy(cmd.Context(), cfg.python); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tandem-bench-")
	if err != nil {
		return err
	}
	defer func() {
		// A wrong result's file stays for the solver's authors.
		if !errors.Is(err, errWrongResult) {
			os.RemoveAll(dir)
		}
	}()
	script, err := benchgen.WriteScipyScript(dir)
	if err != nil {
		return err
	}

	out := cmd.OutOrStdout()
	bar := newProgressBar(cmd.ErrOrStderr(), len(kinds)*cfg.rounds*2)
	var results []kindResult
	var failed error
	for _, kind := range kinds {
		res, err := benchKind(cmd.Context(), cfg, kind, dir, script, bar)
		if err != nil {
			failed = err
			break
		}
		results = append(results, res)
	}
	bar.finish()
	if len(results) > 0 {
		if err := printResults(out, cfg, results); err != nil {
			return err
		}
	}
	return failed
}

// printResults prints the table of the kinds' figures and how long their
// untimed preparation took.
func printResults(out io.Writer, cfg assignConfig, results []kindResult) error {
	fmt.Fprintf(out, "\n%d mentees × %d mentors, capacity %d, seed %d, %d rounds, GOMAXPROCS %d\n",
		cfg.mentees, cfg.mentors, cfg.capacity, cfg.seed, cfg.rounds, runtime.GOMAXPROCS(0))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tours min\tours median\tscipy min\tscipy median\tscipy/ours (median)\tcertified\tpeak RSS\t")
	for _, r := range results {
		oursMed, scipyMed := median(r.ours), median(r.scipy)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f×\t%d/%d\t%s\t\n", r.kind,
			formatSeconds(slices.Min(r.ours)), formatSeconds(oursMed),
			formatSeconds(slices.Min(r.scipy)), formatSeconds(scipyMed),
			scipyMed.Seconds()/max(oursMed.Seconds(), 1e-9),
			r.certified, len(r.ours), formatBytes(r.peakRSS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		fmt.Fprintf(out, "%s: generated in %s, written in %s (neither timed)", r.kind, formatSeconds(r.generated), formatSeconds(r.written))
		if r.replaced > 0 {
			fmt.Fprintf(out, "; %d forbidden pairs given cost %d", r.replaced, r.replacement)
		}
		fmt.Fprintln(out)
	}
	return nil
}

// benchKind generates one kind's instance, writes it for scipy and races
// the two solvers on it for cfg.rounds rounds.
func benchKind(ctx context.Context, cfg assignConfig, kind, dir, script string, bar *progressBar) (kindResult, error) {
	start := time.Now()
	m, replacement, replaced, err := cfg.generate(kind)
	if err != nil {
		return kindResult{}, err
	}
	generated := time.Since(start)
	path := filepath.Join(dir, kind+".bin")
	start = time.Now()
	if err := benchgen.WriteFile(path, m); err != nil {
		return kindResult{}, err
	}
	written := time.Since(start)
	res := kindResult{kind: kind, generated: generated, written: written, replaced: replaced, replacement: replacement}
	// The peak from here on is this kind's: the previous kind's matrix
	// is garbage by now.
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()

	for round := 1; round <= cfg.rounds; round++ {
		var ours solveResult
		var theirs scipyResult
		runOurs := func() error {
			bar.step(fmt.Sprintf("%s round %d/%d: ours", kind, round, cfg.rounds))
			r, err := solveMatrix(m, cfg.capacity)
			ours = r
			res.peakRSS = max(res.peakRSS, peakRSS())
			return err
		}
		runScipy := func() error {
			bar.step(fmt.Sprintf("%s round %d/%d: scipy", kind, round, cfg.rounds))
			r, err := runScipy(ctx, cfg.python, script, path, cfg.capacity)
			theirs = r
			return err
		}
		order := []func() error{runOurs, runScipy}
		if round%2 == 0 {
			order = []func() error{runScipy, runOurs}
		}
		for _, run := range order {
			if err := run(); err != nil {
				return kindResult{}, err
			}
		}
		if ours.cost != theirs.cost || ours.assigned != theirs.assigned {
			return kindResult{}, fmt.Errorf("%w on %s round %d (seed %d): ours cost=%d assigned=%d certified=%t, scipy cost=%d assigned=%d; the matrix is kept: tandem bench solve --in %s --capacity %d",
				errWrongResult, kind, round, cfg.seed, ours.cost, ours.assigned, ours.certified, theirs.cost, theirs.assigned, path, cfg.capacity)
		}
		res.ours = append(res.ours, ours.elapsed)
		res.scipy = append(res.scipy, theirs.elapsed)
		if ours.certified {
			res.certified++
		}
	}
	return res, nil
}

// solveResult is one run of our solver.
type solveResult struct {
	cost      int64
	assigned  int
	elapsed   time.Duration
	certified bool
}

// solveMatrix solves m with every column taking up to capacity rows and
// the max-cardinality penalty, timing engine.Solve alone. It checks the
// solution it gets (capacities, no forbidden pair, the reported cost)
// so that a wrong answer cannot pass for a fast one.
func solveMatrix(m benchgen.Matrix, capacity int) (solveResult, error) {
	caps := make([]int32, m.Cols)
	for j := range caps {
		caps[j] = int32(capacity)
	}
	a := engine.Assignment{Rows: m.Rows, Cols: m.Cols, Cost: m.Cost, Capacity: caps}
	a.Unassigned = engine.MaxCardinalityPenalty(a)
	// Each solve starts from a collected heap, as testing.B starts each
	// benchmark: the garbage of generating, checking and the previous
	// solve is not collected on the solver's clock. What the solver
	// allocates, and any collection that causes, is.
	runtime.GC()
	start := time.Now()
	sol, err := engine.Solve(a, nil)
	elapsed := time.Since(start)
	if err != nil {
		return solveResult{}, fmt.Errorf("solve: %w", err)
	}
	if err := checkSolution(a, sol); err != nil {
		return solveResult{}, fmt.Errorf("solver returned an invalid solution: %w", err)
	}
	return solveResult{cost: sol.Cost, assigned: sol.Assigned, elapsed: elapsed, certified: sol.Certified}, nil
}

// checkSolution verifies that sol is a feasible assignment of a whose
// Cost and Assigned add up.
func checkSolution(a engine.Assignment, sol engine.Solution) error {
	if len(sol.Col) != a.Rows {
		return fmt.Errorf("%d columns for %d rows", len(sol.Col), a.Rows)
	}
	load := make([]int32, a.Cols)
	var cost int64
	assigned := 0
	for i, j := range sol.Col {
		if j < 0 {
			continue
		}
		if int(j) >= a.Cols {
			return fmt.Errorf("row %d: column %d out of range", i, j)
		}
		c := a.Cost[i*a.Cols+int(j)]
		if c == engine.Forbidden {
			return fmt.Errorf("row %d: forbidden column %d", i, j)
		}
		load[j]++
		if load[j] > a.Capacity[j] {
			return fmt.Errorf("column %d: more than its capacity %d", j, a.Capacity[j])
		}
		cost += int64(c)
		assigned++
	}
	if cost != sol.Cost || assigned != sol.Assigned {
		return fmt.Errorf("reports cost=%d assigned=%d, its columns give cost=%d assigned=%d", sol.Cost, sol.Assigned, cost, assigned)
	}
	return nil
}

// scipyResult is one run of scipy_lsa.py.
type scipyResult struct {
	cost     int64
	assigned int
	elapsed  time.Duration
}

// errNoScipy is what a python without numpy or scipy gets.
var errNoScipy = errors.New("install python3-scipy (Debian)")

// checkScipy makes sure python can import numpy and scipy.optimize.
func checkScipy(ctx context.Context, python string) error {
	var stderr bytes.Buffer
	c := exec.CommandContext(ctx, python, "-c", "import numpy, scipy.optimize")
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s cannot import scipy (%v: %s): %w", python, err, strings.TrimSpace(stderr.String()), errNoScipy)
	}
	return nil
}

// runScipy runs the scipy script on the instance file and parses its line.
func runScipy(ctx context.Context, python, script, path string, capacity int) (scipyResult, error) {
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, python, script, path, strconv.Itoa(capacity))
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return scipyResult{}, fmt.Errorf("scipy: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	fields, err := parseFields(stdout.String(), "cost", "assigned", "seconds")
	if err != nil {
		return scipyResult{}, fmt.Errorf("scipy: %w", err)
	}
	cost, err1 := strconv.ParseInt(fields["cost"], 10, 64)
	assigned, err2 := strconv.Atoi(fields["assigned"])
	seconds, err3 := strconv.ParseFloat(fields["seconds"], 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return scipyResult{}, fmt.Errorf("scipy: %q: %w", strings.TrimSpace(stdout.String()), err)
	}
	return scipyResult{cost: cost, assigned: assigned, elapsed: time.Duration(seconds * float64(time.Second))}, nil
}

// parseFields reads a `key=value key=value` line and checks that every
// wanted key is there.
func parseFields(line string, want ...string) (map[string]string, error) {
	fields := map[string]string{}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("%q: %q is not key=value", strings.TrimSpace(line), f)
		}
		fields[k] = v
	}
	for _, k := range want {
		if _, ok := fields[k]; !ok {
			return nil, fmt.Errorf("%q: no %s=", strings.TrimSpace(line), k)
		}
	}
	return fields, nil
}

// peakRSS is this process's peak resident set size (VmHWM), in bytes, or
// 0 where /proc/self/status is not there.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// resetPeakRSS sets VmHWM back to the current RSS (Linux ≥ 4.0), so that
// each kind's peak is its own; where it cannot, the peak stays the
// process's.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// median of the durations (the mean of the middle two for an even count).
func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// formatSeconds prints a duration in seconds, or in milliseconds below one
// second, where three decimals of a second would hide the 10 ms target.
func formatSeconds(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

// formatBytes prints a byte count in MiB.
func formatBytes(b int64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

// progressBar shows the rounds' progress on w: `[#####-----] 3/12 what`
// redrawn on one line of a terminal, one line per step elsewhere.
type progressBar struct {
	w           io.Writer
	terminal    bool
	total, done int
}

// barWidth is the number of cells of the bar.
const barWidth = 24

// newProgressBar returns a bar of total steps drawn on w.
func newProgressBar(w io.Writer, total int) *progressBar {
	terminal := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			terminal = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progressBar{w: w, terminal: terminal, total: max(total, 1)}
}

// step counts the previous step done and shows what runs now.
func (p *progressBar) step(what string) {
	p.done++
	if !p.terminal {
		fmt.Fprintf(p.w, "[%d/%d] %s\n", p.done, p.total, what)
		return
	}
	filled := barWidth * (p.done - 1) / p.total
	fmt.Fprintf(p.w, "\r\033[K[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled), p.done, p.total, what)
}

// finish ends the bar's line.
func (p *progressBar) finish() {
	if p.terminal && p.done > 0 {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
