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
		if Public(info.FullMethod) {
			return handler(ctx, req)
		}
		if err := p.Check(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// Check returns an error wrapping apperr.ErrPermissionDenied unless the
// caller in ctx holds a role the policy allows for method.
func (p Policy) Check(ctx context.Context, method string) error {
	roles, ok := p[method]
	if !ok {
		return fmt.Errorf("no policy for %s: %w", method, apperr.ErrPermissionDenied)
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
