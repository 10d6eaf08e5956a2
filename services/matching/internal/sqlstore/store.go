// Package sqlstore implements the matching service's Store on PostgreSQL
// and SQLite with one set of SQL statements. Every change writes its event
// to the outbox in the same transaction.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations are the matching service's tables for both engines.
var Migrations = sqlstore.Migrations{Name: "matching", FS: migrationsFS, Dir: "migrations"}

// Source is the CloudEvents source of the matching service's events.
const Source = "tandem/matching"

// Store is the SQL implementation of matching.Store.
type Store struct {
	db *sqlstore.DB
	// committed is called after each commit that wrote events, to wake the
	// outbox relay (may be nil).
	committed func()
}

// New returns a Store over an opened database (with Migrations and
// eventbus.Migrations applied). committed, if not nil, runs after every
// commit that wrote events.
func New(db *sqlstore.DB, committed func()) *Store {
	return &Store{db: db, committed: committed}
}

var _ matching.Store = (*Store)(nil)

const scoringConfigColumns = `program_id, version, competency_coverage, seniority_gap, cross_department,
	time_zone_overlap, shared_language, format_fit, style_complement, preference, reporting_chain_depth,
	require_shared_language, min_pair_score, update_time, motivation, acceptance, max_pending_requests,
	request_ttl_hours`

// errNoConfig says a program has no stored configuration.
var errNoConfig = fmt.Errorf("no scoring config stored: %w", apperr.ErrNotFound)

// ScoringConfig returns the newest version of a program's configuration.
func (s *Store) ScoringConfig(ctx context.Context, tenant, programID string) (matching.ScoringConfig, error) {
	c, err := scoringConfig(ctx, s.db, tenant, programID)
	if errors.Is(err, errNoConfig) {
		return c, fmt.Errorf("scoring config of program %s: %w", programID, apperr.ErrNotFound)
	}
	return c, err
}

// scoringConfig reads the newest stored configuration or fails with
// errNoConfig.
func scoringConfig(ctx context.Context, q rowQuerier, tenant, programID string) (matching.ScoringConfig, error) {
	row := q.QueryRowContext(ctx, `SELECT `+scoringConfigColumns+` FROM scoring_configs
		WHERE tenant_id = $1 AND program_id = $2 ORDER BY version DESC LIMIT 1`, tenant, programID)
	var c matching.ScoringConfig
	var acceptance string
	w := &c.Weights
	err := row.Scan(&c.ProgramID, &c.Version, &w.CompetencyCoverage, &w.SeniorityGap, &w.CrossDepartment,
		&w.TimeZoneOverlap, &w.SharedLanguage, &w.FormatFit, &w.StyleComplement, &w.Preference,
		&c.ReportingChainDepth, &c.RequireSharedLanguage, &c.MinPairScore, &c.UpdateTime, &w.Motivation,
		&acceptance, &c.MaxPendingRequests, &c.RequestTTLHours)
	if errors.Is(err, sql.ErrNoRows) {
		return c, errNoConfig
	}
	if err != nil {
		return c, fmt.Errorf("db: scan scoring config: %w", err)
	}
	c.Acceptance = matching.Acceptance(acceptance)
	c.UpdateTime = c.UpdateTime.UTC()
	return c, nil
}

// AddScoringConfig stores c as the newest version and bumps the program's
// epoch. Two concurrent updates of the same version both pass the version
// check, but the primary key lets only one insert succeed.
func (s *Store) AddScoringConfig(ctx context.Context, tenant string, c matching.ScoringConfig) error {
	return eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		var current int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM scoring_configs
			WHERE tenant_id = $1 AND program_id = $2`, tenant, c.ProgramID).Scan(&current); err != nil {
			return nil, fmt.Errorf("db: read scoring config version: %w", err)
		}
		if current != c.Version-1 {
			return nil, staleVersion(c.Version-1, current)
		}
		w := c.Weights
		_, err := tx.ExecContext(ctx, `INSERT INTO scoring_configs (tenant_id, `+scoringConfigColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			tenant, c.ProgramID, c.Version, w.CompetencyCoverage, w.SeniorityGap, w.CrossDepartment,
			w.TimeZoneOverlap, w.SharedLanguage, w.FormatFit, w.StyleComplement, w.Preference,
			c.ReportingChainDepth, c.RequireSharedLanguage, c.MinPairScore, c.UpdateTime, w.Motivation,
			string(c.Acceptance), c.MaxPendingRequests, c.RequestTTLHours)
		if sqlstore.IsUniqueViolation(err) {
			return nil, staleVersion(c.Version-1, c.Version)
		}
		if err != nil {
			return nil, fmt.Errorf("db: insert scoring config: %w", err)
		}
		if err := bumpEpoch(ctx, tx, tenant, c.ProgramID); err != nil {
			return nil, err
		}
		return []eventbus.Event{{
			Tenant: tenant, Aggregate: "scoring_config", AggregateID: c.ProgramID, Type: "updated",
			Payload: &eventsv1.ScoringConfigUpdated{Config: pbconv.ScoringConfig(c)},
		}}, nil
	})
}

func staleVersion(sent, current int64) error {
	return fmt.Errorf("stale version %d: the current version is %d; read the configuration again: %w", sent, current, apperr.ErrAborted)
}

// liveStates lists the states of a live match, for SQL.
const liveStates = `('proposed', 'accepted', 'active')`

// scanner is what the scan functions read rows from.
type scanner = sqlstore.Scanner

// querier is a database or a transaction.
type querier = sqlstore.Querier

// rowQuerier is a database or a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// jsonText encodes v as JSON text for a TEXT column.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the service's own plain structs are encoded; they always
		// marshal.
		return "null"
	}
	return string(b)
}

// nonNil turns a nil slice into an empty one, so it is stored as [] and
// read back the same way.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// nonNilMap turns a nil map into an empty one.
func nonNilMap[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}
