package auth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/auth"
)

// TestPolicyAnyone checks that only a method whose policy is exactly
// Anyone passes without a bearer token, through both interceptors.
func TestPolicyAnyone(t *testing.T) {
	t.Parallel()
	policy := auth.Policy{
		"/svc/Feed":  {auth.Anyone},
		"/svc/Mixed": {auth.Anyone, auth.RoleTenantAdmin},
		"/svc/Admin": {auth.RoleTenantAdmin},
	}
	require.True(t, policy.Open("/svc/Feed"))
	require.False(t, policy.Open("/svc/Mixed"), "Anyone must be the only entry")
	require.False(t, policy.Open("/svc/Admin"))
	require.False(t, policy.Open("/svc/Unknown"))

	signer, err := auth.LoadOrCreateDevSigner(t.TempDir())
	require.NoError(t, err)
	verifier, err := signer.Verifier()
	require.NoError(t, err)
	authn, authz := verifier.UnaryInterceptor(policy), policy.Interceptor()
	call := func(method string) error {
		handler := func(ctx context.Context, req any) (any, error) { return "ok", nil }
		info := &grpc.UnaryServerInfo{FullMethod: method}
		_, err := authn(context.Background(), nil, info, func(ctx context.Context, req any) (any, error) {
			return authz(ctx, req, info, handler)
		})
		return err
	}
	require.NoError(t, call("/svc/Feed"))
	require.ErrorIs(t, call("/svc/Mixed"), apperr.ErrUnauthenticated)
	require.ErrorIs(t, call("/svc/Admin"), apperr.ErrUnauthenticated)
	require.Error(t, call("/svc/Unknown"))
}
