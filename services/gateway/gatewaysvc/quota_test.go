package gatewaysvc_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strconv"
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
// second; the noisy tenant sends noisyFactor times that (10 unless
// TANDEM_NOISY_FACTOR says otherwise), the quiet one a third.
const (
	quotaPerSecond = 100
	quietInterval  = 30 * time.Millisecond // ~33 calls/s
	quietCalls     = 250                   // per block: 7.5 s
	blocks         = 4                     // of each kind, alternating
	noisyWorkers   = 10
)

// BenchmarkTenantAtTenTimesQuota measures a quiet tenant's GetProgram
// latency through the gateway (Redis-shared rate limits, a real
// participant service on SQLite) alone and while another tenant sends ten
// times its quota, in alternating blocks so that a drift of the machine
// falls on both alike; each kind's percentiles are over all its blocks
// (1,000 calls). The noisy tenant must be refused (ResourceExhausted,
// HTTP 429 with Retry-After) and the quiet one never; the figures are the
// quiet tenant's p50 and p99 alone and loaded and their ratios (target
// ≤ 1.2). Run it with
//
//	go test -run '^$' -bench TenantAtTenTimesQuota -benchtime 1x ./services/gateway/gatewaysvc/
//
// It takes 2 × blocks × quietCalls × quietInterval whatever b.N is. The
// gateway runs as the chart deploys it (asDeployed: its memory limit, and
// the GC target the binary then sets).
func BenchmarkTenantAtTenTimesQuota(b *testing.B) {
	asDeployed()
	factor := 10
	if f := os.Getenv("TANDEM_NOISY_FACTOR"); f != "" {
		var err error
		factor, err = strconv.Atoi(f)
		require.NoError(b, err, "TANDEM_NOISY_FACTOR")
	}
	redisClient, prefix := testkit.Redis(b)
	g := startGatewayWith(b, []string{"quiet", "noisy"}, func(cfg *gatewaysvc.Config, h *servicetest.Harness) {
		cfg.RateLimit = gatewaysvc.RateLimitConfig{TenantPerSecond: quotaPerSecond, TenantBurst: quotaPerSecond / 10,
			Redis: redisClient, Prefix: prefix}
		cfg.Audit = gatewaysvc.AuditConfig{JetStream: h.JS, SubjectPrefix: h.Prefix}
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

	// block calls GetProgram as the quiet tenant at its steady pace and
	// appends the latencies to lat.
	block := func(lat []time.Duration) []time.Duration {
		tick := time.NewTicker(quietInterval)
		defer tick.Stop()
		for range quietCalls {
			<-tick.C
			start := time.Now()
			_, err := client.GetProgram(quiet, &participantv1.GetProgramRequest{Id: program.GetId()})
			lat = append(lat, time.Since(start))
			require.NoError(b, err, "the quiet tenant is never refused")
		}
		return lat
	}
	pct := func(lat []time.Duration, p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	// noisyLoad sends factor times the quota from noisyWorkers goroutines
	// until stop is closed.
	var ok, refused, failed atomic.Int64
	noisyLoad := func(stop <-chan struct{}) *sync.WaitGroup {
		var wg sync.WaitGroup
		interval := time.Duration(noisyWorkers) * time.Second / time.Duration(factor*quotaPerSecond)
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
		return &wg
	}

	b.ResetTimer()
	for range b.N {
		var base, loaded []time.Duration
		var loadedFor time.Duration
		ok.Store(0)
		refused.Store(0)
		failed.Store(0)
		httpRefused, retryAfter := 0, ""
		for range blocks {
			base = block(base)

			stop := make(chan struct{})
			started := time.Now()
			wg := noisyLoad(stop)
			loaded = block(loaded)
			// Over HTTP too, a burst on top of the gRPC load: a single
			// call could land on a token just refilled.
			for range 20 {
				req, err := http.NewRequest(http.MethodGet, g.base+"/v1/programs/"+noisyProgram.GetId(), nil)
				require.NoError(b, err)
				req.Header.Set("Authorization", "Bearer "+noisyToken)
				resp, err := http.DefaultClient.Do(req)
				require.NoError(b, err)
				resp.Body.Close()
				if resp.StatusCode == http.StatusTooManyRequests {
					httpRefused++
					retryAfter = resp.Header.Get("Retry-After")
				}
			}
			close(stop)
			wg.Wait()
			loadedFor += time.Since(started)
		}
		slices.Sort(base)
		slices.Sort(loaded)

		require.Zero(b, failed.Load(), "the noisy tenant gets answers or refusals, nothing else")
		if factor > 1 {
			require.Positive(b, refused.Load(), "the noisy tenant is refused over gRPC")
			require.Positive(b, httpRefused, "and over HTTP (429)")
			require.NotEmpty(b, retryAfter, "with Retry-After")
		}
		b.ReportMetric(pct(base, 0.50), "quiet-p50-alone-ms")
		b.ReportMetric(pct(base, 0.99), "quiet-p99-alone-ms")
		b.ReportMetric(pct(loaded, 0.50), "quiet-p50-noisy-ms")
		b.ReportMetric(pct(loaded, 0.99), "quiet-p99-noisy-ms")
		b.ReportMetric(pct(loaded, 0.50)/pct(base, 0.50), "p50-ratio")
		b.ReportMetric(pct(loaded, 0.99)/pct(base, 0.99), "p99-ratio")
		b.ReportMetric(float64(ok.Load()+refused.Load())/loadedFor.Seconds(), "noisy-sent/s")
		b.ReportMetric(float64(ok.Load())/loadedFor.Seconds(), "noisy-served/s")
	}
}
