// Package schedulingsvc wires the scheduling service: its database, its gRPC
// API and its outbox relay. The service's own main and `tandem dev` both run
// it through Run.
package schedulingsvc

import (
	"context"
	"fmt"
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
	db, err := env.OpenDB(ctx, cfg.DatabaseURL, migrations...)
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

// migrations are the service's migration sets, the platform's first.
var migrations = []sqlstore.Migrations{eventbus.Migrations, schedulingsql.Migrations}

// Open opens the service's database and applies its migrations.
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	db, err := sqlstore.Open(ctx, url, migrations...)
	if err != nil {
		return nil, fmt.Errorf("scheduling: %w", err)
	}
	return db, nil
}

// Migrate applies the service's migrations to the database at url and
// closes it; `scheduling migrate` runs it once per release.
func Migrate(ctx context.Context, url string) error {
	db, err := Open(ctx, url)
	if err != nil {
		return err
	}
	return db.Close()
}
