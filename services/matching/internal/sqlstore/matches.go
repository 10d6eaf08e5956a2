package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
)

const matchColumns = `id, program_id, run_id, request_id, source, mentor_participant_id, mentee_participant_id,
	mentor_person_id, mentee_person_id, state, score, factors, mentor_accepted, mentee_accepted, decline_reason,
	declined_by, end_reason, create_time, update_time`

// snapshotChunk bounds the ids of one IN list.
const snapshotChunk = 500

// snapshot reads, inside a transaction that holds the program's lock, the
// program, its configuration in force, the participants ids names with
// their people, and the live matches of the program's participants.
func snapshot(ctx context.Context, tx *sql.Tx, tenant, programID string, ids []string) (matching.Snapshot, error) {
	snap := matching.Snapshot{Participants: map[string]matching.Participant{}, People: map[string]matching.Person{}}
	program, err := readProgram(ctx, tx, tenant, programID)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		snap.Program = matching.Program{ID: programID}
	case err != nil:
		return snap, err
	default:
		snap.Program, snap.ProgramFound = program, true
	}
	snap.Config, err = scoringConfig(ctx, tx, tenant, programID)
	if errors.Is(err, errNoConfig) {
		snap.Config, err = matching.DefaultScoringConfig(programID), nil
	}
	if err != nil {
		return snap, err
	}
	for start := 0; start < len(ids); start += snapshotChunk {
		chunk := ids[start:min(start+snapshotChunk, len(ids))]
		args := []any{tenant}
		in := ""
		for i, id := range chunk {
			if i > 0 {
				in += ", "
			}
			args = append(args, id)
			in += fmt.Sprintf("$%d", len(args))
		}
		rows, err := sqlstore.QueryAll(ctx, tx, `SELECT `+prefixed("pt.", participantColumns)+`, `+personOrEmpty+`
			FROM participants pt LEFT JOIN people pe ON pe.tenant_id = pt.tenant_id AND pe.id = pt.person_id
			WHERE pt.tenant_id = $1 AND pt.id IN (`+in+`)`, args, scanParticipantPerson)
		if err != nil {
			return snap, err
		}
		for _, r := range rows {
			snap.Participants[r.participant.ID] = r.participant
			if r.person.ID != "" {
				snap.People[r.person.ID] = r.person
			}
		}
	}
	snap.Live, err = liveCounts(ctx, tx, tenant, programID)
	return snap, err
}

// personOrEmpty selects the columns of a LEFT JOINed person, empty values
// when there is none.
const personOrEmpty = `COALESCE(pe.id, ''), COALESCE(pe.department, ''), COALESCE(pe.seniority, 0),
	COALESCE(pe.manager_id, ''), COALESCE(pe.time_zone, ''), COALESCE(pe.languages, '[]'), COALESCE(pe.location, ''),
	COALESCE(pe.employment_status, ''), COALESCE(pe.erased, FALSE)`

// insertMatches inserts new matches with multi-row statements.
func insertMatches(ctx context.Context, tx *sql.Tx, tenant string, matches []matching.Match) error {
	err := sqlstore.InsertRows(ctx, tx, `INSERT INTO matches (tenant_id, `+matchColumns+`) VALUES `, 20, len(matches), func(i int) []any {
		return append([]any{tenant}, matchArgs(matches[i])...)
	})
	if err != nil {
		return fmt.Errorf("db: insert matches: %w", err)
	}
	return nil
}

func matchArgs(m matching.Match) []any {
	return []any{m.ID, m.ProgramID, m.RunID, m.RequestID, string(m.Source), m.MentorID, m.MenteeID, m.MentorPersonID,
		m.MenteePersonID, string(m.State), m.Score, jsonText(nonNil(m.Factors)), m.MentorAccepted, m.MenteeAccepted,
		m.DeclineReason, m.DeclinedBy, m.EndReason, m.CreateTime, m.UpdateTime}
}

func scanMatch(row scanner) (matching.Match, error) {
	var m matching.Match
	var source, state, factors string
	err := row.Scan(&m.ID, &m.ProgramID, &m.RunID, &m.RequestID, &source, &m.MentorID, &m.MenteeID, &m.MentorPersonID,
		&m.MenteePersonID, &state, &m.Score, &factors, &m.MentorAccepted, &m.MenteeAccepted, &m.DeclineReason,
		&m.DeclinedBy, &m.EndReason, &m.CreateTime, &m.UpdateTime)
	if err != nil {
		return m, err
	}
	m.Source, m.State = matching.MatchSource(source), matching.MatchState(state)
	m.CreateTime, m.UpdateTime = m.CreateTime.UTC(), m.UpdateTime.UTC()
	return m, decodeFactors(factors, &m.Factors)
}

// matchEventTypes names the event of a match entering each state.
var matchEventTypes = map[matching.MatchState]string{
	matching.MatchProposed: "proposed",
	matching.MatchAccepted: "accepted",
	matching.MatchActive:   "activated",
	matching.MatchDeclined: "declined",
	matching.MatchEnded:    "ended",
}

// matchEvent is the event of m having entered its state.
func matchEvent(tenant string, m matching.Match) eventbus.Event {
	match := pbconv.Match(m)
	var payload proto.Message
	switch m.State {
	case matching.MatchProposed:
		payload = &eventsv1.MatchProposed{Match: match}
	case matching.MatchAccepted:
		payload = &eventsv1.MatchAccepted{Match: match}
	case matching.MatchActive:
		payload = &eventsv1.MatchActivated{Match: match}
	case matching.MatchDeclined:
		payload = &eventsv1.MatchDeclined{Match: match}
	default:
		payload = &eventsv1.MatchEnded{Match: match}
	}
	return eventbus.Event{Tenant: tenant, Aggregate: "match", AggregateID: m.ID, Type: matchEventTypes[m.State], Payload: payload}
}

// Match returns one match.
func (s *Store) Match(ctx context.Context, tenant, id string) (matching.Match, error) {
	return readMatch(ctx, s.db, tenant, id)
}

func readMatch(ctx context.Context, q querier, tenant, id string) (matching.Match, error) {
	list, err := sqlstore.QueryAll(ctx, q, `SELECT `+matchColumns+` FROM matches WHERE tenant_id = $1 AND id = $2`, []any{tenant, id}, scanMatch)
	if err != nil {
		return matching.Match{}, err
	}
	if len(list) == 0 {
		return matching.Match{}, fmt.Errorf("match %s: %w", id, apperr.ErrNotFound)
	}
	return list[0], nil
}

// ListMatches returns matches by id, filtered.
func (s *Store) ListMatches(ctx context.Context, tenant string, f matching.MatchFilter, page matching.Page) ([]matching.Match, error) {
	q, args := `SELECT `+matchColumns+` FROM matches WHERE tenant_id = $1 AND id > $2`, []any{tenant, page.After}
	if f.ProgramID != "" {
		args = append(args, f.ProgramID)
		q += fmt.Sprintf(" AND program_id = $%d", len(args))
	}
	if f.State != "" {
		args = append(args, string(f.State))
		q += fmt.Sprintf(" AND state = $%d", len(args))
	}
	if f.ParticipantID != "" {
		args = append(args, f.ParticipantID)
		q += fmt.Sprintf(" AND (mentor_participant_id = $%d OR mentee_participant_id = $%d)", len(args), len(args))
	}
	args = append(args, page.Size)
	return sqlstore.QueryAll(ctx, s.db, q+fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args)), args, scanMatch)
}

// CreateMatch stores the match plan returns in a transaction holding the
// program's lock.
func (s *Store) CreateMatch(ctx context.Context, tenant string, m matching.Match, plan func(matching.Snapshot) (matching.Match, error)) (matching.Match, error) {
	var out matching.Match
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		if err := bumpEpoch(ctx, tx, tenant, m.ProgramID); err != nil {
			return nil, err
		}
		snap, err := snapshot(ctx, tx, tenant, m.ProgramID, []string{m.MentorID, m.MenteeID})
		if err != nil {
			return nil, err
		}
		if out, err = plan(snap); err != nil {
			return nil, err
		}
		if err := insertMatches(ctx, tx, tenant, []matching.Match{out}); err != nil {
			return nil, liveConflict(err, out)
		}
		return []eventbus.Event{matchEvent(tenant, out)}, nil
	})
	return out, err
}

// liveConflict turns the violation of the one-live-match-per-mentee index
// (a writer that bypassed the program's lock) into FailedPrecondition.
func liveConflict(err error, m matching.Match) error {
	if sqlstore.IsUniqueViolation(err) {
		return fmt.Errorf("mentee %s is already in a live match: %w", m.MenteeID, apperr.ErrFailedPrecondition)
	}
	return err
}

// UpdateMatch applies change under the program's lock and writes the
// event of the new state when the state changed.
func (s *Store) UpdateMatch(ctx context.Context, tenant, id string, change func(*matching.Match) error) (matching.Match, error) {
	var m matching.Match
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		if _, err := lockProgramOf(ctx, tx, tenant, "matches", "match", id); err != nil {
			return nil, err
		}
		var err error
		if m, err = readMatch(ctx, tx, tenant, id); err != nil {
			return nil, err
		}
		before := m
		if err := change(&m); err != nil {
			return nil, err
		}
		if sameMatch(before, m) {
			m = before // nothing to write, not even the update time
			return nil, nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE matches SET state = $3, mentor_accepted = $4, mentee_accepted = $5,
			decline_reason = $6, declined_by = $7, end_reason = $8, update_time = $9 WHERE tenant_id = $1 AND id = $2`,
			tenant, id, string(m.State), m.MentorAccepted, m.MenteeAccepted, m.DeclineReason, m.DeclinedBy, m.EndReason, m.UpdateTime)
		if err != nil {
			return nil, fmt.Errorf("db: update match: %w", err)
		}
		if m.State == before.State {
			return nil, nil
		}
		return []eventbus.Event{matchEvent(tenant, m)}, nil
	})
	return m, err
}

// sameMatch compares what UpdateMatch writes, the update time aside.
func sameMatch(a, b matching.Match) bool {
	return a.State == b.State && a.MentorAccepted == b.MentorAccepted && a.MenteeAccepted == b.MenteeAccepted &&
		a.DeclineReason == b.DeclineReason && a.DeclinedBy == b.DeclinedBy && a.EndReason == b.EndReason
}

// lockProgramOf takes the lock of the program that row id of table (a
// "match" or a "match run", as what says) belongs to, by bumping the
// program's epoch, and returns the program's id; it fails with
// apperr.ErrNotFound when there is no such row.
func lockProgramOf(ctx context.Context, tx *sql.Tx, tenant, table, what, id string) (string, error) {
	var programID string
	err := tx.QueryRowContext(ctx, `SELECT program_id FROM `+table+` WHERE tenant_id = $1 AND id = $2`, tenant, id).Scan(&programID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%s %s: %w", what, id, apperr.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("db: read %s: %w", what, err)
	}
	return programID, bumpEpoch(ctx, tx, tenant, programID)
}
