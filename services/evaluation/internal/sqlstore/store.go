// Package sqlstore implements the evaluation service's Store and Projector
// on PostgreSQL and SQLite with one set of SQL statements. Every change the
// service makes writes its events to the outbox in the same transaction;
// the projections of other services' events are written inside the event
// consumer's transaction.
//
// Instants are stored as BIGINT Unix microseconds on both engines (0 for
// the zero time), so that equality and order behave the same everywhere;
// they are read back in UTC. Lists are stored as JSON text.
package sqlstore

import (
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations are the evaluation service's tables for both engines.
var Migrations = sqlstore.Migrations{Name: "evaluation", FS: migrationsFS, Dir: "migrations"}

// Source is the CloudEvents source of the evaluation service's events.
const Source = "tandem/evaluation"

// Store is the SQL implementation of evaluation.Store and
// evaluation.Projector.
type Store struct {
	db *sqlstore.DB
}

// New returns a Store over an opened database (with Migrations and
// eventbus.Migrations applied).
func New(db *sqlstore.DB) *Store {
	return &Store{db: db}
}

var (
	_ evaluation.Store     = (*Store)(nil)
	_ evaluation.Projector = (*Store)(nil)
)

// forUpdate is the row-locking clause of a SELECT on PostgreSQL. SQLite
// needs none: pkg/sqlstore begins every transaction IMMEDIATE, so a
// writing transaction holds the database's single write lock throughout.
func (s *Store) forUpdate() string {
	if s.db.Dialect == sqlstore.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// notFound is the error of a lookup that found no row.
func notFound(what, id string) error {
	return fmt.Errorf("%s %s: %w", what, id, apperr.ErrNotFound)
}

// newest is the SET list of an upsert's columns that follow the newest
// event: each takes the incoming value unless the stored row's event is
// newer.
func newest(table string, cols ...string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf("%[2]s = CASE WHEN %[1]s.event_micros <= excluded.event_micros THEN excluded.%[2]s ELSE %[1]s.%[2]s END",
			table, c)
	}
	return strings.Join(parts, ", ")
}

// earliest is the SET list of an upsert's time columns that keep the
// earliest non-zero value ever seen, whatever order events arrive in.
func earliest(table string, cols ...string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf("%[2]s = CASE WHEN %[1]s.%[2]s = 0 OR (excluded.%[2]s <> 0 AND excluded.%[2]s < %[1]s.%[2]s) "+
			"THEN excluded.%[2]s ELSE %[1]s.%[2]s END", table, c)
	}
	return strings.Join(parts, ", ")
}

// scanner is what the scan functions read rows from.
type scanner = sqlstore.Scanner

// micros converts an instant to its stored form, Unix microseconds; the
// zero time is 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts stored Unix microseconds to a UTC instant; 0 is the
// zero time.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// nullMicros stores the zero time as NULL.
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromNullMicros reads NULL as the zero time.
func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// jsonText encodes a list column; an empty list is "[]".
func jsonText[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		// The lists are of strings, ints and plain structs of them, which
		// always encode.
		return "[]"
	}
	return string(b)
}

// fromJSON decodes a list column; an empty list is nil.
func fromJSON[T any](text string) ([]T, error) {
	var v []T
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return nil, fmt.Errorf("decode list %q: %w", text, err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}
