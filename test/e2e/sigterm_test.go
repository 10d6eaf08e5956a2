package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
)

// TestSIGTERMUnderLoad stops each service in turn with SIGTERM (the
// Kubernetes way: NOT_SERVING, drain, graceful stop) while clients keep
// calling every service through the gateway, writes included, and starts
// it again. With a client retry policy on Unavailable (bounded to 60 s per
// call), no call fails.
func TestSIGTERMUnderLoad(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	admin := c.token("admin@e2e.example", "tenant_admin")
	ctx := c.ctx(admin)
	programID := openProgram(t, c, admin)
	people := participantv1.NewParticipantServiceClient(c.conn)
	matching := matchingv1.NewMatchingServiceClient(c.conn)
	scheduling := schedulingv1.NewSchedulingServiceClient(c.conn)
	evaluation := evaluationv1.NewEvaluationServiceClient(c.conn)
	var written atomic.Int64
	calls := []func(ctx context.Context) error{
		func(ctx context.Context) error {
			k := written.Add(1)
			_, err := people.UpsertPerson(ctx, &participantv1.UpsertPersonRequest{Person: &participantv1.Person{
				HrisId: fmt.Sprintf("L%07d", k), DisplayName: "Load", Email: fmt.Sprintf("l%d@e2e.example", k), TimeZone: "UTC"}})
			return err
		},
		func(ctx context.Context) error {
			_, err := people.GetProgram(ctx, &participantv1.GetProgramRequest{Id: programID})
			return err
		},
		func(ctx context.Context) error {
			_, err := matching.GetScoringConfig(ctx, &matchingv1.GetScoringConfigRequest{ProgramId: programID})
			return err
		},
		func(ctx context.Context) error {
			_, err := scheduling.ListRooms(ctx, &schedulingv1.ListRoomsRequest{})
			return err
		},
		func(ctx context.Context) error {
			_, err := evaluation.GetEvaluationSettings(ctx, &evaluationv1.GetEvaluationSettingsRequest{ProgramId: programID})
			return err
		},
	}
	for k, call := range calls {
		_, err := settling(settle, func() (struct{}, error) { return struct{}{}, call(ctx) })
		require.NoError(t, err, "call %d before the load", k)
	}

	var fig enrolFigures
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for k := w; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				retryCall(ctx, &fig, calls[k%len(calls)])
			}
		})
	}
	// waitCalls waits until the clients have made more calls.
	waitCalls := func(more int64) {
		t.Helper()
		target := fig.acked.Load() + fig.failed.Load() + more
		poll(t, 2*time.Minute, "steady load", func() error {
			if got := fig.acked.Load() + fig.failed.Load(); got < target {
				return fmt.Errorf("%d calls of %d", got, target)
			}
			return nil
		})
	}
	start := time.Now()
	for _, svc := range append(backends, "gateway") {
		waitCalls(300)
		before := fig.retried.Load()
		down := c.terminate(svc)
		up := c.restart(svc)
		waitCalls(300)
		t.Logf("FIGURE SIGTERM %-11s: exited %s after the signal, SERVING again %s later; %d calls retried meanwhile",
			svc, down.Round(time.Millisecond), up.Round(time.Millisecond), fig.retried.Load()-before)
	}
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	total := fig.acked.Load() + fig.failed.Load()
	t.Logf("FIGURE SIGTERM of each of the 5 services under load: %d calls in %s (%.0f/s), %d retried, %d failed after retries, %d writes",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), fig.retried.Load(), fig.failed.Load(), written.Load())
	require.Zero(t, fig.failed.Load(), "failed client calls after retries")
}
