package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
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

	// The same comparison with ghz (pinned in the Makefile), when
	// TANDEM_GHZ names its binary: `make reliability` installs and sets it.
	// (-n, not -z: ghz counts the calls a duration cuts off as failed.)
	if ghz := os.Getenv("TANDEM_GHZ"); ghz != "" {
		calls := pick(5000, 50_000)
		p99s := map[string]time.Duration{}
		for _, target := range []struct{ name, addr string }{
			{"direct gRPC (participant)", c.services["participant"].grpcAddr}, {"gateway gRPC", c.GRPC},
		} {
			out, err := exec.Command(ghz, "--insecure", "--call", "tandem.participant.v1.ParticipantService/GetProgram",
				"-d", `{"id":"`+programID+`"}`, "--metadata", `{"authorization":"Bearer `+admin+`"}`,
				"--reflect-metadata", `{"authorization":"Bearer `+admin+`"}`,
				"-c", fmt.Sprint(clients), "-n", fmt.Sprint(calls), "-O", "json", target.addr).Output()
			require.NoError(t, err, "ghz against %s: %s", target.name, out)
			var report struct {
				Count   int64   `json:"count"`
				RPS     float64 `json:"rps"`
				Latency []struct {
					Percentage int           `json:"percentage"`
					Latency    time.Duration `json:"latency"`
				} `json:"latencyDistribution"`
				StatusCodes map[string]int `json:"statusCodeDistribution"`
			}
			require.NoError(t, json.Unmarshal(out, &report), "ghz output: %s", out)
			var p50, p99 time.Duration
			for _, l := range report.Latency {
				switch l.Percentage {
				case 50:
					p50 = l.Latency
				case 99:
					p99 = l.Latency
				}
			}
			p99s[target.name] = p99
			t.Logf("FIGURE ghz %-26s -c %d -n %d: %d calls, %.0f calls/s, p50 %s, p99 %s, codes %v",
				target.name, clients, calls, report.Count, report.RPS, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), report.StatusCodes)
			require.Equal(t, map[string]int{"OK": int(report.Count)}, report.StatusCodes, "ghz against %s", target.name)
		}
		t.Logf("FIGURE ghz gateway/direct p99 ratio: %.2f", float64(p99s["gateway gRPC"])/float64(p99s["direct gRPC (participant)"]))
	}
}
