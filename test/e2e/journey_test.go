package e2e

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
)

// settle is how long a call may wait for another service to learn of an
// event (projections are eventually consistent).
const settle = 2 * time.Minute

// reversePool is an HRIS export of n junior mentors (levels 1–4, strong in
// digital skills, capacity 1) and n senior mentees (levels 7–12, wanting
// those skills), over departments and time zones.
func reversePool(n int) []byte {
	zones := []string{"Europe/London", "America/New_York", "Asia/Kolkata", "Europe/Berlin", "Asia/Singapore", "America/Chicago"}
	departments := []string{"Sales", "Finance", "Engineering", "HR", "Marketing", "Operations"}
	skills := []string{"genai", "data", "social"}
	var b strings.Builder
	b.WriteString("hris_id,display_name,email,department,title,seniority_level,time_zone,languages,role,competencies,development_areas,capacity\n")
	for i := range n {
		fmt.Fprintf(&b, "J%05d,Junior %d,j%d@e2e.example,%s,Analyst,%d,%s,en,mentor,%s:5|%s:4,,1\n",
			i, i, i, departments[i%6], 1+i%4, zones[i%6], skills[i%3], skills[(i+1)%3])
		fmt.Fprintf(&b, "S%05d,Senior %d,s%d@e2e.example,%s,Director,%d,%s,en,mentee,,%s:1:%d,\n",
			i, i, i, departments[(i+2)%6], 7+i%6, zones[(i*7)%6], skills[(i*5)%3], 3+i%2)
	}
	return []byte(b.String())
}

// TestJourney drives one reverse-mentoring program through the five
// separate service processes, over HTTP/JSON and gRPC: create, import 500
// people, enrol, match, publish, accept, activate, agreements signed, a
// meeting series per pair, sessions held, feedback, and the report, whose
// figures must be exactly what the test did. Then the analytics consumer
// reads the whole stream and checks it against the same report.
func TestJourney(t *testing.T) {
	const perSide = 250 // 500 people
	c := startCluster(t, clusterOptions{})
	admin := c.token("admin@e2e.example", "tenant_admin")
	manager := c.token("pm@e2e.example", "program_manager")
	adminCtx, managerCtx := c.ctx(admin), c.ctx(manager)
	people := participantv1.NewParticipantServiceClient(c.conn)
	matching := matchingv1.NewMatchingServiceClient(c.conn)
	scheduling := schedulingv1.NewSchedulingServiceClient(c.conn)
	evaluation := evaluationv1.NewEvaluationServiceClient(c.conn)
	start := time.Now()
	step := func(what string) {
		t.Logf("journey: %-34s at %6.1fs", what, time.Since(start).Seconds())
	}

	// Skills over HTTP, the program over gRPC, opened over HTTP.
	for _, skill := range []string{"genai", "data", "social"} {
		code, body := httpJSON(t, http.MethodPost, c.HTTP+"/v1/skills", admin, `{"id":"`+skill+`","displayName":"`+skill+`"}`)
		require.Equal(t, http.StatusOK, code, "skill: %v", body)
	}
	now := time.Now().UTC()
	program, err := people.CreateProgram(managerCtx, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "AI for leaders (e2e)", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE,
		MaxMentorCapacity: 1, MeetingCadence: participantv1.MeetingCadence_MEETING_CADENCE_WEEKLY,
		EnrollmentOpenTime: timestamppb.New(now.Add(-time.Hour)), EnrollmentCloseTime: timestamppb.New(now.Add(24 * time.Hour)),
	}})
	require.NoError(t, err)
	programID := program.GetId()
	transition := func(state string) {
		t.Helper()
		code, body := httpJSON(t, http.MethodPost, c.HTTP+"/v1/programs/"+programID+":transition", manager, `{"state":"`+state+`"}`)
		require.Equal(t, http.StatusOK, code, "%s: %v", state, body)
		require.Equal(t, state, body["state"])
	}
	transition("PROGRAM_STATE_ENROLLING")
	// An analyst may read reports, not define programs: the gateway
	// refuses, changes nothing, and publishes one audit event.
	_, err = people.CreateProgram(c.ctx(c.token("analyst@e2e.example", "analyst")), &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "Not allowed", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE}})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "analyst creating a program: %v", err)
	step("program created and enrolling")

	// Import 500 people into the program through the import RPC; the
	// progress is polled until 100 % and never goes back.
	job, err := people.CreateImport(adminCtx, &participantv1.CreateImportRequest{Csv: reversePool(perSide), ProgramId: programID})
	require.NoError(t, err)
	var progress []int32
	poll(t, settle, "import finished", func() error {
		job, err = people.GetImport(adminCtx, &participantv1.GetImportRequest{Id: job.GetId()})
		require.NoError(t, err)
		progress = append(progress, job.GetProgressPercent())
		if job.GetState() == participantv1.ImportState_IMPORT_STATE_RUNNING || job.GetState() == participantv1.ImportState_IMPORT_STATE_UNSPECIFIED {
			return fmt.Errorf("import %s at %d%%", job.GetState(), job.GetProgressPercent())
		}
		return nil
	})
	require.Equal(t, participantv1.ImportState_IMPORT_STATE_SUCCEEDED, job.GetState(), "import: %v", job)
	require.EqualValues(t, 100, job.GetProgressPercent())
	require.EqualValues(t, 2*perSide, job.GetCreatedRows())
	require.Zero(t, job.GetRejectedRows())
	for k := 1; k < len(progress); k++ {
		require.GreaterOrEqual(t, progress[k], progress[k-1], "import progress never goes back: %v", progress)
	}
	transition("PROGRAM_STATE_MATCHING")
	step("500 people imported and enrolled")

	// The matching service's projection holds everyone once its epoch
	// counts the three program events and the 500 enrolments.
	var all []*participantv1.Participant
	for token, pages := "", 0; pages == 0 || token != ""; pages++ {
		require.Less(t, pages, 100)
		page, err := people.ListParticipants(adminCtx, &participantv1.ListParticipantsRequest{ProgramId: programID, PageSize: 1000, PageToken: token})
		require.NoError(t, err)
		all = append(all, page.GetParticipants()...)
		token = page.GetNextPageToken()
	}
	require.Len(t, all, 2*perSide)
	waitMatchingEpoch(t, c, admin, programID, all, int64(3+2*perSide))
	step("matching projection complete")

	// An optimal run over gRPC, polled until done; published over HTTP.
	run, err := matching.CreateMatchRun(managerCtx, &matchingv1.CreateMatchRunRequest{
		ProgramId: programID, Strategy: matchingv1.MatchStrategy_MATCH_STRATEGY_OPTIMAL, MaximiseParticipation: true})
	require.NoError(t, err)
	poll(t, settle, "match run finished", func() error {
		run, err = matching.GetMatchRun(managerCtx, &matchingv1.GetMatchRunRequest{Id: run.GetId()})
		require.NoError(t, err)
		if run.GetState() == matchingv1.MatchRunState_MATCH_RUN_STATE_RUNNING {
			return fmt.Errorf("run at %d%%", run.GetProgressPercent())
		}
		return nil
	})
	require.Equal(t, matchingv1.MatchRunState_MATCH_RUN_STATE_SUCCEEDED, run.GetState(), "run: %v", run.GetError())
	require.EqualValues(t, perSide, run.GetMetrics().GetMentees())
	require.EqualValues(t, perSide, run.GetMetrics().GetMentors())
	pairs := int(run.GetMetrics().GetPairs())
	require.Positive(t, pairs)
	code, body := httpJSON(t, http.MethodPost, c.HTTP+"/v1/matchRuns/"+run.GetId()+":publish", manager, `{}`)
	require.Equal(t, http.StatusOK, code, "publish: %v", body)
	require.Equal(t, "MATCH_RUN_STATE_PUBLISHED", body["state"])
	var matches []*matchingv1.Match
	for token, pages := "", 0; pages == 0 || token != ""; pages++ {
		require.Less(t, pages, 100)
		page, err := matching.ListMatches(adminCtx, &matchingv1.ListMatchesRequest{ProgramId: programID, PageSize: 500, PageToken: token})
		require.NoError(t, err)
		matches = append(matches, page.GetMatches()...)
		token = page.GetNextPageToken()
	}
	require.Len(t, matches, pairs)
	step(fmt.Sprintf("run published: %d pairs", pairs))

	// Per pair, eight at a time: both sides accept (the first pairs over
	// HTTP), the manager activates, the agreement is created and signed by
	// both.
	var viaHTTP atomic.Int32
	g := errgroup.Group{}
	g.SetLimit(8)
	for n, m := range matches {
		g.Go(func() error {
			for _, part := range []string{m.GetMentorParticipantId(), m.GetMenteeParticipantId()} {
				if n < 10 {
					code, body, err := httpJSONErr(http.MethodPost, c.HTTP+"/v1/matches/"+m.GetId()+":accept", admin, `{"participantId":"`+part+`"}`)
					if err != nil || code != http.StatusOK {
						return fmt.Errorf("accept %s over HTTP: %d %v %v", m.GetId(), code, body, err)
					}
					viaHTTP.Add(1)
					continue
				}
				if _, err := matching.AcceptMatch(adminCtx, &matchingv1.AcceptMatchRequest{Id: m.GetId(), ParticipantId: part}); err != nil {
					return fmt.Errorf("accept %s: %w", m.GetId(), err)
				}
			}
			active, err := matching.ActivateMatch(managerCtx, &matchingv1.ActivateMatchRequest{Id: m.GetId()})
			if err != nil {
				return fmt.Errorf("activate %s: %w", m.GetId(), err)
			}
			if active.GetState() != matchingv1.MatchState_MATCH_STATE_ACTIVE {
				return fmt.Errorf("match %s is %s after activation", m.GetId(), active.GetState())
			}
			agreement, err := settling(settle, func() (*evaluationv1.Agreement, error) {
				return evaluation.CreateAgreement(adminCtx, &evaluationv1.CreateAgreementRequest{MatchId: m.GetId(), PersonId: m.GetMentorPersonId()})
			})
			if err != nil {
				return fmt.Errorf("agreement %s: %w", m.GetId(), err)
			}
			signCtx := adminCtx
			if n == 0 {
				// The first pair's mentee signs with their own participant
				// token (sub = their subject), which may not sign for the
				// mentor.
				mentee, err := people.GetPerson(adminCtx, &participantv1.GetPersonRequest{Id: m.GetMenteePersonId()})
				if err != nil {
					return fmt.Errorf("mentee of %s: %w", m.GetId(), err)
				}
				signCtx = c.ctx(c.token(mentee.GetSubject(), "participant"))
				_, err = evaluation.SignAgreement(signCtx, &evaluationv1.SignAgreementRequest{
					MatchId: m.GetId(), PersonId: m.GetMentorPersonId(), Version: agreement.GetVersion()})
				if code := status.Code(err); code != codes.PermissionDenied && code != codes.NotFound {
					return fmt.Errorf("a mentee signing for the mentor of %s: %v, want PermissionDenied or NotFound", m.GetId(), err)
				}
			}
			for _, person := range []string{m.GetMentorPersonId(), m.GetMenteePersonId()} {
				ctx := adminCtx
				if person == m.GetMenteePersonId() {
					ctx = signCtx
				}
				if agreement, err = evaluation.SignAgreement(ctx, &evaluationv1.SignAgreementRequest{
					MatchId: m.GetId(), PersonId: person, Version: agreement.GetVersion()}); err != nil {
					return fmt.Errorf("sign %s: %w", m.GetId(), err)
				}
			}
			if agreement.GetState() != evaluationv1.AgreementState_AGREEMENT_STATE_SIGNED {
				return fmt.Errorf("agreement %s is %s after both signed", m.GetId(), agreement.GetState())
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	require.EqualValues(t, 20, viaHTTP.Load())
	transition("PROGRAM_STATE_ACTIVE")
	step("accepted, active, agreements signed")

	// Per pair: a session in a few seconds, proposed by the mentee and
	// confirmed by the mentor, and a weekly series of three from next week
	// confirmed whole (sessions are booked in the future; series keep
	// whole minutes, so the one to hold now is booked on its own).
	firstSessions := make([]string, len(matches))
	nextWeek := time.Now().UTC().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	for n, m := range matches {
		g.Go(func() error {
			session, err := settling(settle, func() (*schedulingv1.Session, error) {
				start := time.Now().Add(10 * time.Second)
				return scheduling.CreateSession(adminCtx, &schedulingv1.CreateSessionRequest{
					MatchId: m.GetId(), PersonId: m.GetMenteePersonId(),
					StartTime: timestamppb.New(start), EndTime: timestamppb.New(start.Add(30 * time.Minute))})
			})
			if err != nil {
				return fmt.Errorf("session %s: %w", m.GetId(), err)
			}
			firstSessions[n] = session.GetId()
			if _, err = scheduling.ConfirmSession(adminCtx, &schedulingv1.ConfirmSessionRequest{Id: session.GetId(), PersonId: m.GetMentorPersonId()}); err != nil {
				return fmt.Errorf("confirm %s (starting %s, now %s): %w", session.GetId(), session.GetStartTime().AsTime(), time.Now().UTC(), err)
			}
			series, err := scheduling.CreateSeries(adminCtx, &schedulingv1.CreateSeriesRequest{
				MatchId: m.GetId(), PersonId: m.GetMenteePersonId(), FirstStartTime: timestamppb.New(nextWeek),
				DurationMinutes: 60, Occurrences: 3})
			if err != nil {
				return fmt.Errorf("series %s: %w", m.GetId(), err)
			}
			if len(series.GetSessions()) != 3 {
				return fmt.Errorf("series %s has %d sessions", m.GetId(), len(series.GetSessions()))
			}
			_, err = scheduling.ConfirmSession(adminCtx, &schedulingv1.ConfirmSessionRequest{
				Id: series.GetSessions()[0].GetId(), PersonId: m.GetMentorPersonId(), WholeSeries: true})
			return err
		})
	}
	require.NoError(t, g.Wait())
	step("series booked and confirmed")

	// Once the first sessions have started, each is completed and both
	// sides give feedback: the mentor rates 5, the mentee 3 or 4.
	var ratingSum atomic.Int64
	for n, m := range matches {
		g.Go(func() error {
			if _, err := settling(settle, func() (*schedulingv1.Session, error) {
				return scheduling.CompleteSession(managerCtx, &schedulingv1.CompleteSessionRequest{Id: firstSessions[n]})
			}); err != nil {
				return fmt.Errorf("complete %s: %w", firstSessions[n], err)
			}
			for side, person := range []string{m.GetMentorPersonId(), m.GetMenteePersonId()} {
				rating := int32(5)
				if side == 1 {
					rating = int32(3 + n%2)
				}
				if _, err := settling(settle, func() (*evaluationv1.Feedback, error) {
					return evaluation.SubmitFeedback(adminCtx, &evaluationv1.SubmitFeedbackRequest{
						SessionId: firstSessions[n], PersonId: person, Rating: rating, Tags: []string{"e2e"}, Comment: "useful"})
				}); err != nil {
					return fmt.Errorf("feedback %s: %w", firstSessions[n], err)
				}
				ratingSum.Add(int64(rating))
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	step("sessions held, feedback given")

	// The report: exactly what the test did, once evaluation has caught up.
	want := &evaluationv1.ReportFigures{
		People: int32(2 * perSide), EnrolledMentors: perSide, EnrolledMentees: perSide,
		Matched: int32(2 * pairs), Pairs: int32(pairs), SessionsHeld: int32(pairs), Ratings: int32(2 * pairs),
	}
	var report *evaluationv1.ProgramReport
	poll(t, settle, "the report reflects the journey", func() error {
		report, err = evaluation.GetProgramReport(managerCtx, &evaluationv1.GetProgramReportRequest{ProgramId: programID})
		require.NoError(t, err)
		f := report.GetFigures()
		got := &evaluationv1.ReportFigures{People: f.GetPeople(), EnrolledMentors: f.GetEnrolledMentors(), EnrolledMentees: f.GetEnrolledMentees(),
			Matched: f.GetMatched(), Pairs: f.GetPairs(), SessionsHeld: f.GetSessionsHeld(), Ratings: f.GetRatings()}
		if got.String() != want.String() {
			return fmt.Errorf("figures %v, want %v", got, want)
		}
		return nil
	})
	f := report.GetFigures()
	require.False(t, report.GetSuppressed())
	require.Zero(t, f.GetWithdrawn())
	require.InDelta(t, float64(2*pairs)/float64(2*perSide), f.GetMatchRate(), 1e-9)
	require.InDelta(t, 1.0, f.GetSessionsPerPair(), 1e-9)
	require.InDelta(t, float64(ratingSum.Load())/float64(2*pairs), f.GetMeanRating(), 1e-9)
	require.InDelta(t, run.GetMetrics().GetMeanScore(), f.GetMeanMatchScore(), 0.005, "the report's mean score (two decimals) is the run's")
	require.False(t, math.IsNaN(f.GetRetentionRate()))
	code, body = httpJSON(t, http.MethodGet, c.HTTP+"/v1/programs/"+programID+"/report", manager, "")
	require.Equal(t, http.StatusOK, code, "report over HTTP: %v", body)
	require.EqualValues(t, pairs, body["figures"].(map[string]any)["sessionsHeld"])
	step("report checked")
	t.Logf("journey: %d people, %d pairs, %d sessions held, %d ratings (mean %.3f), match rate %.3f, mean score %.2f",
		f.GetPeople(), f.GetPairs(), f.GetSessionsHeld(), f.GetRatings(), f.GetMeanRating(), f.GetMatchRate(), f.GetMeanMatchScore())

	// The analytics consumer: every event of the run, checked, counted,
	// and its counts agree with the report.
	events := readStream(t, c)
	counts := checkEvents(t, events)
	tenantCounts := counts[c.Tenant]
	require.EqualValues(t, f.GetPeople(), tenantCounts.people, "people: stream vs report")
	require.EqualValues(t, f.GetEnrolledMentors()+f.GetEnrolledMentees(), tenantCounts.enrolments, "enrolments: stream vs report")
	require.EqualValues(t, f.GetPairs(), tenantCounts.matchesAccepted, "accepted matches: stream vs report")
	require.EqualValues(t, f.GetSessionsHeld(), tenantCounts.sessionsHeld, "sessions held: stream vs report")
	require.EqualValues(t, f.GetRatings(), tenantCounts.feedback, "feedback: stream vs report")
	require.EqualValues(t, pairs, tenantCounts.agreementsSigned, "every pair signed by both sides")
	require.EqualValues(t, 4*pairs, tenantCounts.sessionsProposed, "one session and a series of three per pair")
	require.EqualValues(t, 2, tenantCounts.accessDenied, "the two refused calls (the analyst's program, the mentee signing for the mentor), audited by the gateway")
	step(fmt.Sprintf("analytics consumer: %d events checked", len(events)))
}

// waitMatchingEpoch waits until the matching service's projection of the
// program has applied want events, read from a mentee's candidate list.
func waitMatchingEpoch(t *testing.T, c *cluster, token, programID string, all []*participantv1.Participant, want int64) int64 {
	return waitMatchingEpochIn(t, c, token, programID, all, want, want)
}

// waitMatchingEpochIn waits until matching's projection epoch of the
// program is from lo to hi and returns it.
func waitMatchingEpochIn(t *testing.T, c *cluster, token, programID string, all []*participantv1.Participant, lo, hi int64) int64 {
	t.Helper()
	var mentee string
	for _, p := range all {
		if p.GetRole() == participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE {
			mentee = p.GetId()
			break
		}
	}
	require.NotEmpty(t, mentee)
	matching := matchingv1.NewMatchingServiceClient(c.conn)
	var epoch int64
	poll(t, settle, "matching projection complete", func() error {
		got, err := matching.ListCandidates(c.ctx(token), &matchingv1.ListCandidatesRequest{ProgramId: programID, ParticipantId: mentee, K: 1})
		if err != nil {
			return err
		}
		if epoch = got.GetEpoch(); epoch < lo || epoch > hi {
			return fmt.Errorf("epoch %d, want %d to %d", epoch, lo, hi)
		}
		return nil
	})
	return epoch
}
