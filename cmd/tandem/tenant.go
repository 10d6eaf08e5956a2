package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

func newTenantCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Provision tenants (operators)"}
	var dbURL, displayName string
	create := &cobra.Command{
		Use:   "create ID",
		Short: "Create a tenant in the participant service's database, unless it exists",
		Long: `Creates the tenant directly in the participant service's database; the
running service publishes its tenant.created event. Tokens name the tenant
by this ID in their "tenant" claim. Running it again changes nothing.`,
		Example: `  TANDEM_DATABASE_URL=postgres://tandem@db/participant tandem tenant create acme --display-name "Acme Corp"`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dbURL == "" {
				return fmt.Errorf("--database-url (or TANDEM_DATABASE_URL): the participant service's database is required")
			}
			created, err := participantsvc.EnsureTenant(cmd.Context(), dbURL, args[0], displayName)
			if err != nil {
				return err
			}
			if created {
				fmt.Fprintf(cmd.OutOrStdout(), "tenant %s created\n", args[0])
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "tenant %s already exists\n", args[0])
			}
			return nil
		},
	}
	create.Flags().StringVar(&dbURL, "database-url", os.Getenv("TANDEM_DATABASE_URL"), "participant database: postgres://… or sqlite:PATH (env TANDEM_DATABASE_URL)")
	create.Flags().StringVar(&displayName, "display-name", "", "name shown to people (default: the ID)")
	cmd.AddCommand(create)
	return cmd
}
