// Package evaluationsvc wires the evaluation service: its database, its
// gRPC API, the event consumer that feeds its projections and its outbox
// relay. The service's own main and `tandem dev` both run it through Run.
package evaluationsvc

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"time"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	"github.com/tandem-oss/tandem/pkg/access"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/pagetoken"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	"github.com/tandem-oss/tandem/services/evaluation/internal/events"
	"github.com/tandem-oss/tandem/services/evaluation/internal/grpcapi"
	evaluationsql "github.com/tandem-oss/tandem/services/evaluation/internal/sqlstore"
)

// Config is the evaluation service's own configuration.
type Config struct {
	// DatabaseURL is postgres://… or sqlite:PATH.
	DatabaseURL string
	// PageTokenKey signs page tokens; every replica needs the same key.
	// Empty means a random key of this process (one replica only).
	PageTokenKey []byte
	// HealthPoll is how often the health loop looks for pairs whose health
	// may have changed with time; 0 means one minute.
	HealthPoll time.Duration
	// ConsumerName names the durable event consumer and its inbox; empty
	// means "evaluation". A new name replays the stream from its start.
	ConsumerName string
	// Now is the service's clock; nil means the system clock.
	Now func() time.Time
}

// Policy is the role policy of every EvaluationService RPC.
var Policy = grpcapi.Policy

// Run serves the evaluation service on lis until ctx is done, consuming
// every service's events (its own included) from the environment's stream,
// which must exist (see eventbus.EnsureStream). It blocks until the server,
// the consumer, the health loop and the outbox relay have stopped.
func Run(ctx context.Context, lis net.Listener, cfg Config, env platform.Env) error {
	env = env.WithDefaults()
	db, err := env.OpenDB(ctx, cfg.DatabaseURL, Migrations...)
	if err != nil {
		return err
	}
	defer db.Close()
	relay := env.NewRelay(db)
	store := evaluationsql.New(db)
	opts := []evaluation.Option{evaluation.WithLogger(env.Logger)}
	if cfg.HealthPoll > 0 {
		opts = append(opts, evaluation.WithHealthPoll(cfg.HealthPoll))
	}
	if cfg.Now != nil {
		opts = append(opts, evaluation.WithClock(cfg.Now))
	}
	svc := evaluation.NewService(store, opts...)
	dir := access.NewDirectory(db.DB)
	consumer := env.NewConsumer(db, cmp.Or(cfg.ConsumerName, events.ConsumerName), events.FilterSubject,
		dir.Handler(events.Handler(store, svc.Now, env.Logger)))
	key := cfg.PageTokenKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("evaluation: page token key: %w", err)
		}
	}
	api := grpcapi.New(svc, pagetoken.New(key))
	srv, err := env.NewServer(Policy, api.Objects(), dir)
	if err != nil {
		return err
	}
	evaluationv1.RegisterEvaluationServiceServer(srv.GRPC(), api)
	return platform.Serve(ctx, srv, lis, relay.Run, consumer.Run, svc.RunHealth)
}

// Migrations are the service's migration sets, the platform's first; the
// service's main applies them with sqlstore.MigrateURL for `evaluation migrate`.
var Migrations = []sqlstore.Migrations{eventbus.Migrations, access.Migrations, evaluationsql.Migrations}
