// Command gateway runs Tandem's public API gateway on its own, as in a
// Kubernetes Deployment: gRPC on TANDEM_GRPC_ADDR, HTTP/JSON on
// TANDEM_HTTP_ADDR, each backend's address from the environment.
package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/tandem-oss/tandem/pkg/platform"
	"github.com/tandem-oss/tandem/services/gateway/gatewaysvc"
)

type config struct {
	platform.Common
	HTTPAddr        string `env:"TANDEM_HTTP_ADDR, default=:8080"`
	ParticipantAddr string `env:"TANDEM_PARTICIPANT_ADDR, required"`
	MatchingAddr    string `env:"TANDEM_MATCHING_ADDR, required"`
	SchedulingAddr  string `env:"TANDEM_SCHEDULING_ADDR, required"`
	EvaluationAddr  string `env:"TANDEM_EVALUATION_ADDR, required"`
	// Rate limits; a zero rate turns that limit off. They are shared
	// through TANDEM_REDIS_URL when it is set.
	TenantPerSecond float64 `env:"TANDEM_RATE_TENANT_PER_SECOND, default=0"`
	TenantBurst     int     `env:"TANDEM_RATE_TENANT_BURST, default=0"`
	ClientPerSecond float64 `env:"TANDEM_RATE_CLIENT_PER_SECOND, default=0"`
	ClientBurst     int     `env:"TANDEM_RATE_CLIENT_BURST, default=0"`
	// AuditEvents publishes an audit.access_denied event per refused call
	// to TANDEM_NATS_URL; off, refusals appear only in the access log.
	AuditEvents bool `env:"TANDEM_AUDIT_EVENTS, default=false"`
}

func main() {
	var cfg config
	os.Exit(platform.Main("gateway", &cfg, func(ctx context.Context, p *platform.Process) error {
		httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("http listener: %w", err)
		}
		limits := gatewaysvc.RateLimitConfig{
			TenantPerSecond: cfg.TenantPerSecond, TenantBurst: cfg.TenantBurst,
			ClientPerSecond: cfg.ClientPerSecond, ClientBurst: cfg.ClientBurst,
			Prefix: cfg.RedisPrefix,
		}
		if cfg.RedisURL != "" {
			// The process's own client is wrapped by its cache; the limiter
			// needs the raw client, so it has one of its own.
			client, err := platform.NewRedisClient(string(cfg.RedisURL))
			if err != nil {
				return err
			}
			defer client.Close()
			limits.Redis = client
		}
		var audit gatewaysvc.AuditConfig
		if cfg.AuditEvents {
			if err := p.ConnectNATS(ctx); err != nil {
				return err
			}
			audit = gatewaysvc.AuditConfig{JetStream: p.Env.JetStream, SubjectPrefix: p.Env.SubjectPrefix}
		}
		return gatewaysvc.Run(ctx, p.Listener, httpLis, gatewaysvc.Config{
			Backends: map[string]string{
				gatewaysvc.ParticipantService: cfg.ParticipantAddr,
				gatewaysvc.MatchingService:    cfg.MatchingAddr,
				gatewaysvc.SchedulingService:  cfg.SchedulingAddr,
				gatewaysvc.EvaluationService:  cfg.EvaluationAddr,
			},
			Policy:     gatewaysvc.Policy,
			Logger:     p.Env.Logger,
			Verifier:   p.Env.Verifier,
			DrainDelay: cfg.DrainDelay,
			RateLimit:  limits,
			Audit:      audit,
		})
	}, nil))
}
