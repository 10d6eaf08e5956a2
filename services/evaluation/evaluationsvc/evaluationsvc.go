// Package evaluationsvc wires the evaluation service: its database, its
// gRPC API, the event consumer that feeds its projections and its outbox
// relay. The service's own main and `tandem dev` both run it through Run.
package evaluationsvc

import (
	"context"
	"net"

	evaluationv1 "github.com/tandem-oss/tandem/gen/go/tandem/evaluation/v1"
	"github.com/tandem-oss/tandem/pkg/eventbus"
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
// participant events from the environment's stream, which must exist (see
// eventbus.EnsureStream). It blocks until the server, the consumer and the
// outbox relay have stopped. The service publishes no events yet; the relay
// runs so that the first ones need no change here.
func Run(ctx context.Context, lis net.Listener, cfg Config, env platform.Env) error {
	db, err := env.OpenDB(ctx, cfg.DatabaseURL, Migrations...)
	if err != nil {
		return err
	}
	defer db.Close()
	env = env.WithDefaults() // the handler logs through env.Logger
	relay := env.NewRelay(db)
	store := evaluationsql.New(db)
	consumer := env.NewConsumer(db, events.ConsumerName, events.FilterSubject, events.Handler(store, env.Logger))
	srv, err := env.NewServer(Policy)
	if err != nil {
		return err
	}
	evaluationv1.RegisterEvaluationServiceServer(srv.GRPC(), grpcapi.New(evaluation.NewService(store)))
	return platform.Serve(ctx, srv, lis, relay.Run, consumer.Run)
}

// Migrations are the service's migration sets, the platform's first; the
// service's main applies them with sqlstore.MigrateURL for `evaluation migrate`.
var Migrations = []sqlstore.Migrations{eventbus.Migrations, evaluationsql.Migrations}
