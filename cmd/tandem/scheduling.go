package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
)

func init() {
	apiCommands = append(apiCommands, newSlotsCmd, newSessionCmd, newCalendarCmd)
}

// cadenceWords maps the --cadence words to the proto enum.
var cadenceWords = map[string]schedulingv1.Cadence{
	"weekly":   schedulingv1.Cadence_CADENCE_WEEKLY,
	"biweekly": schedulingv1.Cadence_CADENCE_BIWEEKLY,
	"monthly":  schedulingv1.Cadence_CADENCE_MONTHLY,
}

// newSlotsCmd suggests meeting times for a match.
func newSlotsCmd(c *client) *cobra.Command {
	var (
		weeks, limit int32
		duration     time.Duration
	)
	cmd := &cobra.Command{
		Use:     "slots MATCH",
		Short:   "Suggest meeting times for a match, best first, in UTC and in each person's zone",
		Example: `  tandem slots 01J9Z3 --weeks 3 --duration 45m`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mins, err := wholeMinutes(duration)
			if err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			var resp *schedulingv1.SuggestSlotsResponse
			err = awaitMatchNews(cmd.Context(), func() (err error) {
				resp, err = schedulingv1.NewSchedulingServiceClient(conn).SuggestSlots(cmd.Context(), &schedulingv1.SuggestSlotsRequest{
					MatchId: args[0], Weeks: weeks, DurationMinutes: mins, Limit: limit,
				})
				return err
			})
			if err != nil {
				return err
			}
			msgs := make([]proto.Message, len(resp.GetSlots()))
			for i, s := range resp.GetSlots() {
				msgs[i] = s
			}
			return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
				row(tw, "START (UTC)", "MENTOR LOCAL", "MENTEE LOCAL", "SCORE", "REASONS")
				for _, s := range resp.GetSlots() {
					row(tw, utcTime(s.GetStartTime()), localClock(s.GetMentorLocalStart()), localClock(s.GetMenteeLocalStart()),
						s.GetScore(), strings.Join(s.GetReasons(), "; "))
				}
			}, true, msgs...)
		},
	}
	cmd.Flags().Int32Var(&weeks, "weeks", 2, "how many weeks ahead to look (1-12)")
	cmd.Flags().DurationVar(&duration, "duration", time.Hour, "meeting length, whole minutes (e.g. 45m, 1h30m)")
	cmd.Flags().Int32Var(&limit, "limit", 10, "at most this many slots (1-100)")
	return cmd
}

// newSessionCmd groups the commands on a pair's meetings.
func newSessionCmd(c *client) *cobra.Command {
	cmd := &cobra.Command{Use: "session", Short: "Book, list, confirm, complete and cancel a pair's meetings"}
	cmd.AddCommand(newSessionBookCmd(c), newSessionSeriesCmd(c), newSessionListCmd(c),
		newSessionConfirmCmd(c), newSessionCompleteCmd(c), newSessionCancelCmd(c))
	return cmd
}

func newSessionBookCmd(c *client) *cobra.Command {
	var (
		start, person, room string
		duration            time.Duration
	)
	cmd := &cobra.Command{
		Use:     "book MATCH",
		Short:   "Propose one meeting of a match; the other side confirms it",
		Example: `  tandem session book 01J9Z3 --start 2030-03-04T14:00:00Z --duration 45m --as 01J9PERSON`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "start", "as"); err != nil {
				return err
			}
			from, err := parseStart(start)
			if err != nil {
				return err
			}
			if _, err := wholeMinutes(duration); err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			var sess *schedulingv1.Session
			err = awaitMatchNews(cmd.Context(), func() (err error) {
				sess, err = schedulingv1.NewSchedulingServiceClient(conn).CreateSession(cmd.Context(), &schedulingv1.CreateSessionRequest{
					MatchId: args[0], PersonId: person, RoomId: room,
					StartTime: timestamppb.New(from), EndTime: timestamppb.New(from.Add(duration)),
				})
				return err
			})
			if err != nil {
				return err
			}
			return c.renderSessions(cmd, false, sess)
		},
	}
	cmd.Flags().StringVar(&start, "start", "", "start time, RFC 3339 (e.g. 2030-03-04T14:00:00Z or 2030-03-04T09:00:00-05:00)")
	cmd.Flags().DurationVar(&duration, "duration", time.Hour, "meeting length, whole minutes (15m to 8h)")
	cmd.Flags().StringVar(&person, "as", "", "person id of the side proposing it (the mentor or the mentee)")
	cmd.Flags().StringVar(&room, "room", "", "room id for an in-person meeting")
	return cmd
}

func newSessionSeriesCmd(c *client) *cobra.Command {
	var (
		start, person, room, cadence string
		duration                     time.Duration
		count                        int32
	)
	cmd := &cobra.Command{
		Use:   "series MATCH",
		Short: "Propose a meeting series at a cadence: all its meetings are booked, or none",
		Long: `Proposes --count meetings from --start at the cadence (default: the
program's). Later meetings keep the first one's wall-clock time in the
proposer's time zone across daylight-saving changes.`,
		Example: `  tandem session series 01J9Z3 --start 2030-03-04T14:00:00Z --count 6 --cadence biweekly --as 01J9PERSON`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "start", "count", "as"); err != nil {
				return err
			}
			from, err := parseStart(start)
			if err != nil {
				return err
			}
			mins, err := wholeMinutes(duration)
			if err != nil {
				return err
			}
			cad, ok := cadenceWords[cadence]
			if cadence != "" && !ok {
				return usageErr("--cadence %q: must be weekly, biweekly or monthly (or left out for the program's)", cadence)
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			var series *schedulingv1.Series
			err = awaitMatchNews(cmd.Context(), func() (err error) {
				series, err = schedulingv1.NewSchedulingServiceClient(conn).CreateSeries(cmd.Context(), &schedulingv1.CreateSeriesRequest{
					MatchId: args[0], PersonId: person, Cadence: cad, FirstStartTime: timestamppb.New(from),
					DurationMinutes: mins, Occurrences: count, RoomId: room,
				})
				return err
			})
			if err != nil {
				return err
			}
			if c.output == "json" {
				return printJSON(cmd.OutOrStdout(), series)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "series %s, %s\n", series.GetId(), protoWord(series.GetCadence()))
			return c.renderSessions(cmd, true, series.GetSessions()...)
		},
	}
	cmd.Flags().StringVar(&start, "start", "", "first meeting's start, RFC 3339")
	cmd.Flags().Int32Var(&count, "count", 0, "number of meetings (1-52)")
	cmd.Flags().StringVar(&cadence, "cadence", "", "weekly, biweekly or monthly (default: the program's meeting cadence)")
	cmd.Flags().DurationVar(&duration, "duration", time.Hour, "meeting length, whole minutes (15m to 8h)")
	cmd.Flags().StringVar(&person, "as", "", "person id of the side proposing it (the mentor or the mentee)")
	cmd.Flags().StringVar(&room, "room", "", "room id for in-person meetings")
	_ = cmd.RegisterFlagCompletionFunc("cadence", cobra.FixedCompletions([]string{"weekly", "biweekly", "monthly"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func newSessionListCmd(c *client) *cobra.Command {
	var match, person string
	cmd := &cobra.Command{
		Use:     "list (--match ID | --person ID)",
		Short:   "List the sessions of a match or of a person, by start time",
		Example: `  tandem session list --match 01J9Z3 -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (match == "") == (person == "") {
				return usageErr("give one of --match or --person")
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			api := schedulingv1.NewSchedulingServiceClient(conn)
			var all []*schedulingv1.Session
			for token := ""; ; {
				page, err := api.ListSessions(cmd.Context(), &schedulingv1.ListSessionsRequest{
					MatchId: match, PersonId: person, PageSize: 1000, PageToken: token,
				})
				if err != nil {
					return err
				}
				all = append(all, page.GetSessions()...)
				if token = page.GetNextPageToken(); token == "" {
					break
				}
			}
			return c.renderSessions(cmd, true, all...)
		},
	}
	cmd.Flags().StringVar(&match, "match", "", "the match's sessions")
	cmd.Flags().StringVar(&person, "person", "", "the person's sessions, across their matches")
	return cmd
}

func newSessionConfirmCmd(c *client) *cobra.Command {
	var (
		person      string
		wholeSeries bool
	)
	cmd := &cobra.Command{
		Use:   "confirm SESSION",
		Short: "Confirm a proposed session as the side that did not propose it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "as"); err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			sess, err := schedulingv1.NewSchedulingServiceClient(conn).ConfirmSession(cmd.Context(), &schedulingv1.ConfirmSessionRequest{
				Id: args[0], PersonId: person, WholeSeries: wholeSeries,
			})
			if err != nil {
				return err
			}
			return c.renderSessions(cmd, false, sess)
		},
	}
	cmd.Flags().StringVar(&person, "as", "", "person id of the confirming side")
	cmd.Flags().BoolVar(&wholeSeries, "whole-series", false, "also confirm the series' other proposed sessions")
	return cmd
}

func newSessionCompleteCmd(c *client) *cobra.Command {
	return &cobra.Command{
		Use:   "complete SESSION",
		Short: "Record that a confirmed session that has started took place",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			sess, err := schedulingv1.NewSchedulingServiceClient(conn).CompleteSession(cmd.Context(), &schedulingv1.CompleteSessionRequest{Id: args[0]})
			if err != nil {
				return err
			}
			return c.renderSessions(cmd, false, sess)
		},
	}
}

func newSessionCancelCmd(c *client) *cobra.Command {
	var person, reason string
	cmd := &cobra.Command{
		Use:     "cancel SESSION",
		Short:   "Cancel a proposed or confirmed session, with a reason",
		Example: `  tandem session cancel 01JA00 --as 01J9PERSON --reason "board meeting"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "reason"); err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			sess, err := schedulingv1.NewSchedulingServiceClient(conn).CancelSession(cmd.Context(), &schedulingv1.CancelSessionRequest{
				Id: args[0], PersonId: person, Reason: reason,
			})
			if err != nil {
				return err
			}
			return c.renderSessions(cmd, false, sess)
		},
	}
	cmd.Flags().StringVar(&person, "as", "", "person id of the cancelling side; leave out when a program manager cancels")
	cmd.Flags().StringVar(&reason, "reason", "", "why it is cancelled")
	return cmd
}

// renderSessions prints sessions as a table, or as JSON: a list when list
// is true, else the one session as an object.
func (c *client) renderSessions(cmd *cobra.Command, list bool, sessions ...*schedulingv1.Session) error {
	msgs := make([]proto.Message, len(sessions))
	for i, s := range sessions {
		msgs[i] = s
	}
	return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
		row(tw, "ID", "START (UTC)", "MINUTES", "STATE", "MENTOR", "MENTEE", "ROOM")
		for _, s := range sessions {
			mins := s.GetEndTime().AsTime().Sub(s.GetStartTime().AsTime()) / time.Minute
			row(tw, s.GetId(), utcTime(s.GetStartTime()), int(mins), protoWord(s.GetState()),
				s.GetMentorPersonId(), s.GetMenteePersonId(), orDash(s.GetRoomId()))
		}
	}, list, msgs...)
}

// newCalendarCmd prints calendar feed addresses.
func newCalendarCmd(c *client) *cobra.Command {
	cmd := &cobra.Command{Use: "calendar", Short: "Calendar feeds of people's sessions"}
	var base string
	url := &cobra.Command{
		Use:   "url PERSON",
		Short: "Issue a secret calendar feed address for a person and print it",
		Long: `Issues a new feed token for the person and prints the feed's address on
the gateway's HTTP side, for a calendar application to subscribe to. The
token is shown only now; anyone with the address can read the feed.`,
		Example: `  tandem calendar url 01J9PERSON --base-url https://tandem.example.com`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			tok, err := schedulingv1.NewSchedulingServiceClient(conn).CreateCalendarToken(cmd.Context(), &schedulingv1.CreateCalendarTokenRequest{PersonId: args[0]})
			if err != nil {
				return err
			}
			if c.output == "json" {
				return printJSON(cmd.OutOrStdout(), tok)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), strings.TrimSuffix(base, "/")+tok.GetFeedPath())
			return err
		},
	}
	url.Flags().StringVar(&base, "base-url", "http://127.0.0.1:8080", "the gateway's HTTP address (default: the one of tandem dev)")
	cmd.AddCommand(url)
	return cmd
}

// wholeMinutes converts a --duration flag to whole minutes.
func wholeMinutes(d time.Duration) (int32, error) {
	if d <= 0 || d%time.Minute != 0 || d > 24*time.Hour {
		return 0, usageErr("--duration %s: must be a whole number of minutes, e.g. 45m or 1h30m", d)
	}
	return int32(d / time.Minute), nil
}

// parseStart reads a --start flag.
func parseStart(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, usageErr("--start %q: must be an RFC 3339 time, e.g. 2030-03-04T14:00:00Z", v)
	}
	return t, nil
}

// utcTime formats a timestamp as RFC 3339 in UTC; "-" when unset.
func utcTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// localClock shortens an RFC 3339 local time to its weekday, clock and
// offset ("Fri 09:00 -05:00"), which is what a person plans by.
func localClock(v string) string {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return v
	}
	return t.Format("Mon 15:04 -07:00")
}

// matchNewsWait bounds how long slots and booking wait for the scheduling
// service to learn of a match accepted a moment ago.
const matchNewsWait = 10 * time.Second

// awaitMatchNews calls fn until the scheduling service knows the match as
// accepted: it learns of an acceptance from an event, a moment after the
// matching service answered, so a script that accepts and books at once
// would otherwise race it. Other errors, and the same ones after
// matchNewsWait, are returned as they are.
func awaitMatchNews(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(matchNewsWait)
	for {
		err := fn()
		st, _ := status.FromError(err)
		pending := st.Code() == codes.NotFound && strings.Contains(st.Message(), "not known to the scheduling service") ||
			st.Code() == codes.FailedPrecondition && strings.Contains(st.Message(), "is proposed;")
		if !pending || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}
