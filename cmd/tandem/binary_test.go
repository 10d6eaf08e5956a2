package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

// TestBinaryStopsCleanlyOnInterrupt builds the tandem binary, runs
// `tandem dev` as a user would, and presses Ctrl-C: the process must exit 0
// and leave its data for the next start.
func TestBinaryStopsCleanlyOnInterrupt(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tandem")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	dataDir := t.TempDir()
	cmd := exec.Command(bin, "dev", "--data-dir", dataDir,
		"--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--nats-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// The banner names the HTTP address once everything serves.
	httpAddr := make(chan string, 1)
	go func() {
		banner := regexp.MustCompile(`HTTP/JSON\s+http://(\S+)`)
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			if m := banner.FindStringSubmatch(scanner.Text()); m != nil {
				httpAddr <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var addr string
	select {
	case addr = <-httpAddr:
	case <-time.After(60 * time.Second):
		t.Fatal("tandem dev printed no banner within 60s")
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "exit status after Ctrl-C")
	case <-time.After(30 * time.Second):
		t.Fatal("tandem dev still running 30s after Ctrl-C")
	}
	for _, f := range []string{"participant.db", "matching.db", "scheduling.db", "evaluation.db", "dev-signing-key.pem", "nats"} {
		_, err := os.Stat(filepath.Join(dataDir, f))
		require.NoError(t, err, "data kept: %s", f)
	}
}

// TestServiceMigrateCommand builds the participant service and runs
// `participant migrate` against a fresh PostgreSQL database, as the Helm
// upgrade hook does: it exits 0 with the schema in place, twice.
func TestServiceMigrateCommand(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "participant")
	build := exec.Command("go", "build", "-o", bin, "../../services/participant")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	url := testkit.PostgresURL(t)
	for range 2 {
		cmd := exec.Command(bin, "migrate")
		cmd.Env = append(os.Environ(), "TANDEM_DATABASE_URL="+url, "TANDEM_OIDC_ISSUER=https://issuer.example",
			"TANDEM_OIDC_JWKS_URL=https://issuer.example/jwks", "TANDEM_PAGE_TOKEN_KEY=k")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "output: %s", out)
		require.Contains(t, string(out), "migrations applied")
	}
	db, err := participantsvc.Open(context.Background(), url)
	require.NoError(t, err)
	defer db.Close()
	var tables int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_name IN ('people', 'programs', 'outbox', 'imports')`).Scan(&tables))
	require.Equal(t, 4, tables)
}
