package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/participant/participantsvc"
)

func TestTenantCreate(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		require.Equal(t, "tenant acme created", runCLI(t, "tenant", "create", "acme", "--database-url", url, "--display-name", "Acme Corp"))
		require.Equal(t, "tenant acme already exists", runCLI(t, "tenant", "create", "acme", "--database-url", url))

		db, err := participantsvc.Open(context.Background(), url)
		require.NoError(t, err)
		defer db.Close()
		var name string
		require.NoError(t, db.QueryRow(`SELECT display_name FROM tenants WHERE id = $1`, "acme").Scan(&name))
		require.Equal(t, "Acme Corp", name)
		var events int
		require.NoError(t, db.QueryRow(`SELECT count(*) FROM outbox WHERE ce_type = 'tandem.tenant.created'`).Scan(&events))
		require.Equal(t, 1, events, "one tenant.created event, not one per call")
	})
}

func TestTenantCreateRejectsBadIDs(t *testing.T) {
	for _, id := range []string{"Acme", "a.b", "9lives", "tenant with space"} {
		cmd := newRootCmd()
		cmd.SetArgs([]string{"tenant", "create", id, "--database-url", testkit.SQLiteURL(t)})
		cmd.SetOut(&bytes.Buffer{})
		require.ErrorContains(t, cmd.ExecuteContext(context.Background()), "tenant.id", id)
	}
}
