package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
	"github.com/sethvargo/go-envconfig"

	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/cache"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/telemetry"
)

// Common is the configuration every service reads from its environment.
type Common struct {
	GRPCAddr      string        `env:"TANDEM_GRPC_ADDR, default=:9090"`
	AdminAddr     string        `env:"TANDEM_ADMIN_ADDR, default=:9464"`
	NATSURL       string        `env:"TANDEM_NATS_URL, default=nats://127.0.0.1:4222"`
	RedisURL      Secret        `env:"TANDEM_REDIS_URL"`
	RedisPrefix   string        `env:"TANDEM_REDIS_PREFIX, default=tandem:"`
	Stream        string        `env:"TANDEM_STREAM, default=TANDEM"`
	SubjectPrefix string        `env:"TANDEM_SUBJECT_PREFIX, default=tandem"`
	OIDCIssuer    string        `env:"TANDEM_OIDC_ISSUER, required"`
	OIDCAudience  string        `env:"TANDEM_OIDC_AUDIENCE, default=tandem"`
	OIDCJWKSURL   string        `env:"TANDEM_OIDC_JWKS_URL, required"`
	DrainDelay    time.Duration `env:"TANDEM_DRAIN_DELAY, default=5s"`
	// Migrations is "auto" (migrate at start) or "skip" (a separate
	// `<service> migrate` step has run them, e.g. a Helm hook Job).
	Migrations   string     `env:"TANDEM_MIGRATIONS, default=auto"`
	LogLevel     slog.Level `env:"TANDEM_LOG_LEVEL, default=INFO"`
	OTLPEndpoint string     `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	OTLPInsecure bool       `env:"OTEL_EXPORTER_OTLP_INSECURE, default=false"`
}

// Base returns the Common part of a service's configuration struct.
func (c *Common) Base() *Common { return c }

// Config is a service's configuration struct: it embeds Common.
type Config interface{ Base() *Common }

// Main loads cfg from the environment, boots the process, runs run until
// SIGINT or SIGTERM and releases everything. Called as `<service> migrate`,
// it only loads cfg and runs migrate (nil for a service without a
// database). It returns the exit code for the service's main, the only
// place that exits.
func Main(service string, cfg Config, run func(ctx context.Context, p *Process) error, migrate func(ctx context.Context) error) int {
	TuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := func() error {
		if err := Load(ctx, cfg); err != nil {
			return err
		}
		if c := cfg.Base().Migrations; c != "auto" && c != "skip" {
			return fmt.Errorf("config: TANDEM_MIGRATIONS=%q: want auto or skip", c)
		}
		if len(os.Args) > 1 {
			switch {
			case os.Args[1] != "migrate":
				return fmt.Errorf("unknown command %q: the only command is \"migrate\"", os.Args[1])
			case migrate == nil:
				return fmt.Errorf("%s has no database to migrate", service)
			}
			if err := migrate(ctx); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s: migrations applied\n", service)
			return nil
		}
		p, err := Boot(ctx, service, *cfg.Base(), cfg)
		if err != nil {
			return err
		}
		defer p.Close()
		return run(ctx, p)
	}()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", service, err)
		return 1
	}
	return 0
}

// Load fills cfg (a pointer to a struct embedding Common) from the
// environment.
func Load(ctx context.Context, cfg any) error {
	if err := envconfig.Process(ctx, cfg); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// Process is a service process's shared run time: its Env, the gRPC
// listener and what to release at exit.
type Process struct {
	Env      Env
	Listener net.Listener
	service  string
	common   Common
	closers  []func(context.Context) error
}

// Boot sets up telemetry and logging, serves /metrics on the admin address,
// builds the token verifier and listens on the gRPC address. config (with
// Secret fields masked) is logged once.
func Boot(ctx context.Context, service string, c Common, config any) (*Process, error) {
	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: service, OTLPEndpoint: c.OTLPEndpoint, OTLPInsecure: c.OTLPInsecure})
	if err != nil {
		return nil, err
	}
	logger := telemetry.NewLogger(os.Stderr, c.LogLevel).With("service", service)
	slog.SetDefault(logger)
	RouteRedisLogs(logger)
	logger.Info("starting", "config", config)
	p := &Process{service: service, common: c, closers: []func(context.Context) error{tel.Shutdown}}

	admin := &http.Server{Addr: c.AdminAddr, Handler: AdminHandler(tel), ReadHeaderTimeout: 5 * time.Second}
	adminLis, err := net.Listen("tcp", c.AdminAddr)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	go admin.Serve(adminLis)
	p.closers = append([]func(context.Context) error{admin.Shutdown}, p.closers...)

	verifier, err := auth.NewJWKSVerifier(ctx, auth.Config{Issuer: c.OIDCIssuer, Audience: c.OIDCAudience, JWKSURL: c.OIDCJWKSURL})
	if err != nil {
		p.Close()
		return nil, err
	}
	p.Listener, err = net.Listen("tcp", c.GRPCAddr)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("grpc listener: %w", err)
	}
	p.Env = Env{Logger: logger, Verifier: verifier, Stream: c.Stream, SubjectPrefix: c.SubjectPrefix, DrainDelay: c.DrainDelay,
		SkipMigrations: c.Migrations == "skip"}
	if c.RedisURL != "" {
		client, err := NewRedisClient(string(c.RedisURL))
		if err != nil {
			p.Close()
			return nil, err
		}
		p.closers = append([]func(context.Context) error{func(context.Context) error { return client.Close() }}, p.closers...)
		p.Env.Cache = cache.NewRedis(client, c.RedisPrefix)
	}
	return p, nil
}

// NewRedisClient returns a client of the Redis at rawURL
// (redis://[:password@]host:port/db) with short timeouts: the cache must
// fail fast so callers fall back to the database. It does not connect yet.
func NewRedisClient(rawURL string) (*redis.Client, error) {
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	opts.DialTimeout = 500 * time.Millisecond
	opts.ReadTimeout = 200 * time.Millisecond
	opts.WriteTimeout = 200 * time.Millisecond
	opts.MaxRetries = 1
	return redis.NewClient(opts), nil
}

// ConnectNATS connects to TANDEM_NATS_URL, ensures the event stream exists
// and sets p.Env.JetStream; the connection is drained by Close.
func (p *Process) ConnectNATS(ctx context.Context) error {
	c := p.common
	nc, err := nats.Connect(c.NATSURL, nats.Name(p.service), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("nats %s: %w", c.NATSURL, err)
	}
	p.closers = append([]func(context.Context) error{func(context.Context) error { return nc.Drain() }}, p.closers...)
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if err := eventbus.EnsureStream(ctx, js, c.Stream, c.SubjectPrefix); err != nil {
		return err
	}
	p.Env.JetStream = js
	return nil
}

// Close releases everything Boot set up, telemetry last so the final spans
// and metrics are flushed. It blocks for at most ten seconds.
func (p *Process) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, c := range p.closers {
		errs = append(errs, c(ctx))
	}
	return errors.Join(errs...)
}

// AdminHandler serves /metrics and a liveness probe for the admin port.
func AdminHandler(tel *telemetry.Telemetry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", tel.MetricsHandler())
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return mux
}

// RouteRedisLogs sends go-redis's own log lines (it keeps a process-wide
// logger) to logger, so they are JSON with the rest. Call it once, from
// the process's start-up.
func RouteRedisLogs(logger *slog.Logger) {
	redis.SetLogger(redisLogger{logger.With("component", "redis")})
}

// redisLogger adapts slog to go-redis's logger.
type redisLogger struct{ logger *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.logger.WarnContext(ctx, fmt.Sprintf(format, v...))
}

// Secret is a configuration value that is never logged or printed: slog,
// JSON and fmt all show "REDACTED". Convert with string(s) to use it.
type Secret string

const redacted = "REDACTED"

// LogValue hides the secret from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON hides the secret inside structs logged as JSON.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// String hides the secret from fmt.
func (Secret) String() string { return redacted }
