package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/auth"
)

// runArgs runs the command line in-process and returns its output, its
// message on failure and its exit code.
func runArgs(t *testing.T, args ...string) (out, msg string, code int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		code, msg = exitCode(err)
	}
	return stdout.String(), msg, code
}

func TestClientSettings(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, k := range []string{"TANDEM_ADDR", "TANDEM_TOKEN", "TANDEM_TENANT", "TANDEM_PROFILE", "TANDEM_TLS"} {
		t.Setenv(k, "")
	}
	dataDir := t.TempDir()

	t.Run("profiles are saved and listed without their tokens", func(t *testing.T) {
		_, msg, code := runArgs(t, "profile", "set", "staging", "--addr", "gw.example:443", "--tls", "--token", "secret-token")
		require.Zero(t, code, msg)
		out, msg, code := runArgs(t, "profile", "list", "-o", "json")
		require.Zero(t, code, msg)
		var list []map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &list))
		require.Equal(t, []map[string]any{{"name": "staging", "addr": "gw.example:443", "tls": true, "hasToken": true}}, list)
		out, _, _ = runArgs(t, "profile", "list")
		require.NotContains(t, out, "secret-token")
		require.Contains(t, out, "gw.example:443")
	})

	t.Run("usage errors exit 2 and say what to fix", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"program", "list", "--profile", "nope"}, `--profile "nope": no such profile`},
			{[]string{"program", "list", "--data-dir", dataDir}, "no credentials"},
			{[]string{"program", "list", "-o", "yaml", "--tenant", "acme"}, `--output "yaml"`},
			{[]string{"program", "lst"}, "unknown command"},
			{[]string{"program", "list", "--bogus"}, "unknown flag"},
		} {
			_, msg, code := runArgs(t, tc.args...)
			require.Equal(t, exitUsage, code, "%v: %s", tc.args, msg)
			require.Contains(t, msg, tc.want, "%v", tc.args)
		}
	})

	t.Run("a token of another tenant is refused before any call", func(t *testing.T) {
		signer, err := auth.LoadOrCreateDevSigner(dataDir)
		require.NoError(t, err)
		tok, err := signer.Sign(auth.Principal{Tenant: "globex", Subject: "x", Roles: []string{auth.RoleTenantAdmin}}, time.Hour)
		require.NoError(t, err)
		_, msg, code := runArgs(t, "program", "list", "--addr", "127.0.0.1:1", "--token", tok, "--tenant", "acme")
		require.Equal(t, exitUsage, code, msg)
		require.Contains(t, msg, `the token is for tenant "globex" but --tenant says "acme"`)
	})

	t.Run("an unreachable gateway exits 6 with a hint", func(t *testing.T) {
		_, msg, code := runArgs(t, "program", "list", "--addr", "127.0.0.1:1", "--tenant", "acme", "--data-dir", dataDir)
		require.Equal(t, exitUnavailable, code, msg)
		require.Contains(t, msg, "is the gateway running at --addr?")
	})

	t.Run("the environment beats the profile, a flag beats the environment", func(t *testing.T) {
		t.Setenv("TANDEM_PROFILE", "staging")
		t.Setenv("TANDEM_ADDR", "127.0.0.1:1")
		c := &client{}
		root := &cobra.Command{Use: "tandem"}
		c.addFlags(root)
		require.NoError(t, root.ParseFlags([]string{"--tenant", "acme"}))
		require.NoError(t, c.resolve(root))
		require.Equal(t, "127.0.0.1:1", c.addr, "environment over profile")
		require.Equal(t, "secret-token", c.token, "from the profile")
		require.True(t, c.tls, "from the profile")
		require.Equal(t, "acme", c.tenant, "flag")
	})
}
