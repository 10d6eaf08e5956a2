package main

import (
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
)

func init() { apiCommands = append(apiCommands, newProgramCmd) }

// newProgramCmd creates, lists, shows and transitions programs.
func newProgramCmd(c *client) *cobra.Command {
	cmd := &cobra.Command{Use: "program", Short: "Define mentoring programs and move them along their lifecycle"}
	cmd.AddCommand(newProgramCreateCmd(c), newProgramListCmd(c), newProgramShowCmd(c), newProgramTransitionCmd(c))
	return cmd
}

func newProgramCreateCmd(c *client) *cobra.Command {
	var name, typ, description, cadence, format string
	var weeks, capacity int32
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Define a program in state draft",
		Example: `  tandem program create --name "AI for leaders" --type reverse --duration-weeks 12 \
    --cadence biweekly --format hybrid --capacity 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "name", "type"); err != nil {
				return err
			}
			p := &participantv1.Program{DisplayName: name, Description: description, DurationWeeks: weeks, DefaultMentorCapacity: capacity}
			var err error
			if p.Type, err = parseProtoWordFlag("type", typ, participantv1.ProgramType_PROGRAM_TYPE_UNSPECIFIED); err != nil {
				return err
			}
			if p.MeetingCadence, err = parseProtoWordFlag("cadence", cadence, participantv1.MeetingCadence_MEETING_CADENCE_UNSPECIFIED); err != nil {
				return err
			}
			if p.Format, err = parseProtoWordFlag("format", format, participantv1.MeetingFormat_MEETING_FORMAT_UNSPECIFIED); err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			created, err := participantv1.NewParticipantServiceClient(conn).CreateProgram(cmd.Context(), &participantv1.CreateProgramRequest{Program: p})
			if err != nil {
				return err
			}
			return renderPrograms(c, cmd, false, created)
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "name shown to people (required)")
	f.StringVar(&typ, "type", "", "program type (required): "+protoWordList(participantv1.ProgramType_PROGRAM_TYPE_UNSPECIFIED))
	f.StringVar(&description, "description", "", "what the program is about")
	f.Int32Var(&weeks, "duration-weeks", 0, "length of the mentoring phase in weeks")
	f.StringVar(&cadence, "cadence", "", "how often pairs meet: "+protoWordList(participantv1.MeetingCadence_MEETING_CADENCE_UNSPECIFIED))
	f.StringVar(&format, "format", "", "where pairs meet: "+protoWordList(participantv1.MeetingFormat_MEETING_FORMAT_UNSPECIFIED))
	f.Int32Var(&capacity, "capacity", 0, "mentees per mentor unless a participant says otherwise (default 1)")
	completeProtoWords(cmd, "type", participantv1.ProgramType_PROGRAM_TYPE_UNSPECIFIED)
	completeProtoWords(cmd, "cadence", participantv1.MeetingCadence_MEETING_CADENCE_UNSPECIFIED)
	completeProtoWords(cmd, "format", participantv1.MeetingFormat_MEETING_FORMAT_UNSPECIFIED)
	return cmd
}

func newProgramListCmd(c *client) *cobra.Command {
	var state string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the tenant's programs (all pages)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			want, err := parseProtoWordFlag("state", state, participantv1.ProgramState_PROGRAM_STATE_UNSPECIFIED)
			if err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			api := participantv1.NewParticipantServiceClient(conn)
			var programs []*participantv1.Program
			req := &participantv1.ListProgramsRequest{PageSize: 1000, State: want}
			for {
				page, err := api.ListPrograms(cmd.Context(), req)
				if err != nil {
					return err
				}
				programs = append(programs, page.GetPrograms()...)
				if page.GetNextPageToken() == "" {
					break
				}
				req.PageToken = page.GetNextPageToken()
			}
			return renderPrograms(c, cmd, true, programs...)
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "only programs in this state: "+protoWordList(participantv1.ProgramState_PROGRAM_STATE_UNSPECIFIED))
	completeProtoWords(cmd, "state", participantv1.ProgramState_PROGRAM_STATE_UNSPECIFIED)
	return cmd
}

func newProgramShowCmd(c *client) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one program",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			p, err := participantv1.NewParticipantServiceClient(conn).GetProgram(cmd.Context(), &participantv1.GetProgramRequest{Id: args[0]})
			if err != nil {
				return err
			}
			return renderPrograms(c, cmd, false, p)
		},
	}
}

func newProgramTransitionCmd(c *client) *cobra.Command {
	var reason string
	states := protoWordList(participantv1.ProgramState_PROGRAM_STATE_UNSPECIFIED)
	cmd := &cobra.Command{
		Use:   "transition ID STATE",
		Short: "Move a program to another state",
		Long: `Moves a program along its lifecycle: draft → enrolling → matching → active →
completed, back from matching to enrolling, or cancelled from any state
before completed (give --reason). STATE is one of ` + states + `.`,
		Example: `  tandem program transition prg_123 enrolling
  tandem program transition prg_123 cancelled --reason "budget cut"`,
		Args: cobra.ExactArgs(2),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 1 {
				return protoWords(participantv1.ProgramState_PROGRAM_STATE_UNSPECIFIED), cobra.ShellCompDirectiveNoFileComp
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			state, ok := parseProtoWord(args[1], participantv1.ProgramState_PROGRAM_STATE_UNSPECIFIED)
			if !ok || state == participantv1.ProgramState_PROGRAM_STATE_UNSPECIFIED {
				return usageErr("STATE %q: must be one of %s", args[1], strings.ReplaceAll(states, "|", ", "))
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			p, err := participantv1.NewParticipantServiceClient(conn).TransitionProgram(cmd.Context(),
				&participantv1.TransitionProgramRequest{Id: args[0], State: state, Reason: reason})
			if err != nil {
				return err
			}
			return renderPrograms(c, cmd, false, p)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, recorded in the event (required for cancelled)")
	return cmd
}

// renderPrograms prints programs as a table or JSON.
func renderPrograms(c *client, cmd *cobra.Command, list bool, programs ...*participantv1.Program) error {
	msgs := make([]proto.Message, len(programs))
	for i, p := range programs {
		msgs[i] = p
	}
	return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
		row(tw, "ID", "NAME", "TYPE", "STATE", "WEEKS", "CADENCE", "FORMAT", "CAPACITY")
		for _, p := range programs {
			row(tw, p.GetId(), p.GetDisplayName(), protoWord(p.GetType()), protoWord(p.GetState()), p.GetDurationWeeks(),
				protoWord(p.GetMeetingCadence()), protoWord(p.GetFormat()), p.GetDefaultMentorCapacity())
		}
	}, list, msgs...)
}

// The CLI names enum values by short lowercase words derived from the proto
// names: PROGRAM_TYPE_REVERSE is "reverse", MEETING_FORMAT_IN_PERSON is
// "in-person". The value 0 (UNSPECIFIED) is "" and shown as "-".

// protoEnumPrefix is the common prefix of an enum's value names, such as
// "PROGRAM_TYPE_", taken from its UNSPECIFIED value.
func protoEnumPrefix(ed protoreflect.EnumDescriptor) string {
	return strings.TrimSuffix(string(ed.Values().ByNumber(0).Name()), "UNSPECIFIED")
}

// protoWord is the short word of an enum value; "-" when unspecified.
func protoWord(e protoreflect.Enum) string { return protoValueWord(e.Descriptor(), e.Number()) }

// protoValueWord is the short word of value n of enum ed; "-" when unspecified
// or unknown.
func protoValueWord(ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) string {
	v := ed.Values().ByNumber(n)
	if n == 0 || v == nil {
		return "-"
	}
	name := strings.TrimPrefix(string(v.Name()), protoEnumPrefix(ed))
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// protoWords lists the words of an enum's values except UNSPECIFIED, in
// declaration order.
func protoWords(e protoreflect.Enum) []string {
	vals := e.Descriptor().Values()
	var ws []string
	for i := range vals.Len() {
		if n := vals.Get(i).Number(); n != 0 {
			ws = append(ws, protoValueWord(e.Descriptor(), n))
		}
	}
	return ws
}

// protoWordList is the words of an enum for help texts and errors: "a|b|c".
func protoWordList(e protoreflect.Enum) string { return strings.Join(protoWords(e), "|") }

// parseProtoWord maps a word to its value of the enum of zero; "" is zero.
// ok is false for a word the enum does not have.
func parseProtoWord[E interface {
	protoreflect.Enum
	~int32
}](w string, zero E) (e E, ok bool) {
	if w == "" {
		return zero, true
	}
	name := protoEnumPrefix(zero.Descriptor()) + strings.ToUpper(strings.ReplaceAll(w, "-", "_"))
	v := zero.Descriptor().Values().ByName(protoreflect.Name(name))
	if v == nil || v.Number() == 0 {
		return zero, false
	}
	return E(v.Number()), true
}

// parseProtoWordFlag is parseProtoWord for the value of --flag, with an error that
// names the flag and the allowed words.
func parseProtoWordFlag[E interface {
	protoreflect.Enum
	~int32
}](flag, w string, zero E) (E, error) {
	e, ok := parseProtoWord(w, zero)
	if !ok {
		return zero, usageErr("--%s %q: must be one of %s", flag, w, strings.ReplaceAll(protoWordList(zero), "|", ", "))
	}
	return e, nil
}

// completeProtoWords offers the words of an enum as shell completions of --flag.
func completeProtoWords(cmd *cobra.Command, flag string, e protoreflect.Enum) {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(protoWords(e), cobra.ShellCompDirectiveNoFileComp))
}
