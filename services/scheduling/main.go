// Command scheduling runs the scheduling service on its own, as in a Kubernetes
// Deployment. It is configured by environment: platform.Common, the fields
// below, and docs/operations.md.
package main

import (
	"context"
	"os"
	"time"
	_ "time/tzdata" // time zone data independent of the image

	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/scheduling/schedulingsvc"
)

type config struct {
	platform.Common
	DatabaseURL platform.Secret `env:"TANDEM_DATABASE_URL, required"`
	// PageTokenKey signs page tokens; every replica needs the same one.
	// Unset, each process draws its own (one replica only).
	PageTokenKey platform.Secret `env:"TANDEM_PAGE_TOKEN_KEY"`
	// ReminderOffsets are how long before a session its reminders fire.
	ReminderOffsets []time.Duration `env:"TANDEM_REMINDER_OFFSETS, default=24h,1h"`
}

func main() {
	var cfg config
	os.Exit(platform.Main("scheduling", &cfg, func(ctx context.Context, p *platform.Process) error {
		if err := p.ConnectNATS(ctx); err != nil {
			return err
		}
		return schedulingsvc.Run(ctx, p.Listener, schedulingsvc.Config{
			DatabaseURL: string(cfg.DatabaseURL), PageTokenKey: []byte(cfg.PageTokenKey),
			ReminderOffsets: cfg.ReminderOffsets}, p.Env)
	}, func(ctx context.Context) error {
		return sqlstore.MigrateURL(ctx, string(cfg.DatabaseURL), schedulingsvc.Migrations...)
	}))
}
