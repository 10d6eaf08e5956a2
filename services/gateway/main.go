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
}

func main() {
	var cfg config
	os.Exit(platform.Main("gateway", &cfg, func(ctx context.Context, p *platform.Process) error {
		httpLis, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("http listener: %w", err)
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
		})
	}, nil))
}
