// Package participantsvc wires the participant service: its database, its
// gRPC API and its outbox relay. The service's own main and `tandem dev`
// both run it through Run.
package participantsvc

import (
	"context"
	"fmt"
	"net"

	participantv1 "github.com/tandem-oss/tandem/gen/go/tandem/participant/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/pagetoken"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/participant/internal/grpcapi"
	"github.com/tandem-oss/tandem/services/participant/internal/participant"
	participantsql "github.com/tandem-oss/tandem/services/participant/internal/sqlstore"
)

// Config is the participant service's own configuration.
type Config struct {
	// DatabaseURL is postgres://… or sqlite:PATH.
	DatabaseURL string
	// PageTokenKey signs page tokens; every replica needs the same key.
	PageTokenKey []byte
}

// MaxImportBytes bounds a CreateImport request: a 64 MiB file plus room for
// the other fields. Other requests stay far smaller.
const MaxImportBytes = 96 << 20

// Policy is the role policy of every ParticipantService RPC.
var Policy = grpcapi.Policy

// Run serves the participant service on lis until ctx is done. It blocks
// until the server and the outbox relay have stopped.
func Run(ctx context.Context, lis net.Listener, cfg Config, env platform.Env) error {
	env = env.WithDefaults()
	db, err := env.OpenDB(ctx, cfg.DatabaseURL, Migrations...)
	if err != nil {
		return err
	}
	defer db.Close()
	relay := env.NewRelay(db)
	store := participantsql.New(db, relay.Notify)
	svc := participant.NewService(store)
	importer := participant.NewImporter(svc, store, participant.WithLogger(env.Logger))
	api := grpcapi.New(svc, importer, pagetoken.New(cfg.PageTokenKey))
	srv, err := env.NewServer(Policy, api.Objects(), svc, platform.MaxRecvBytes(MaxImportBytes))
	if err != nil {
		return err
	}
	participantv1.RegisterParticipantServiceServer(srv.GRPC(), api)
	return platform.Serve(ctx, srv, lis, relay.Run, importer.Run)
}

// Migrations are the service's migration sets, the platform's first; the
// service's main applies them with sqlstore.MigrateURL for `participant migrate`.
var Migrations = []sqlstore.Migrations{eventbus.Migrations, participantsql.Migrations}

// Open opens the service's database and applies its migrations.
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	db, err := sqlstore.Open(ctx, url, Migrations...)
	if err != nil {
		return nil, fmt.Errorf("participant: %w", err)
	}
	return db, nil
}

// EnsureTenant creates tenant id (named displayName, or id when empty) in
// the database at url unless it exists; its tenant.created event is
// published by the running service's relay. `tandem tenant create` and
// `tandem token` use it.
func EnsureTenant(ctx context.Context, url, id, displayName string) (created bool, err error) {
	db, err := Open(ctx, url)
	if err != nil {
		return false, err
	}
	defer db.Close()
	_, created, err = participant.NewService(participantsql.New(db, nil)).EnsureTenant(ctx, id, displayName)
	return created, err
}
