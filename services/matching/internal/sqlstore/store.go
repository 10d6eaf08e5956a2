// Package sqlstore implements the matching service's Store on PostgreSQL
// and SQLite with one set of SQL statements. Every change writes its event
// to the outbox in the same transaction.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

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
	require_shared_language, min_pair_score, update_time`

// ScoringConfig returns the newest version of a program's configuration.
func (s *Store) ScoringConfig(ctx context.Context, tenant, programID string) (matching.ScoringConfig, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+scoringConfigColumns+` FROM scoring_configs
		WHERE tenant_id = $1 AND program_id = $2 ORDER BY version DESC LIMIT 1`, tenant, programID)
	var c matching.ScoringConfig
	w := &c.Weights
	err := row.Scan(&c.ProgramID, &c.Version, &w.CompetencyCoverage, &w.SeniorityGap, &w.CrossDepartment,
		&w.TimeZoneOverlap, &w.SharedLanguage, &w.FormatFit, &w.StyleComplement, &w.Preference,
		&c.ReportingChainDepth, &c.RequireSharedLanguage, &c.MinPairScore, &c.UpdateTime)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("scoring config of program %s: %w", programID, apperr.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("db: scan scoring config: %w", err)
	}
	c.UpdateTime = c.UpdateTime.UTC()
	return c, nil
}

// AddScoringConfig stores c as the newest version. Two concurrent updates of
// the same version both pass the version check, but the primary key lets
// only one insert succeed.
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
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			tenant, c.ProgramID, c.Version, w.CompetencyCoverage, w.SeniorityGap, w.CrossDepartment,
			w.TimeZoneOverlap, w.SharedLanguage, w.FormatFit, w.StyleComplement, w.Preference,
			c.ReportingChainDepth, c.RequireSharedLanguage, c.MinPairScore, c.UpdateTime)
		if sqlstore.IsUniqueViolation(err) {
			return nil, staleVersion(c.Version-1, c.Version)
		}
		if err != nil {
			return nil, fmt.Errorf("db: insert scoring config: %w", err)
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
