package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
)

func init() {
	apiCommands = append(apiCommands, newPersonCmd, newParticipantCmd)
}

// newPersonCmd lists and shows the people of the tenant's directory.
func newPersonCmd(c *client) *cobra.Command {
	cmd := &cobra.Command{Use: "person", Short: "Read the tenant's directory of people"}
	cmd.AddCommand(newPersonListCmd(c), newPersonShowCmd(c))
	return cmd
}

func newPersonListCmd(c *client) *cobra.Command {
	var department, pageToken string
	var pageSize int32
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List people, ordered by id (all pages unless --page-size is given)",
		Example: `  tandem person list --department Sales
  tandem person list --page-size 50 --page-token "$NEXT"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pageSize < 0 || pageSize > 1000 {
				return usageErr("--page-size %d: must be 1 to 1000 (0: all pages)", pageSize)
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			api := participantv1.NewParticipantServiceClient(conn)
			req := &participantv1.ListPeopleRequest{PageSize: pageSize, PageToken: pageToken, Department: department}
			if pageSize == 0 {
				req.PageSize = 1000
			}
			var people []*participantv1.Person
			for {
				page, err := api.ListPeople(cmd.Context(), req)
				if err != nil {
					return err
				}
				people = append(people, page.GetPeople()...)
				req.PageToken = page.GetNextPageToken()
				if req.PageToken == "" {
					break
				}
				if pageSize > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "more people: --page-token %s\n", req.PageToken)
					break
				}
			}
			return renderPeople(c, cmd, true, people...)
		},
	}
	f := cmd.Flags()
	f.StringVar(&department, "department", "", "only people of this department")
	f.Int32Var(&pageSize, "page-size", 0, "show one page of this many people (1-1000) and the token of the next on stderr; 0 shows all")
	f.StringVar(&pageToken, "page-token", "", "start at this page (the token printed by --page-size)")
	return cmd
}

func newPersonShowCmd(c *client) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one person",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			p, err := participantv1.NewParticipantServiceClient(conn).GetPerson(cmd.Context(), &participantv1.GetPersonRequest{Id: args[0]})
			if err != nil {
				return err
			}
			return renderPeople(c, cmd, false, p)
		},
	}
}

// renderPeople prints people as a table or JSON.
func renderPeople(c *client, cmd *cobra.Command, list bool, people ...*participantv1.Person) error {
	msgs := make([]proto.Message, len(people))
	for i, p := range people {
		msgs[i] = p
	}
	return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
		row(tw, "ID", "HRIS ID", "NAME", "EMAIL", "DEPARTMENT", "LEVEL", "TIME ZONE", "STATUS")
		for _, p := range people {
			row(tw, p.GetId(), orDash(p.GetHrisId()), orDash(p.GetDisplayName()), orDash(p.GetEmail()), orDash(p.GetDepartment()),
				p.GetSeniorityLevel(), orDash(p.GetTimeZone()), protoWord(p.GetEmploymentStatus()))
		}
	}, list, msgs...)
}

// newParticipantCmd lists, shows and enrols the participants of programs.
func newParticipantCmd(c *client) *cobra.Command {
	cmd := &cobra.Command{Use: "participant", Short: "Enrol people in programs and read their participations"}
	cmd.AddCommand(newParticipantListCmd(c), newParticipantShowCmd(c), newParticipantEnrolCmd(c))
	return cmd
}

func newParticipantListCmd(c *client) *cobra.Command {
	var programID, role string
	cmd := &cobra.Command{
		Use:   "list --program ID",
		Short: "List the participants of a program, ordered by id (all pages)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "program"); err != nil {
				return err
			}
			r, err := parseProtoWordFlag("role", role, participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED)
			if err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			api := participantv1.NewParticipantServiceClient(conn)
			req := &participantv1.ListParticipantsRequest{ProgramId: programID, PageSize: 1000, Role: r}
			var participants []*participantv1.Participant
			for {
				page, err := api.ListParticipants(cmd.Context(), req)
				if err != nil {
					return err
				}
				participants = append(participants, page.GetParticipants()...)
				if page.GetNextPageToken() == "" {
					break
				}
				req.PageToken = page.GetNextPageToken()
			}
			return renderParticipants(c, cmd, true, participants...)
		},
	}
	cmd.Flags().StringVar(&programID, "program", "", "program id (required)")
	cmd.Flags().StringVar(&role, "role", "", "only participants with this role: "+protoWordList(participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED))
	completeProtoWords(cmd, "role", participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED)
	return cmd
}

func newParticipantShowCmd(c *client) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one participant",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			p, err := participantv1.NewParticipantServiceClient(conn).GetParticipant(cmd.Context(), &participantv1.GetParticipantRequest{Id: args[0]})
			if err != nil {
				return err
			}
			return renderParticipants(c, cmd, false, p)
		},
	}
}

func newParticipantEnrolCmd(c *client) *cobra.Command {
	var programID, personID, role, format, motivation string
	var capacity int32
	cmd := &cobra.Command{
		Use:     "enrol --program ID --person ID --role mentor|mentee",
		Aliases: []string{"enroll"},
		Short:   "Enrol a person of the directory in a program",
		Long: `Enrols a person in a program with a role. Competencies, development areas
and pairing preferences are set through the API or an enrolment import
(tandem import --program).`,
		Example: `  tandem participant enrol --program prg_123 --person per_456 --role mentor --capacity 2`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "program", "person", "role"); err != nil {
				return err
			}
			p := &participantv1.Participant{ProgramId: programID, PersonId: personID, Motivation: motivation, Capacity: capacity}
			var err error
			if p.Role, err = parseProtoWordFlag("role", role, participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED); err != nil {
				return err
			}
			if p.PreferredFormat, err = parseProtoWordFlag("format", format, participantv1.MeetingFormat_MEETING_FORMAT_UNSPECIFIED); err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			enrolled, err := participantv1.NewParticipantServiceClient(conn).EnrollParticipant(cmd.Context(), &participantv1.EnrollParticipantRequest{Participant: p})
			if err != nil {
				return err
			}
			return renderParticipants(c, cmd, false, enrolled)
		},
	}
	f := cmd.Flags()
	f.StringVar(&programID, "program", "", "program id (required)")
	f.StringVar(&personID, "person", "", "person id (required)")
	f.StringVar(&role, "role", "", "role (required): "+protoWordList(participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED))
	f.StringVar(&format, "format", "", "preferred meeting format: "+protoWordList(participantv1.MeetingFormat_MEETING_FORMAT_UNSPECIFIED))
	f.Int32Var(&capacity, "capacity", 0, "mentees a mentor takes (0: the program's default)")
	f.StringVar(&motivation, "motivation", "", "why the person joins, in their words")
	completeProtoWords(cmd, "role", participantv1.ParticipantRole_PARTICIPANT_ROLE_UNSPECIFIED)
	completeProtoWords(cmd, "format", participantv1.MeetingFormat_MEETING_FORMAT_UNSPECIFIED)
	return cmd
}

// renderParticipants prints participants as a table or JSON.
func renderParticipants(c *client, cmd *cobra.Command, list bool, participants ...*participantv1.Participant) error {
	msgs := make([]proto.Message, len(participants))
	for i, p := range participants {
		msgs[i] = p
	}
	return c.render(cmd.OutOrStdout(), func(tw *tabwriter.Writer) {
		row(tw, "ID", "PROGRAM", "PERSON", "ROLE", "STATE", "CAPACITY", "SKILLS")
		for _, p := range participants {
			row(tw, p.GetId(), p.GetProgramId(), p.GetPersonId(), protoWord(p.GetRole()), protoWord(p.GetState()), p.GetCapacity(), participantSkills(p))
		}
	}, list, msgs...)
}

// participantSkills is what a participant teaches (skill:level) and wants
// to grow (skill:current:target), in the notation of an import's
// competencies and development_areas columns; "-" when neither.
func participantSkills(p *participantv1.Participant) string {
	s := ""
	for _, c := range p.GetCompetencies() {
		s += fmt.Sprintf("%s:%d|", c.GetSkillId(), c.GetLevel())
	}
	for _, d := range p.GetDevelopmentAreas() {
		s += fmt.Sprintf("%s:%d:%d|", d.GetSkillId(), d.GetCurrentLevel(), d.GetTargetLevel())
	}
	if s == "" {
		return "-"
	}
	return s[:len(s)-1]
}
