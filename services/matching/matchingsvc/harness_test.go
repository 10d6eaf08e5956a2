package matchingsvc_test

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/matchingsvc"
)

// waitFor bounds every poll of the tests.
const waitFor = 20 * time.Second

// harness is a running matching service with its embedded NATS server,
// reached over a loopback listener through the real interceptor chain.
type harness struct {
	conn   *grpc.ClientConn
	js     jetstream.JetStream
	stream string
	prefix string
	signer *auth.DevSigner
}

// start runs matchingsvc.Run on a database at dbURL until the test ends.
func start(t *testing.T, dbURL string) *harness {
	t.Helper()
	nc, err := nats.Connect(testkit.EmbeddedNATS(t))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	h := &harness{js: js, stream: testkit.RandomName("EVENTS"), prefix: testkit.RandomName("tandem")}
	require.NoError(t, eventbus.EnsureStream(t.Context(), js, h.stream, h.prefix))
	h.signer, err = auth.LoadOrCreateDevSigner(t.TempDir())
	require.NoError(t, err)
	verifier, err := h.signer.Verifier()
	require.NoError(t, err)
	env := platform.Env{
		Logger:        slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		JetStream:     js,
		Verifier:      verifier,
		Stream:        h.stream,
		SubjectPrefix: h.prefix,
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- matchingsvc.Run(ctx, lis, matchingsvc.Config{DatabaseURL: dbURL}, env) }()
	stopped := false
	t.Cleanup(func() {
		cancel()
		if stopped {
			return
		}
		select {
		case err := <-done:
			require.NoError(t, err, "Run after cancel")
		case <-time.After(waitFor):
			t.Errorf("Run did not return within %s of cancel", waitFor)
		}
	})

	h.conn, err = grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { h.conn.Close() })
	health := healthpb.NewHealthClient(h.conn)
	testkit.Eventually(t, waitFor, func() bool {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("Run returned before serving: %v", err)
		default:
		}
		resp, err := health.Check(t.Context(), &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
	}, "matching service not serving")
	return h
}

// as returns a context whose calls carry a dev token of a caller of tenant
// with roles.
func (h *harness) as(t *testing.T, tenant string, roles ...string) context.Context {
	t.Helper()
	tok, err := h.signer.Sign(auth.Principal{Tenant: tenant, Subject: "user-of-" + tenant, Roles: roles}, time.Hour)
	require.NoError(t, err)
	return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
}

// lastEvent waits for a message on subject (without the prefix) and
// returns the newest one.
func (h *harness) lastEvent(t *testing.T, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	stream, err := h.js.Stream(t.Context(), h.stream)
	require.NoError(t, err)
	var msg *jetstream.RawStreamMsg
	testkit.Eventually(t, waitFor, func() bool {
		msg, err = stream.GetLastMsgForSubject(t.Context(), h.prefix+"."+subject)
		return err == nil
	}, "no event on %s.%s", h.prefix, subject)
	return msg
}

// requireFieldViolation checks that err is InvalidArgument with a
// BadRequest violation of field.
func requireFieldViolation(t *testing.T, err error, field string) {
	t.Helper()
	st := status.Convert(err)
	require.Equal(t, codes.InvalidArgument, st.Code(), "status %v", st)
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	require.Contains(t, fields, field, "status %v", st)
}

// testWriter sends log lines to the test log, so they show only on failure.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
