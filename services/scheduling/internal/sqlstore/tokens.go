package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	schedulingv1 "github.com/tandem-oss/tandem/gen/go/tandem/scheduling/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

const tokenColumns = `id, person_id, token_hash, create_micros, revoke_micros`

// CreateCalendarToken stores a token's hash (never its secret) and writes
// calendar_token.created, whose payload has no secret either.
func (s *Store) CreateCalendarToken(ctx context.Context, tenant string, t scheduling.CalendarToken) error {
	return s.inTx(ctx, func(tx *sql.Tx) ([]eventbus.Event, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO calendar_tokens (tenant_id, `+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			tenant, t.ID, t.PersonID, t.Hash, micros(t.CreateTime), nullMicros(t.RevokeTime))
		if sqlstore.IsUniqueViolation(err) {
			return nil, fmt.Errorf("calendar token %s: %w", t.ID, apperr.ErrAlreadyExists)
		}
		if err != nil {
			return nil, fmt.Errorf("db: insert calendar token: %w", err)
		}
		return []eventbus.Event{{
			Tenant: tenant, Aggregate: "calendar_token", AggregateID: t.ID, Type: "created",
			Payload: &eventsv1.CalendarTokenCreated{Token: publicToken(t)},
		}}, nil
	})
}

// CalendarTokens lists a person's tokens, newest first.
func (s *Store) CalendarTokens(ctx context.Context, tenant, personID string) ([]scheduling.CalendarToken, error) {
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+tokenColumns+` FROM calendar_tokens WHERE tenant_id = $1 AND person_id = $2
		ORDER BY create_micros DESC, id DESC`, []any{tenant, personID}, scanToken)
}

// RevokeCalendarToken revokes a person's token at now and writes
// calendar_token.revoked. The guarded update revokes once even when two
// calls race: a token already revoked is returned unchanged and nothing is
// written.
func (s *Store) RevokeCalendarToken(ctx context.Context, tenant, personID, id string, now time.Time) (scheduling.CalendarToken, error) {
	var t scheduling.CalendarToken
	err := s.inTx(ctx, func(tx *sql.Tx) ([]eventbus.Event, error) {
		res, err := tx.ExecContext(ctx, `UPDATE calendar_tokens SET revoke_micros = $4
			WHERE tenant_id = $1 AND person_id = $2 AND id = $3 AND revoke_micros IS NULL`, tenant, personID, id, micros(now))
		if err != nil {
			return nil, fmt.Errorf("db: revoke calendar token: %w", err)
		}
		revoked, err := res.RowsAffected()
		if err != nil {
			return nil, fmt.Errorf("db: revoke calendar token: %w", err)
		}
		t, err = scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenColumns+` FROM calendar_tokens
			WHERE tenant_id = $1 AND person_id = $2 AND id = $3`, tenant, personID, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("calendar token %s of person %s: %w", id, personID, apperr.ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("db: read calendar token: %w", err)
		}
		if revoked == 0 {
			return nil, nil
		}
		return []eventbus.Event{{
			Tenant: tenant, Aggregate: "calendar_token", AggregateID: t.ID, Type: "revoked",
			Payload: &eventsv1.CalendarTokenRevoked{Token: publicToken(t)},
		}}, nil
	})
	if err != nil {
		return scheduling.CalendarToken{}, err
	}
	return t, nil
}

// CalendarTokenByHash finds an active token in any tenant; an unknown or
// revoked one is apperr.ErrNotFound.
func (s *Store) CalendarTokenByHash(ctx context.Context, hash []byte) (string, scheduling.CalendarToken, error) {
	var tenant string
	row := s.db.QueryRowContext(ctx, `SELECT tenant_id, `+tokenColumns+` FROM calendar_tokens
		WHERE token_hash = $1 AND revoke_micros IS NULL`, hash)
	t, err := scanTokenAfter(row, &tenant)
	if errors.Is(err, sql.ErrNoRows) {
		return "", t, fmt.Errorf("calendar token: %w", apperr.ErrNotFound)
	}
	if err != nil {
		return "", t, fmt.Errorf("db: read calendar token: %w", err)
	}
	return tenant, t, nil
}

// publicToken is t without its secret, for events.
func publicToken(t scheduling.CalendarToken) *schedulingv1.CalendarToken {
	t.Token = ""
	return pbconv.CalendarToken(t)
}

func scanToken(row scanner) (scheduling.CalendarToken, error) { return scanTokenAfter(row) }

// scanTokenAfter scans a row of the lead columns, into lead, followed by
// tokenColumns.
func scanTokenAfter(row scanner, lead ...any) (scheduling.CalendarToken, error) {
	var t scheduling.CalendarToken
	var created int64
	var revoked sql.NullInt64
	err := row.Scan(append(lead, &t.ID, &t.PersonID, &t.Hash, &created, &revoked)...)
	t.CreateTime, t.RevokeTime = fromMicros(created), fromNullMicros(revoked)
	return t, err
}
