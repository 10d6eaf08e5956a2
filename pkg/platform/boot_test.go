package platform_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/platform"
)

func TestSecretsNeverReachLogs(t *testing.T) {
	type config struct {
		platform.Common
		DatabaseURL platform.Secret
	}
	cfg := config{DatabaseURL: "postgres://u:hunter2@db/x"}
	cfg.RedisURL = "redis://:hunter2@cache:6379/0"

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", cfg, "url", cfg.DatabaseURL)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("starting", "config", cfg, "url", cfg.DatabaseURL)
	fmt.Fprintf(&buf, "%v %+v %s", cfg, cfg, cfg.DatabaseURL)
	require.NotContains(t, buf.String(), "hunter2")
	require.Contains(t, buf.String(), "REDACTED")
	require.Equal(t, "postgres://u:hunter2@db/x", string(cfg.DatabaseURL), "the value itself is intact")
}
