// Command gateway runs Tandem's public API gateway on its own, as in a
// Kubernetes Deployment: gRPC on TANDEM_GRPC_ADDR, HTTP/JSON on
// TANDEM_HTTP_ADDR, each backend's address from the environment.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/services/gateway/gatewaysvc"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

type config struct {
	platform.Common
	HTTPAddr        string `env:"TANDEM_HTTP_ADDR, default=:8080"`
	ParticipantAddr string `env:"TANDEM_PARTICIPANT_ADDR, required"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	var cfg config
	if err := platform.Load(ctx, &cfg); err != nil {
		return err
	}
	proc, err := platform.Boot(ctx, "gateway", cfg.Common, cfg)
	if err != nil {
		return err
	}
	defer proc.Close()
	httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("http listener: %w", err)
	}
	return gatewaysvc.Run(ctx, proc.Listener, httpLis, gatewaysvc.Config{
		Backends: map[string]string{
			gatewaysvc.ParticipantService: cfg.ParticipantAddr,
		},
		Policy:     auth.Merge(participantsvc.Policy),
		Logger:     proc.Env.Logger,
		Verifier:   proc.Env.Verifier,
		DrainDelay: cfg.DrainDelay,
	})
}
