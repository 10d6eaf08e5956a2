package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
)

// ProgramData reads everything a program's report needs in one read-only
// transaction, so every part comes from the same snapshot: the program's
// participants and their people (a person not projected yet has no
// entry), its matches and their sessions, and its feedback (without
// private comments), pulse answers, goals and self-assessments.
func (s *Store) ProgramData(ctx context.Context, tenant, programID string) (evaluation.ProgramData, error) {
	d := evaluation.ProgramData{ProgramID: programID, People: map[string]evaluation.Person{}}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return d, fmt.Errorf("db: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	args := []any{tenant, programID}
	people, err := sqlstore.QueryAll(ctx, tx, `SELECT `+personColumns+` FROM persons
		WHERE tenant_id = $1 AND id IN (SELECT person_id FROM participants WHERE tenant_id = $1 AND program_id = $2)
		ORDER BY id`, args, scanPerson)
	if err != nil {
		return d, fmt.Errorf("read people of program %s: %w", programID, err)
	}
	for _, p := range people {
		d.People[p.ID] = p
	}
	if d.Participants, err = sqlstore.QueryAll(ctx, tx, `SELECT `+participantColumns+` FROM participants
		WHERE tenant_id = $1 AND program_id = $2 ORDER BY id`, args, scanParticipant); err != nil {
		return d, fmt.Errorf("read participants of program %s: %w", programID, err)
	}
	if d.Matches, err = sqlstore.QueryAll(ctx, tx, `SELECT `+matchColumns+` FROM matches
		WHERE tenant_id = $1 AND program_id = $2 ORDER BY id`, args, scanMatch); err != nil {
		return d, fmt.Errorf("read matches of program %s: %w", programID, err)
	}
	if d.Sessions, err = sqlstore.QueryAll(ctx, tx, `SELECT `+sessionColumns+` FROM sessions
		WHERE tenant_id = $1 AND match_id IN (SELECT id FROM matches WHERE tenant_id = $1 AND program_id = $2)
		ORDER BY start_micros, id`, args, scanSession); err != nil {
		return d, fmt.Errorf("read sessions of program %s: %w", programID, err)
	}
	feedback, err := sqlstore.QueryAll(ctx, tx, `SELECT `+feedbackColumns+` FROM feedback
		WHERE tenant_id = $1 AND program_id = $2 ORDER BY submit_micros, id`, args, scanFeedback)
	if err != nil {
		return d, fmt.Errorf("read feedback of program %s: %w", programID, err)
	}
	d.Feedback = withoutPrivateComments(feedback)
	if d.Pulse, err = sqlstore.QueryAll(ctx, tx, `SELECT `+pulseColumns+` FROM pulse_responses
		WHERE tenant_id = $1 AND program_id = $2 ORDER BY submit_micros, id`, args, scanPulse); err != nil {
		return d, fmt.Errorf("read pulse answers of program %s: %w", programID, err)
	}
	if d.Goals, err = sqlstore.QueryAll(ctx, tx, `SELECT `+goalColumns+` FROM goals
		WHERE tenant_id = $1 AND program_id = $2 ORDER BY create_micros, id`, args, scanGoal); err != nil {
		return d, fmt.Errorf("read goals of program %s: %w", programID, err)
	}
	if d.Assessments, err = readAssessments(ctx, tx, `program_id = $2`, tenant, programID); err != nil {
		return d, err
	}
	return d, nil
}
