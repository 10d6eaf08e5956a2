package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/matching/internal/matching"
	"github.com/tandem-oss/tandem/services/matching/internal/pbconv"
)

const requestColumns = `id, program_id, requester_participant_id, target_participant_id, requester_person_id,
	target_person_id, requester_role, message, state, reason, match_id, create_time, update_time, expire_time`

// CreateMatchRequest stores r, after check, in a transaction holding the
// program's lock so that the pending-request limit cannot be raced past.
func (s *Store) CreateMatchRequest(ctx context.Context, tenant string, r matching.MatchRequest, check func(matching.RequestSnapshot) error) error {
	return eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		if err := bumpEpoch(ctx, tx, tenant, r.ProgramID); err != nil {
			return nil, err
		}
		snap := matching.RequestSnapshot{}
		var err error
		if snap.Snapshot, err = snapshot(ctx, tx, tenant, r.ProgramID, []string{r.RequesterID, r.TargetID}); err != nil {
			return nil, err
		}
		pending := `state = 'pending' AND expire_time > $3`
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM match_requests WHERE tenant_id = $1
			AND requester_participant_id = $2 AND `+pending, tenant, r.RequesterID, r.CreateTime).Scan(&snap.Pending); err != nil {
			return nil, fmt.Errorf("db: count pending requests: %w", err)
		}
		var duplicates int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM match_requests WHERE tenant_id = $1 AND `+pending+`
			AND ((requester_participant_id = $2 AND target_participant_id = $4) OR (requester_participant_id = $4 AND target_participant_id = $2))`,
			tenant, r.RequesterID, r.CreateTime, r.TargetID).Scan(&duplicates); err != nil {
			return nil, fmt.Errorf("db: find duplicate requests: %w", err)
		}
		snap.Duplicate = duplicates > 0
		if err := check(snap); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO match_requests (tenant_id, `+requestColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			append([]any{tenant}, requestArgs(r)...)...); err != nil {
			return nil, fmt.Errorf("db: insert match request: %w", err)
		}
		return []eventbus.Event{requestEvent(tenant, r)}, nil
	})
}

// MatchRequest returns one request as stored.
func (s *Store) MatchRequest(ctx context.Context, tenant, id string) (matching.MatchRequest, error) {
	return readRequest(ctx, s.db, tenant, id)
}

// ListMatchRequests returns requests by id, filtered; the state filter
// reads a pending request past its expiry at now as expired.
func (s *Store) ListMatchRequests(ctx context.Context, tenant string, f matching.RequestFilter, now time.Time, page matching.Page) ([]matching.MatchRequest, error) {
	q, args := `SELECT `+requestColumns+` FROM match_requests WHERE tenant_id = $1 AND id > $2`, []any{tenant, page.After}
	if f.ProgramID != "" {
		args = append(args, f.ProgramID)
		q += fmt.Sprintf(" AND program_id = $%d", len(args))
	}
	if f.ParticipantID != "" {
		args = append(args, f.ParticipantID)
		q += fmt.Sprintf(" AND (requester_participant_id = $%d OR target_participant_id = $%d)", len(args), len(args))
	}
	switch f.State {
	case "":
	case matching.RequestPending:
		args = append(args, now)
		q += fmt.Sprintf(" AND state = 'pending' AND expire_time > $%d", len(args))
	case matching.RequestExpired:
		args = append(args, now)
		q += fmt.Sprintf(" AND (state = 'expired' OR (state = 'pending' AND expire_time <= $%d))", len(args))
	default:
		args = append(args, string(f.State))
		q += fmt.Sprintf(" AND state = $%d", len(args))
	}
	args = append(args, page.Size)
	return sqlstore.QueryAll(ctx, s.db, q+fmt.Sprintf(" ORDER BY id LIMIT $%d", len(args)), args, scanRequest)
}

// UpdateMatchRequest applies change and stores the request only if nobody
// changed its state meanwhile.
func (s *Store) UpdateMatchRequest(ctx context.Context, tenant, id string, change func(*matching.MatchRequest) error) (matching.MatchRequest, error) {
	var r matching.MatchRequest
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		var err error
		if r, err = readRequest(ctx, tx, tenant, id); err != nil {
			return nil, err
		}
		before := r.State
		if err := change(&r); err != nil {
			return nil, err
		}
		if err := writeRequest(ctx, tx, tenant, r, before); err != nil {
			return nil, err
		}
		return []eventbus.Event{requestEvent(tenant, r)}, nil
	})
	return r, err
}

// ApproveMatchRequest stores the approved request and its match in one
// transaction holding the program's lock.
func (s *Store) ApproveMatchRequest(ctx context.Context, tenant, id string,
	plan func(matching.MatchRequest, matching.Snapshot) (matching.MatchRequest, matching.Match, error)) (matching.MatchRequest, matching.Match, error) {
	var r matching.MatchRequest
	var m matching.Match
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		var err error
		if r, err = readRequest(ctx, tx, tenant, id); err != nil {
			return nil, err
		}
		if err := bumpEpoch(ctx, tx, tenant, r.ProgramID); err != nil {
			return nil, err
		}
		if r, err = readRequest(ctx, tx, tenant, id); err != nil {
			return nil, err
		}
		snap, err := snapshot(ctx, tx, tenant, r.ProgramID, []string{r.RequesterID, r.TargetID})
		if err != nil {
			return nil, err
		}
		before := r.State
		if r, m, err = plan(r, snap); err != nil {
			return nil, err
		}
		if err := writeRequest(ctx, tx, tenant, r, before); err != nil {
			return nil, err
		}
		if err := insertMatches(ctx, tx, tenant, []matching.Match{m}); err != nil {
			return nil, liveConflict(err, m)
		}
		return []eventbus.Event{requestEvent(tenant, r), matchEvent(tenant, m)}, nil
	})
	return r, m, err
}

// ExpireMatchRequests expires the oldest pending requests past their
// expiry, of every tenant. The conditional UPDATE lets one replica's
// sweeper win each request, so each gets one event.
func (s *Store) ExpireMatchRequests(ctx context.Context, now time.Time, limit int) (int, error) {
	expired := 0
	err := eventbus.InTx(ctx, s.db, Source, s.committed, func(tx *sql.Tx) ([]eventbus.Event, error) {
		type key struct{ tenant, id string }
		due, err := sqlstore.QueryAll(ctx, tx, `SELECT tenant_id, id FROM match_requests WHERE state = 'pending' AND expire_time <= $1
			ORDER BY expire_time, id LIMIT $2`, []any{now, limit}, func(row scanner) (key, error) {
			var k key
			err := row.Scan(&k.tenant, &k.id)
			return k, err
		})
		if err != nil {
			return nil, err
		}
		var events []eventbus.Event
		for _, k := range due {
			res, err := tx.ExecContext(ctx, `UPDATE match_requests SET state = 'expired', update_time = $3
				WHERE tenant_id = $1 AND id = $2 AND state = 'pending'`, k.tenant, k.id, now)
			if err != nil {
				return nil, fmt.Errorf("db: expire match request: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue // another sweeper or an answer came first
			}
			r, err := readRequest(ctx, tx, k.tenant, k.id)
			if err != nil {
				return nil, err
			}
			events = append(events, requestEvent(k.tenant, r))
		}
		expired = len(events)
		return events, nil
	})
	return expired, err
}

// writeRequest stores r's changes if its stored state is still before.
func writeRequest(ctx context.Context, tx *sql.Tx, tenant string, r matching.MatchRequest, before matching.RequestState) error {
	res, err := tx.ExecContext(ctx, `UPDATE match_requests SET state = $4, reason = $5, match_id = $6, update_time = $7
		WHERE tenant_id = $1 AND id = $2 AND state = $3`, tenant, r.ID, string(before), string(r.State), r.Reason, r.MatchID, r.UpdateTime)
	if err != nil {
		return fmt.Errorf("db: update match request: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("request %s changed meanwhile; read it again: %w", r.ID, apperr.ErrAborted)
	}
	return nil
}

func readRequest(ctx context.Context, q querier, tenant, id string) (matching.MatchRequest, error) {
	list, err := sqlstore.QueryAll(ctx, q, `SELECT `+requestColumns+` FROM match_requests WHERE tenant_id = $1 AND id = $2`,
		[]any{tenant, id}, scanRequest)
	if err != nil {
		return matching.MatchRequest{}, err
	}
	if len(list) == 0 {
		return matching.MatchRequest{}, fmt.Errorf("match request %s: %w", id, apperr.ErrNotFound)
	}
	return list[0], nil
}

func requestArgs(r matching.MatchRequest) []any {
	return []any{r.ID, r.ProgramID, r.RequesterID, r.TargetID, r.RequesterPersonID, r.TargetPersonID, string(r.RequesterRole),
		r.Message, string(r.State), r.Reason, r.MatchID, r.CreateTime, r.UpdateTime, r.ExpireTime}
}

func scanRequest(row scanner) (matching.MatchRequest, error) {
	var r matching.MatchRequest
	var role, state string
	err := row.Scan(&r.ID, &r.ProgramID, &r.RequesterID, &r.TargetID, &r.RequesterPersonID, &r.TargetPersonID, &role,
		&r.Message, &state, &r.Reason, &r.MatchID, &r.CreateTime, &r.UpdateTime, &r.ExpireTime)
	r.RequesterRole, r.State = matching.Role(role), matching.RequestState(state)
	r.CreateTime, r.UpdateTime, r.ExpireTime = r.CreateTime.UTC(), r.UpdateTime.UTC(), r.ExpireTime.UTC()
	return r, err
}

// requestEvent is the event of r having entered its state.
func requestEvent(tenant string, r matching.MatchRequest) eventbus.Event {
	req := pbconv.MatchRequest(r)
	var payload proto.Message
	typ := string(r.State)
	switch r.State {
	case matching.RequestPending:
		payload, typ = &eventsv1.MatchRequestCreated{Request: req}, "created"
	case matching.RequestApproved:
		payload = &eventsv1.MatchRequestApproved{Request: req}
	case matching.RequestRejected:
		payload = &eventsv1.MatchRequestRejected{Request: req}
	case matching.RequestCancelled:
		payload = &eventsv1.MatchRequestCancelled{Request: req}
	default:
		payload = &eventsv1.MatchRequestExpired{Request: req}
	}
	return eventbus.Event{Tenant: tenant, Aggregate: "match_request", AggregateID: r.ID, Type: typ, Payload: payload}
}
