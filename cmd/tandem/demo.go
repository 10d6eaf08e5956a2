package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tandem-oss/tandem/cmd/tandem/internal/demo"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
)

func init() { apiCommands = append(apiCommands, newDemoCmd) }

// newDemoCmd groups the commands that fill a tenant with demonstration
// data.
func newDemoCmd(c *client) *cobra.Command {
	cmd := &cobra.Command{Use: "demo", Short: "Fill a tenant with demonstration data"}
	cmd.AddCommand(newDemoSeedCmd(c))
	return cmd
}

// demoSummary is what `tandem demo seed` made.
type demoSummary struct {
	ProgramID   string `json:"programId"`
	People      int    `json:"people"`
	Mentors     int    `json:"mentors"`
	Mentees     int    `json:"mentees"`
	Departments int    `json:"departments"`
	TimeZones   int    `json:"timeZones"`
}

func newDemoSeedCmd(c *client) *cobra.Command {
	var people int
	var seed uint64
	var programName string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Import a synthetic global company and enrol a reverse-mentoring cohort of it",
		Long: `Generates an organisation of --people employees from --seed (the same seed
gives the same people): departments of different sizes, reporting chains
under a CEO with seniority levels 1-12, offices from San Francisco to
Tokyo with their time zones and languages, hire dates, a few people on
leave. Juniors (levels 1-4) hold digital and AI skills; seniors (8-12) want
to develop them.

Over the API it then creates the skills catalogue (skills that exist are
kept), imports everyone into the directory, creates a REVERSE program and
opens it for enrolment (ENROLLING), and imports about 30 % of the company
into it: juniors strong in a digital skill as mentors, seniors as mentees,
with slightly more mentor capacity than mentees, and gives each of them
office hours in their time zone (Monday to Friday 09:00-17:00, Tuesday and
Thursday mornings preferred) so slots can be suggested. Both imports show
their progress on standard error. The command returns once the matching service
has seen the whole cohort. Running it again updates the same people and
creates another program.

The program is left ENROLLING, where it can be matched: next comes
` + "`tandem match run --program ID`" + `; once matches are published,
` + "`tandem program transition ID matching`" + ` and then ` + "`... ID active`" + `
start the mentoring phase.`,
		Example: `  tandem demo seed --tenant acme
  tandem demo seed --tenant acme --people 5000 --seed 7 --program-name "AI for leaders" -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if people < demo.MinPeople || people > demo.MaxPeople {
				return usageErr("--people %d: must be %d to %d", people, demo.MinPeople, demo.MaxPeople)
			}
			if timeout <= 0 {
				return usageErr("--timeout %s: must be positive", timeout)
			}
			now := time.Now()
			if programName == "" {
				programName = fmt.Sprintf("Reverse mentoring %d", now.Year())
			}
			org, err := demo.Generate(demo.Config{People: people, Seed: seed, Today: now})
			if err != nil {
				return err
			}
			conn, err := c.connect(cmd)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			s := demoSeeder{cmd: cmd, timeout: timeout,
				api: participantv1.NewParticipantServiceClient(conn), matching: matchingv1.NewMatchingServiceClient(conn),
				scheduling: schedulingv1.NewSchedulingServiceClient(conn)}
			programID, err := s.seed(ctx, org, programName, now)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "program %s is ENROLLING; match it with: tandem match run --program %s\n", programID, programID)
			return c.renderDemoSummary(cmd, demoSummary{
				ProgramID: programID, People: org.Count(""), Mentors: org.Count(demo.RoleMentor), Mentees: org.Count(demo.RoleMentee),
				Departments: len(org.Departments), TimeZones: len(org.TimeZones()),
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&people, "people", 1000, fmt.Sprintf("employees of the company, %d to %d", demo.MinPeople, demo.MaxPeople))
	f.Uint64Var(&seed, "seed", 1, "seed of the generator: the same seed gives the same company")
	f.StringVar(&programName, "program-name", "", `name of the program (default "Reverse mentoring <this year>")`)
	f.DurationVar(&timeout, "timeout", 10*time.Minute, "give up after this long (an import under way goes on in the service)")
	return cmd
}

// demoSeeder writes a generated organisation through the participant
// service.
type demoSeeder struct {
	cmd      *cobra.Command
	api      participantv1.ParticipantServiceClient
	matching matchingv1.MatchingServiceClient
	// scheduling receives the cohort's availability.
	scheduling schedulingv1.SchedulingServiceClient
	timeout    time.Duration
}

// seed creates the skills, imports the directory, creates the program,
// opens it, enrols the cohort and waits for the matching service to see
// it; it returns the program id.
func (s demoSeeder) seed(ctx context.Context, org *demo.Org, programName string, now time.Time) (string, error) {
	for _, sk := range org.Skills {
		_, err := s.api.CreateSkill(ctx, &participantv1.CreateSkillRequest{Skill: &participantv1.Skill{
			Id: sk.ID, DisplayName: sk.DisplayName, Category: sk.Category,
		}})
		if err != nil && status.Code(err) != codes.AlreadyExists {
			return "", err
		}
	}
	if err := s.importCSV(ctx, &participantv1.CreateImportRequest{Csv: org.DirectoryCSV()},
		fmt.Sprintf("directory: %d people", org.Count(""))); err != nil {
		return "", err
	}
	program, err := s.api.CreateProgram(ctx, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: programName,
		Description: fmt.Sprintf("Early-career digital talent mentors senior leaders in AI and digital skills; "+
			"a demonstration cohort of a synthetic company of %d people.", org.Count("")),
		Type:                  participantv1.ProgramType_PROGRAM_TYPE_REVERSE,
		Goals:                 []string{"AI fluency of senior leaders", "Leadership exposure for early-career digital talent"},
		SuccessMetrics:        []string{"digital self-assessment uplift of mentees", "retention of early-career mentors"},
		DurationWeeks:         24,
		MeetingCadence:        participantv1.MeetingCadence_MEETING_CADENCE_BIWEEKLY,
		Format:                participantv1.MeetingFormat_MEETING_FORMAT_HYBRID,
		EnrollmentOpenTime:    timestamppb.New(now),
		EnrollmentCloseTime:   timestamppb.New(now.AddDate(0, 0, 28)),
		DefaultMentorCapacity: 1,
		MaxMentorCapacity:     2,
	}})
	if err != nil {
		return "", err
	}
	if _, err := s.api.TransitionProgram(ctx, &participantv1.TransitionProgramRequest{
		Id: program.GetId(), State: participantv1.ProgramState_PROGRAM_STATE_ENROLLING, Reason: "demo cohort",
	}); err != nil {
		return "", err
	}
	enrolled := org.Count(demo.RoleMentor) + org.Count(demo.RoleMentee)
	if err := s.importCSV(ctx, &participantv1.CreateImportRequest{Csv: org.EnrolmentCSV(), ProgramId: program.GetId()},
		fmt.Sprintf("enrolment: %d participants", enrolled)); err != nil {
		return "", err
	}
	if err := s.setAvailability(ctx, program.GetId()); err != nil {
		return "", err
	}
	return program.GetId(), s.awaitMatching(ctx, program.GetId())
}

// setAvailability gives every participant of the program office hours in
// their own time zone, Monday to Friday 09:00-17:00, with Tuesday and
// Thursday mornings preferred, so that slots can be suggested at once.
func (s demoSeeder) setAvailability(ctx context.Context, programID string) error {
	zones := map[string]string{}
	for token := ""; ; {
		page, err := s.api.ListPeople(ctx, &participantv1.ListPeopleRequest{PageSize: 1000, PageToken: token})
		if err != nil {
			return err
		}
		for _, p := range page.GetPeople() {
			zones[p.GetId()] = p.GetTimeZone()
		}
		if token = page.GetNextPageToken(); token == "" {
			break
		}
	}
	var windows, hours []*schedulingv1.WeeklyWindow
	for day := schedulingv1.DayOfWeek_DAY_OF_WEEK_MONDAY; day <= schedulingv1.DayOfWeek_DAY_OF_WEEK_FRIDAY; day++ {
		hours = append(hours, &schedulingv1.WeeklyWindow{Day: day, Start: "09:00", End: "17:00"})
		if day == schedulingv1.DayOfWeek_DAY_OF_WEEK_TUESDAY || day == schedulingv1.DayOfWeek_DAY_OF_WEEK_THURSDAY {
			windows = append(windows, &schedulingv1.WeeklyWindow{Day: day, Start: "09:00", End: "12:00", Preferred: true},
				&schedulingv1.WeeklyWindow{Day: day, Start: "12:00", End: "17:00"})
			continue
		}
		windows = append(windows, &schedulingv1.WeeklyWindow{Day: day, Start: "09:00", End: "17:00"})
	}
	for token := ""; ; {
		page, err := s.api.ListParticipants(ctx, &participantv1.ListParticipantsRequest{ProgramId: programID, PageSize: 1000, PageToken: token})
		if err != nil {
			return err
		}
		for _, p := range page.GetParticipants() {
			// The scheduling service learns of a person from the event
			// stream: one imported a moment ago may not have reached it.
			err := s.awaitKnown(ctx, "the scheduling service has not seen person "+p.GetPersonId(), "run `tandem demo seed` again", func() error {
				_, err := s.scheduling.SetAvailability(ctx, &schedulingv1.SetAvailabilityRequest{Availability: &schedulingv1.Availability{
					PersonId: p.GetPersonId(), TimeZone: zones[p.GetPersonId()], Windows: windows, WorkingHours: hours}})
				return err
			})
			if err != nil {
				return fmt.Errorf("availability of person %s: %w", p.GetPersonId(), err)
			}
		}
		if token = page.GetNextPageToken(); token == "" {
			return nil
		}
	}
}

// awaitMatching waits until the matching service knows the participant
// enrolled last, polling every 200 ms. Events reach it one at a time in
// the order they were written, so it then knows the whole cohort and a
// match run sees everyone.
func (s demoSeeder) awaitMatching(ctx context.Context, programID string) error {
	last := ""
	req := &participantv1.ListParticipantsRequest{ProgramId: programID, PageSize: 1000}
	for {
		page, err := s.api.ListParticipants(ctx, req)
		if err != nil {
			return err
		}
		for _, p := range page.GetParticipants() {
			// Ids are UUIDv7: the greatest was created last.
			last = max(last, p.GetId())
		}
		if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	return s.awaitKnown(ctx, "the matching service has not seen the participants of program "+programID, "try `tandem match run` later", func() error {
		_, err := s.matching.ListCandidates(ctx, &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: last, K: 1})
		return err
	})
}

// awaitKnown calls call every 200 ms while it answers NotFound (a service
// that has not yet seen the event of what was just created), and returns
// its first other answer. At the --timeout it fails saying unseen and
// what to do then.
func (s demoSeeder) awaitKnown(ctx context.Context, unseen, then string, call func() error) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		err := call()
		if status.Code(err) != codes.NotFound {
			return err
		}
		select {
		case <-ctx.Done():
			if err := s.cmd.Context().Err(); err != nil {
				return err
			}
			return &cliError{code: exitError, msg: fmt.Sprintf("%s after --timeout %s; %s", unseen, s.timeout, then)}
		case <-tick.C:
		}
	}
}

// importCSV runs one import with the import command's percentage bar, and
// fails unless every row was imported: the generator writes no bad rows,
// so a rejection is a fault worth seeing.
func (s demoSeeder) importCSV(ctx context.Context, req *participantv1.CreateImportRequest, what string) error {
	imp, err := s.api.CreateImport(ctx, req)
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	if imp, err = awaitImport(s.cmd, s.api, imp, what, time.Until(deadline)); err != nil {
		return err
	}
	switch {
	case imp.GetState() == participantv1.ImportState_IMPORT_STATE_FAILED:
		return &cliError{code: exitError, msg: fmt.Sprintf("%s: import %s failed: %s", what, imp.GetId(), imp.GetError())}
	case imp.GetRejectedRows() > 0:
		msg := fmt.Sprintf("%s: import %s rejected %d of %d rows", what, imp.GetId(), imp.GetRejectedRows(), imp.GetTotalRows())
		page, err := s.api.ListImportRejections(ctx, &participantv1.ListImportRejectionsRequest{ImportId: imp.GetId(), PageSize: 5})
		if err == nil {
			for _, r := range page.GetRejections() {
				msg += fmt.Sprintf("\n  row %d %s: %s", r.GetRow(), r.GetField(), r.GetReason())
			}
		}
		return &cliError{code: exitError, msg: msg}
	}
	return nil
}

// renderDemoSummary prints the summary as a one-row table or a JSON
// object.
func (c *client) renderDemoSummary(cmd *cobra.Command, sum demoSummary) error {
	w := cmd.OutOrStdout()
	if c.output == "json" {
		b, err := json.MarshalIndent(sum, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row(tw, "PROGRAM", "PEOPLE", "MENTORS", "MENTEES", "DEPARTMENTS", "TIME ZONES")
	row(tw, sum.ProgramID, sum.People, sum.Mentors, sum.Mentees, sum.Departments, sum.TimeZones)
	return tw.Flush()
}
