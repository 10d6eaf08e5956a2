package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

const roomColumns = `id, display_name, location, capacity, create_micros`

// CreateRoom stores a room and writes room.created; an id in use fails
// with an error wrapping apperr.ErrAlreadyExists.
func (s *Store) CreateRoom(ctx context.Context, tenant string, r scheduling.Room) error {
	return s.inTx(ctx, func(tx *sql.Tx) ([]eventbus.Event, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO rooms (tenant_id, `+roomColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			tenant, r.ID, r.DisplayName, r.Location, r.Capacity, micros(r.CreateTime))
		if sqlstore.IsUniqueViolation(err) {
			return nil, fmt.Errorf("room %s: %w", r.ID, apperr.ErrAlreadyExists)
		}
		if err != nil {
			return nil, fmt.Errorf("db: insert room: %w", err)
		}
		return []eventbus.Event{{
			Tenant: tenant, Aggregate: "room", AggregateID: r.ID, Type: "created",
			Payload: &eventsv1.RoomCreated{Room: pbconv.Room(r)},
		}}, nil
	})
}

// Room returns one room.
func (s *Store) Room(ctx context.Context, tenant, id string) (scheduling.Room, error) {
	r, err := scanRoom(s.db.QueryRowContext(ctx, `SELECT `+roomColumns+` FROM rooms WHERE tenant_id = $1 AND id = $2`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("room %s: %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("db: read room: %w", err)
	}
	return r, nil
}

// ListRooms lists rooms by id after afterID, at most limit.
func (s *Store) ListRooms(ctx context.Context, tenant, afterID string, limit int) ([]scheduling.Room, error) {
	return sqlstore.QueryAll(ctx, s.db, `SELECT `+roomColumns+` FROM rooms WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		[]any{tenant, afterID, limit}, scanRoom)
}

func scanRoom(row scanner) (scheduling.Room, error) {
	var r scheduling.Room
	var created int64
	err := row.Scan(&r.ID, &r.DisplayName, &r.Location, &r.Capacity, &created)
	r.CreateTime = fromMicros(created)
	return r, err
}
