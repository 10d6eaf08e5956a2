// Package sqlstore implements the evaluation service's projections and
// reports on PostgreSQL and SQLite with one set of SQL statements.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

//go:embed migrations
var migrationsFS embed.FS

// Migrations are the evaluation service's tables for both engines.
var Migrations = sqlstore.Migrations{Name: "evaluation", FS: migrationsFS, Dir: "migrations"}

// Store is the SQL implementation of evaluation.Store and of the
// projections the event consumer writes.
type Store struct {
	db *sqlstore.DB
}

// New returns a Store over an opened database (with Migrations and
// eventbus.Migrations applied).
func New(db *sqlstore.DB) *Store {
	return &Store{db: db}
}

var _ evaluation.Store = (*Store)(nil)

// ApplyParticipant writes p into the participant projection inside tx, the
// consumer's transaction that also records the event in the inbox. A row
// changed by a newer event is left alone, so an event delivered late
// cannot undo a later change.
func (s *Store) ApplyParticipant(ctx context.Context, tx *sql.Tx, tenant string, p evaluation.Participant) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO participants (tenant_id, participant_id, program_id, role, state, last_event_time)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (tenant_id, participant_id) DO UPDATE SET program_id = excluded.program_id, role = excluded.role,
			state = excluded.state, last_event_time = excluded.last_event_time
		WHERE participants.last_event_time <= excluded.last_event_time`,
		tenant, p.ID, p.ProgramID, string(p.Role), string(p.State), p.EventTime.UTC())
	if err != nil {
		return fmt.Errorf("db: project participant: %w", err)
	}
	return nil
}

// ProgramReport counts the program's participants by role and state. Both
// statements read one snapshot, so the time matches the counts.
func (s *Store) ProgramReport(ctx context.Context, tenant, programID string) (evaluation.ProgramReport, error) {
	r := evaluation.ProgramReport{ProgramID: programID}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return r, fmt.Errorf("db: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := countParticipants(ctx, tx, tenant, &r); err != nil {
		return r, err
	}
	// Not MAX(): SQLite returns an aggregate of a timestamp as text.
	err = tx.QueryRowContext(ctx, `SELECT last_event_time FROM participants
		WHERE tenant_id = $1 AND program_id = $2 ORDER BY last_event_time DESC LIMIT 1`, tenant, programID).Scan(&r.AsOfTime)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return r, fmt.Errorf("db: newest participant event: %w", err)
	default:
		r.AsOfTime = r.AsOfTime.UTC()
	}
	return r, nil
}

func countParticipants(ctx context.Context, tx *sql.Tx, tenant string, r *evaluation.ProgramReport) error {
	rows, err := tx.QueryContext(ctx, `SELECT role, state, COUNT(*) FROM participants
		WHERE tenant_id = $1 AND program_id = $2 GROUP BY role, state`, tenant, r.ProgramID)
	if err != nil {
		return fmt.Errorf("db: count participants: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var role, state string
		var n int
		if err := rows.Scan(&role, &state, &n); err != nil {
			return fmt.Errorf("db: count participants: %w", err)
		}
		switch evaluation.ParticipantState(state) {
		case evaluation.ParticipantWithdrawn:
			r.Withdrawn += n
		case evaluation.ParticipantEnrolled:
			switch evaluation.Role(role) {
			case evaluation.RoleMentor:
				r.EnrolledMentors += n
			case evaluation.RoleMentee:
				r.EnrolledMentees += n
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("db: count participants: %w", err)
	}
	return nil
}
