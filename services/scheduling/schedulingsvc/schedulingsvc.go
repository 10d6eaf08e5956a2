// Package schedulingsvc wires the scheduling service: its database, its gRPC
// API, the event consumer that keeps its projection of matches and
// programs, the reminder loop and its outbox relay. The service's own main
// and `tandem dev` both run it through Run.
package schedulingsvc

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"time"

	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/access"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/pagetoken"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/scheduling/internal/events"
	"github.com/tandem-oss/tandem/services/scheduling/internal/grpcapi"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
	schedulingsql "github.com/tandem-oss/tandem/services/scheduling/internal/sqlstore"
)

// Config is the scheduling service's own configuration.
type Config struct {
	// DatabaseURL is postgres://… or sqlite:PATH.
	DatabaseURL string
	// PageTokenKey signs page tokens; every replica needs the same key.
	// Empty means a random key of this process (one replica only).
	PageTokenKey []byte
	// ReminderOffsets are how long before a session its reminders fire;
	// empty means 24 hours and 1 hour.
	ReminderOffsets []time.Duration
	// ReminderPoll is how often the reminder loop looks for other
	// replicas' bookings; 0 means 10 seconds.
	ReminderPoll time.Duration
	// Now is the service's clock; nil means the system clock.
	Now func() time.Time
}

// Policy is the role policy of every SchedulingService RPC.
var Policy = grpcapi.Policy

// Run serves the scheduling service on lis until ctx is done, consuming the
// other services' events from the environment's stream, which must exist
// (see eventbus.EnsureStream). It blocks until the server, the consumer,
// the reminder loop and the outbox relay have stopped.
func Run(ctx context.Context, lis net.Listener, cfg Config, env platform.Env) error {
	env = env.WithDefaults()
	db, err := env.OpenDB(ctx, cfg.DatabaseURL, Migrations...)
	if err != nil {
		return err
	}
	defer db.Close()
	relay := env.NewRelay(db)
	store := schedulingsql.New(db, relay.Notify)
	dir := access.NewDirectory(db.DB)
	consumer := env.NewConsumer(db, events.ConsumerName, events.FilterSubject, dir.Handler(events.Handler(store, env.Logger)))
	opts := []scheduling.Option{scheduling.WithLogger(env.Logger)}
	if len(cfg.ReminderOffsets) > 0 {
		opts = append(opts, scheduling.WithReminderOffsets(cfg.ReminderOffsets...))
	}
	if cfg.ReminderPoll > 0 {
		opts = append(opts, scheduling.WithReminderPoll(cfg.ReminderPoll))
	}
	if cfg.Now != nil {
		opts = append(opts, scheduling.WithClock(cfg.Now))
	}
	svc := scheduling.NewService(store, opts...)
	key := cfg.PageTokenKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("scheduling: page token key: %w", err)
		}
	}
	api := grpcapi.New(svc, pagetoken.New(key))
	srv, err := env.NewServer(Policy, api.Objects(), dir)
	if err != nil {
		return err
	}
	schedulingv1.RegisterSchedulingServiceServer(srv.GRPC(), api)
	return platform.Serve(ctx, srv, lis, relay.Run, consumer.Run, svc.RunReminders)
}

// Migrations are the service's migration sets, the platform's first; the
// service's main applies them with sqlstore.MigrateURL for `scheduling migrate`.
var Migrations = []sqlstore.Migrations{eventbus.Migrations, access.Migrations, schedulingsql.Migrations}
