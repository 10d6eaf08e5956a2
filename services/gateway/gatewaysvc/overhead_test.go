package gatewaysvc_test

import (
	"context"
	"net"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/gateway/gatewaysvc"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

// startGateway runs the participant service (with tenant "acme") and a
// gateway in front of it, and returns client connections to both.
func startGateway(t testing.TB) (direct, gateway *grpc.ClientConn, ctx context.Context) {
	g := startGatewayWith(t, []string{"acme"}, nil)
	return g.svc.Conn, g.conn, g.svc.As(t, "acme", auth.RoleTenantAdmin)
}

// gatewayHarness is a participant service with a gateway in front of it.
type gatewayHarness struct {
	svc  *servicetest.Harness // the participant service
	conn *grpc.ClientConn     // a client of the gateway's gRPC port
	base string               // the gateway's HTTP address, "http://host:port"
}

// startGatewayWith runs the participant service on SQLite with the given
// tenants and a gateway in front of it, whose configuration configure (if
// not nil) may amend, and stops both when the test ends.
func startGatewayWith(t testing.TB, tenants []string, configure func(*gatewaysvc.Config, *servicetest.Harness)) gatewayHarness {
	url := testkit.SQLiteURL(t)
	for _, tenant := range tenants {
		_, err := participantsvc.EnsureTenant(context.Background(), url, tenant, "")
		require.NoError(t, err)
	}
	h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
		return participantsvc.Run(ctx, lis, participantsvc.Config{DatabaseURL: url, PageTokenKey: []byte("k")}, env)
	})
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := gatewaysvc.Config{
		Backends: map[string]string{gatewaysvc.ParticipantService: h.Conn.Target()},
		Policy:   participantsvc.Policy, Logger: servicetest.Logger(t), Verifier: h.Env.Verifier,
	}
	if configure != nil {
		configure(&cfg, h)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- gatewaysvc.Run(runCtx, grpcLis, httpLis, cfg) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	conn, err := grpc.NewClient(grpcLis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return gatewayHarness{svc: h, conn: conn, base: "http://" + httpLis.Addr().String()}
}

// asDeployed gives this process the chart's gateway memory limit
// (GOMEMLIMIT, 768 MiB) and the GC target the binaries then choose.
func asDeployed() {
	debug.SetMemoryLimit(768 << 20)
	platform.TuneGC()
}

// BenchmarkGatewayOverhead compares GetProgram called directly on the
// participant service with the same call through the gateway (token check,
// policy, proxy), with the same parallel client load. The design's target:
// the gateway's latency at most 1.5× the direct call's.
func BenchmarkGatewayOverhead(b *testing.B) {
	asDeployed()
	direct, gateway, ctx := startGateway(b)
	program, err := participantv1.NewParticipantServiceClient(direct).CreateProgram(ctx, &participantv1.CreateProgramRequest{
		Program: &participantv1.Program{DisplayName: "p", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE}})
	require.NoError(b, err)
	req := &participantv1.GetProgramRequest{Id: program.GetId()}

	measure := func(conn *grpc.ClientConn) time.Duration {
		client := participantv1.NewParticipantServiceClient(conn)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := client.GetProgram(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
		return time.Since(start) / time.Duration(b.N)
	}
	b.ResetTimer()
	directPerCall := measure(direct)
	gatewayPerCall := measure(gateway)
	b.StopTimer()
	b.ReportMetric(float64(directPerCall.Microseconds()), "direct-µs/call")
	b.ReportMetric(float64(gatewayPerCall.Microseconds()), "gateway-µs/call")
	b.ReportMetric(float64(gatewayPerCall)/float64(directPerCall), "gateway/direct")
}

// TestGatewayProxiesToTheBackend checks what the benchmark measures: the
// same answer directly and through the gateway, and the gateway's own token
// check in front.
func TestGatewayProxiesToTheBackend(t *testing.T) {
	direct, gateway, ctx := startGateway(t)
	program, err := participantv1.NewParticipantServiceClient(direct).CreateProgram(ctx, &participantv1.CreateProgramRequest{
		Program: &participantv1.Program{DisplayName: "p", Type: participantv1.ProgramType_PROGRAM_TYPE_REVERSE}})
	require.NoError(t, err)
	got, err := participantv1.NewParticipantServiceClient(gateway).GetProgram(ctx, &participantv1.GetProgramRequest{Id: program.GetId()})
	require.NoError(t, err)
	require.Equal(t, program.GetId(), got.GetId())
	_, err = participantv1.NewParticipantServiceClient(gateway).GetProgram(context.Background(), &participantv1.GetProgramRequest{Id: program.GetId()})
	require.Equal(t, "Unauthenticated", status.Code(err).String())
}
