// Package server builds the gRPC server every Tandem service runs: health
// (grpc.health.v1), reflection, OpenTelemetry, JSON access logs with trace
// ids, panic recovery, protovalidate request validation, error mapping that
// never leaks internal text, and the Kubernetes shutdown sequence (report
// NOT_SERVING, drain, graceful stop with a hard deadline).
package server

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"buf.build/go/protovalidate"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// Logger receives access and error logs (default slog.Default()).
	Logger *slog.Logger
	// Unary and Stream run after recovery, logging and error mapping and
	// before validation: authentication goes here.
	Unary  []grpc.UnaryServerInterceptor
	Stream []grpc.StreamServerInterceptor
	// Authorize run after validation, last before the handler: object
	// rules that read the request's ids go here.
	Authorize []grpc.UnaryServerInterceptor
	// Extra are further grpc.ServerOptions, e.g. an UnknownServiceHandler.
	Extra []grpc.ServerOption
	// NoReflection leaves reflection to the caller (the gateway serves the
	// descriptors of the services it proxies).
	NoReflection bool
	// DrainDelay is how long the server keeps serving after reporting
	// NOT_SERVING, so load balancers stop sending new calls (default 0;
	// 5s is right behind a Kubernetes Service).
	DrainDelay time.Duration
	// StopTimeout bounds the graceful stop; calls still running then are
	// cancelled (default 10s).
	StopTimeout time.Duration
	// MaxRecvBytes bounds a request message (default 4 MiB).
	MaxRecvBytes int
}

// Server is a gRPC server with Tandem's standard behaviour.
type Server struct {
	grpc   *grpc.Server
	health *health.Server
	opts   Options
}

// New builds a server; register services on GRPC() before Serve.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 10 * time.Second
	}
	if opts.MaxRecvBytes == 0 {
		opts.MaxRecvBytes = 4 << 20
	}
	validator, err := protovalidate.New()
	if err != nil {
		return nil, fmt.Errorf("server: validator: %w", err)
	}
	unary := append([]grpc.UnaryServerInterceptor{
		logUnary(opts.Logger),
		recoverUnary(opts.Logger),
		mapErrorsUnary(opts.Logger),
	}, opts.Unary...)
	unary = append(unary, validateUnary(validator))
	unary = append(unary, opts.Authorize...)
	stream := append([]grpc.StreamServerInterceptor{
		logStream(opts.Logger),
		recoverStream(opts.Logger),
		mapErrorsStream(opts.Logger),
	}, opts.Stream...)

	serverOpts := append([]grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
		grpc.MaxRecvMsgSize(opts.MaxRecvBytes),
		// Closing connections now and then makes clients resolve the
		// backends again, so pods added by scaling get their share.
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionAge: 5 * time.Minute, MaxConnectionAgeGrace: 30 * time.Second}),
	}, opts.Extra...)
	s := &Server{grpc: grpc.NewServer(serverOpts...), health: health.NewServer(), opts: opts}
	healthpb.RegisterHealthServer(s.grpc, s.health)
	if !opts.NoReflection {
		reflection.Register(s.grpc)
	}
	// NOT_SERVING until Serve starts.
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	return s, nil
}

// GRPC returns the underlying server for registering services.
func (s *Server) GRPC() *grpc.Server { return s.grpc }

// Serve serves on lis until ctx is done, then shuts down: NOT_SERVING,
// DrainDelay, GracefulStop bounded by StopTimeout. It blocks until the
// server has stopped and returns nil after a shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	for name := range s.grpc.GetServiceInfo() {
		s.health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)

	errc := make(chan error, 1)
	go func() { errc <- s.grpc.Serve(lis) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}

	s.health.Shutdown()
	if s.opts.DrainDelay > 0 {
		time.Sleep(s.opts.DrainDelay)
	}
	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(stopped)
	}()
	timer := time.NewTimer(s.opts.StopTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
	case <-timer.C:
		s.opts.Logger.Warn("graceful stop timed out; cancelling remaining calls", "timeout", s.opts.StopTimeout)
		s.grpc.Stop()
		<-stopped
	}
	return nil
}

// Status converts an error returned by a handler into the status the caller
// sees. Statuses pass through; apperr kinds map to their code with the
// error's own message (field violations as BadRequest details); anything
// else becomes Unavailable when a dependency cannot be reached (lost), or
// Internal, both with a generic message.
func Status(err error) *status.Status {
	if st, ok := status.FromError(err); ok {
		return st
	}
	var invalid *apperr.InvalidError
	if errors.As(err, &invalid) {
		st := status.New(codes.InvalidArgument, err.Error())
		br := &errdetails.BadRequest{}
		for _, v := range invalid.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Reason})
		}
		if withDetails, derr := st.WithDetails(br); derr == nil {
			return withDetails
		}
		return st
	}
	for _, k := range []struct {
		err  error
		code codes.Code
	}{
		{apperr.ErrNotFound, codes.NotFound},
		{apperr.ErrAlreadyExists, codes.AlreadyExists},
		{apperr.ErrFailedPrecondition, codes.FailedPrecondition},
		{apperr.ErrAborted, codes.Aborted},
		{apperr.ErrPermissionDenied, codes.PermissionDenied},
		{apperr.ErrUnauthenticated, codes.Unauthenticated},
		{apperr.ErrResourceExhausted, codes.ResourceExhausted},
		{apperr.ErrUnavailable, codes.Unavailable},
		{apperr.ErrInvalid, codes.InvalidArgument},
	} {
		if errors.Is(err, k.err) {
			return status.New(k.code, err.Error())
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.New(codes.Canceled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.New(codes.DeadlineExceeded, "deadline exceeded")
	case lost(err):
		return status.New(codes.Unavailable, "temporarily unavailable: retry later")
	}
	return status.New(codes.Internal, "internal error")
}

// lost reports whether err says that a dependency, the database most often,
// cannot be reached right now, so that the caller retries instead of
// treating it as a bug: network errors, a connection the driver gave up on
// or found closed (pgx's ErrConnClosed, as a commit reports when the server
// went away under it; pgx's errors that are safe to retry), and the
// PostgreSQL SQLSTATE classes 08 (connection exception) and 57P01–57P03
// (the server shutting down, crashed, or still starting).
func lost(err error) bool {
	var netErr net.Error
	var state interface{ SQLState() string }
	switch {
	case errors.As(err, &netErr), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, pgconn.ErrConnClosed), pgconn.SafeToRetry(err):
		return true
	case errors.As(err, &state):
		code := state.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03"
	}
	return false
}

func mapError(ctx context.Context, logger *slog.Logger, method string, err error) error {
	if err == nil {
		return nil
	}
	st := Status(err)
	if st.Code() == codes.Internal || st.Code() == codes.Unavailable {
		if _, isStatus := status.FromError(err); !isStatus {
			logger.ErrorContext(ctx, "internal error", "method", method, "error", err.Error())
		}
	}
	return st.Err()
}

func mapErrorsUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		return resp, mapError(ctx, logger, info.FullMethod, err)
	}
}

func mapErrorsStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return mapError(ss.Context(), logger, info.FullMethod, handler(srv, ss))
	}
}

func validateUnary(v protovalidate.Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		msg, ok := req.(proto.Message)
		if !ok {
			return handler(ctx, req)
		}
		if err := v.Validate(msg); err != nil {
			var verr *protovalidate.ValidationError
			if !errors.As(err, &verr) {
				return nil, fmt.Errorf("validate %s: %w", info.FullMethod, err)
			}
			var vs apperr.Violations
			for _, violation := range verr.Violations {
				vs.Add(protovalidate.FieldPathString(violation.Proto.GetField()), violation.Proto.GetMessage())
			}
			return nil, vs.Err()
		}
		return handler(ctx, req)
	}
}

func recoverUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.ErrorContext(ctx, "panic", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(ctx, req)
	}
}

func recoverStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				logger.ErrorContext(ss.Context(), "panic", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(srv, ss)
	}
}

// logCall writes one access-log line: successful calls at debug level,
// caller errors at info, server errors at error.
func logCall(ctx context.Context, logger *slog.Logger, method string, start time.Time, err error) {
	code := status.Code(err)
	level := slog.LevelDebug
	switch code {
	case codes.OK:
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable:
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	logger.Log(ctx, level, "rpc", "method", method, "code", code.String(), "duration_ms", float64(time.Since(start).Microseconds())/1000)
}

func logUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		logCall(ctx, logger, info.FullMethod, start, err)
		return resp, err
	}
}

func logStream(logger *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		err := handler(srv, ss)
		logCall(ss.Context(), logger, info.FullMethod, start, err)
		return err
	}
}
