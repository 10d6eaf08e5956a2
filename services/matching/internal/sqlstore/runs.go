package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
)

const runColumns = `id, program_id, state, strategy, maximise_participation, config, config_version, what_if,
	progress_percent, error, metrics, certified, epoch, matches_created, create_time, finish_time, publish_time`

// noLease is the lease expiry of a run nobody holds.
var noLease = time.Unix(0, 0).UTC()

// CreateMatchRun stores a RUNNING run that nobody holds, so any replica may
// claim it at once, and writes match_run.created.
func (s *Store) CreateMatchRun(ctx context.Context, tenant string, r matching.MatchRun) error {
	return eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO match_runs (tenant_id, `+runColumns+`, lease_owner, lease_expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, '', $19)`,
			tenant, r.ID, r.ProgramID, string(r.State), string(r.Strategy), r.MaximiseParticipation, jsonText(r.Config),
			r.ConfigVersion, r.WhatIf, r.ProgressPercent, r.Error, jsonText(r.Metrics), r.Certified, r.Epoch, r.MatchesCreated,
			r.CreateTime, nullTime(r.FinishTime), nullTime(r.PublishTime), noLease)
		if err != nil {
			return nil, fmt.Errorf("db: insert match run: %w", err)
		}
		return []eventbus.Event{runEvent(tenant, "created", r)}, nil
	})
}

// MatchRun returns a run.
func (s *Store) MatchRun(ctx context.Context, tenant, id string) (matching.MatchRun, error) {
	return readRun(ctx, s.db, tenant, id)
}

// ListMatchRuns returns a program's runs ordered by id.
func (s *Store) ListMatchRuns(ctx context.Context, tenant, programID string, page matching.Page) ([]matching.MatchRun, error) {
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+runColumns+` FROM match_runs WHERE tenant_id = $1 AND program_id = $2 AND id > $3
		ORDER BY id LIMIT $4`, []any{tenant, programID, page.After, page.Size}, scanRun)
}

// ListRunPairs returns a run's pairs by mentee participant id; size 0
// means all of them.
func (s *Store) ListRunPairs(ctx context.Context, tenant, runID string, page matching.Page) ([]matching.RunPair, error) {
	if _, err := readRun(ctx, s.db, tenant, runID); err != nil {
		return nil, err
	}
	return listRunPairs(ctx, s.db, tenant, runID, page)
}

func listRunPairs(ctx context.Context, q querier, tenant, runID string, page matching.Page) ([]matching.RunPair, error) {
	query, args := `SELECT mentor_participant_id, mentee_participant_id, mentor_person_id, mentee_person_id, score, factors
		FROM match_run_pairs WHERE tenant_id = $1 AND run_id = $2 AND mentee_participant_id > $3
		ORDER BY mentee_participant_id`, []any{tenant, runID, page.After}
	if page.Size > 0 {
		query, args = query+` LIMIT $4`, append(args, page.Size)
	}
	return sqlstore.QueryAll(ctx, q, query, args, func(row scanner) (matching.RunPair, error) {
		var p matching.RunPair
		var factors string
		if err := row.Scan(&p.MentorID, &p.MenteeID, &p.MentorPersonID, &p.MenteePersonID, &p.Score, &factors); err != nil {
			return p, err
		}
		return p, decodeFactors(factors, &p.Factors)
	})
}

// ListRunUnmatched returns a run's unmatched participants by participant
// id; size 0 means all of them.
func (s *Store) ListRunUnmatched(ctx context.Context, tenant, runID string, page matching.Page) ([]matching.Unmatched, error) {
	if _, err := readRun(ctx, s.db, tenant, runID); err != nil {
		return nil, err
	}
	query, args := `SELECT participant_id, person_id, role, reason, detail FROM match_run_unmatched
		WHERE tenant_id = $1 AND run_id = $2 AND participant_id > $3 ORDER BY participant_id`, []any{tenant, runID, page.After}
	if page.Size > 0 {
		query, args = query+` LIMIT $4`, append(args, page.Size)
	}
	return sqlstore.QueryAll(ctx, s.db, query, args, func(row scanner) (matching.Unmatched, error) {
		var u matching.Unmatched
		var role string
		err := row.Scan(&u.ParticipantID, &u.PersonID, &role, &u.Reason, &u.Detail)
		u.Role = matching.Role(role)
		return u, err
	})
}

// ClaimMatchRun leases the oldest RUNNING run whose lease has expired to
// owner and drops the results an earlier holder may have stored. The
// conditional UPDATE decides between replicas racing for one run.
func (s *Store) ClaimMatchRun(ctx context.Context, owner string, ttl time.Duration) (matching.RunJob, bool, error) {
	now := time.Now().UTC()
	expired, args := `lease_expires_at < $1`, []any{now}
	if s.db.Dialect == sqlstore.Postgres {
		// The database clock decides, so replicas with skewed clocks agree.
		expired, args = `lease_expires_at < now()`, nil
	}
	type key struct{ tenant, id string }
	candidates, err := sqlstore.QueryAll(ctx, s.db, `SELECT tenant_id, id FROM match_runs WHERE state = 'running' AND `+expired+
		` ORDER BY create_time, id LIMIT 10`, args, func(row scanner) (key, error) {
		var k key
		err := row.Scan(&k.tenant, &k.id)
		return k, err
	})
	if err != nil {
		return matching.RunJob{}, false, err
	}
	for _, c := range candidates {
		claimed := false
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			q, args := `UPDATE match_runs SET lease_owner = $1, lease_expires_at = $2, progress_percent = 0
				WHERE tenant_id = $3 AND id = $4 AND state = 'running' AND lease_expires_at < $5`,
				[]any{owner, now.Add(ttl), c.tenant, c.id, now}
			if s.db.Dialect == sqlstore.Postgres {
				q, args = `UPDATE match_runs SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2),
					progress_percent = 0 WHERE tenant_id = $3 AND id = $4 AND state = 'running' AND lease_expires_at < now()`,
					[]any{owner, ttl.Seconds(), c.tenant, c.id}
			}
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("db: claim match run: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				return nil // another replica was faster
			}
			for _, table := range []string{"match_run_pairs", "match_run_unmatched"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE tenant_id = $1 AND run_id = $2`, c.tenant, c.id); err != nil {
					return fmt.Errorf("db: drop partial results: %w", err)
				}
			}
			claimed = true
			return nil
		})
		if err != nil {
			return matching.RunJob{}, false, err
		}
		if !claimed {
			continue
		}
		run, err := readRun(ctx, s.db, c.tenant, c.id)
		if err != nil {
			return matching.RunJob{}, false, err
		}
		return matching.RunJob{Tenant: c.tenant, Run: run}, true, nil
	}
	return matching.RunJob{}, false, nil
}

// RenewMatchRun extends owner's lease and raises the progress.
func (s *Store) RenewMatchRun(ctx context.Context, tenant, id, owner string, ttl time.Duration, percent int) error {
	return renewRun(ctx, s.db, s.db.Dialect, tenant, id, owner, ttl, percent)
}

// execer is a database or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func renewRun(ctx context.Context, db execer, dialect sqlstore.Dialect, tenant, id, owner string, ttl time.Duration, percent int) error {
	q, args := `UPDATE match_runs SET lease_expires_at = $5,
		progress_percent = CASE WHEN progress_percent < $6 THEN $6 ELSE progress_percent END
		WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 AND state = $4`,
		[]any{tenant, id, owner, string(matching.RunRunning), time.Now().UTC().Add(ttl), percent}
	if dialect == sqlstore.Postgres {
		q, args[4] = strings.Replace(q, "$5", "now() + make_interval(secs => $5)", 1), ttl.Seconds()
	}
	res, err := db.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("db: renew match run: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("run %s: %w", id, matching.ErrLeaseLost)
	}
	return nil
}

// SaveRunResults stores a batch of results in one transaction that first
// checks owner still holds the lease.
func (s *Store) SaveRunResults(ctx context.Context, tenant, id, owner string, pairs []matching.RunPair, unmatched []matching.Unmatched) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		// Renewing with progress 0 keeps the stored progress.
		if err := renewRun(ctx, tx, s.db.Dialect, tenant, id, owner, time.Minute, 0); err != nil {
			return err
		}
		err := sqlstore.InsertRows(ctx, tx, `INSERT INTO match_run_pairs (tenant_id, run_id, mentee_participant_id, mentor_participant_id,
			mentee_person_id, mentor_person_id, score, factors) VALUES `, 8, len(pairs), func(i int) []any {
			p := pairs[i]
			return []any{tenant, id, p.MenteeID, p.MentorID, p.MenteePersonID, p.MentorPersonID, p.Score, jsonText(nonNil(p.Factors))}
		})
		if err != nil {
			return fmt.Errorf("db: insert run pairs: %w", err)
		}
		err = sqlstore.InsertRows(ctx, tx, `INSERT INTO match_run_unmatched (tenant_id, run_id, participant_id, person_id, role, reason,
			detail) VALUES `, 7, len(unmatched), func(i int) []any {
			u := unmatched[i]
			return []any{tenant, id, u.ParticipantID, u.PersonID, string(u.Role), u.Reason, u.Detail}
		})
		if err != nil {
			return fmt.Errorf("db: insert unmatched: %w", err)
		}
		return nil
	})
}

// FinishMatchRun ends owner's run with out and writes its event.
func (s *Store) FinishMatchRun(ctx context.Context, tenant, id, owner string, out matching.RunOutcome) (matching.MatchRun, error) {
	var run matching.MatchRun
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		res, err := tx.ExecContext(ctx, `UPDATE match_runs SET state = $4, error = $5, metrics = $6, certified = $7, epoch = $8,
			finish_time = $9, progress_percent = 100, lease_owner = '', lease_expires_at = $10
			WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 AND state = 'running'`,
			tenant, id, owner, string(out.State), out.Error, jsonText(out.Metrics), out.Certified, out.Epoch, out.FinishTime, noLease)
		if err != nil {
			return nil, fmt.Errorf("db: finish match run: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return nil, fmt.Errorf("run %s: %w", id, matching.ErrLeaseLost)
		}
		if run, err = readRun(ctx, tx, tenant, id); err != nil {
			return nil, err
		}
		typ := "succeeded"
		if out.State == matching.RunFailed {
			typ = "failed"
		}
		return []eventbus.Event{runEvent(tenant, typ, run)}, nil
	})
	return run, err
}

// ReleaseMatchRun gives owner's lease up.
func (s *Store) ReleaseMatchRun(ctx context.Context, tenant, id, owner string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE match_runs SET lease_owner = '', lease_expires_at = $4
		WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3`, tenant, id, owner, noLease); err != nil {
		return fmt.Errorf("db: release match run: %w", err)
	}
	return nil
}

// PublishMatchRun creates the run's matches in one transaction holding
// the program's lock (its epoch row), so no other match of the program is
// created meanwhile.
func (s *Store) PublishMatchRun(ctx context.Context, tenant, id string, now time.Time,
	plan func(matching.MatchRun, []matching.RunPair, matching.Snapshot) ([]matching.Match, error)) (matching.MatchRun, error) {
	var run matching.MatchRun
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		programID, err := lockProgramOf(ctx, tx, tenant, "match_runs", "match run", id)
		if err != nil {
			return nil, err
		}
		if run, err = readRun(ctx, tx, tenant, id); err != nil {
			return nil, err
		}
		pairs, err := listRunPairs(ctx, tx, tenant, id, matching.Page{})
		if err != nil {
			return nil, err
		}
		ids := make([]string, 0, 2*len(pairs))
		for _, p := range pairs {
			ids = append(ids, p.MentorID, p.MenteeID)
		}
		snap, err := snapshot(ctx, tx, tenant, programID, ids)
		if err != nil {
			return nil, err
		}
		matches, err := plan(run, pairs, snap)
		if err != nil {
			return nil, err
		}
		if err := insertMatches(ctx, tx, tenant, matches); err != nil {
			return nil, liveConflict(err, matching.Match{MenteeID: "of the run"})
		}
		if _, err := tx.ExecContext(ctx, `UPDATE match_runs SET state = $3, publish_time = $4, matches_created = $5
			WHERE tenant_id = $1 AND id = $2`, tenant, id, string(matching.RunPublished), now, len(matches)); err != nil {
			return nil, fmt.Errorf("db: publish match run: %w", err)
		}
		run.State, run.PublishTime, run.MatchesCreated = matching.RunPublished, now, len(matches)
		events := []eventbus.Event{runEvent(tenant, "published", run)}
		for _, m := range matches {
			events = append(events, matchEvent(tenant, m))
		}
		return events, nil
	})
	return run, err
}

func readRun(ctx context.Context, q querier, tenant, id string) (matching.MatchRun, error) {
	runs, err := sqlstore.QueryAll(ctx, q, `SELECT `+runColumns+` FROM match_runs WHERE tenant_id = $1 AND id = $2`, []any{tenant, id}, scanRun)
	if err != nil {
		return matching.MatchRun{}, err
	}
	if len(runs) == 0 {
		return matching.MatchRun{}, fmt.Errorf("match run %s: %w", id, apperr.ErrNotFound)
	}
	return runs[0], nil
}

func scanRun(row scanner) (matching.MatchRun, error) {
	var r matching.MatchRun
	var state, strategy, config, metrics string
	var finish, publish sql.NullTime
	err := row.Scan(&r.ID, &r.ProgramID, &state, &strategy, &r.MaximiseParticipation, &config, &r.ConfigVersion, &r.WhatIf,
		&r.ProgressPercent, &r.Error, &metrics, &r.Certified, &r.Epoch, &r.MatchesCreated, &r.CreateTime, &finish, &publish)
	if err != nil {
		return r, err
	}
	r.State, r.Strategy = matching.RunState(state), matching.Strategy(strategy)
	r.CreateTime, r.FinishTime, r.PublishTime = r.CreateTime.UTC(), finish.Time.UTC(), publish.Time.UTC()
	if !finish.Valid {
		r.FinishTime = time.Time{}
	}
	if !publish.Valid {
		r.PublishTime = time.Time{}
	}
	if err := json.Unmarshal([]byte(config), &r.Config); err != nil {
		return r, fmt.Errorf("decode run config: %w", err)
	}
	r.Config.UpdateTime = r.Config.UpdateTime.UTC()
	if err := json.Unmarshal([]byte(metrics), &r.Metrics); err != nil {
		return r, fmt.Errorf("decode run metrics: %w", err)
	}
	return r, nil
}

// runEvent is the match_run.<typ> event of r.
func runEvent(tenant, typ string, r matching.MatchRun) eventbus.Event {
	run := pbconv.MatchRun(r)
	var payload proto.Message
	switch typ {
	case "created":
		payload = &eventsv1.MatchRunCreated{Run: run}
	case "succeeded":
		payload = &eventsv1.MatchRunSucceeded{Run: run}
	case "failed":
		payload = &eventsv1.MatchRunFailed{Run: run}
	default:
		payload = &eventsv1.MatchRunPublished{Run: run}
	}
	return eventbus.Event{Tenant: tenant, Aggregate: "match_run", AggregateID: r.ID, Type: typ, Payload: payload}
}

func decodeFactors(raw string, dst *[]matching.Factor) error {
	if err := json.Unmarshal([]byte(raw), dst); err != nil {
		return fmt.Errorf("decode factors: %w", err)
	}
	if len(*dst) == 0 {
		*dst = nil
	}
	return nil
}

func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t, Valid: !t.IsZero()}
}
