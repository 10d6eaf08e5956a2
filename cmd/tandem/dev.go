package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/tandem-oss/tandem/cmd/tandem/internal/devserver"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/telemetry"
)

func newDevCmd() *cobra.Command {
	cfg := devserver.Config{}
	var logLevel slog.Level
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run all Tandem services in one process, with embedded NATS and SQLite",
		Long: `Runs the participant, matching, scheduling and evaluation services and the
gateway in one process. Nothing external is needed: events go through an
embedded NATS JetStream (listening on --nats-addr for analytics clients) and
each service keeps a SQLite file in --data-dir, so data survives a restart.
Stop with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			platform.TuneGC()
			cfg.Logger = telemetry.NewLogger(os.Stderr, logLevel)
			return devserver.Run(cmd.Context(), cfg, func(a devserver.Addrs) {
				fmt.Fprintf(cmd.ErrOrStderr(), `
Tandem is running (data in %s).
  HTTP/JSON  http://%s   (OpenAPI at /openapi.json, health at /healthz)
  gRPC       %s   (reflection on)
  NATS       %s   (stream TANDEM, subjects tandem.>)
  metrics    http://%s/metrics
Get a token:  tandem token --data-dir %s --tenant acme --role tenant_admin --subject admin@acme.example
`, cfg.DataDir, a.HTTP, a.GRPC, a.NATS, a.Admin, cfg.DataDir)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "./tandem-data", "directory for the SQLite databases, NATS storage and dev keys")
	f.StringVar(&cfg.HTTPAddr, "http-addr", "127.0.0.1:8080", "HTTP/JSON API address")
	f.StringVar(&cfg.GRPCAddr, "grpc-addr", "127.0.0.1:9090", "gRPC API address")
	f.StringVar(&cfg.NATSAddr, "nats-addr", "127.0.0.1:4223", "embedded NATS address")
	f.StringVar(&cfg.AdminAddr, "admin-addr", "127.0.0.1:9464", "Prometheus /metrics address")
	f.StringVar(&cfg.RedisURL, "redis-url", "", "Redis for the services' cache, e.g. redis://127.0.0.1:6379/0 (default: in-process)")
	f.TextVar(&logLevel, "log-level", slog.LevelInfo, "log level: DEBUG, INFO, WARN or ERROR")
	return cmd
}
