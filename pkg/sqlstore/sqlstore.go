// Package sqlstore opens the SQL database of a service, PostgreSQL (pgx) in
// production or an embedded SQLite file for the single-binary default, and
// applies the service's embedded migrations.
//
// Services write one store implementation with database/sql and `$N`
// placeholders, which both engines accept. DDL differs a little between the
// engines, so each migration set has a "postgres" and a "sqlite" directory.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Dialect names a database engine.
type Dialect string

// The supported engines.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// ErrNotFound is returned by helpers when a row does not exist.
var ErrNotFound = errors.New("db: not found")

// Migrations is one named, embedded migration set. Directory Dir of FS
// ("" for its root) holds a "postgres" and a "sqlite" directory of goose SQL
// files. Each set keeps its own version
// table, so the platform's tables (outbox, inbox) and a service's tables
// evolve independently.
type Migrations struct {
	Name string
	FS   fs.FS
	Dir  string
}

// DB is an open database with its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect
}

// Open connects to rawURL and applies the migrations in order. rawURL is a
// PostgreSQL URL (postgres://…) or sqlite:PATH (a file, created if missing).
// It blocks until the migrations are applied.
func Open(ctx context.Context, rawURL string, migrations ...Migrations) (*DB, error) {
	db, err := Connect(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, migrations...); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// MigrateURL applies the migrations to the database at rawURL and closes
// it: the `<service> migrate` step of a release. It blocks until done.
func MigrateURL(ctx context.Context, rawURL string, migrations ...Migrations) error {
	db, err := Open(ctx, rawURL, migrations...)
	if err != nil {
		return err
	}
	return db.Close()
}

// Connect opens rawURL (as Open) without migrating: for services whose
// migrations run once per release in a separate step.
func Connect(ctx context.Context, rawURL string) (*DB, error) {
	db, err := connect(rawURL)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("db: connect: %w", err)
	}
	return db, nil
}

// Migrate applies the migration sets in order. On PostgreSQL it holds an
// advisory lock meanwhile, so replicas or jobs migrating at the same time
// wait for each other instead of racing. It blocks until done.
func (db *DB) Migrate(ctx context.Context, migrations ...Migrations) error {
	for _, m := range migrations {
		if err := db.migrate(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func connect(rawURL string) (*DB, error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		sqlDB, err := sql.Open("pgx", rawURL)
		if err != nil {
			return nil, fmt.Errorf("db: open postgres: %w", err)
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
		return &DB{DB: sqlDB, Dialect: Postgres}, nil
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if path == "" {
			return nil, errors.New("db: sqlite URL needs a file path, e.g. sqlite:/var/lib/tandem/participant.db")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("db: create sqlite directory: %w", err)
		}
		// WAL lets readers run beside the one writer; IMMEDIATE transactions
		// take the write lock up front so concurrent writers wait (busy
		// timeout) instead of failing on a lock upgrade; synchronous FULL
		// makes every committed transaction durable.
		q := url.Values{}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "foreign_keys(ON)")
		q.Set("_txlock", "immediate")
		q.Set("_time_format", "sqlite")
		sqlDB, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("db: open sqlite: %w", err)
		}
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
		return &DB{DB: sqlDB, Dialect: SQLite}, nil
	default:
		return nil, fmt.Errorf("db: unsupported database URL %q: want postgres://… or sqlite:PATH", Redact(rawURL))
	}
}

func (db *DB) migrate(ctx context.Context, m Migrations) error {
	dir, err := fs.Sub(m.FS, path.Join(m.Dir, string(db.Dialect)))
	if err != nil {
		return fmt.Errorf("db: migrations %s: %w", m.Name, err)
	}
	gooseDialect := database.DialectPostgres
	if db.Dialect == SQLite {
		gooseDialect = database.DialectSQLite3
	}
	store, err := database.NewStore(gooseDialect, "goose_"+m.Name)
	if err != nil {
		return fmt.Errorf("db: migrations %s: %w", m.Name, err)
	}
	opts := []goose.ProviderOption{goose.WithStore(store), goose.WithDisableGlobalRegistry(true)}
	if db.Dialect == Postgres {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("db: migrations %s: %w", m.Name, err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider("", db.DB, dir, opts...)
	if err != nil {
		return fmt.Errorf("db: migrations %s: %w", m.Name, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("db: migrate %s: %w", m.Name, err)
	}
	return nil
}

// InTx runs fn in a transaction and commits when fn returns nil; any error
// rolls everything back, so nothing is half-written.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLSTATE 23505") || strings.Contains(msg, "UNIQUE constraint failed")
}

// Redact hides the password of a database URL so it can be logged.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
