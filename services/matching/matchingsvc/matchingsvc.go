// Package matchingsvc wires the matching service: its database, its gRPC
// API and its outbox relay. The service's own main and `tandem dev` both run
// it through Run.
package matchingsvc

import (
	"context"
	"net"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/matching/internal/cachedstore"
	"github.com/tandem-oss/tandem/services/matching/internal/grpcapi"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	matchingsql "github.com/tandem-oss/tandem/services/matching/internal/sqlstore"
)

// Config is the matching service's own configuration.
type Config struct {
	// DatabaseURL is postgres://… or sqlite:PATH.
	DatabaseURL string
}

// Policy is the role policy of every MatchingService RPC.
var Policy = grpcapi.Policy

// Run serves the matching service on lis until ctx is done. It blocks until
// the server and the outbox relay have stopped.
func Run(ctx context.Context, lis net.Listener, cfg Config, env platform.Env) error {
	env = env.WithDefaults()
	db, err := env.OpenDB(ctx, cfg.DatabaseURL, Migrations...)
	if err != nil {
		return err
	}
	defer db.Close()
	relay := env.NewRelay(db)
	store := cachedstore.New(matchingsql.New(db, relay.Notify), env.Cache, env.Logger)
	srv, err := env.NewServer(Policy)
	if err != nil {
		return err
	}
	matchingv1.RegisterMatchingServiceServer(srv.GRPC(), grpcapi.New(matching.NewService(store)))
	return platform.Serve(ctx, srv, lis, relay.Run)
}

// Migrations are the service's migration sets, the platform's first; the
// service's main applies them with sqlstore.MigrateURL for `matching migrate`.
var Migrations = []sqlstore.Migrations{eventbus.Migrations, matchingsql.Migrations}
