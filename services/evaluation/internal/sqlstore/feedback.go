package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	"github.com/tandem-oss/tandem/services/evaluation/internal/pbconv"
)

// What people say about their pairs: feedback on sessions, pulse survey
// answers and self-assessments. These records are never changed after
// they are written (but for erasure), so a replayed one is stored only
// when absent.

// CreateFeedback stores feedback, writes feedback.submitted (without the
// private comment) and re-evaluates the pair's health.
func (s *Store) CreateFeedback(ctx context.Context, tenant string, f evaluation.Feedback, now time.Time) error {
	f.HasPrivateComment = f.HasPrivateComment || f.PrivateComment != ""
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO feedback (tenant_id, `+feedbackColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, feedbackArgs(tenant, f)...)
		if sqlstore.IsUniqueViolation(err) {
			return fmt.Errorf("person %s gave feedback on session %s already: %w", f.AuthorPersonID, f.SessionID, apperr.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("db: insert feedback: %w", err)
		}
		if err := eventbus.Enqueue(ctx, tx, Source, eventbus.Event{
			Tenant: tenant, Aggregate: "feedback", AggregateID: f.ID, Type: "submitted",
			Payload: &eventsv1.FeedbackSubmitted{Feedback: pbconv.Feedback(f)},
		}); err != nil {
			return err
		}
		return s.RefreshHealth(ctx, tx, tenant, f.MatchID, now)
	})
}

// ApplyFeedback stores replayed feedback unless it, or the author's
// feedback on the session, is stored.
func (s *Store) ApplyFeedback(ctx context.Context, tx *sql.Tx, tenant string, f evaluation.Feedback) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO feedback (tenant_id, `+feedbackColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`, feedbackArgs(tenant, f)...)
	if err != nil {
		return fmt.Errorf("db: project feedback: %w", err)
	}
	return nil
}

// Feedback returns one feedback with its private comment.
func (s *Store) Feedback(ctx context.Context, tenant, id string) (evaluation.Feedback, error) {
	f, err := scanFeedback(s.db.QueryRowContext(ctx, `SELECT `+feedbackColumns+` FROM feedback WHERE tenant_id = $1 AND id = $2`,
		tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, notFound("feedback", id)
	}
	if err != nil {
		return f, fmt.Errorf("db: read feedback: %w", err)
	}
	return f, nil
}

// ListFeedback lists a pair's feedback newest first (by submit time, then
// id descending), after the cursor, at most limit, without private
// comments.
func (s *Store) ListFeedback(ctx context.Context, tenant, matchID string, after evaluation.Cursor, limit int) ([]evaluation.Feedback, error) {
	args := []any{tenant, matchID, limit}
	page := ""
	if after != (evaluation.Cursor{}) {
		page = ` AND (submit_micros < $4 OR (submit_micros = $4 AND id < $5))`
		args = append(args, micros(after.Time), after.ID)
	}
	list, err := sqlstore.QueryAll(ctx, s.db, `SELECT `+feedbackColumns+` FROM feedback
		WHERE tenant_id = $1 AND match_id = $2`+page+`
		ORDER BY submit_micros DESC, id DESC LIMIT $3`, args, scanFeedback)
	return withoutPrivateComments(list), err
}

// RecordPrivateCommentRead writes the feedback.private_comment_read audit
// event.
func (s *Store) RecordPrivateCommentRead(ctx context.Context, tenant string, r evaluation.PrivateCommentRead) error {
	return eventbus.InTx(ctx, s.db, Source, nil, func(*sql.Tx) ([]eventbus.Event, error) {
		return []eventbus.Event{{
			Tenant: tenant, Aggregate: "feedback", AggregateID: r.FeedbackID, Type: "private_comment_read",
			Payload: &eventsv1.PrivateCommentRead{FeedbackId: r.FeedbackID, AuthorPersonId: r.AuthorPersonID,
				Actor: r.Actor, Reason: r.Reason, ReadTime: pbconv.TS(r.ReadTime)},
		}}, nil
	})
}

// CreatePulseResponse stores a pulse survey answer and writes
// pulse_response.submitted.
func (s *Store) CreatePulseResponse(ctx context.Context, tenant string, r evaluation.PulseResponse) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pulse_responses (tenant_id, `+pulseColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, pulseArgs(tenant, r)...)
		if sqlstore.IsUniqueViolation(err) {
			return fmt.Errorf("person %s answered day %d of match %s already: %w", r.PersonID, r.Day, r.MatchID, apperr.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("db: insert pulse response: %w", err)
		}
		return eventbus.Enqueue(ctx, tx, Source, eventbus.Event{
			Tenant: tenant, Aggregate: "pulse_response", AggregateID: r.ID, Type: "submitted",
			Payload: &eventsv1.PulseResponseSubmitted{Response: pbconv.PulseResponse(r)},
		})
	})
}

// ApplyPulseResponse stores a replayed answer unless it, or the person's
// answer of that match's day, is stored.
func (s *Store) ApplyPulseResponse(ctx context.Context, tx *sql.Tx, tenant string, r evaluation.PulseResponse) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO pulse_responses (tenant_id, `+pulseColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`, pulseArgs(tenant, r)...)
	if err != nil {
		return fmt.Errorf("db: project pulse response: %w", err)
	}
	return nil
}

// PulseResponses returns a person's answers by submit time and id.
func (s *Store) PulseResponses(ctx context.Context, tenant, personID string) ([]evaluation.PulseResponse, error) {
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+pulseColumns+` FROM pulse_responses
		WHERE tenant_id = $1 AND person_id = $2 ORDER BY submit_micros, id`, []any{tenant, personID}, scanPulse)
}

// SubmitAssessment replaces the levels of the skills a names in the
// participant's phase (a level without a submit time gets a's), writes
// self_assessment.submitted with the whole phase and returns it.
func (s *Store) SubmitAssessment(ctx context.Context, tenant string, a evaluation.SelfAssessment) (evaluation.SelfAssessment, error) {
	var phase evaluation.SelfAssessment
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := upsertLevels(ctx, tx, tenant, a, ""); err != nil {
			return err
		}
		phases, err := readAssessments(ctx, tx, `participant_id = $2 AND phase = $3`, tenant, a.ParticipantID, string(a.Phase))
		if err != nil {
			return err
		}
		if len(phases) == 0 {
			return fmt.Errorf("self-assessment of participant %s names no skill: %w", a.ParticipantID, apperr.ErrInvalid)
		}
		phase = phases[0]
		return eventbus.Enqueue(ctx, tx, Source, eventbus.Event{
			Tenant: tenant, Aggregate: "self_assessment", AggregateID: a.ParticipantID, Type: "submitted",
			Payload: &eventsv1.SelfAssessmentSubmitted{Assessment: pbconv.SelfAssessment(phase)},
		})
	})
	if err != nil {
		return evaluation.SelfAssessment{}, err
	}
	return phase, nil
}

// ApplyAssessment merges a replayed phase: each skill keeps its newest
// level by submit time.
func (s *Store) ApplyAssessment(ctx context.Context, tx *sql.Tx, tenant string, a evaluation.SelfAssessment) error {
	return upsertLevels(ctx, tx, tenant, a, ` WHERE assessment_levels.submit_micros <= excluded.submit_micros`)
}

// Assessments returns a participant's phases, PRE first.
func (s *Store) Assessments(ctx context.Context, tenant, participantID string) ([]evaluation.SelfAssessment, error) {
	return readAssessments(ctx, s.db, `participant_id = $2`, tenant, participantID)
}

// upsertLevels stores a's levels; guard, if not empty, is the WHERE clause
// replacing a stored level must meet.
func upsertLevels(ctx context.Context, tx *sql.Tx, tenant string, a evaluation.SelfAssessment, guard string) error {
	for _, l := range a.Levels {
		submitted := l.SubmitTime
		if submitted.IsZero() {
			submitted = a.SubmitTime
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO assessment_levels (tenant_id, participant_id, phase, skill_id, program_id,
				person_id, level, submit_micros)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (tenant_id, participant_id, phase, skill_id) DO UPDATE SET program_id = excluded.program_id,
				person_id = excluded.person_id, level = excluded.level, submit_micros = excluded.submit_micros`+guard,
			tenant, a.ParticipantID, string(a.Phase), l.SkillID, a.ProgramID, a.PersonID, l.Level, micros(submitted))
		if err != nil {
			return fmt.Errorf("db: upsert self-assessed level: %w", err)
		}
	}
	return nil
}

// readAssessments reads the phases whose levels meet where (with $1 the
// tenant and args from $2), by participant, PRE first, levels by skill.
func readAssessments(ctx context.Context, q sqlstore.Querier, where, tenant string, args ...any) ([]evaluation.SelfAssessment, error) {
	type row struct {
		phase evaluation.SelfAssessment
		level evaluation.SkillLevel
	}
	rows, err := sqlstore.QueryAll(ctx, q, `SELECT participant_id, phase, program_id, person_id, skill_id, level, submit_micros
		FROM assessment_levels WHERE tenant_id = $1 AND `+where+`
		ORDER BY participant_id, CASE phase WHEN 'pre' THEN 0 ELSE 1 END, phase, skill_id`,
		append([]any{tenant}, args...), func(r scanner) (row, error) {
			var x row
			var submitted int64
			err := r.Scan(&x.phase.ParticipantID, &x.phase.Phase, &x.phase.ProgramID, &x.phase.PersonID, &x.level.SkillID,
				&x.level.Level, &submitted)
			x.level.SubmitTime = fromMicros(submitted)
			return x, err
		})
	if err != nil {
		return nil, fmt.Errorf("read self-assessments: %w", err)
	}
	var out []evaluation.SelfAssessment
	for _, x := range rows {
		n := len(out)
		if n == 0 || out[n-1].ParticipantID != x.phase.ParticipantID || out[n-1].Phase != x.phase.Phase {
			out = append(out, x.phase)
			n++
		}
		a := &out[n-1]
		a.Levels = append(a.Levels, x.level)
		if x.level.SubmitTime.After(a.SubmitTime) {
			a.SubmitTime = x.level.SubmitTime
		}
	}
	return out, nil
}

const feedbackColumns = `id, session_id, match_id, program_id, author_person_id, rating, tags, comment, private_comment,
	has_private_comment, submit_micros`

func feedbackArgs(tenant string, f evaluation.Feedback) []any {
	return []any{tenant, f.ID, f.SessionID, f.MatchID, f.ProgramID, f.AuthorPersonID, f.Rating, jsonText(f.Tags), f.Comment,
		f.PrivateComment, f.HasPrivateComment, micros(f.SubmitTime)}
}

func scanFeedback(row scanner) (evaluation.Feedback, error) {
	var f evaluation.Feedback
	var tags string
	var submitted int64
	if err := row.Scan(&f.ID, &f.SessionID, &f.MatchID, &f.ProgramID, &f.AuthorPersonID, &f.Rating, &tags, &f.Comment,
		&f.PrivateComment, &f.HasPrivateComment, &submitted); err != nil {
		return f, err
	}
	f.SubmitTime = fromMicros(submitted)
	var err error
	f.Tags, err = fromJSON[string](tags)
	return f, err
}

// withoutPrivateComments blanks the private comments of a list, which
// carries HasPrivateComment instead.
func withoutPrivateComments(list []evaluation.Feedback) []evaluation.Feedback {
	for i := range list {
		list[i].PrivateComment = ""
	}
	return list
}

const pulseColumns = `id, match_id, program_id, person_id, day, satisfaction, recommend, comment, submit_micros`

func pulseArgs(tenant string, r evaluation.PulseResponse) []any {
	return []any{tenant, r.ID, r.MatchID, r.ProgramID, r.PersonID, r.Day, r.Satisfaction, r.Recommend, r.Comment,
		micros(r.SubmitTime)}
}

func scanPulse(row scanner) (evaluation.PulseResponse, error) {
	var r evaluation.PulseResponse
	var submitted int64
	err := row.Scan(&r.ID, &r.MatchID, &r.ProgramID, &r.PersonID, &r.Day, &r.Satisfaction, &r.Recommend, &r.Comment, &submitted)
	r.SubmitTime = fromMicros(submitted)
	return r, err
}
