package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/evaluation/internal/evaluation"
	"github.com/tandem-oss/tandem/services/evaluation/internal/pbconv"
)

// The service's own records: program settings, agreements and goals. Each
// write enqueues its event in its transaction; each Apply (a replay of the
// service's own event by its consumer) keeps the newer record and writes
// no event.

// Settings returns a program's settings.
func (s *Store) Settings(ctx context.Context, tenant, programID string) (evaluation.Settings, error) {
	st, err := scanSettings(s.db.QueryRowContext(ctx, `SELECT `+settingsColumns+` FROM settings
		WHERE tenant_id = $1 AND program_id = $2`, tenant, programID))
	if errors.Is(err, sql.ErrNoRows) {
		return st, notFound("settings of program", programID)
	}
	if err != nil {
		return st, fmt.Errorf("db: read settings: %w", err)
	}
	return st, nil
}

// PutSettings stores a program's settings, makes every health of the
// program due at the settings' update time, so the sweep re-evaluates
// them with the new thresholds, and writes evaluation_settings.updated.
func (s *Store) PutSettings(ctx context.Context, tenant string, st evaluation.Settings) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := upsertSettings(ctx, tx, tenant, st, ""); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE healths SET next_check_micros = $3 WHERE tenant_id = $1 AND program_id = $2`,
			tenant, st.ProgramID, micros(st.UpdateTime)); err != nil {
			return fmt.Errorf("db: make program healths due: %w", err)
		}
		return eventbus.Enqueue(ctx, tx, Source, eventbus.Event{
			Tenant: tenant, Aggregate: "evaluation_settings", AggregateID: st.ProgramID, Type: "updated",
			Payload: &eventsv1.EvaluationSettingsUpdated{Settings: pbconv.Settings(st)},
		})
	})
}

// ApplySettings stores replayed settings unless newer ones are stored.
func (s *Store) ApplySettings(ctx context.Context, tx *sql.Tx, tenant string, st evaluation.Settings) error {
	return upsertSettings(ctx, tx, tenant, st, ` WHERE settings.update_micros <= excluded.update_micros`)
}

// upsertSettings inserts or replaces a program's settings; guard, if not
// empty, is the WHERE clause a replacement must meet.
func upsertSettings(ctx context.Context, tx *sql.Tx, tenant string, st evaluation.Settings, guard string) error {
	t, h := st.AgreementTemplate, st.Health
	_, err := tx.ExecContext(ctx, `INSERT INTO settings (tenant_id, `+settingsColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (tenant_id, program_id) DO UPDATE SET topic_scope = excluded.topic_scope,
			confidentiality = excluded.confidentiality, expectations = excluded.expectations,
			meeting_structure = excluded.meeting_structure, pulse_survey_days = excluded.pulse_survey_days,
			days_without_session = excluded.days_without_session, cancellations = excluded.cancellations,
			low_rating = excluded.low_rating, unsigned_agreement_days = excluded.unsigned_agreement_days,
			update_micros = excluded.update_micros`+guard,
		tenant, st.ProgramID, t.TopicScope, t.Confidentiality, jsonText(t.Expectations), t.MeetingStructure,
		jsonText(st.PulseSurveyDays), h.DaysWithoutSession, h.Cancellations, h.LowRating, h.UnsignedAgreementDays,
		micros(st.UpdateTime))
	if err != nil {
		return fmt.Errorf("db: upsert settings: %w", err)
	}
	return nil
}

// Agreement returns a version of a pair's agreement, the newest when
// version is 0.
func (s *Store) Agreement(ctx context.Context, tenant, matchID string, version int) (evaluation.Agreement, error) {
	a, err := readAgreement(ctx, s.db, tenant, matchID, version)
	if err != nil {
		return evaluation.Agreement{}, err
	}
	if a == nil {
		return evaluation.Agreement{}, notFound("agreement of match", matchID)
	}
	return *a, nil
}

// CreateAgreement stores a pair's first agreement, writes
// agreement.created and re-evaluates the pair's health.
func (s *Store) CreateAgreement(ctx context.Context, tenant string, a evaluation.Agreement, now time.Time) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := readAgreement(ctx, tx, tenant, a.MatchID, 0)
		if err != nil {
			return err
		}
		if cur != nil {
			return fmt.Errorf("match %s has an agreement: %w", a.MatchID, apperr.ErrAlreadyExists)
		}
		if err := insertAgreement(ctx, tx, tenant, a); err != nil {
			return err
		}
		if err := eventbus.Enqueue(ctx, tx, Source, agreementEvent(tenant, "created",
			&eventsv1.AgreementCreated{Agreement: pbconv.Agreement(a)}, a)); err != nil {
			return err
		}
		return s.RefreshHealth(ctx, tx, tenant, a.MatchID, now)
	})
}

// ChangeAgreement calls fn with the pair's newest agreement and stores
// what it returns: a higher version as a new one (agreement.updated), the
// same version's signatures (agreement.signed with signer). The pair's
// lowest version row is locked first and the newest read after, so
// concurrent changes of a pair apply one after the other, each to the
// version the previous one left.
func (s *Store) ChangeAgreement(ctx context.Context, tenant, matchID string, now time.Time,
	fn func(cur evaluation.Agreement) (evaluation.Agreement, string, error)) (evaluation.Agreement, error) {
	var next evaluation.Agreement
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		var lowest int
		err := tx.QueryRowContext(ctx, `SELECT version FROM agreements WHERE tenant_id = $1 AND match_id = $2
			ORDER BY version LIMIT 1`+s.forUpdate(), tenant, matchID).Scan(&lowest)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("agreement of match", matchID)
		}
		if err != nil {
			return fmt.Errorf("db: lock agreement: %w", err)
		}
		cur, err := readAgreement(ctx, tx, tenant, matchID, 0)
		if err != nil {
			return err
		}
		var signer string
		if next, signer, err = fn(*cur); err != nil {
			return err
		}
		next.MatchID = matchID
		var event eventbus.Event
		switch {
		case next.Version > cur.Version:
			if err := insertAgreement(ctx, tx, tenant, next); err != nil {
				return err
			}
			event = agreementEvent(tenant, "updated", &eventsv1.AgreementUpdated{Agreement: pbconv.Agreement(next)}, next)
		case next.Version == cur.Version:
			if err := mergeAgreement(ctx, tx, tenant, next); err != nil {
				return err
			}
			stored, err := readAgreement(ctx, tx, tenant, matchID, next.Version)
			if err != nil {
				return err
			}
			next = *stored
			event = agreementEvent(tenant, "signed", &eventsv1.AgreementSigned{Agreement: pbconv.Agreement(next), PersonId: signer}, next)
		default:
			return fmt.Errorf("agreement version %d of match %s is older than the newest, %d: %w",
				next.Version, matchID, cur.Version, apperr.ErrFailedPrecondition)
		}
		if err := eventbus.Enqueue(ctx, tx, Source, event); err != nil {
			return err
		}
		return s.RefreshHealth(ctx, tx, tenant, matchID, now)
	})
	if err != nil {
		return evaluation.Agreement{}, err
	}
	return next, nil
}

// ApplyAgreement stores a replayed agreement version, keeping the earliest
// signatures and the newest update time of what is stored.
func (s *Store) ApplyAgreement(ctx context.Context, tx *sql.Tx, tenant string, a evaluation.Agreement) error {
	return mergeAgreement(ctx, tx, tenant, a)
}

// readAgreement reads a version of a pair's agreement (the newest for 0)
// with q; nil when there is none.
func readAgreement(ctx context.Context, q sqlstore.Querier, tenant, matchID string, version int) (*evaluation.Agreement, error) {
	found, err := sqlstore.QueryAll(ctx, q, `SELECT `+agreementColumns+` FROM agreements
		WHERE tenant_id = $1 AND match_id = $2 AND ($3 = 0 OR version = $3)
		ORDER BY version DESC LIMIT 1`, []any{tenant, matchID, version}, scanAgreement)
	if err != nil {
		return nil, fmt.Errorf("read agreement of match %s: %w", matchID, err)
	}
	if len(found) == 0 {
		return nil, nil
	}
	return &found[0], nil
}

// insertAgreement stores a new version.
func insertAgreement(ctx context.Context, tx *sql.Tx, tenant string, a evaluation.Agreement) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO agreements (tenant_id, `+agreementColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, agreementArgs(tenant, a)...)
	if sqlstore.IsUniqueViolation(err) {
		return fmt.Errorf("agreement version %d of match %s: %w", a.Version, a.MatchID, apperr.ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("db: insert agreement: %w", err)
	}
	return nil
}

// mergeAgreement stores a version or, when it is stored, adds the
// signatures it has and the stored one lacks, and keeps the newer update
// time.
func mergeAgreement(ctx context.Context, tx *sql.Tx, tenant string, a evaluation.Agreement) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO agreements (tenant_id, `+agreementColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (tenant_id, match_id, version) DO UPDATE SET `+
		earliest("agreements", "mentor_sign_micros", "mentee_sign_micros")+`,
			update_micros = CASE WHEN excluded.update_micros > agreements.update_micros
				THEN excluded.update_micros ELSE agreements.update_micros END`, agreementArgs(tenant, a)...)
	if err != nil {
		return fmt.Errorf("db: merge agreement: %w", err)
	}
	return nil
}

func agreementEvent(tenant, typ string, payload proto.Message, a evaluation.Agreement) eventbus.Event {
	return eventbus.Event{Tenant: tenant, Aggregate: "agreement", AggregateID: a.MatchID, Type: typ, Payload: payload}
}

// CreateGoal stores a goal and writes goal.created.
func (s *Store) CreateGoal(ctx context.Context, tenant string, g evaluation.Goal) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO goals (tenant_id, `+goalColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, goalArgs(tenant, g)...)
		if sqlstore.IsUniqueViolation(err) {
			return fmt.Errorf("goal %s: %w", g.ID, apperr.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("db: insert goal: %w", err)
		}
		return eventbus.Enqueue(ctx, tx, Source, goalEvent(tenant, "created", &eventsv1.GoalCreated{Goal: pbconv.Goal(g)}, g))
	})
}

// UpdateGoal calls fn with the goal, read and locked inside the
// transaction, and stores the result with its revision bumped; the goal
// keeps its id, pair, program, author and create time whatever fn does.
func (s *Store) UpdateGoal(ctx context.Context, tenant, id string, fn func(*evaluation.Goal) error) (evaluation.Goal, error) {
	var g evaluation.Goal
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanGoal(tx.QueryRowContext(ctx, `SELECT `+goalColumns+` FROM goals WHERE tenant_id = $1 AND id = $2`+s.forUpdate(),
			tenant, id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("goal", id)
		}
		if err != nil {
			return fmt.Errorf("db: read goal: %w", err)
		}
		g = cur
		if err := fn(&g); err != nil {
			return err
		}
		g.ID, g.MatchID, g.ProgramID, g.AuthorPersonID, g.CreateTime = cur.ID, cur.MatchID, cur.ProgramID, cur.AuthorPersonID, cur.CreateTime
		g.Revision = cur.Revision + 1
		if err := upsertGoal(ctx, tx, tenant, g); err != nil {
			return err
		}
		return eventbus.Enqueue(ctx, tx, Source, goalEvent(tenant, "updated", &eventsv1.GoalUpdated{Goal: pbconv.Goal(g)}, g))
	})
	if err != nil {
		return evaluation.Goal{}, err
	}
	return g, nil
}

// ApplyGoal stores a replayed goal unless the stored revision is as new.
func (s *Store) ApplyGoal(ctx context.Context, tx *sql.Tx, tenant string, g evaluation.Goal) error {
	return upsertGoal(ctx, tx, tenant, g)
}

// upsertGoal stores g unless the stored goal's revision is g's or newer.
func upsertGoal(ctx context.Context, tx *sql.Tx, tenant string, g evaluation.Goal) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO goals (tenant_id, `+goalColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (tenant_id, id) DO UPDATE SET match_id = excluded.match_id, program_id = excluded.program_id,
			title = excluded.title, description = excluded.description, milestones = excluded.milestones,
			progress = excluded.progress, state = excluded.state, due_date = excluded.due_date,
			revision = excluded.revision, author_person_id = excluded.author_person_id,
			create_micros = excluded.create_micros, update_micros = excluded.update_micros,
			complete_micros = excluded.complete_micros
		WHERE goals.revision < excluded.revision`, goalArgs(tenant, g)...)
	if err != nil {
		return fmt.Errorf("db: upsert goal: %w", err)
	}
	return nil
}

// Goal returns a goal.
func (s *Store) Goal(ctx context.Context, tenant, id string) (evaluation.Goal, error) {
	g, err := scanGoal(s.db.QueryRowContext(ctx, `SELECT `+goalColumns+` FROM goals WHERE tenant_id = $1 AND id = $2`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return g, notFound("goal", id)
	}
	if err != nil {
		return g, fmt.Errorf("db: read goal: %w", err)
	}
	return g, nil
}

// Goals lists a pair's goals by create time and id.
func (s *Store) Goals(ctx context.Context, tenant, matchID string) ([]evaluation.Goal, error) {
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+goalColumns+` FROM goals WHERE tenant_id = $1 AND match_id = $2
		ORDER BY create_micros, id`, []any{tenant, matchID}, scanGoal)
}

func goalEvent(tenant, typ string, payload proto.Message, g evaluation.Goal) eventbus.Event {
	return eventbus.Event{Tenant: tenant, Aggregate: "goal", AggregateID: g.ID, Type: typ, Payload: payload}
}

const settingsColumns = `program_id, topic_scope, confidentiality, expectations, meeting_structure, pulse_survey_days,
	days_without_session, cancellations, low_rating, unsigned_agreement_days, update_micros`

func scanSettings(row scanner) (evaluation.Settings, error) {
	var st evaluation.Settings
	t, h := &st.AgreementTemplate, &st.Health
	var expectations, days string
	var updated int64
	if err := row.Scan(&st.ProgramID, &t.TopicScope, &t.Confidentiality, &expectations, &t.MeetingStructure, &days,
		&h.DaysWithoutSession, &h.Cancellations, &h.LowRating, &h.UnsignedAgreementDays, &updated); err != nil {
		return st, err
	}
	st.UpdateTime = fromMicros(updated)
	var err error
	if t.Expectations, err = fromJSON[string](expectations); err != nil {
		return st, err
	}
	st.PulseSurveyDays, err = fromJSON[int](days)
	return st, err
}

const agreementColumns = `match_id, version, program_id, topic_scope, confidentiality, expectations, meeting_structure,
	mentor_person_id, mentee_person_id, mentor_sign_micros, mentee_sign_micros, author_person_id, create_micros,
	update_micros`

func agreementArgs(tenant string, a evaluation.Agreement) []any {
	t := a.Terms
	return []any{tenant, a.MatchID, a.Version, a.ProgramID, t.TopicScope, t.Confidentiality, jsonText(t.Expectations),
		t.MeetingStructure, a.MentorPersonID, a.MenteePersonID, micros(a.MentorSignTime), micros(a.MenteeSignTime),
		a.AuthorPersonID, micros(a.CreateTime), micros(a.UpdateTime)}
}

func scanAgreement(row scanner) (evaluation.Agreement, error) {
	var a evaluation.Agreement
	t := &a.Terms
	var expectations string
	var mentorSigned, menteeSigned, created, updated int64
	if err := row.Scan(&a.MatchID, &a.Version, &a.ProgramID, &t.TopicScope, &t.Confidentiality, &expectations,
		&t.MeetingStructure, &a.MentorPersonID, &a.MenteePersonID, &mentorSigned, &menteeSigned, &a.AuthorPersonID,
		&created, &updated); err != nil {
		return a, err
	}
	a.MentorSignTime, a.MenteeSignTime = fromMicros(mentorSigned), fromMicros(menteeSigned)
	a.CreateTime, a.UpdateTime = fromMicros(created), fromMicros(updated)
	var err error
	t.Expectations, err = fromJSON[string](expectations)
	return a, err
}

const goalColumns = `id, match_id, program_id, title, description, milestones, progress, state, due_date, revision,
	author_person_id, create_micros, update_micros, complete_micros`

// milestoneJSON is a milestone in the goals.milestones column.
type milestoneJSON struct {
	Title      string `json:"title"`
	Done       bool   `json:"done"`
	DoneMicros int64  `json:"done_micros"`
}

func goalArgs(tenant string, g evaluation.Goal) []any {
	milestones := make([]milestoneJSON, len(g.Milestones))
	for i, m := range g.Milestones {
		milestones[i] = milestoneJSON{Title: m.Title, Done: m.Done, DoneMicros: micros(m.DoneTime)}
	}
	return []any{tenant, g.ID, g.MatchID, g.ProgramID, g.Title, g.Description, jsonText(milestones), g.Progress,
		string(g.State), g.DueDate, g.Revision, g.AuthorPersonID, micros(g.CreateTime), micros(g.UpdateTime),
		micros(g.CompleteTime)}
}

func scanGoal(row scanner) (evaluation.Goal, error) {
	var g evaluation.Goal
	var milestones string
	var created, updated, completed int64
	if err := row.Scan(&g.ID, &g.MatchID, &g.ProgramID, &g.Title, &g.Description, &milestones, &g.Progress, &g.State,
		&g.DueDate, &g.Revision, &g.AuthorPersonID, &created, &updated, &completed); err != nil {
		return g, err
	}
	g.CreateTime, g.UpdateTime, g.CompleteTime = fromMicros(created), fromMicros(updated), fromMicros(completed)
	stored, err := fromJSON[milestoneJSON](milestones)
	for _, m := range stored {
		g.Milestones = append(g.Milestones, evaluation.Milestone{Title: m.Title, Done: m.Done, DoneTime: fromMicros(m.DoneMicros)})
	}
	return g, err
}
