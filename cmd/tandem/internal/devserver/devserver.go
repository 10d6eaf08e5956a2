// Package devserver runs all of Tandem in one process with no external
// server: an embedded NATS JetStream, a SQLite file per service in the data
// directory, the four backend services on private loopback ports and the
// gateway on the public addresses. The code paths are production's; only
// the adapters differ.
package devserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/cache"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/telemetry"
	"github.com/tandem-oss/tandem/services/evaluation/evaluationsvc"
	"github.com/tandem-oss/tandem/services/gateway/gatewaysvc"
	"github.com/tandem-oss/tandem/services/matching/matchingsvc"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
	"github.com/tandem-oss/tandem/services/scheduling/schedulingsvc"
)

// Config says where the dev server keeps its data and listens.
type Config struct {
	DataDir   string
	HTTPAddr  string
	GRPCAddr  string
	NATSAddr  string
	AdminAddr string
	// RedisURL, when set, puts the services' cache in Redis instead of
	// in-process.
	RedisURL string
	Logger   *slog.Logger
}

// Addrs are the addresses the dev server actually listens on (ports chosen
// by the system when the configuration said :0).
type Addrs struct {
	HTTP, GRPC, NATS, Admin string
}

// ParticipantDB returns the URL of the participant service's database in
// dataDir; `tandem token` uses it to create tenants.
func ParticipantDB(dataDir string) string {
	return "sqlite:" + filepath.Join(dataDir, "participant.db")
}

// Run starts everything, calls ready with the listening addresses once the
// gateway accepts calls, and serves until ctx is done. It blocks until every
// part has stopped; data in DataDir survives for the next run.
func Run(ctx context.Context, cfg Config, ready func(Addrs)) error {
	logger := cfg.Logger
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	tel, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: "tandem-dev"})
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.WithoutCancel(ctx))

	ns, err := startNATS(cfg.NATSAddr, filepath.Join(cfg.DataDir, "nats"))
	if err != nil {
		return err
	}
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	nc, err := nats.Connect(ns.ClientURL(), nats.Name("tandem-dev"))
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	if err := eventbus.EnsureStream(ctx, js, eventbus.DefaultStream, eventbus.DefaultSubjectPrefix); err != nil {
		return err
	}

	signer, err := auth.LoadOrCreateDevSigner(cfg.DataDir)
	if err != nil {
		return err
	}
	verifier, err := signer.Verifier()
	if err != nil {
		return err
	}
	pageKey, err := loadOrCreateKey(filepath.Join(cfg.DataDir, "page-token.key"))
	if err != nil {
		return err
	}
	env := platform.Env{Logger: logger, JetStream: js, Verifier: verifier,
		Stream: eventbus.DefaultStream, SubjectPrefix: eventbus.DefaultSubjectPrefix,
		Cache: cache.NewMemory(platform.DefaultMemoryCacheEntries)}
	if cfg.RedisURL != "" {
		platform.RouteRedisLogs(logger)
		client, err := platform.NewRedisClient(cfg.RedisURL)
		if err != nil {
			return err
		}
		defer client.Close()
		if err := client.Ping(ctx).Err(); err != nil {
			return fmt.Errorf("--redis-url: %w", err)
		}
		env.Cache = cache.NewRedis(client, "tandem:")
	}

	listeners := map[string]net.Listener{}
	listen := func(name, addr string) (net.Listener, error) {
		lis, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return nil, fmt.Errorf("listen %s on %s: %w", name, addr, err)
		}
		listeners[name] = lis
		return lis, nil
	}
	dbURL := func(service string) string { return "sqlite:" + filepath.Join(cfg.DataDir, service+".db") }
	backends := map[string]func(ctx context.Context, lis net.Listener) error{
		gatewaysvc.ParticipantService: func(ctx context.Context, lis net.Listener) error {
			return participantsvc.Run(ctx, lis, participantsvc.Config{DatabaseURL: ParticipantDB(cfg.DataDir), PageTokenKey: pageKey}, named(env, "participant"))
		},
		gatewaysvc.MatchingService: func(ctx context.Context, lis net.Listener) error {
			return matchingsvc.Run(ctx, lis, matchingsvc.Config{DatabaseURL: dbURL("matching")}, named(env, "matching"))
		},
		gatewaysvc.SchedulingService: func(ctx context.Context, lis net.Listener) error {
			return schedulingsvc.Run(ctx, lis, schedulingsvc.Config{DatabaseURL: dbURL("scheduling"), PageTokenKey: pageKey}, named(env, "scheduling"))
		},
		gatewaysvc.EvaluationService: func(ctx context.Context, lis net.Listener) error {
			return evaluationsvc.Run(ctx, lis, evaluationsvc.Config{DatabaseURL: dbURL("evaluation"), PageTokenKey: pageKey}, named(env, "evaluation"))
		},
	}
	addrs := map[string]string{}
	for name := range backends {
		lis, err := listen(name, "127.0.0.1:0")
		if err != nil {
			return err
		}
		addrs[name] = lis.Addr().String()
	}
	grpcLis, err := listen("gateway gRPC", cfg.GRPCAddr)
	if err != nil {
		return err
	}
	httpLis, err := listen("gateway HTTP", cfg.HTTPAddr)
	if err != nil {
		return err
	}
	adminLis, err := listen("admin", cfg.AdminAddr)
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	for name, run := range backends {
		g.Go(func() error { return wrap(name, run(gctx, listeners[name])) })
	}
	g.Go(func() error {
		return wrap("gateway", gatewaysvc.Run(gctx, grpcLis, httpLis, gatewaysvc.Config{
			Backends: addrs, Policy: gatewaysvc.Policy,
			DevJWKS: signer.JWKS(), Logger: logger.With("service", "gateway"), Verifier: verifier,
			Audit: gatewaysvc.AuditConfig{JetStream: js, SubjectPrefix: eventbus.DefaultSubjectPrefix},
		}))
	})
	admin := &http.Server{Handler: platform.AdminHandler(tel), ReadHeaderTimeout: 5 * time.Second}
	g.Go(func() error {
		if err := admin.Serve(adminLis); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		return admin.Close()
	})
	g.Go(func() error {
		if err := waitHealthy(gctx, "http://"+httpLis.Addr().String()+"/healthz"); err != nil {
			return nil // shutting down before healthy; the error is elsewhere
		}
		ready(Addrs{HTTP: httpLis.Addr().String(), GRPC: grpcLis.Addr().String(), NATS: ns.ClientURL(), Admin: adminLis.Addr().String()})
		return nil
	})
	return g.Wait()
}

// named gives a service its own logger, so the logs of the services that
// share this process say whose they are.
func named(env platform.Env, service string) platform.Env {
	env.Logger = env.Logger.With("service", service)
	return env
}

func wrap(name string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// startNATS starts the embedded NATS server with JetStream on addr.
func startNATS(addr, storeDir string) (*natsserver.Server, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("nats address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("nats address %q: bad port", addr)
	}
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	ns, err := natsserver.NewServer(&natsserver.Options{
		ServerName: "tandem-dev", Host: host, Port: port,
		JetStream: true, StoreDir: storeDir, NoSigs: true, NoLog: true,
	})
	if err != nil {
		return nil, fmt.Errorf("nats: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("nats: not ready on %s after 10s (is the port taken?)", addr)
	}
	return ns, nil
}

// waitHealthy polls url until it answers 200 or ctx is done.
func waitHealthy(ctx context.Context, url string) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// loadOrCreateKey returns the 32-byte key stored at path, creating it.
func loadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil && len(key) == 32 {
		return key, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}
