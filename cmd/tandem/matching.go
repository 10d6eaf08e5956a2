package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
)

func init() { apiCommands = append(apiCommands, newMatchCmd) }

// Words of the enum flags, mapped to the proto enums.
var (
	matchStrategyWords = map[string]matchingv1.MatchStrategy{
		"optimal": matchingv1.MatchStrategy_MATCH_STRATEGY_OPTIMAL,
		"stable":  matchingv1.MatchStrategy_MATCH_STRATEGY_STABLE,
	}
	matchStateWords = map[string]matchingv1.MatchState{
		"proposed": matchingv1.MatchState_MATCH_STATE_PROPOSED,
		"accepted": matchingv1.MatchState_MATCH_STATE_ACCEPTED,
		"active":   matchingv1.MatchState_MATCH_STATE_ACTIVE,
		"declined": matchingv1.MatchState_MATCH_STATE_DECLINED,
		"ended":    matchingv1.MatchState_MATCH_STATE_ENDED,
	}
)

// newMatchCmd groups the commands of the matching service: runs, their
// results, and the matches a published run proposes.
func newMatchCmd(c *client) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "match",
		Short: "Run matchings of a program's pool, review and publish them, accept or decline matches",
		Long: `A match run pairs a program's enrolled mentees with its mentors. Review its
pairs (with --explain, factor by factor), who is left unmatched and why, and
how it compares with another run; publish it to turn its pairs into matches,
which each side then accepts or declines (docs/matching.md).`,
	}
	cmd.AddCommand(
		newMatchRunCmd(c), newMatchRunsCmd(c), newMatchShowRunCmd(c), newMatchPairsCmd(c),
		newMatchUnmatchedCmd(c), newMatchCompareCmd(c), newMatchPublishCmd(c),
		newMatchListCmd(c), newMatchAcceptCmd(c), newMatchDeclineCmd(c),
	)
	return cmd
}

// matchingClient connects and returns the matching service's client.
func (c *client) matchingClient(cmd *cobra.Command) (matchingv1.MatchingServiceClient, error) {
	conn, err := c.connect(cmd)
	if err != nil {
		return nil, err
	}
	return matchingv1.NewMatchingServiceClient(conn), nil
}

func newMatchRunCmd(c *client) *cobra.Command {
	var (
		program, strategy string
		maximise, noWait  bool
		minScore          float64
		timeout           time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Match a program's pool and print the run's metrics",
		Long: `Starts a match run of the program's pool (enrolled mentees not yet in a live
match, mentors with capacity left), shows its progress on standard error and
prints its metrics when it has finished. UNMATCHED counts the mentees left
without a mentor; "tandem match unmatched RUN" lists everyone left out, and why.

--min-score runs with the program's scoring configuration but that minimum
pair score: a what-if run.

Exits 1 when the run FAILED.`,
		Example: `  tandem match run --program "$PROGRAM" --strategy stable
  tandem match run --program "$PROGRAM" --maximise-participation --min-score 40 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if program == "" {
				return usageErr("--program: required, the program to match")
			}
			strat, ok := matchStrategyWords[strategy]
			if !ok {
				return usageErr("--strategy %q: must be optimal or stable", strategy)
			}
			if cmd.Flags().Changed("min-score") && (minScore < 0 || minScore > 100) {
				return usageErr("--min-score %v: must be from 0 to 100", minScore)
			}
			if timeout <= 0 {
				return usageErr("--timeout %s: must be positive", timeout)
			}
			mc, err := c.matchingClient(cmd)
			if err != nil {
				return err
			}
			req := &matchingv1.CreateMatchRunRequest{ProgramId: program, Strategy: strat, MaximiseParticipation: maximise}
			if cmd.Flags().Changed("min-score") {
				config, err := mc.GetScoringConfig(cmd.Context(), &matchingv1.GetScoringConfigRequest{ProgramId: program})
				if err != nil {
					return err
				}
				config.MinPairScore = minScore
				req.ConfigOverride = config
			}
			run, err := mc.CreateMatchRun(cmd.Context(), req)
			if err != nil {
				return err
			}
			if !noWait {
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				defer cancel()
				if run, err = waitMatchRun(ctx, mc, run, newPercentBar(cmd.ErrOrStderr()), timeout); err != nil {
					return err
				}
			}
			if err := c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) { matchRunTable(tw, run) }, false, run); err != nil {
				return err
			}
			if run.GetState() == matchingv1.MatchRunState_MATCH_RUN_STATE_FAILED {
				return &cliError{code: exitError, msg: fmt.Sprintf("match run %s failed: %s", run.GetId(), run.GetError())}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&program, "program", "", "program ID (required)")
	f.StringVar(&strategy, "strategy", "optimal", "optimal (highest total score) or stable (no pair would rather swap)")
	f.BoolVar(&maximise, "maximise-participation", false, "prefer matching more mentees over a higher total score")
	f.Float64Var(&minScore, "min-score", 0, "minimum pair score, 0 to 100, instead of the program's (a what-if run)")
	f.BoolVar(&noWait, "no-wait", false, "print the run at once instead of waiting for it")
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "give up waiting after this long")
	_ = cmd.RegisterFlagCompletionFunc("strategy", cobra.FixedCompletions([]string{"optimal", "stable"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// waitMatchRun polls a run every 200 ms, drawing its progress on bar,
// until it has finished or ctx ends.
func waitMatchRun(ctx context.Context, mc matchingv1.MatchingServiceClient, run *matchingv1.MatchRun, bar *progressBar, timeout time.Duration) (*matchingv1.MatchRun, error) {
	defer bar.finish()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		bar.percent(int(run.GetProgressPercent()), "matching")
		if run.GetState() != matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING {
			return run, nil
		}
		select {
		case <-ctx.Done():
			return nil, matchRunWaitErr(ctx, run.GetId(), timeout)
		case <-tick.C:
		}
		next, err := mc.GetMatchRun(ctx, &matchingv1.GetMatchRunRequest{Id: run.GetId()})
		if err != nil {
			if ctx.Err() != nil {
				return nil, matchRunWaitErr(ctx, run.GetId(), timeout)
			}
			return nil, err
		}
		run = next
	}
}

// matchRunWaitErr says why waiting for a run stopped: the timeout, or an interrupt.
func matchRunWaitErr(ctx context.Context, id string, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &cliError{code: exitUnavailable, msg: fmt.Sprintf("match run %s still running after --timeout %s; follow it with `tandem match show-run %s`", id, timeout, id)}
	}
	return ctx.Err()
}

func newMatchRunsCmd(c *client) *cobra.Command {
	var program string
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List a program's match runs, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if program == "" {
				return usageErr("--program: required, the program whose runs to list")
			}
			mc, err := c.matchingClient(cmd)
			if err != nil {
				return err
			}
			var runs []*matchingv1.MatchRun
			for token := ""; ; {
				page, err := mc.ListMatchRuns(cmd.Context(), &matchingv1.ListMatchRunsRequest{ProgramId: program, PageSize: 1000, PageToken: token})
				if err != nil {
					return err
				}
				runs = append(runs, page.GetRuns()...)
				if token = page.GetNextPageToken(); token == "" {
					break
				}
			}
			msgs := make([]proto.Message, len(runs))
			for i, r := range runs {
				msgs[i] = r
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
				matchRunHeader(tw)
				for _, r := range runs {
					matchRunRow(tw, r)
				}
			}, true, msgs...)
		},
	}
	cmd.Flags().StringVar(&program, "program", "", "program ID (required)")
	return cmd
}

func newMatchShowRunCmd(c *client) *cobra.Command {
	return &cobra.Command{
		Use:   "show-run RUN",
		Short: "Show a match run: its metrics and the fairness view by mentee segment",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mc, err := c.matchingClient(cmd)
			if err != nil {
				return err
			}
			run, err := mc.GetMatchRun(cmd.Context(), &matchingv1.GetMatchRunRequest{Id: args[0]})
			if err != nil {
				return err
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
				matchRunTable(tw, run)
				m := run.GetMetrics()
				if m.GetExcludedMentees() > 0 || m.GetExcludedMentors() > 0 {
					fmt.Fprintf(tw, "\nleft out of the pool: %d mentees already in a live match, %d mentors without capacity\n",
						m.GetExcludedMentees(), m.GetExcludedMentors())
				}
				if len(m.GetSegments()) == 0 {
					return
				}
				fmt.Fprintln(tw)
				row(tw, "DIMENSION", "SEGMENT", "MENTEES", "MATCHED", "MEAN", "MIN")
				for _, s := range m.GetSegments() {
					row(tw, s.GetDimension(), s.GetName(), s.GetMentees(), s.GetMatched(), matchScore(s.GetMeanScore()), matchScore(s.GetMinScore()))
				}
			}, false, run)
		},
	}
}

// matchRunTable prints one run as a table, with why it failed.
func matchRunTable(tw *tabwriter.Writer, run *matchingv1.MatchRun) {
	matchRunHeader(tw)
	matchRunRow(tw, run)
	if run.GetError() != "" {
		fmt.Fprintf(tw, "\nerror: %s\n", run.GetError())
	}
}

func matchRunHeader(tw *tabwriter.Writer) {
	row(tw, "ID", "STATE", "STRATEGY", "MENTEES", "MENTORS", "PAIRS", "COVERAGE", "MEAN", "MIN", "UNMATCHED", "CREATED")
}

// matchRunRow prints a run's metrics; UNMATCHED is the mentees left without a
// mentor.
func matchRunRow(tw *tabwriter.Writer, run *matchingv1.MatchRun) {
	state := protoWord(run.GetState())
	if run.GetState() == matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING {
		state = fmt.Sprintf("running %d%%", run.GetProgressPercent())
	}
	strategy := protoWord(run.GetStrategy())
	if run.GetWhatIf() {
		strategy += " (what-if)"
	}
	m := run.GetMetrics()
	if m == nil {
		row(tw, run.GetId(), state, strategy, "-", "-", "-", "-", "-", "-", "-", matchTime(run.GetCreateTime()))
		return
	}
	row(tw, run.GetId(), state, strategy, m.GetMentees(), m.GetMentors(), m.GetPairs(),
		fmt.Sprintf("%.1f%%", 100*m.GetCoverage()), matchScore(m.GetMeanScore()), matchScore(m.GetMinScore()),
		m.GetMentees()-m.GetPairs(), matchTime(run.GetCreateTime()))
}

func newMatchPairsCmd(c *client) *cobra.Command {
	var explain bool
	cmd := &cobra.Command{
		Use:   "pairs RUN",
		Short: "List the pairs a run proposes, by mentee; --explain scores each factor",
		Long: `Lists the pairs a run proposes, ordered by mentee participant ID. With
--explain, a line per scoring factor follows each pair: its value (0 to 1,
before weighting), its weight and why.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mc, err := c.matchingClient(cmd)
			if err != nil {
				return err
			}
			var pairs []*matchingv1.MatchRunPair
			for token := ""; ; {
				page, err := mc.ListMatchRunPairs(cmd.Context(), &matchingv1.ListMatchRunPairsRequest{RunId: args[0], PageSize: 1000, PageToken: token})
				if err != nil {
					return err
				}
				pairs = append(pairs, page.GetPairs()...)
				if token = page.GetNextPageToken(); token == "" {
					break
				}
			}
			msgs := make([]proto.Message, len(pairs))
			for i, p := range pairs {
				msgs[i] = p
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
				if !explain {
					row(tw, "MENTOR", "MENTEE", "SCORE")
					for _, p := range pairs {
						row(tw, p.GetMentorParticipantId(), p.GetMenteeParticipantId(), matchScore(p.GetScore()))
					}
					return
				}
				row(tw, "MENTOR", "MENTEE", "SCORE", "FACTOR", "VALUE", "WEIGHT", "EXPLANATION")
				for _, p := range pairs {
					row(tw, p.GetMentorParticipantId(), p.GetMenteeParticipantId(), matchScore(p.GetScore()), "", "", "", "")
					for _, f := range p.GetFactors() {
						row(tw, "", "", "", f.GetFactor(), fmt.Sprintf("%.2f", f.GetValue()), matchScore(f.GetWeight()), f.GetExplanation())
					}
				}
			}, true, msgs...)
		},
	}
	cmd.Flags().BoolVar(&explain, "explain", false, "show each pair's score factor by factor")
	return cmd
}

func newMatchUnmatchedCmd(c *client) *cobra.Command {
	return &cobra.Command{
		Use:   "unmatched RUN",
		Short: "List who a run left without a partner, and why",
		Long: `Lists the participants of a run's pool left without a partner. REASON is
no_eligible_partner (every pair breaks a hard rule), below_min_score (every
allowed pair scores below the minimum), partners_taken (the eligible partners
went to others) or not_chosen (a mentor no mentee was assigned to).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mc, err := c.matchingClient(cmd)
			if err != nil {
				return err
			}
			var unmatched []*matchingv1.UnmatchedParticipant
			for token := ""; ; {
				page, err := mc.ListMatchRunUnmatched(cmd.Context(), &matchingv1.ListMatchRunUnmatchedRequest{RunId: args[0], PageSize: 1000, PageToken: token})
				if err != nil {
					return err
				}
				unmatched = append(unmatched, page.GetUnmatched()...)
				if token = page.GetNextPageToken(); token == "" {
					break
				}
			}
			msgs := make([]proto.Message, len(unmatched))
			for i, u := range unmatched {
				msgs[i] = u
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
				row(tw, "PARTICIPANT", "ROLE", "REASON", "DETAIL")
				for _, u := range unmatched {
					row(tw, u.GetParticipantId(), protoWord(u.GetRole()), u.GetReason(), u.GetDetail())
				}
			}, true, msgs...)
		},
	}
}

func newMatchCompareCmd(c *client) *cobra.Command {
	return &cobra.Command{
		Use:   "compare RUN_A RUN_B",
		Short: "Compare two runs of a program: their metrics side by side and the pairs that differ",
		Long: `Compares two SUCCEEDED or PUBLISHED runs of one program: their metrics side by
side with the change from RUN_A to RUN_B, then the pairs only one of them
proposes and those both propose with another score. -o json prints the
comparison (pairs in both, only in RUN_A, only in RUN_B, metric deltas).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			mc, err := c.matchingClient(cmd)
			if err != nil {
				return err
			}
			cmp, err := mc.CompareMatchRuns(cmd.Context(), &matchingv1.CompareMatchRunsRequest{RunId: args[0], OtherRunId: args[1]})
			if err != nil {
				return err
			}
			if c.output == "json" {
				return printJSON(cmd.OutOrStdout(), cmp)
			}
			var runs [2]*matchingv1.MatchRun
			for i, id := range args {
				if runs[i], err = mc.GetMatchRun(cmd.Context(), &matchingv1.GetMatchRunRequest{Id: id}); err != nil {
					return err
				}
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) { matchCompareTable(tw, runs, cmp) }, false, cmp)
		},
	}
}

// matchCompareTable prints two runs' metrics side by side, then the pairs that
// differ.
func matchCompareTable(tw *tabwriter.Writer, runs [2]*matchingv1.MatchRun, cmp *matchingv1.CompareMatchRunsResponse) {
	a, b, d := runs[0].GetMetrics(), runs[1].GetMetrics(), cmp.GetDelta()
	row(tw, "METRIC", "RUN_A", "RUN_B", "CHANGE")
	row(tw, "strategy", protoWord(runs[0].GetStrategy()), protoWord(runs[1].GetStrategy()), "")
	row(tw, "pairs", a.GetPairs(), b.GetPairs(), fmt.Sprintf("%+d", d.GetPairs()))
	row(tw, "coverage", fmt.Sprintf("%.1f%%", 100*a.GetCoverage()), fmt.Sprintf("%.1f%%", 100*b.GetCoverage()), fmt.Sprintf("%+.1f%%", 100*d.GetCoverage()))
	row(tw, "mean score", matchScore(a.GetMeanScore()), matchScore(b.GetMeanScore()), fmt.Sprintf("%+.1f", d.GetMeanScore()))
	row(tw, "min score", matchScore(a.GetMinScore()), matchScore(b.GetMinScore()), fmt.Sprintf("%+.1f", d.GetMinScore()))
	row(tw, "total score", matchScore(a.GetTotalScore()), matchScore(b.GetTotalScore()), fmt.Sprintf("%+.1f", d.GetTotalScore()))
	fmt.Fprintf(tw, "\n%d pairs in both runs, %d only in RUN_A, %d only in RUN_B\n", len(cmp.GetInBoth()), len(cmp.GetOnlyInRun()), len(cmp.GetOnlyInOther()))
	var differ []string
	for _, p := range cmp.GetInBoth() {
		if math.Abs(p.GetScore()-p.GetOtherScore()) >= 0.05 {
			differ = append(differ, matchComparedRow("both", p))
		}
	}
	for _, p := range cmp.GetOnlyInRun() {
		differ = append(differ, matchComparedRow("RUN_A", p))
	}
	for _, p := range cmp.GetOnlyInOther() {
		differ = append(differ, matchComparedRow("RUN_B", p))
	}
	if len(differ) == 0 {
		return
	}
	fmt.Fprintln(tw)
	row(tw, "IN", "MENTOR", "MENTEE", "SCORE_A", "SCORE_B")
	for _, r := range differ {
		fmt.Fprintln(tw, r)
	}
}

// matchComparedRow is a table row of a pair of a comparison; a run that does
// not propose it shows "-".
func matchComparedRow(in string, p *matchingv1.ComparedPair) string {
	a, b := matchScore(p.GetScore()), matchScore(p.GetOtherScore())
	switch in {
	case "RUN_A":
		b = "-"
	case "RUN_B":
		a = "-"
	}
	return strings.Join([]string{in, p.GetMentorParticipantId(), p.GetMenteeParticipantId(), a, b}, "\t")
}

func newMatchPublishCmd(c *client) *cobra.Command {
	return &cobra.Command{
		Use:   "publish RUN",
		Short: "Turn a succeeded run's pairs into matches",
		Long: `Publishes a SUCCEEDED run: its pairs become PROPOSED matches (ACCEPTED when
the program accepts automatically), all or none. When someone was matched or
a mentor's capacity used up since the run, nothing is published and the
error names who: run again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mc, err := c.matchingClient(cmd)
			if err != nil {
				return err
			}
			run, err := mc.PublishMatchRun(cmd.Context(), &matchingv1.PublishMatchRunRequest{Id: args[0]})
			if err != nil {
				return err
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
				row(tw, "RUN", "STATE", "MATCHES", "PUBLISHED")
				row(tw, run.GetId(), protoWord(run.GetState()), run.GetMatchesCreated(), matchTime(run.GetPublishTime()))
			}, false, run)
		},
	}
}

func newMatchListCmd(c *client) *cobra.Command {
	var program, state string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a program's matches, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if program == "" {
				return usageErr("--program: required, the program whose matches to list")
			}
			req := &matchingv1.ListMatchesRequest{ProgramId: program, PageSize: 1000}
			if state != "" {
				s, ok := matchStateWords[state]
				if !ok {
					return usageErr("--state %q: must be proposed, accepted, active, declined or ended", state)
				}
				req.State = s
			}
			mc, err := c.matchingClient(cmd)
			if err != nil {
				return err
			}
			var matches []*matchingv1.Match
			for {
				page, err := mc.ListMatches(cmd.Context(), req)
				if err != nil {
					return err
				}
				matches = append(matches, page.GetMatches()...)
				if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
					break
				}
			}
			msgs := make([]proto.Message, len(matches))
			for i, m := range matches {
				msgs[i] = m
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) { matchTable(tw, matches...) }, true, msgs...)
		},
	}
	cmd.Flags().StringVar(&program, "program", "", "program ID (required)")
	cmd.Flags().StringVar(&state, "state", "", "only matches in this state: proposed, accepted, active, declined or ended")
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions([]string{"proposed", "accepted", "active", "declined", "ended"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// matchTable prints matches; ACCEPTED_BY says which sides accepted.
func matchTable(tw *tabwriter.Writer, matches ...*matchingv1.Match) {
	row(tw, "ID", "STATE", "MENTOR", "MENTEE", "SCORE", "SOURCE", "ACCEPTED_BY")
	for _, m := range matches {
		var by []string
		if m.GetMentorAccepted() {
			by = append(by, "mentor")
		}
		if m.GetMenteeAccepted() {
			by = append(by, "mentee")
		}
		if len(by) == 0 {
			by = []string{"-"}
		}
		row(tw, m.GetId(), protoWord(m.GetState()), m.GetMentorParticipantId(), m.GetMenteeParticipantId(),
			matchScore(m.GetScore()), protoWord(m.GetSource()), strings.Join(by, ","))
	}
}

func newMatchAcceptCmd(c *client) *cobra.Command {
	var as string
	cmd := &cobra.Command{
		Use:   "accept MATCH",
		Short: "Record the acceptance of a proposed match by its mentor, its mentee or both",
		Long: `Records the acceptance of a PROPOSED match on behalf of its mentor, its mentee
or both. The match becomes ACCEPTED once the program's acceptance rule is met
(by default both sides must accept).`,
		Example: `  tandem match accept "$MATCH" --as both`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if as != "mentor" && as != "mentee" && as != "both" {
				return usageErr("--as %q: must be mentor, mentee or both", as)
			}
			mc, err := c.matchingClient(cmd)
			if err != nil {
				return err
			}
			m, err := mc.GetMatch(cmd.Context(), &matchingv1.GetMatchRequest{Id: args[0]})
			if err != nil {
				return err
			}
			var sides []string
			if as != "mentee" {
				sides = append(sides, m.GetMentorParticipantId())
			}
			if as != "mentor" {
				sides = append(sides, m.GetMenteeParticipantId())
			}
			for _, participant := range sides {
				if m, err = mc.AcceptMatch(cmd.Context(), &matchingv1.AcceptMatchRequest{Id: args[0], ParticipantId: participant}); err != nil {
					return err
				}
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) { matchTable(tw, m) }, false, m)
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "who accepts: mentor, mentee or both (required)")
	_ = cmd.RegisterFlagCompletionFunc("as", cobra.FixedCompletions([]string{"mentor", "mentee", "both"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newMatchDeclineCmd(c *client) *cobra.Command {
	var as, reason string
	cmd := &cobra.Command{
		Use:   "decline MATCH",
		Short: "Decline a proposed or accepted match: both return to the pool",
		Long: `Declines a PROPOSED or ACCEPTED match on behalf of its mentor or mentee
(--as), or as a program manager (no --as). Both return to the pool and the
pair is never proposed again in the program.`,
		Example: `  tandem match decline "$MATCH" --as mentee --reason "time zones too far apart"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if reason == "" {
				return usageErr("--reason: required, why the match is declined")
			}
			if as != "" && as != "mentor" && as != "mentee" {
				return usageErr("--as %q: must be mentor or mentee, or left out for a program manager", as)
			}
			mc, err := c.matchingClient(cmd)
			if err != nil {
				return err
			}
			req := &matchingv1.DeclineMatchRequest{Id: args[0], Reason: reason}
			if as != "" {
				m, err := mc.GetMatch(cmd.Context(), &matchingv1.GetMatchRequest{Id: args[0]})
				if err != nil {
					return err
				}
				req.ParticipantId = m.GetMentorParticipantId()
				if as == "mentee" {
					req.ParticipantId = m.GetMenteeParticipantId()
				}
			}
			m, err := mc.DeclineMatch(cmd.Context(), req)
			if err != nil {
				return err
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) { matchTable(tw, m) }, false, m)
		},
	}
	cmd.Flags().StringVar(&as, "as", "", "who declines: mentor or mentee (default: a program manager)")
	cmd.Flags().StringVar(&reason, "reason", "", "why the match is declined (required)")
	_ = cmd.RegisterFlagCompletionFunc("as", cobra.FixedCompletions([]string{"mentor", "mentee"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// matchScore formats a 0–100 score to one decimal.
func matchScore(v float64) string { return fmt.Sprintf("%.1f", v) }

// matchTime formats a time as RFC 3339 in UTC; "-" when unset.
func matchTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}
