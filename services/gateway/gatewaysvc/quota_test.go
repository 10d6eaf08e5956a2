package gatewaysvc_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/gateway/gatewaysvc"
)

// Quota of the benchmark: every tenant may make quotaPerSecond calls a
// second; the noisy tenant sends ten times that, the quiet one a third.
const (
	quotaPerSecond = 100
	quietInterval  = 30 * time.Millisecond // ~33 calls/s
	quietCalls     = 300                   // 9 s per phase
	noisyWorkers   = 10
)

// BenchmarkTenantAtTenTimesQuota measures a quiet tenant's GetProgram
// latency through the gateway (Redis-shared rate limits, a real
// participant service on SQLite) alone, then while another tenant sends
// ten times its quota. The noisy tenant must be refused (ResourceExhausted,
// HTTP 429) and the quiet one never; the figures are the quiet tenant's
// p50 and p99 in both phases and their ratio (target ≤ 1.2). Run it with
//
//	go test -run '^$' -bench TenantAtTenTimesQuota -benchtime 1x ./services/gateway/gatewaysvc/
//
// Each phase takes quietCalls × quietInterval whatever b.N is.
func BenchmarkTenantAtTenTimesQuota(b *testing.B) {
	redisClient, prefix := testkit.Redis(b)
	g := startGatewayWith(b, []string{"quiet", "noisy"}, func(cfg *gatewaysvc.Config, _ *servicetest.Harness) {
		cfg.RateLimit = gatewaysvc.RateLimitConfig{TenantPerSecond: quotaPerSecond, TenantBurst: quotaPerSecond / 10,
			Redis: redisClient, Prefix: prefix}
	})
	h := g.svc
	client := participantv1.NewParticipantServiceClient(g.conn)
	as := func(tenant string) (context.Context, string) {
		tok, err := h.Signer.Sign(auth.Principal{Tenant: tenant, Subject: "bench@" + tenant, Roles: []string{auth.RoleTenantAdmin}}, time.Hour)
		require.NoError(b, err)
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok), tok
	}
	quiet, _ := as("quiet")
	noisy, noisyToken := as("noisy")
	program, err := client.CreateProgram(quiet, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "Quiet", Type: participantv1.ProgramType_PROGRAM_TYPE_PEER}})
	require.NoError(b, err)
	noisyProgram, err := client.CreateProgram(noisy, &participantv1.CreateProgramRequest{Program: &participantv1.Program{
		DisplayName: "Noisy", Type: participantv1.ProgramType_PROGRAM_TYPE_PEER}})
	require.NoError(b, err)

	// phase calls GetProgram as the quiet tenant at its steady pace and
	// returns the sorted latencies.
	phase := func() []time.Duration {
		lat := make([]time.Duration, 0, quietCalls)
		tick := time.NewTicker(quietInterval)
		defer tick.Stop()
		for range quietCalls {
			<-tick.C
			start := time.Now()
			_, err := client.GetProgram(quiet, &participantv1.GetProgramRequest{Id: program.GetId()})
			lat = append(lat, time.Since(start))
			require.NoError(b, err, "the quiet tenant is never refused")
		}
		slices.Sort(lat)
		return lat
	}
	pct := func(lat []time.Duration, p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}

	b.ResetTimer()
	for range b.N {
		base := phase()

		// The noisy tenant: noisyWorkers goroutines, each paced so that
		// together they send ten times the quota.
		var ok, refused, failed atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		interval := time.Duration(noisyWorkers) * time.Second / (10 * quotaPerSecond)
		for range noisyWorkers {
			wg.Go(func() {
				tick := time.NewTicker(interval)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					_, err := client.GetProgram(noisy, &participantv1.GetProgramRequest{Id: noisyProgram.GetId()})
					switch status.Code(err) {
					case codes.OK:
						ok.Add(1)
					case codes.ResourceExhausted:
						refused.Add(1)
					default:
						failed.Add(1)
					}
				}
			})
		}
		started := time.Now()
		loaded := phase()
		req, err := http.NewRequest(http.MethodGet, g.base+"/v1/programs/"+noisyProgram.GetId(), nil)
		require.NoError(b, err)
		req.Header.Set("Authorization", "Bearer "+noisyToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(b, err)
		resp.Body.Close()
		close(stop)
		wg.Wait()
		elapsed := time.Since(started).Seconds()

		require.Zero(b, failed.Load(), "the noisy tenant gets answers or refusals, nothing else")
		require.Positive(b, refused.Load(), "the noisy tenant is refused over gRPC")
		require.Equal(b, http.StatusTooManyRequests, resp.StatusCode, "and over HTTP")
		b.ReportMetric(pct(base, 0.50), "quiet-p50-alone-ms")
		b.ReportMetric(pct(base, 0.99), "quiet-p99-alone-ms")
		b.ReportMetric(pct(loaded, 0.50), "quiet-p50-noisy-ms")
		b.ReportMetric(pct(loaded, 0.99), "quiet-p99-noisy-ms")
		b.ReportMetric(pct(loaded, 0.50)/pct(base, 0.50), "p50-ratio")
		b.ReportMetric(pct(loaded, 0.99)/pct(base, 0.99), "p99-ratio")
		b.ReportMetric(float64(ok.Load()+refused.Load())/elapsed, "noisy-sent/s")
		b.ReportMetric(float64(ok.Load())/elapsed, "noisy-served/s")
	}
}
