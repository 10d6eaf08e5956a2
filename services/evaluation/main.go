// Command evaluation runs the evaluation service on its own, as in a Kubernetes
// Deployment. It is configured by environment: platform.Common, the fields
// below, and docs/operations.md.
package main

import (
	"context"
	"os"
	_ "time/tzdata" // time zone data independent of the image

	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/evaluation/evaluationsvc"
)

type config struct {
	platform.Common
	DatabaseURL platform.Secret `env:"TANDEM_DATABASE_URL, required"`
	// PageTokenKey signs page tokens; every replica needs the same one.
	// Unset, each process draws its own (one replica only).
	PageTokenKey platform.Secret `env:"TANDEM_PAGE_TOKEN_KEY"`
}

func main() {
	var cfg config
	os.Exit(platform.Main("evaluation", &cfg, func(ctx context.Context, p *platform.Process) error {
		if err := p.ConnectNATS(ctx); err != nil {
			return err
		}
		return evaluationsvc.Run(ctx, p.Listener, evaluationsvc.Config{
			DatabaseURL: string(cfg.DatabaseURL), PageTokenKey: []byte(cfg.PageTokenKey)}, p.Env)
	}, func(ctx context.Context) error {
		return sqlstore.MigrateURL(ctx, string(cfg.DatabaseURL), evaluationsvc.Migrations...)
	}))
}
