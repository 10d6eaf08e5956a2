package server_test

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/server"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// behaviour is what the test service's only method does.
type behaviour func(ctx context.Context) error

// register adds a tiny hand-described service "test.Svc/Do" to s.
func register(s *grpc.Server, do behaviour) {
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: "test.Svc",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "Do",
			Handler: func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
				in := new(emptypb.Empty)
				if err := dec(in); err != nil {
					return nil, err
				}
				h := func(ctx context.Context, _ any) (any, error) { return &emptypb.Empty{}, do(ctx) }
				return icpt(ctx, in, &grpc.UnaryServerInfo{FullMethod: "/test.Svc/Do"}, h)
			},
		}},
	}, struct{}{})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func serve(t *testing.T, opts server.Options, do behaviour) (*grpc.ClientConn, context.CancelFunc, chan error) {
	t.Helper()
	srv, err := server.New(opts)
	require.NoError(t, err)
	register(srv.GRPC(), do)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() {
		conn.Close()
		cancel()
		<-done
	})
	return conn, cancel, done
}

func call(conn *grpc.ClientConn) error {
	return conn.Invoke(context.Background(), "/test.Svc/Do", &emptypb.Empty{}, &emptypb.Empty{})
}

func TestErrorsAreMappedAndInternalsMasked(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		code     codes.Code
		message  string
		loggedAs string
	}{
		{"not found", fmt.Errorf("program p1: %w", apperr.ErrNotFound), codes.NotFound, "program p1: not found", ""},
		{"precondition", fmt.Errorf("program is active: %w", apperr.ErrFailedPrecondition), codes.FailedPrecondition, "program is active: failed precondition", ""},
		{"invalid", apperr.Invalid("program.display_name", "must not be empty"), codes.InvalidArgument, "invalid argument: program.display_name: must not be empty", ""},
		{"internal text never leaks", errors.New("db: connection to 10.0.0.7 refused, password=hunter2"), codes.Internal, "internal error", "hunter2"},
		{"panic", nil, codes.Internal, "internal error", "boom"},
		{"lost database connection", fmt.Errorf("db: insert person: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), codes.Unavailable, "temporarily unavailable: retry later", "connection refused"},
		{"database shutting down", fmt.Errorf("db: %w", sqlStateError("57P01")), codes.Unavailable, "temporarily unavailable: retry later", "57P01"},
		{"connection the driver gave up on", fmt.Errorf("db: %w", driver.ErrBadConn), codes.Unavailable, "temporarily unavailable: retry later", "bad connection"},
		{"commit on a closed connection", fmt.Errorf("db: commit: %w", pgconn.ErrConnClosed), codes.Unavailable, "temporarily unavailable: retry later", "conn closed"},
		{"a constraint is no outage", fmt.Errorf("db: %w", sqlStateError("23505")), codes.Internal, "internal error", "23505"},
		{"status passes through", status.Error(codes.ResourceExhausted, "slow down"), codes.ResourceExhausted, "slow down", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			conn, _, _ := serve(t, server.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, func(context.Context) error {
				if tc.name == "panic" {
					panic("boom")
				}
				return tc.err
			})
			st := status.Convert(call(conn))
			require.Equal(t, tc.code, st.Code())
			require.Equal(t, tc.message, st.Message())
			if tc.loggedAs != "" {
				require.Contains(t, logs.String(), tc.loggedAs, "the real cause is logged for operators")
			}
			if tc.code == codes.InvalidArgument {
				require.Len(t, st.Details(), 1)
				br := st.Details()[0].(*errdetails.BadRequest)
				require.Equal(t, "program.display_name", br.GetFieldViolations()[0].GetField())
			}
		})
	}
}

func TestShutdownReportsNotServingThenDrains(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	conn, cancel, done := serve(t, server.Options{DrainDelay: 200 * time.Millisecond, StopTimeout: 5 * time.Second}, func(context.Context) error {
		close(started)
		<-release
		return nil
	})
	health := healthpb.NewHealthClient(conn)
	resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	require.Equal(t, healthpb.HealthCheckResponse_SERVING, resp.GetStatus())

	inflight := make(chan error, 1)
	go func() { inflight <- call(conn) }()
	<-started
	cancel()
	testkit.Eventually(t, 5*time.Second, func() bool {
		resp, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING
	}, "health reports NOT_SERVING during the drain")
	close(release)
	require.NoError(t, <-inflight, "the in-flight call completes")
	require.NoError(t, <-done)
	done <- nil // for the cleanup
}

func TestStopTimeoutCancelsStuckCalls(t *testing.T) {
	started := make(chan struct{})
	conn, cancel, done := serve(t, server.Options{StopTimeout: 100 * time.Millisecond}, func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	inflight := make(chan error, 1)
	go func() { inflight <- call(conn) }()
	<-started
	cancel()
	require.NoError(t, <-done, "Serve returns after the hard stop")
	require.Error(t, <-inflight)
	done <- nil
}

// sqlStateError is an error with a PostgreSQL SQLSTATE, as pgx's PgError.
type sqlStateError string

func (e sqlStateError) Error() string    { return "SQLSTATE " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }
