package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
)

// TestLoadGatewayVsDirect measures GetProgram from 8 concurrent clients
// (2 s per mode in CI, 20 s in `make reliability`): straight to the
// participant process over gRPC, through the gateway over gRPC, and
// through the gateway over HTTP/JSON, all processes on this machine. It
// prints throughput and latency quantiles and checks that no call failed;
// the ratio to the 1.5× target is recorded in docs/benchmarks.md, not
// asserted (a timed assertion would be flaky on a shared machine).
func TestLoadGatewayVsDirect(t *testing.T) {
	duration := time.Duration(pick(2, 20)) * time.Second
	const clients = 8
	c := startCluster(t, clusterOptions{})
	admin := c.token("admin@e2e.example", "tenant_admin")
	ctx := c.ctx(admin)
	programID := openProgram(t, c, admin)
	direct, err := grpc.NewClient(c.services["participant"].grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer direct.Close()
	modes := []struct {
		name string
		call func() error
	}{
		{"direct gRPC (participant)", func() error {
			_, err := participantv1.NewParticipantServiceClient(direct).GetProgram(ctx, &participantv1.GetProgramRequest{Id: programID})
			return err
		}},
		{"gateway gRPC", func() error {
			_, err := participantv1.NewParticipantServiceClient(c.conn).GetProgram(ctx, &participantv1.GetProgramRequest{Id: programID})
			return err
		}},
		{"gateway HTTP/JSON", func() error {
			code, body, err := httpJSONErr(http.MethodGet, c.HTTP+"/v1/programs/"+programID, admin, "")
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("%d: %v", code, body)
			}
			return err
		}},
	}
	p50s := map[string]time.Duration{}
	for _, mode := range modes {
		for range 50 { // warm up connections and caches
			require.NoError(t, mode.call(), mode.name)
		}
		var mu sync.Mutex
		var took []time.Duration
		var failed int
		var wg sync.WaitGroup
		start := time.Now()
		for range clients {
			wg.Go(func() {
				var mine []time.Duration
				errs := 0
				for time.Since(start) < duration {
					t0 := time.Now()
					if err := mode.call(); err != nil {
						errs++
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				took, failed = append(took, mine...), failed+errs
				mu.Unlock()
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		p50s[mode.name] = quantile(took, 0.5)
		t.Logf("FIGURE load %-26s %d clients, %s: %d calls, %.0f calls/s, p50 %s, p99 %s, %d failed",
			mode.name, clients, duration, len(took), float64(len(took))/elapsed.Seconds(), quantile(took, 0.5), quantile(took, 0.99), failed)
		require.Zero(t, failed, mode.name)
	}
	t.Logf("FIGURE load gateway/direct p50 ratio: gRPC %.2f, HTTP/JSON %.2f",
		float64(p50s["gateway gRPC"])/float64(p50s["direct gRPC (participant)"]),
		float64(p50s["gateway HTTP/JSON"])/float64(p50s["direct gRPC (participant)"]))
}
