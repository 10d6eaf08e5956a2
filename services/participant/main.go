// Command participant runs the participant service on its own, as in a
// Kubernetes Deployment. Configuration comes from the environment: see
// platform.Common and the fields below, and docs/operations.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zone data for validation, independent of the image

	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

type config struct {
	platform.Common
	DatabaseURL  platform.Secret `env:"TANDEM_DATABASE_URL, required"`
	PageTokenKey platform.Secret `env:"TANDEM_PAGE_TOKEN_KEY, required"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "participant:", err)
		os.Exit(1)
	}
}

func realMain(ctx context.Context) error {
	var cfg config
	if err := platform.Load(ctx, &cfg); err != nil {
		return err
	}
	proc, err := platform.Boot(ctx, "participant", cfg.Common, cfg)
	if err != nil {
		return err
	}
	defer proc.Close()
	if err := proc.ConnectNATS(ctx, "participant", cfg.Common); err != nil {
		return err
	}
	return participantsvc.Run(ctx, proc.Listener, participantsvc.Config{
		DatabaseURL:  string(cfg.DatabaseURL),
		PageTokenKey: []byte(cfg.PageTokenKey),
	}, proc.Env)
}
