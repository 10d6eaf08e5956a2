package access_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/access"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

// TestDirectory applies person and program events on both engines and
// checks the answers the object rules rely on.
func TestDirectory(t *testing.T) {
	t.Parallel()
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db, err := sqlstore.Open(ctx, url, access.Migrations)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		dir := access.NewDirectory(db.DB)
		inTx := func(fn func(tx *sql.Tx) error) {
			tx, err := db.BeginTx(ctx, nil)
			require.NoError(t, err)
			require.NoError(t, fn(tx))
			require.NoError(t, tx.Commit())
		}
		personID := func(tenant, subject string) string {
			id, err := dir.PersonID(ctx, tenant, subject)
			require.NoError(t, err)
			return id
		}
		exists := func(fn func(ctx context.Context, tenant, id string) (bool, error), tenant, id string) bool {
			ok, err := fn(ctx, tenant, id)
			require.NoError(t, err)
			return ok
		}
		manages := func(tenant, program, subject string) bool {
			ok, err := dir.Manages(ctx, tenant, program, subject)
			require.NoError(t, err)
			return ok
		}

		inTx(func(tx *sql.Tx) error { return dir.ApplyPerson(ctx, tx, "acme", "p1", "ada@acme", false) })
		inTx(func(tx *sql.Tx) error { return dir.ApplyPerson(ctx, tx, "acme", "p2", "bob@acme", false) })
		require.Equal(t, "p1", personID("acme", "ada@acme"))
		require.Empty(t, personID("other", "ada@acme"), "subjects are per tenant")
		require.Empty(t, personID("acme", "nobody"))

		inTx(func(tx *sql.Tx) error { return dir.ApplyPerson(ctx, tx, "acme", "p1", "ada2@acme", false) })
		require.Empty(t, personID("acme", "ada@acme"), "a changed subject replaces the old one")
		require.Equal(t, "p1", personID("acme", "ada2@acme"))

		inTx(func(tx *sql.Tx) error { return dir.ApplyPerson(ctx, tx, "acme", "p3", "bob@acme", false) })
		require.Empty(t, personID("acme", "bob@acme"), "a shared subject names nobody")

		inTx(func(tx *sql.Tx) error { return dir.ApplyPerson(ctx, tx, "acme", "p4", "", false) })
		require.True(t, exists(dir.PersonExists, "acme", "p4"), "a person without a login exists")
		require.Empty(t, personID("acme", ""), "no login names nobody")
		require.False(t, exists(dir.PersonExists, "other", "p4"))
		inTx(func(tx *sql.Tx) error { return dir.ApplyPerson(ctx, tx, "acme", "p1", "ada2@acme", true) })
		require.Empty(t, personID("acme", "ada2@acme"), "an erased person has no subject")
		require.False(t, exists(dir.PersonExists, "acme", "p1"), "an erased person is gone")

		inTx(func(tx *sql.Tx) error { return dir.ApplyProgram(ctx, tx, "acme", "prog", []string{"m1", "m2", "m1"}) })
		require.True(t, manages("acme", "prog", "m1"))
		require.True(t, manages("acme", "prog", "m2"))
		require.True(t, exists(dir.ProgramExists, "acme", "prog"))
		require.False(t, exists(dir.ProgramExists, "other", "prog"))
		require.False(t, manages("other", "prog", "m1"))
		inTx(func(tx *sql.Tx) error { return dir.ApplyProgram(ctx, tx, "acme", "prog", []string{"m2"}) })
		require.False(t, manages("acme", "prog", "m1"), "a removed manager no longer manages")
		require.True(t, manages("acme", "prog", "m2"))
	})
}
