package auth

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Public reports whether a gRPC method needs no token: health checks and
// reflection, which reveal no tenant data.
func Public(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/grpc.health.v1.") || strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

// Authenticate verifies the bearer token in the request metadata and
// returns ctx carrying the principal.
func (v *Verifier) Authenticate(ctx context.Context) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get("authorization")
	if len(values) == 0 {
		return nil, fmt.Errorf("missing bearer token: %w", apperr.ErrUnauthenticated)
	}
	raw, ok := BearerToken(values[0])
	if !ok {
		return nil, fmt.Errorf("authorization is not a bearer token: %w", apperr.ErrUnauthenticated)
	}
	p, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	return WithPrincipal(ctx, p), nil
}

// UnaryInterceptor authenticates every unary call except Public ones and
// those open to Anyone in policy.
func (v *Verifier) UnaryInterceptor(policy Policy) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if Public(info.FullMethod) || policy.Open(info.FullMethod) {
			return handler(ctx, req)
		}
		ctx, err := v.Authenticate(ctx)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor authenticates every stream except Public ones and
// those open to Anyone in policy.
func (v *Verifier) StreamInterceptor(policy Policy) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if Public(info.FullMethod) || policy.Open(info.FullMethod) {
			return handler(srv, ss)
		}
		ctx, err := v.Authenticate(ss.Context())
		if err != nil {
			return err
		}
		return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	}
}

type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }
