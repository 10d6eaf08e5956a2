// Package servicetest runs one Tandem service for a test the way production
// does: its Run function on a loopback listener, behind the real interceptor
// chain, with a real database, an embedded NATS JetStream (random stream and
// subject prefix) and dev-issued tokens.
package servicetest

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
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// WaitFor bounds every poll of a service test.
const WaitFor = 20 * time.Second

// RunFunc is a service's Run with its own configuration bound.
type RunFunc func(ctx context.Context, lis net.Listener, env platform.Env) error

// Harness is a running service and what a test needs to talk to it.
type Harness struct {
	Conn   *grpc.ClientConn
	JS     jetstream.JetStream
	Stream string
	Prefix string
	Signer *auth.DevSigner
	Env    platform.Env
}

// Start runs the service until the test ends and returns once it reports
// SERVING. The test fails if Run returns an error, before or after cancel.
func Start(t testing.TB, run RunFunc) *Harness {
	t.Helper()
	nc, err := nats.Connect(testkit.EmbeddedNATS(t))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	h := &Harness{JS: js, Stream: testkit.RandomName("EVENTS"), Prefix: testkit.RandomName("tandem")}
	require.NoError(t, eventbus.EnsureStream(t.Context(), js, h.Stream, h.Prefix))
	h.Signer, err = auth.LoadOrCreateDevSigner(t.TempDir())
	require.NoError(t, err)
	verifier, err := h.Signer.Verifier()
	require.NoError(t, err)
	h.Env = platform.Env{Logger: Logger(t), JetStream: js, Verifier: verifier, Stream: h.Stream, SubjectPrefix: h.Prefix}

	h.Conn = serve(t, h.Env, run)
	return h
}

// StartWith runs another replica of a service on h's stream and
// environment until the test ends, and returns its connection once it
// reports SERVING.
func StartWith(t testing.TB, h *Harness, run RunFunc) *grpc.ClientConn {
	t.Helper()
	return serve(t, h.Env, run)
}

// serve runs one replica and connects to it. The test fails if Run returns
// an error, before or after cancel.
func serve(t testing.TB, env platform.Env, run RunFunc) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, lis, env) }()
	stopped := false
	t.Cleanup(func() {
		cancel()
		if stopped {
			return
		}
		select {
		case err := <-done:
			require.NoError(t, err, "Run after cancel")
		case <-time.After(WaitFor):
			t.Errorf("Run did not return within %s of cancel", WaitFor)
		}
	})

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	health := healthpb.NewHealthClient(conn)
	testkit.Eventually(t, WaitFor, func() bool {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("Run returned before serving: %v", err)
		default:
		}
		resp, err := health.Check(t.Context(), &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
	}, "service not serving")
	return conn
}

// As returns a context whose calls carry a dev token of a caller of tenant
// with roles; the caller's subject is Subject(tenant).
func (h *Harness) As(t testing.TB, tenant string, roles ...string) context.Context {
	t.Helper()
	return h.AsSubject(t, tenant, Subject(tenant), roles...)
}

// Subject is the token subject of As: a program created by that caller is
// managed by it.
func Subject(tenant string) string { return "user-of-" + tenant }

// AsSubject returns a context whose calls carry a dev token of subject in
// tenant with roles: a participant acts as the person whose login is
// subject.
func (h *Harness) AsSubject(t testing.TB, tenant, subject string, roles ...string) context.Context {
	t.Helper()
	tok, err := h.Signer.Sign(auth.Principal{Tenant: tenant, Subject: subject, Roles: roles}, time.Hour)
	require.NoError(t, err)
	return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tok)
}

// LastEvent waits until the stream holds count events on subject (given
// without the prefix) and returns the newest. Waiting for a count, not for
// any event, keeps a test from reading an older event while the relay is
// still publishing the one it wants.
func (h *Harness) LastEvent(t testing.TB, subject string, count int) *jetstream.RawStreamMsg {
	t.Helper()
	stream, err := h.JS.Stream(t.Context(), h.Stream)
	require.NoError(t, err)
	full := h.Prefix + "." + subject
	var seen uint64
	testkit.Eventually(t, WaitFor, func() bool {
		info, err := stream.Info(t.Context(), jetstream.WithSubjectFilter(full))
		if err != nil {
			return false
		}
		seen = info.State.Subjects[full]
		return seen >= uint64(count)
	}, "want %d events on %s", count, full)
	require.EqualValues(t, count, seen, "events on %s", full)
	msg, err := stream.GetLastMsgForSubject(t.Context(), full)
	require.NoError(t, err)
	return msg
}

// RequireFieldViolation checks that err is InvalidArgument with a
// BadRequest violation of field.
func RequireFieldViolation(t testing.TB, err error, field string) {
	t.Helper()
	require.Contains(t, FieldViolations(t, err), field, "status %v", status.Convert(err))
}

// FieldViolations checks that err is InvalidArgument and returns the fields
// of its BadRequest violations.
func FieldViolations(t testing.TB, err error) []string {
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
	return fields
}

// Logger returns a logger writing warnings and errors to the test log, so
// they show only when the test fails.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// OutboxRow is one event a store wrote to its outbox.
type OutboxRow struct {
	Type        string // the ce-type, e.g. "tandem.program.created"
	Tenant      string
	AggregateID string
	Payload     []byte
}

// Outbox returns every event in db's outbox, oldest first, so store tests
// can check that each change wrote its event.
func Outbox(t testing.TB, db *sqlstore.DB) []OutboxRow {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT ce_type, tenant, aggregate_id, payload FROM outbox ORDER BY seq`)
	require.NoError(t, err)
	defer rows.Close()
	var out []OutboxRow
	for rows.Next() {
		var r OutboxRow
		require.NoError(t, rows.Scan(&r.Type, &r.Tenant, &r.AggregateID, &r.Payload))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}
