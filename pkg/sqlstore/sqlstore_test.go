package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
)

var migrations = sqlstore.Migrations{Name: "demo", FS: fstest.MapFS{
	"postgres/00001_t.sql": {Data: []byte("-- +goose Up\nCREATE TABLE t (id TEXT PRIMARY KEY, at TIMESTAMPTZ NOT NULL);\n")},
	"sqlite/00001_t.sql":   {Data: []byte("-- +goose Up\nCREATE TABLE t (id TEXT PRIMARY KEY, at TIMESTAMP NOT NULL);\n")},
}}

func TestOpenMigrateAndTransactions(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db, err := sqlstore.Open(ctx, url, migrations)
		require.NoError(t, err)
		at := time.Date(2026, 3, 29, 1, 30, 0, 123456000, time.UTC)

		require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO t (id, at) VALUES ($1, $2)`, "a", at)
			return err
		}))
		boom := errors.New("boom")
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (id, at) VALUES ($1, $2)`, "b", at); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)

		_, err = db.ExecContext(ctx, `INSERT INTO t (id, at) VALUES ($1, $2)`, "a", at)
		require.True(t, sqlstore.IsUniqueViolation(err), "duplicate key: %v", err)
		require.NoError(t, db.Close())

		// Reopening applies nothing twice and keeps the data.
		db, err = sqlstore.Open(ctx, url, migrations)
		require.NoError(t, err)
		defer db.Close()
		var n int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&n))
		require.Equal(t, 1, n, "the rolled-back row is absent")
		var got time.Time
		require.NoError(t, db.QueryRowContext(ctx, `SELECT at FROM t WHERE id = $1`, "a").Scan(&got))
		require.True(t, at.Equal(got), "time round trip: want %v got %v", at, got)
	})
}

func TestOpenRejectsUnknownURLsWithoutLeakingPasswords(t *testing.T) {
	_, err := sqlstore.Open(context.Background(), "mysql://root:s3cret@db/x")
	require.ErrorContains(t, err, "unsupported database URL")
	require.NotContains(t, err.Error(), "s3cret")
	_, err = sqlstore.Open(context.Background(), "sqlite:")
	require.ErrorContains(t, err, "file path")
}

// TestConcurrentMigrationsAreSerialized starts several migrations of one
// PostgreSQL database at once, as replicas and upgrade jobs do: all succeed
// and the schema is applied once.
func TestConcurrentMigrationsAreSerialized(t *testing.T) {
	url := testkit.PostgresURL(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := sqlstore.Open(context.Background(), url, migrations)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	db, err := sqlstore.Connect(context.Background(), url)
	require.NoError(t, err)
	defer db.Close()
	var applied int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM goose_demo WHERE version_id > 0`).Scan(&applied))
	require.Equal(t, 1, applied)
}
