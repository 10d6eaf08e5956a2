package matchingsvc_test

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/cache"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/matching/matchingsvc"
)

// startWithCache runs the matching service on SQLite with the given cache.
func startWithCache(t *testing.T, c cache.Cache) (matchingv1.MatchingServiceClient, context.Context) {
	t.Helper()
	url := testkit.SQLiteURL(t)
	h := servicetest.Start(t, func(ctx context.Context, lis net.Listener, env platform.Env) error {
		env.Cache = c
		return matchingsvc.Run(ctx, lis, matchingsvc.Config{DatabaseURL: url}, env)
	})
	client, ctx := matchingv1.NewMatchingServiceClient(h.Conn), h.As(t, "acme", auth.RoleTenantAdmin)
	(&service{Harness: h}).publish(t, "acme", "program", "p1", "created", &eventsv1.ProgramCreated{Program: &participantv1.Program{Id: "p1"}}, "")
	testkit.Eventually(t, servicetest.WaitFor, func() bool {
		_, err := client.GetScoringConfig(ctx, &matchingv1.GetScoringConfigRequest{ProgramId: "p1"})
		return err == nil
	}, "the program has not reached the projection")
	return client, ctx
}

// updateAndRead bumps the weight twice and checks each read sees the newest
// version: the cache is invalidated on every update.
func updateAndRead(t *testing.T, client matchingv1.MatchingServiceClient, ctx context.Context) {
	t.Helper()
	cfg, err := client.GetScoringConfig(ctx, &matchingv1.GetScoringConfigRequest{ProgramId: "p1"})
	require.NoError(t, err)
	for i, weight := range []float64{70, 80} {
		cfg.Weights.CompetencyCoverage = weight
		updated, err := client.UpdateScoringConfig(ctx, &matchingv1.UpdateScoringConfigRequest{Config: cfg})
		require.NoError(t, err)
		for range 2 { // the second read is served by the cache
			got, err := client.GetScoringConfig(ctx, &matchingv1.GetScoringConfigRequest{ProgramId: "p1"})
			require.NoError(t, err)
			require.EqualValues(t, i+1, got.GetVersion())
			require.Equal(t, weight, got.GetWeights().GetCompetencyCoverage())
		}
		cfg = updated
	}
}

func TestScoringConfigThroughRedis(t *testing.T) {
	client, prefix := testkit.Redis(t)
	matching, ctx := startWithCache(t, cache.NewRedis(client, prefix))
	updateAndRead(t, matching, ctx)
	n, err := client.Exists(context.Background(), prefix+"matching:scoring_config:acme:p1").Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the config is cached in Redis under the prefix")
}

func TestScoringConfigCorrectWithRedisDown(t *testing.T) {
	// Nothing listens on port 1: every cache call fails fast.
	down, err := platform.NewRedisClient("redis://127.0.0.1:1/0")
	require.NoError(t, err)
	defer down.Close()
	matching, ctx := startWithCache(t, cache.NewRedis(down, "x:"))
	updateAndRead(t, matching, ctx)
}
