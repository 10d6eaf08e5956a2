package sqlstore_test

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/testing/protocmp"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
)

func TestRooms(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		rooms := []scheduling.Room{
			{ID: "room-b", DisplayName: "Blue", Location: "Floor 2", Capacity: 6, CreateTime: t0},
			{ID: "room-a", DisplayName: "Amber", Location: "Floor 1", Capacity: 2, CreateTime: t0.Add(time.Second)},
			{ID: "room-c", DisplayName: "Cedar", CreateTime: t0.Add(2 * time.Second)},
		}
		for _, r := range rooms {
			require.NoError(t, store.CreateRoom(ctx, "acme", r))
		}

		t.Run("a room round-trips with its event", func(t *testing.T) {
			got, err := store.Room(ctx, "acme", "room-b")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(rooms[0], got))
			events := servicetest.Outbox(t, db)
			require.Equal(t, []string{"tandem.room.created acme/room-b", "tandem.room.created acme/room-a",
				"tandem.room.created acme/room-c"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.RoomCreated{Room: pbconv.Room(rooms[0])},
				payload(t, events[0], &eventsv1.RoomCreated{}), protocmp.Transform()))
		})

		t.Run("ids are unique per tenant", func(t *testing.T) {
			err := store.CreateRoom(ctx, "acme", scheduling.Room{ID: "room-a", DisplayName: "Again", CreateTime: t0})
			require.ErrorIs(t, err, apperr.ErrAlreadyExists)
			require.NoError(t, store.CreateRoom(ctx, "other", scheduling.Room{ID: "room-a", DisplayName: "Theirs", CreateTime: t0}))
			_, err = store.Room(ctx, "acme", "room-z")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("rooms are listed by id in pages", func(t *testing.T) {
			page, err := store.ListRooms(ctx, "acme", "", 2)
			require.NoError(t, err)
			require.Empty(t, cmp.Diff([]scheduling.Room{rooms[1], rooms[0]}, page))
			page, err = store.ListRooms(ctx, "acme", "room-b", 2)
			require.NoError(t, err)
			require.Empty(t, cmp.Diff([]scheduling.Room{rooms[2]}, page))
		})
	})
}

func TestCalendarTokens(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		store, db := openStore(t, url)
		token := func(id, person, secret string, created time.Time) scheduling.CalendarToken {
			hash := sha256.Sum256([]byte(secret))
			return scheduling.CalendarToken{ID: id, PersonID: person, Token: secret, Hash: hash[:], CreateTime: created}
		}
		stored := func(t scheduling.CalendarToken) scheduling.CalendarToken {
			t.Token = ""
			return t
		}
		older := token("tok-1", "ann", "secret-one", t0)
		newer := token("tok-2", "ann", "secret-two", t0.Add(time.Hour))
		bobs := token("tok-3", "bob", "secret-three", t0)
		theirs := token("tok-1", "ann", "secret-four", t0)
		for _, tok := range []scheduling.CalendarToken{older, newer, bobs} {
			require.NoError(t, store.CreateCalendarToken(ctx, "acme", tok))
		}
		require.NoError(t, store.CreateCalendarToken(ctx, "other", theirs))

		t.Run("only the hash is stored and no event holds the secret", func(t *testing.T) {
			got, err := store.CalendarTokens(ctx, "acme", "ann")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff([]scheduling.CalendarToken{stored(newer), stored(older)}, got), "newest first")
			events := servicetest.Outbox(t, db)
			require.Equal(t, "tandem.calendar_token.created acme/tok-1", kinds(events)[0])
			require.Empty(t, cmp.Diff(&eventsv1.CalendarTokenCreated{Token: pbconv.CalendarToken(stored(older))},
				payload(t, events[0], &eventsv1.CalendarTokenCreated{}), protocmp.Transform()))
			for _, e := range events {
				require.False(t, bytes.Contains(e.Payload, []byte("secret-")), "event %s", e.AggregateID)
			}
			var secrets int
			require.NoError(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM calendar_tokens WHERE token_hash = $1`,
				[]byte("secret-one")).Scan(&secrets))
			require.Zero(t, secrets)
		})

		t.Run("a hash finds its token in any tenant", func(t *testing.T) {
			tenant, got, err := store.CalendarTokenByHash(ctx, older.Hash)
			require.NoError(t, err)
			require.Equal(t, "acme", tenant)
			require.Empty(t, cmp.Diff(stored(older), got))
			tenant, got, err = store.CalendarTokenByHash(ctx, theirs.Hash)
			require.NoError(t, err)
			require.Equal(t, "other", tenant)
			require.Equal(t, "tok-1", got.ID)
			_, _, err = store.CalendarTokenByHash(ctx, []byte("unknown"))
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		t.Run("a hash is unique across tenants", func(t *testing.T) {
			dup := token("tok-9", "zed", "secret-one", t0)
			require.ErrorIs(t, store.CreateCalendarToken(ctx, "third", dup), apperr.ErrAlreadyExists)
		})

		t.Run("a token is revoked once", func(t *testing.T) {
			before := len(servicetest.Outbox(t, db))
			revokedAt := t0.Add(2 * time.Hour)
			got, err := store.RevokeCalendarToken(ctx, "acme", "ann", "tok-1", revokedAt)
			require.NoError(t, err)
			want := stored(older)
			want.RevokeTime = revokedAt
			require.Empty(t, cmp.Diff(want, got))
			events := outboxSince(t, db, before)
			require.Equal(t, []string{"tandem.calendar_token.revoked acme/tok-1"}, kinds(events))
			require.Empty(t, cmp.Diff(&eventsv1.CalendarTokenRevoked{Token: pbconv.CalendarToken(want)},
				payload(t, events[0], &eventsv1.CalendarTokenRevoked{}), protocmp.Transform()))

			again, err := store.RevokeCalendarToken(ctx, "acme", "ann", "tok-1", revokedAt.Add(time.Hour))
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(want, again), "the first revocation stands")
			require.Len(t, servicetest.Outbox(t, db), before+1, "a second revoke writes nothing")

			_, _, err = store.CalendarTokenByHash(ctx, older.Hash)
			require.ErrorIs(t, err, apperr.ErrNotFound, "a revoked token opens no feed")
			listed, err := store.CalendarTokens(ctx, "acme", "ann")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff([]scheduling.CalendarToken{stored(newer), want}, listed))
			tenant, _, err := store.CalendarTokenByHash(ctx, theirs.Hash)
			require.NoError(t, err, "the other tenant's tok-1 is another token")
			require.Equal(t, "other", tenant)
		})

		t.Run("only the owner's token can be revoked", func(t *testing.T) {
			_, err := store.RevokeCalendarToken(ctx, "acme", "ann", "tok-3", t0)
			require.ErrorIs(t, err, apperr.ErrNotFound)
			_, err = store.RevokeCalendarToken(ctx, "acme", "ann", "tok-404", t0)
			require.ErrorIs(t, err, apperr.ErrNotFound)
			_, _, err = store.CalendarTokenByHash(ctx, bobs.Hash)
			require.NoError(t, err)
		})
	})
}
