// Package platform bundles what every Tandem service needs at run time, so
// a service's wiring package takes one value whether it runs alone in the
// cluster or beside the others in `tandem dev`.
package platform

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/cache"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/server"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
)

// Env is the shared run-time environment of a service.
type Env struct {
	Logger    *slog.Logger
	JetStream jetstream.JetStream
	// Verifier checks the bearer token of every call.
	Verifier *auth.Verifier
	// Stream and SubjectPrefix name the JetStream stream and the first
	// subject token (defaults "TANDEM" and "tandem").
	Stream        string
	SubjectPrefix string
	// Cache is the look-aside cache: Redis in the cluster, in-process when
	// no Redis is configured (nil means in-process).
	Cache cache.Cache
	// SkipMigrations makes OpenDB connect without migrating, because a
	// separate step migrates each release.
	SkipMigrations bool
	// DrainDelay is how long a stopping server keeps serving after
	// reporting NOT_SERVING.
	DrainDelay time.Duration
}

// ServerOption adjusts the gRPC server a service builds.
type ServerOption func(*server.Options)

// MaxRecvBytes raises the largest request message the server accepts (the
// default is 4 MiB), for a service that takes file uploads.
func MaxRecvBytes(n int) ServerOption {
	return func(o *server.Options) { o.MaxRecvBytes = n }
}

// NewServer builds a gRPC server that authenticates every call, enforces
// the role policy and then the object rules, which dir answers. It fails if
// an RPC of policy has no object rule.
func (e Env) NewServer(policy auth.Policy, objects auth.Objects, dir auth.Directory, opts ...ServerOption) (*server.Server, error) {
	if err := objects.Check(policy); err != nil {
		return nil, err
	}
	o := server.Options{
		Logger:     e.Logger,
		Unary:      []grpc.UnaryServerInterceptor{e.Verifier.UnaryInterceptor(policy), policy.Interceptor()},
		Authorize:  []grpc.UnaryServerInterceptor{objects.Interceptor(dir)},
		DrainDelay: e.DrainDelay,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return server.New(o)
}

// DefaultMemoryCacheEntries bounds the in-process cache.
const DefaultMemoryCacheEntries = 100_000

// WithDefaults returns e with its empty fields set to their defaults:
// Logger slog.Default(), Stream eventbus.DefaultStream, SubjectPrefix
// eventbus.DefaultSubjectPrefix and an in-process Cache.
func (e Env) WithDefaults() Env {
	if e.Cache == nil {
		e.Cache = cache.NewMemory(DefaultMemoryCacheEntries)
	}
	if e.Logger == nil {
		e.Logger = slog.Default()
	}
	if e.Stream == "" {
		e.Stream = eventbus.DefaultStream
	}
	if e.SubjectPrefix == "" {
		e.SubjectPrefix = eventbus.DefaultSubjectPrefix
	}
	return e
}

// OpenDB opens a service's database, applying its migrations unless the
// environment says a separate step does.
func (e Env) OpenDB(ctx context.Context, url string, migrations ...sqlstore.Migrations) (*sqlstore.DB, error) {
	if e.SkipMigrations {
		return sqlstore.Connect(ctx, url)
	}
	return sqlstore.Open(ctx, url, migrations...)
}

// NewRelay returns the outbox relay of db, publishing into the environment's
// stream.
func (e Env) NewRelay(db *sqlstore.DB) *eventbus.Relay {
	e = e.WithDefaults()
	return eventbus.NewRelay(db, e.JetStream, eventbus.RelayConfig{
		Stream: e.Stream, SubjectPrefix: e.SubjectPrefix, Logger: e.Logger,
	})
}

// NewConsumer returns a durable consumer named name of the environment's
// stream, reading the subjects <prefix>.<filter> (filter without the
// prefix, e.g. "*.participant.>"). It does not start it.
func (e Env) NewConsumer(db *sqlstore.DB, name, filter string, h eventbus.Handler) *eventbus.Consumer {
	e = e.WithDefaults()
	return eventbus.NewConsumer(db, e.JetStream, eventbus.ConsumerConfig{
		Name: name, Stream: e.Stream, FilterSubjects: []string{e.SubjectPrefix + "." + filter}, Logger: e.Logger,
	}, h)
}

// Serve runs srv on lis together with the background loops until ctx is
// done or one of them fails; it blocks until all have stopped.
func Serve(ctx context.Context, srv *server.Server, lis net.Listener, loops ...func(context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(ctx, lis) })
	for _, loop := range loops {
		g.Go(func() error { return loop(ctx) })
	}
	return g.Wait()
}
