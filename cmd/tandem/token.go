package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/tandem-oss/tandem/cmd/tandem/internal/devserver"
	"github.com/tandem-oss/tandem/pkg/auth"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

func newTokenCmd() *cobra.Command {
	var dataDir, tenant, role, subject string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print a bearer token that `tandem dev` with the same data directory accepts",
		Long: `Signs a token with the dev issuer's key in --data-dir (created if missing) and
creates the tenant there if it does not exist yet. Only a dev server trusts
these tokens; production verifies tokens of your OIDC provider.`,
		Example: `  TOKEN=$(tandem token --tenant acme --role tenant_admin --subject admin@acme.example)
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/v1/programs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(auth.KnownRoles, role) {
				return fmt.Errorf("--role %q: must be one of %v", role, auth.KnownRoles)
			}
			if subject == "" {
				return fmt.Errorf("--subject: must not be empty")
			}
			signer, err := auth.LoadOrCreateDevSigner(dataDir)
			if err != nil {
				return err
			}
			if _, err := participantsvc.EnsureTenant(cmd.Context(), devserver.ParticipantDB(dataDir), tenant, ""); err != nil {
				return fmt.Errorf("--tenant %q: %w", tenant, err)
			}
			tok, err := signer.Sign(auth.Principal{Tenant: tenant, Subject: subject, Roles: []string{role}}, ttl)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "./tandem-data", "data directory of the dev server")
	f.StringVar(&tenant, "tenant", "", "tenant id (lowercase letters, digits, '-'); created if missing")
	f.StringVar(&role, "role", auth.RoleTenantAdmin, fmt.Sprintf("role within the tenant, one of %v", auth.KnownRoles))
	f.StringVar(&subject, "subject", "", "the caller's id (token subject)")
	f.DurationVar(&ttl, "ttl", 12*time.Hour, "validity of the token")
	_ = cmd.MarkFlagRequired("tenant")
	_ = cmd.MarkFlagRequired("subject")
	return cmd
}
