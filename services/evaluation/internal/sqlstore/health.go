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

// Health rows exist for active pairs only. Every re-evaluation of a pair
// first takes its row's lock (creating the row ON_TRACK if missing), so
// concurrent re-evaluations of one pair take turns and each sees the
// status the previous one stored: a status change writes one event.

// RefreshHealth re-evaluates a pair's health at now: it removes the row of
// a pair that is not (or no longer) active; otherwise it computes the
// health from the pair's activity, keeps SinceTime unless the status
// changed, and writes match.health_changed when it did. A new row counts
// as ON_TRACK before, so a pair that starts ON_TRACK writes no event.
func (s *Store) RefreshHealth(ctx context.Context, tx *sql.Tx, tenant, matchID string, now time.Time) error {
	m, err := readMatch(ctx, tx, tenant, matchID)
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return err
	}
	if err != nil || m.State != evaluation.MatchActive {
		if _, err := tx.ExecContext(ctx, `DELETE FROM healths WHERE tenant_id = $1 AND match_id = $2`, tenant, matchID); err != nil {
			return fmt.Errorf("db: delete health: %w", err)
		}
		return nil
	}
	prev, err := s.lockHealth(ctx, tx, tenant, m, now)
	if err != nil {
		return err
	}
	activity, err := pairActivity(ctx, tx, tenant, m)
	if err != nil {
		return err
	}
	h := evaluation.EvaluateHealth(activity, now)
	h.MatchID, h.ProgramID, h.MentorPersonID, h.MenteePersonID = m.ID, m.ProgramID, m.MentorPersonID, m.MenteePersonID
	h.SinceTime, h.EvaluateTime = prev.SinceTime, now
	if h.Status != prev.Status {
		h.SinceTime = now
	}
	if _, err := tx.ExecContext(ctx, `UPDATE healths SET program_id = $3, mentor_person_id = $4, mentee_person_id = $5,
			status = $6, reasons = $7, since_micros = $8, evaluate_micros = $9, next_check_micros = $10
		WHERE tenant_id = $1 AND match_id = $2`,
		tenant, m.ID, h.ProgramID, h.MentorPersonID, h.MenteePersonID, int(h.Status), jsonText(h.Reasons),
		micros(h.SinceTime), micros(h.EvaluateTime), nullMicros(h.NextCheck)); err != nil {
		return fmt.Errorf("db: update health: %w", err)
	}
	if h.Status == prev.Status {
		return nil
	}
	return eventbus.Enqueue(ctx, tx, Source, eventbus.Event{
		Tenant: tenant, Aggregate: "match", AggregateID: m.ID, Type: "health_changed",
		Payload: &eventsv1.MatchHealthChanged{Health: pbconv.Health(h), PreviousStatus: pbconv.HealthStatus(prev.Status)},
	})
}

// lockHealth locks a pair's health row, creating it ON_TRACK since now
// when missing, and returns it as stored.
func (s *Store) lockHealth(ctx context.Context, tx *sql.Tx, tenant string, m evaluation.Match, now time.Time) (evaluation.Health, error) {
	// A concurrent insert of the same row makes this one wait for its
	// commit and then do nothing.
	if _, err := tx.ExecContext(ctx, `INSERT INTO healths (tenant_id, match_id, program_id, mentor_person_id, mentee_person_id,
			status, reasons, since_micros, evaluate_micros, next_check_micros)
		VALUES ($1, $2, $3, $4, $5, $6, '[]', $7, $7, NULL)
		ON CONFLICT (tenant_id, match_id) DO NOTHING`,
		tenant, m.ID, m.ProgramID, m.MentorPersonID, m.MenteePersonID, int(evaluation.OnTrack), micros(now)); err != nil {
		return evaluation.Health{}, fmt.Errorf("db: create health: %w", err)
	}
	h, err := scanHealth(tx.QueryRowContext(ctx, `SELECT `+healthColumns+` FROM healths
		WHERE tenant_id = $1 AND match_id = $2`+s.forUpdate(), tenant, m.ID))
	if err != nil {
		return h, fmt.Errorf("db: lock health: %w", err)
	}
	return h, nil
}

// pairActivity reads what a pair's health is computed from.
func pairActivity(ctx context.Context, tx *sql.Tx, tenant string, m evaluation.Match) (evaluation.PairActivity, error) {
	a := evaluation.PairActivity{Match: m}
	sessions, err := sqlstore.QueryAll(ctx, tx, `SELECT `+sessionColumns+` FROM sessions
		WHERE tenant_id = $1 AND match_id = $2 ORDER BY start_micros, id`, []any{tenant, m.ID}, scanSession)
	if err != nil {
		return a, fmt.Errorf("read sessions of match %s: %w", m.ID, err)
	}
	for _, x := range sessions {
		switch {
		case x.State == evaluation.SessionCompleted:
			a.HeldStarts = append(a.HeldStarts, x.StartTime)
		case x.State == evaluation.SessionCancelled && x.CancelledBy != "" &&
			(x.CancelledBy == m.MentorPersonID || x.CancelledBy == m.MenteePersonID):
			a.CancelTimes = append(a.CancelTimes, x.CancelTime)
		}
	}
	a.Ratings, err = sqlstore.QueryAll(ctx, tx, `SELECT rating FROM feedback WHERE tenant_id = $1 AND match_id = $2
		ORDER BY submit_micros, id`, []any{tenant, m.ID}, func(r scanner) (int, error) {
		var rating int
		return rating, r.Scan(&rating)
	})
	if err != nil {
		return a, fmt.Errorf("read ratings of match %s: %w", m.ID, err)
	}
	if a.Agreement, err = readAgreement(ctx, tx, tenant, m.ID, 0); err != nil {
		return a, err
	}
	a.Health, err = thresholds(ctx, tx, tenant, m.ProgramID)
	return a, err
}

// thresholds returns a program's health thresholds, a default for each
// the program did not set.
func thresholds(ctx context.Context, tx *sql.Tx, tenant, programID string) (evaluation.HealthThresholds, error) {
	var h evaluation.HealthThresholds
	err := tx.QueryRowContext(ctx, `SELECT days_without_session, cancellations, low_rating, unsigned_agreement_days
		FROM settings WHERE tenant_id = $1 AND program_id = $2`, tenant, programID).
		Scan(&h.DaysWithoutSession, &h.Cancellations, &h.LowRating, &h.UnsignedAgreementDays)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("db: read thresholds: %w", err)
	}
	return h.WithDefaults(), nil
}

// RefreshDueHealth claims at most limit healths in any tenant whose next
// check is at or before now, in order of next check, and re-evaluates
// each in one transaction. On PostgreSQL the claimed rows are locked and
// rows another replica holds are skipped (FOR UPDATE SKIP LOCKED); a row
// re-evaluated by a replica meanwhile no longer matches once its lock is
// released, as its next check moved. On SQLite the transaction holds the
// single write lock. Either way each due row is evaluated by one caller.
func (s *Store) RefreshDueHealth(ctx context.Context, now time.Time, limit int) (int, error) {
	lock := ""
	if s.db.Dialect == sqlstore.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	type due struct{ tenant, matchID string }
	n := 0
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := sqlstore.QueryAll(ctx, tx, `SELECT tenant_id, match_id FROM healths
			WHERE next_check_micros <= $1
			ORDER BY next_check_micros, tenant_id, match_id LIMIT $2`+lock, []any{micros(now), limit},
			func(r scanner) (due, error) {
				var d due
				return d, r.Scan(&d.tenant, &d.matchID)
			})
		if err != nil {
			return fmt.Errorf("claim due healths: %w", err)
		}
		for _, d := range rows {
			if err := s.RefreshHealth(ctx, tx, d.tenant, d.matchID, now); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// NextHealthCheck returns the earliest next check of any active pair; ok
// is false when none has one.
func (s *Store) NextHealthCheck(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(next_check_micros) FROM healths`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("db: read next health check: %w", err)
	}
	return fromNullMicros(next), next.Valid, nil
}

// Health returns an active pair's health.
func (s *Store) Health(ctx context.Context, tenant, matchID string) (evaluation.Health, error) {
	h, err := scanHealth(s.db.QueryRowContext(ctx, `SELECT `+healthColumns+` FROM healths WHERE tenant_id = $1 AND match_id = $2`,
		tenant, matchID))
	if errors.Is(err, sql.ErrNoRows) {
		return h, notFound("health of match", matchID)
	}
	if err != nil {
		return h, fmt.Errorf("db: read health: %w", err)
	}
	return h, nil
}

// ListHealth lists a program's healths with status at least min, worst
// first, then longest in that status, then by match id, after the cursor
// (zero for the first page), at most limit.
func (s *Store) ListHealth(ctx context.Context, tenant, programID string, min evaluation.HealthStatus,
	after evaluation.HealthCursor, limit int) ([]evaluation.Health, error) {
	args := []any{tenant, programID, int(min), limit}
	page := ""
	if after != (evaluation.HealthCursor{}) {
		page = ` AND (status < $5 OR (status = $5 AND (since_micros > $6 OR (since_micros = $6 AND match_id > $7))))`
		args = append(args, int(after.Status), micros(after.Since), after.ID)
	}
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+healthColumns+` FROM healths
		WHERE tenant_id = $1 AND program_id = $2 AND status >= $3`+page+`
		ORDER BY status DESC, since_micros, match_id LIMIT $4`, args, scanHealth)
}

const healthColumns = `match_id, program_id, mentor_person_id, mentee_person_id, status, reasons, since_micros,
	evaluate_micros, next_check_micros`

func scanHealth(row scanner) (evaluation.Health, error) {
	var h evaluation.Health
	var reasons string
	var since, evaluated int64
	var next sql.NullInt64
	if err := row.Scan(&h.MatchID, &h.ProgramID, &h.MentorPersonID, &h.MenteePersonID, &h.Status, &reasons, &since,
		&evaluated, &next); err != nil {
		return h, err
	}
	h.SinceTime, h.EvaluateTime, h.NextCheck = fromMicros(since), fromMicros(evaluated), fromNullMicros(next)
	var err error
	h.Reasons, err = fromJSON[string](reasons)
	return h, err
}
