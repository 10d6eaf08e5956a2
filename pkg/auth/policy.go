package auth

import (
	"context"
	"fmt"

	"google.golang.org/grpc"

	"github.com/tandem-oss/tandem/pkg/apperr"
)

// Policy maps each full gRPC method name ("/pkg.Service/Method") to the roles
// allowed to call it. A method missing from the policy is denied to
// everybody: the check fails closed.
type Policy map[string][]string

// Interceptor enforces the policy on every call except Public ones; it must
// run after authentication.
func (p Policy) Interceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := p.Check(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// Check returns an error wrapping apperr.ErrPermissionDenied unless method
// is Public or the caller in ctx holds a role the policy allows for it.
func (p Policy) Check(ctx context.Context, method string) error {
	if Public(method) {
		return nil
	}
	roles, ok := p[method]
	if !ok {
		return fmt.Errorf("no policy for %s: %w", method, apperr.ErrPermissionDenied)
	}
	if p.Open(method) {
		return nil
	}
	principal, ok := FromContext(ctx)
	if !ok {
		return fmt.Errorf("no verified caller: %w", apperr.ErrUnauthenticated)
	}
	if !principal.HasRole(roles...) {
		return fmt.Errorf("%s needs one of the roles %v: %w", method, roles, apperr.ErrPermissionDenied)
	}
	return nil
}

// StreamInterceptor enforces the policy on every stream except Public ones;
// the gateway's proxy sees every call as a stream.
func (p Policy) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := p.Check(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
}

// Open reports whether method is open to Anyone: callable without a bearer
// token, because the request carries its own credential.
func (p Policy) Open(method string) bool {
	roles := p[method]
	return len(roles) == 1 && roles[0] == Anyone
}

// Merge returns one policy holding the entries of all policies.
func Merge(policies ...Policy) Policy {
	out := Policy{}
	for _, p := range policies {
		for method, roles := range p {
			out[method] = roles
		}
	}
	return out
}
