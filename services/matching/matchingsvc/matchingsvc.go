// Package matchingsvc wires the matching service: its database, its gRPC
// API, the event consumer that keeps its projection of people, programs and
// participants, and its outbox relay. The service's own main and `tandem
// dev` both run it through Run.
package matchingsvc

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"time"

	matchingv1 "github.com/tandem-oss/tandem/gen/go/tandem/matching/v1"
	"github.com/tandem-oss/tandem/pkg/access"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/pagetoken"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/matching/internal/cachedstore"
	"github.com/tandem-oss/tandem/services/matching/internal/events"
	"github.com/tandem-oss/tandem/services/matching/internal/grpcapi"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	matchingsql "github.com/tandem-oss/tandem/services/matching/internal/sqlstore"
)

// Config is the matching service's own configuration.
type Config struct {
	// DatabaseURL is postgres://… or sqlite:PATH.
	DatabaseURL string
	// PageTokenKey signs page tokens; every replica needs the same key.
	// Empty means a random key of this process: enough for a single
	// replica (as in `tandem dev`), but tokens then fail on other replicas
	// and after a restart.
	PageTokenKey []byte
	// Now is the service's clock; nil means the system clock. Tests move
	// it to expire match requests.
	Now func() time.Time
	// RequestSweepInterval is how often pending match requests past their
	// expiry are stored as expired; 0 means a minute.
	RequestSweepInterval time.Duration
}

// Policy is the role policy of every MatchingService RPC.
var Policy = grpcapi.Policy

// Run serves the matching service on lis until ctx is done, consuming the
// participant service's events from the environment's stream, which must
// exist (see eventbus.EnsureStream). It blocks until the server, the
// consumer and the outbox relay have stopped.
func Run(ctx context.Context, lis net.Listener, cfg Config, env platform.Env) error {
	env = env.WithDefaults()
	db, err := env.OpenDB(ctx, cfg.DatabaseURL, Migrations...)
	if err != nil {
		return err
	}
	defer db.Close()
	relay := env.NewRelay(db)
	sqlStore := matchingsql.New(db, relay.Notify)
	store := cachedstore.New(sqlStore, env.Cache, env.Logger)
	dir := access.NewDirectory(db.DB)
	consumer := env.NewConsumer(db, events.ConsumerName, events.FilterSubject, dir.Handler(events.Handler(sqlStore, env.Logger)))
	opts := []matching.Option{matching.WithLogger(env.Logger)}
	if cfg.Now != nil {
		opts = append(opts, matching.WithClock(cfg.Now))
	}
	if cfg.RequestSweepInterval > 0 {
		opts = append(opts, matching.WithSweepInterval(cfg.RequestSweepInterval))
	}
	svc := matching.NewService(store, opts...)
	key := cfg.PageTokenKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("matching: page token key: %w", err)
		}
	}
	candidates := grpcapi.NewCandidates(matching.NewCandidates(svc, sqlStore, env.Cache, env.Logger))
	api := grpcapi.New(svc, pagetoken.New(key), grpcapi.WithCandidates(candidates))
	srv, err := env.NewServer(Policy, api.Objects(sqlStore), dir)
	if err != nil {
		return err
	}
	matchingv1.RegisterMatchingServiceServer(srv.GRPC(), api)
	return platform.Serve(ctx, srv, lis, relay.Run, consumer.Run, svc.RunMatchRuns, svc.SweepRequests)
}

// Migrations are the service's migration sets, the platform's first; the
// service's main applies them with sqlstore.MigrateURL for `matching migrate`.
var Migrations = []sqlstore.Migrations{eventbus.Migrations, access.Migrations, matchingsql.Migrations}
