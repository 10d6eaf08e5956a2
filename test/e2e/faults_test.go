package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
)

// TestKillParticipantDuringEnrolments kills the participant service with
// SIGKILL while enrolments are written through the gateway (1,000 in CI,
// 10,000 in `make reliability`), restarts it on the same database, and
// checks that every acknowledged enrolment is stored, that the stream holds
// exactly one participant.enrolled per enrolment (0 lost, 0 duplicates by
// ce-id), and that the matching and evaluation consumers applied each once
// although they too are killed (SIGKILL) and restarted while still
// working through the backlog.
func TestKillParticipantDuringEnrolments(t *testing.T) {
	n := pick(1000, 10_000)
	c := startCluster(t, clusterOptions{})
	// A kill -9 leaves the relay's lease (outbox_lease, 10 s) held: the
	// restarted relay publishes once it expires, as the outbox lag shows.
	enrolUnderFault(t, c, n, func() string {
		c.kill("participant")
		up := c.restart("participant")
		return fmt.Sprintf("participant killed with SIGKILL, restarted on the same database, SERVING again after %s", up.Round(time.Millisecond))
	}, "matching", "evaluation")
}

// enrolFigures are what a fault test under enrolments measured.
type enrolFigures struct {
	acked, retried, alreadyAfterRetry, failed atomic.Int64
}

// enrolUnderFault imports n people, enrols each in a new program through
// the gateway with 16 concurrent clients that retry Unavailable calls,
// runs fault once a third are acknowledged, kills (SIGKILL) and restarts
// each of consumers once the writes are done (while they still apply the
// backlog), and then checks the outcome end to end: the store, the
// stream, and both consuming projections.
func enrolUnderFault(t *testing.T, c *cluster, n int, fault func() string, consumers ...string) {
	t.Helper()
	admin := c.token("admin@e2e.example", "tenant_admin")
	ctx := c.ctx(admin)
	client := participantv1.NewParticipantServiceClient(c.conn)
	programID := openProgram(t, c, admin)
	people := importPeople(t, c, admin, n)

	var fig enrolFigures
	ackedPeople := sync.Map{}
	work := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range 16 {
		wg.Go(func() {
			for i := range work {
				p := people[i]
				part := &participantv1.Participant{ProgramId: programID, PersonId: p.GetId()}
				if i%2 == 0 {
					part.Role = participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTOR
					part.Competencies = []*participantv1.Competency{{SkillId: "genai", Level: 5}}
					part.Capacity = 1
				} else {
					part.Role = participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE
					part.DevelopmentAreas = []*participantv1.DevelopmentArea{{SkillId: "genai", CurrentLevel: 1, TargetLevel: 4}}
				}
				if retryCall(ctx, &fig, func(cctx context.Context) error {
					_, err := client.EnrollParticipant(cctx, &participantv1.EnrollParticipantRequest{Participant: part})
					return err
				}) {
					ackedPeople.Store(p.GetId(), true)
				}
			}
		})
	}
	go func() {
		defer close(work)
		for i := range people {
			work <- i
		}
	}()
	poll(t, 5*time.Minute, "a third of the enrolments acknowledged", func() error {
		if got := fig.acked.Load(); got < int64(n/3) {
			return fmt.Errorf("%d acknowledged", got)
		}
		return nil
	})
	what := fault()
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("FIGURE enrolments=%d acknowledged=%d failed_after_retries=%d retried_calls=%d already_exists_after_retry=%d in %s (%.0f/s); %s",
		n, fig.acked.Load(), fig.failed.Load(), fig.retried.Load(), fig.alreadyAfterRetry.Load(), elapsed.Round(time.Millisecond),
		float64(n)/elapsed.Seconds(), what)
	require.Zero(t, fig.failed.Load(), "no enrolment fails once retried")
	require.EqualValues(t, n, fig.acked.Load())
	for _, svc := range consumers {
		c.kill(svc)
		up := c.restart(svc)
		t.Logf("FIGURE consumer %s killed with SIGKILL during the backlog, SERVING again after %s", svc, up.Round(time.Millisecond))
	}

	// The store holds every acknowledged enrolment, once.
	stored := map[string]int{}
	var mentee string
	for token, pages := "", 0; pages == 0 || token != ""; pages++ {
		require.Less(t, pages, n/1000+10)
		page, err := client.ListParticipants(ctx, &participantv1.ListParticipantsRequest{ProgramId: programID, PageSize: 1000, PageToken: token})
		require.NoError(t, err)
		for _, p := range page.GetParticipants() {
			stored[p.GetPersonId()]++
			if p.GetRole() == participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE {
				mentee = p.GetId()
			}
		}
		token = page.GetNextPageToken()
	}
	require.Len(t, stored, n)
	ackedPeople.Range(func(k, _ any) bool {
		require.Equal(t, 1, stored[k.(string)], "acknowledged enrolment of %s stored once", k)
		return true
	})

	// Both consumers applied every enrolment, and evaluation's report
	// counts each exactly once. Matching's epoch counts the changes to the
	// program's projection: created, enrolling, matching and the n
	// enrolments, plus one for each person.created that a killed consumer
	// gets redelivered after that person's enrolment (the person is then
	// already in the program), so it is from 3+n to 3+2n.
	caughtUp := time.Now()
	code, body := httpJSON(t, "POST", c.HTTP+"/v1/programs/"+programID+":transition", admin, `{"state":"PROGRAM_STATE_MATCHING"}`)
	require.Equal(t, 200, code, "matching: %v", body)
	epoch := waitMatchingEpochIn(t, c, admin, programID, []*participantv1.Participant{{Id: mentee, Role: participantv1.ParticipantRole_PARTICIPANT_ROLE_MENTEE}}, int64(3+n), int64(3+2*n))
	matchingDone := time.Since(caughtUp)
	evaluation := evaluationv1.NewEvaluationServiceClient(c.conn)
	poll(t, settle, "evaluation counts every enrolment once", func() error {
		report, err := evaluation.GetProgramReport(ctx, &evaluationv1.GetProgramReportRequest{ProgramId: programID})
		if err != nil {
			return err
		}
		f := report.GetFigures()
		if f.GetPeople() != int32(n) || f.GetEnrolledMentors()+f.GetEnrolledMentees() != int32(n) {
			return fmt.Errorf("report: %d people, %d mentors, %d mentees; want %d", f.GetPeople(), f.GetEnrolledMentors(), f.GetEnrolledMentees(), n)
		}
		return nil
	})
	t.Logf("FIGURE consumers caught up after the last enrolment: matching in %s, evaluation in %s",
		matchingDone.Round(time.Millisecond), time.Since(caughtUp).Round(time.Millisecond))

	// The stream: every event valid and unique by ce-id, and exactly one
	// participant.enrolled per enrolment.
	events := readStream(t, c)
	checkEvents(t, events)
	enrolled := map[string]int{}
	for _, e := range events {
		if e.headers["ce-type"] == "tandem.participant.enrolled" {
			enrolled[e.headers["ce-subject"]]++
		}
	}
	dups := 0
	for _, k := range enrolled {
		dups += k - 1
	}
	lost := n - len(enrolled)
	t.Logf("FIGURE stream: %d events, participant.enrolled for %d of %d enrolments: lost=%d duplicates=%d; matching epoch %d (%d person events redelivered after their enrolment) and evaluation report exact",
		len(events), len(enrolled), n, lost, dups, epoch, epoch-int64(3+n))
	require.Zero(t, lost, "events lost")
	require.Zero(t, dups, "events published twice")
}

// retryCall makes call until it succeeds, retrying Unavailable and
// DeadlineExceeded (the backend died or restarts) for at most 60 s, like a
// client with a retry policy. AlreadyExists after a retry means an earlier
// attempt committed before the connection broke: acknowledged. It reports
// whether the call was acknowledged, counting in fig.
func retryCall(ctx context.Context, fig *enrolFigures, call func(ctx context.Context) error) bool {
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := call(cctx)
		cancel()
		code := status.Code(err)
		switch {
		case code == codes.OK:
			fig.acked.Add(1)
			return true
		case code == codes.AlreadyExists && attempt > 0:
			fig.alreadyAfterRetry.Add(1)
			fig.acked.Add(1)
			return true
		case (code == codes.Unavailable || code == codes.DeadlineExceeded) && time.Now().Before(deadline):
			fig.retried.Add(1)
			<-tick.C
		default:
			fig.failed.Add(1)
			return false
		}
	}
}

// openProgram creates the skill genai and a reverse program open for
// enrolment, and returns its id.
func openProgram(t *testing.T, c *cluster, admin string) string {
	t.Helper()
	code, body := httpJSON(t, "POST", c.HTTP+"/v1/skills", admin, `{"id":"genai","displayName":"Generative AI"}`)
	require.Equal(t, 200, code, "skill: %v", body)
	now := time.Now().UTC()
	program, err := participantv1.NewParticipantServiceClient(c.conn).CreateProgram(c.ctx(admin), &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "Fault program", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE, MaxMentorCapacity: 1,
		EnrollmentOpenTime: timestamppb.New(now.Add(-time.Hour)), EnrollmentCloseTime: timestamppb.New(now.Add(24 * time.Hour)),
	}})
	require.NoError(t, err)
	code, body = httpJSON(t, "POST", c.HTTP+"/v1/programs/"+program.GetId()+":transition", admin, `{"state":"PROGRAM_STATE_ENROLLING"}`)
	require.Equal(t, 200, code, "enrolling: %v", body)
	return program.GetId()
}

// importPeople imports n people (even rows junior, odd rows senior) into
// the directory and returns them in file order.
func importPeople(t *testing.T, c *cluster, admin string, n int) []*participantv1.Person {
	t.Helper()
	ctx := c.ctx(admin)
	client := participantv1.NewParticipantServiceClient(c.conn)
	var b strings.Builder
	b.WriteString("hris_id,display_name,email,seniority_level,time_zone,languages\n")
	for i := range n {
		level := 1 + i%4
		if i%2 == 1 {
			level = 8 + i%4
		}
		fmt.Fprintf(&b, "P%06d,Person %d,p%d@e2e.example,%d,Europe/Berlin,en\n", i, i, i, level)
	}
	job, err := client.CreateImport(ctx, &participantv1.CreateImportRequest{Csv: []byte(b.String())})
	require.NoError(t, err)
	poll(t, settle, "import finished", func() error {
		job, err = client.GetImport(ctx, &participantv1.GetImportRequest{Id: job.GetId()})
		require.NoError(t, err)
		if job.GetState() != participantv1.ImportState_IMPORT_STATE_SUCCEEDED {
			return fmt.Errorf("import %s at %d%%: %s", job.GetState(), job.GetProgressPercent(), job.GetError())
		}
		return nil
	})
	require.EqualValues(t, n, job.GetCreatedRows())
	byHRIS := map[string]*participantv1.Person{}
	for token, pages := "", 0; pages == 0 || token != ""; pages++ {
		require.Less(t, pages, n/1000+10)
		page, err := client.ListPeople(ctx, &participantv1.ListPeopleRequest{PageSize: 1000, PageToken: token})
		require.NoError(t, err)
		for _, p := range page.GetPeople() {
			byHRIS[p.GetHrisId()] = p
		}
		token = page.GetNextPageToken()
	}
	out := make([]*participantv1.Person, n)
	for i := range n {
		out[i] = byHRIS[fmt.Sprintf("P%06d", i)]
		require.NotNil(t, out[i], "person %d listed", i)
	}
	return out
}

// TestKillNATSDuringEnrolments kills a private nats-server (SIGKILL) while
// enrolments are written, restarts it on the same store, and checks the
// same outcome as the participant kill: nothing lost, nothing twice.
func TestKillNATSDuringEnrolments(t *testing.T) {
	n := pick(1000, 10_000)
	nats := privateNATS(t)
	c := startCluster(t, clusterOptions{natsURL: "nats://" + nats.addr})
	enrolUnderFault(t, c, n, func() string {
		nats.signal(syscall.SIGKILL, 10*time.Second)
		up := nats.restartServer()
		return fmt.Sprintf("nats-server killed with SIGKILL, restarted on the same store, accepting connections after %s", up.Round(time.Millisecond))
	})
}
