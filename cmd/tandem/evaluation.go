package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
)

func init() {
	apiCommands = append(apiCommands, newFeedbackCmd, newHealthCmd, newReportCmd)
}

// healthWords maps the --min words to the proto enum.
var healthWords = map[string]evaluationv1.HealthStatus{
	"needs-attention": evaluationv1.HealthStatus_HEALTH_STATUS_NEEDS_ATTENTION,
	"at-risk":         evaluationv1.HealthStatus_HEALTH_STATUS_AT_RISK,
}

// newFeedbackCmd groups the commands on session feedback.
func newFeedbackCmd(c *client) *cobra.Command {
	cmd := &cobra.Command{Use: "feedback", Short: "Feedback on held sessions"}
	var (
		person, comment, private string
		rating                   int32
		tags                     []string
	)
	submit := &cobra.Command{
		Use:   "submit SESSION",
		Short: "Give one side's feedback on a completed session (once per person)",
		Long: `Records a rating from 1 (poor) to 5 (excellent), tags and a comment the
pair and the program's managers can read. A private comment is readable
only by its author and, with an audited reason, a tenant admin.`,
		Example: `  tandem feedback submit 01JA00 --as 01J9PERSON --rating 4 --tag prepared --tag practical --comment "Clear next steps"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "as", "rating"); err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			fb, err := evaluationv1.NewEvaluationServiceClient(conn).SubmitFeedback(cmd.Context(), &evaluationv1.SubmitFeedbackRequest{
				SessionId: args[0], PersonId: person, Rating: rating, Tags: tags, Comment: comment, PrivateComment: private,
			})
			if err != nil {
				return err
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
				row(tw, "ID", "SESSION", "AUTHOR", "RATING", "TAGS", "PRIVATE", "COMMENT")
				row(tw, fb.GetId(), fb.GetSessionId(), fb.GetAuthorPersonId(), fb.GetRating(),
					orDash(strings.Join(fb.GetTags(), ",")), fb.GetHasPrivateComment(), orDash(fb.GetComment()))
			}, false, fb)
		},
	}
	f := submit.Flags()
	f.StringVar(&person, "as", "", "person id of the side giving it (the mentor or the mentee)")
	f.Int32Var(&rating, "rating", 0, "1 (poor) to 5 (excellent)")
	f.StringArrayVar(&tags, "tag", nil, "a short label, e.g. prepared (repeat for more, up to 10)")
	f.StringVar(&comment, "comment", "", "comment for the pair and the program's managers")
	f.StringVar(&private, "private-comment", "", "comment only you (and an admin, audited) can read")
	cmd.AddCommand(submit)
	return cmd
}

// newHealthCmd groups the commands on relationship health.
func newHealthCmd(c *client) *cobra.Command {
	cmd := &cobra.Command{Use: "health", Short: "Relationship health of active pairs"}
	var program, least string
	atRisk := &cobra.Command{
		Use:     "at-risk --program ID",
		Short:   "List a program's pairs at risk (or needing attention), worst and longest first",
		Example: `  tandem health at-risk --program 01J9PROG --min needs-attention`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "program"); err != nil {
				return err
			}
			status, ok := healthWords[least]
			if !ok {
				return usageErr("--min %q: must be needs-attention or at-risk", least)
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			api := evaluationv1.NewEvaluationServiceClient(conn)
			var pairs []*evaluationv1.MatchHealth
			for token := ""; ; {
				page, err := api.ListPairsAtRisk(cmd.Context(), &evaluationv1.ListPairsAtRiskRequest{
					ProgramId: program, MinStatus: status, PageSize: 1000, PageToken: token,
				})
				if err != nil {
					return err
				}
				pairs = append(pairs, page.GetPairs()...)
				if token = page.GetNextPageToken(); token == "" {
					break
				}
			}
			return c.renderHealth(cmd, true, pairs...)
		},
	}
	atRisk.Flags().StringVar(&program, "program", "", "the program's id")
	atRisk.Flags().StringVar(&least, "min", "at-risk", "the least status listed: needs-attention or at-risk")
	_ = atRisk.RegisterFlagCompletionFunc("min", cobra.FixedCompletions([]string{"needs-attention", "at-risk"}, cobra.ShellCompDirectiveNoFileComp))
	show := &cobra.Command{
		Use:   "show MATCH",
		Short: "Show an active pair's health and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			h, err := evaluationv1.NewEvaluationServiceClient(conn).GetMatchHealth(cmd.Context(), &evaluationv1.GetMatchHealthRequest{MatchId: args[0]})
			if err != nil {
				return err
			}
			return c.renderHealth(cmd, false, h)
		},
	}
	cmd.AddCommand(atRisk, show)
	return cmd
}

// renderHealth prints healths as a table, or as JSON: a list when list is
// true, else the one health as an object.
func (c *client) renderHealth(cmd *cobra.Command, list bool, healths ...*evaluationv1.MatchHealth) error {
	msgs := make([]proto.Message, len(healths))
	for i, h := range healths {
		msgs[i] = h
	}
	return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
		row(tw, "MATCH", "STATUS", "SINCE", "REASONS")
		for _, h := range healths {
			row(tw, h.GetMatchId(), protoWord(h.GetStatus()), utcTime(h.GetSinceTime()),
				orDash(strings.Join(h.GetReasons(), "; ")))
		}
	}, list, msgs...)
}

// newReportCmd prints a program's report.
func newReportCmd(c *client) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "report PROGRAM",
		Short: "Show a program's outcome report: the program, its segments and week by week",
		Long: `Prints the program's figures (one per line), then its segments by
department and seniority band, then its weeks. A group of fewer than 5
people is suppressed, and so is a figure drawn from fewer than 5 people's
answers ("-"). --format csv writes the report's CSV export as it is;
-o json prints the whole report.`,
		Example: `  tandem report 01J9PROG
  tandem report 01J9PROG --format csv > report.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "csv" {
				return usageErr("--format %q: must be table or csv", format)
			}
			if format == "csv" && c.output == "json" {
				return usageErr("--format csv and -o json: choose one")
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			api := evaluationv1.NewEvaluationServiceClient(conn)
			if format == "csv" {
				body, err := api.ExportProgramReport(cmd.Context(), &evaluationv1.ExportProgramReportRequest{ProgramId: args[0]})
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(body.GetData())
				return err
			}
			rep, err := api.GetProgramReport(cmd.Context(), &evaluationv1.GetProgramReportRequest{ProgramId: args[0]})
			if err != nil {
				return err
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) { reportTable(tw, rep) }, false, rep)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or csv")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"table", "csv"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// reportTable writes the report's three sections, separated by blank
// lines so each aligns on its own.
func reportTable(tw *tabwriter.Writer, rep *evaluationv1.ProgramReport) {
	row(tw, "FIGURE", "VALUE")
	row(tw, "as_of", utcTime(rep.GetAsOfTime()))
	if rep.GetSuppressed() {
		row(tw, "program", "suppressed (fewer than 5 people)")
	} else {
		figures := rep.GetFigures().ProtoReflect()
		fields := figures.Descriptor().Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			row(tw, fd.Name(), figureValue(figures, fd))
		}
	}

	fmt.Fprintln(tw)
	row(tw, "DIMENSION", "VALUE", "PEOPLE", "MATCH_RATE", "PAIRS", "SESSIONS", "MEAN_RATING")
	for _, s := range rep.GetSegments() {
		if s.GetSuppressed() {
			row(tw, s.GetDimension(), s.GetValue(), "suppressed", "-", "-", "-", "-") // full rows keep the columns aligned
			continue
		}
		row(tw, append([]any{s.GetDimension(), s.GetValue()}, figureCells(s.GetFigures())...)...)
	}

	fmt.Fprintln(tw)
	row(tw, "WEEK", "PEOPLE", "MATCH_RATE", "PAIRS", "SESSIONS", "MEAN_RATING")
	for _, w := range rep.GetWeeks() {
		week := w.GetWeekStartTime().AsTime().UTC().Format("2006-01-02")
		if w.GetSuppressed() {
			row(tw, week, "suppressed", "-", "-", "-", "-")
			continue
		}
		row(tw, append([]any{week}, figureCells(w.GetFigures())...)...)
	}
}

// figureCells are the figures a segment or week row shows.
func figureCells(f *evaluationv1.ReportFigures) []any {
	m := f.ProtoReflect()
	cells := []any{f.GetPeople()}
	for _, name := range []protoreflect.Name{"match_rate", "pairs", "sessions_held", "mean_rating"} {
		cells = append(cells, figureValue(m, m.Descriptor().Fields().ByName(name)))
	}
	return cells
}

// figureValue formats one figure; "-" for a figure left out because too
// few people gave the answers it needs.
func figureValue(m protoreflect.Message, fd protoreflect.FieldDescriptor) string {
	if fd.HasPresence() && !m.Has(fd) {
		return "-"
	}
	v := m.Get(fd)
	if fd.Kind() == protoreflect.DoubleKind {
		return strconv.FormatFloat(v.Float(), 'f', -1, 64)
	}
	return v.String()
}
