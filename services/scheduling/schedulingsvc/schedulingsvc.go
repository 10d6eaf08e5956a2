// Package schedulingsvc wires the scheduling service: its database, its gRPC
// API and its outbox relay. The service's own main and `tandem dev` both run
// it through Run.
package schedulingsvc

import (
	"context"
	"net"

	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/scheduling/internal/grpcapi"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
	schedulingsql "github.com/tandem-oss/tandem/services/scheduling/internal/sqlstore"
)

// Config is the scheduling service's own configuration.
type Config struct {
	// DatabaseURL is postgres://… or sqlite:PATH.
	DatabaseURL string
}

// Policy is the role policy of every SchedulingService RPC.
var Policy = grpcapi.Policy

// Run serves the scheduling service on lis until ctx is done. It blocks until
// the server and the outbox relay have stopped.
func Run(ctx context.Context, lis net.Listener, cfg Config, env platform.Env) error {
	db, err := env.OpenDB(ctx, cfg.DatabaseURL, Migrations...)
	if err != nil {
		return err
	}
	defer db.Close()
	relay := env.NewRelay(db)
	store := schedulingsql.New(db, relay.Notify)
	srv, err := env.NewServer(Policy)
	if err != nil {
		return err
	}
	schedulingv1.RegisterSchedulingServiceServer(srv.GRPC(), grpcapi.New(scheduling.NewService(store)))
	return platform.Serve(ctx, srv, lis, relay.Run)
}

// Migrations are the service's migration sets, the platform's first; the
// service's main applies them with sqlstore.MigrateURL for `scheduling migrate`.
var Migrations = []sqlstore.Migrations{eventbus.Migrations, schedulingsql.Migrations}
