package sqlstore_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	eventsv1 "github.com/tandem-oss/tandem/gen/go/tandem/events/v1"
	"github.com/tandem-oss/tandem/pkg/apperr"
	"github.com/tandem-oss/tandem/pkg/eventbus"
	"github.com/tandem-oss/tandem/pkg/servicetest"
	"github.com/tandem-oss/tandem/pkg/sqlstore"
	"github.com/tandem-oss/tandem/pkg/testkit"
	"github.com/tandem-oss/tandem/services/scheduling/internal/pbconv"
	"github.com/tandem-oss/tandem/services/scheduling/internal/scheduling"
	schedulingsql "github.com/tandem-oss/tandem/services/scheduling/internal/sqlstore"
)

// TestStore is the conformance suite of the store, run on both engines.
func TestStore(t *testing.T) {
	testkit.Stores(t, func(t *testing.T, url string) {
		ctx := t.Context()
		db, err := sqlstore.Open(ctx, url, eventbus.Migrations, schedulingsql.Migrations)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		var notified atomic.Int32
		store := schedulingsql.New(db, func() { notified.Add(1) })
		updated := time.Date(2026, 3, 29, 1, 30, 0, 123456000, time.UTC)

		t.Run("unset availability is not found", func(t *testing.T) {
			_, err := store.Availability(ctx, "acme", "person-1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
		})

		first := scheduling.Availability{
			PersonID: "person-1", TimeZone: "Europe/Berlin", UpdateTime: updated,
			Windows: []scheduling.Window{
				{Day: scheduling.Monday, Start: "09:00", End: "12:00", Preferred: true},
				{Day: scheduling.Monday, Start: "13:00", End: "17:30"},
				{Day: scheduling.Sunday, Start: "20:00", End: "24:00"},
			},
			WorkingHours: []scheduling.Window{
				{Day: scheduling.Monday, Start: "08:30", End: "17:00"},
				{Day: scheduling.Tuesday, Start: "08:30", End: "12:00", Preferred: true},
			},
			Exceptions: []scheduling.Exception{
				{Start: time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC), Reason: "leave"},
				{Start: time.Date(2026, 5, 1, 7, 15, 0, 250, time.UTC).Truncate(time.Microsecond), End: time.Date(2026, 5, 1, 9, 0, 0, 1000, time.UTC)},
			},
		}
		t.Run("put stores the availability with its event", func(t *testing.T) {
			require.NoError(t, store.PutAvailability(ctx, "acme", first))
			got, err := store.Availability(ctx, "acme", "person-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(first, got))
			require.EqualValues(t, 1, notified.Load())
			events := servicetest.Outbox(t, db)
			require.Len(t, events, 1)
			require.Empty(t, cmp.Diff(servicetest.OutboxRow{Type: "tandem.availability.changed", Tenant: "acme", AggregateID: "person-1"}, events[0],
				cmpopts.IgnoreFields(servicetest.OutboxRow{}, "Payload")))
			var payload eventsv1.AvailabilityChanged
			require.NoError(t, proto.Unmarshal(events[0].Payload, &payload))
			require.Empty(t, cmp.Diff(&eventsv1.AvailabilityChanged{Availability: pbconv.Availability(first)}, &payload, protocmp.Transform()))
		})

		t.Run("put replaces every window, working hour and exception", func(t *testing.T) {
			second := scheduling.Availability{
				PersonID: "person-1", TimeZone: "Asia/Kolkata", UpdateTime: updated.Add(time.Hour),
				Windows:      []scheduling.Window{{Day: scheduling.Wednesday, Start: "10:30", End: "11:00"}},
				WorkingHours: []scheduling.Window{{Day: scheduling.Friday, Start: "10:00", End: "18:00", Preferred: true}},
				Exceptions:   []scheduling.Exception{{Start: updated.Add(48 * time.Hour), End: updated.Add(50 * time.Hour), Reason: "travel"}},
			}
			require.NoError(t, store.PutAvailability(ctx, "acme", second))
			got, err := store.Availability(ctx, "acme", "person-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(second, got))

			cleared := scheduling.Availability{PersonID: "person-1", TimeZone: "Asia/Kolkata", UpdateTime: updated.Add(2 * time.Hour)}
			require.NoError(t, store.PutAvailability(ctx, "acme", cleared))
			got, err = store.Availability(ctx, "acme", "person-1")
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(cleared, got))
			require.Len(t, servicetest.Outbox(t, db), 3)
		})

		t.Run("tenants are separate", func(t *testing.T) {
			_, err := store.Availability(ctx, "other", "person-1")
			require.ErrorIs(t, err, apperr.ErrNotFound)
			theirs := first
			theirs.TimeZone = "UTC"
			require.NoError(t, store.PutAvailability(ctx, "other", theirs))
			got, err := store.Availability(ctx, "acme", "person-1")
			require.NoError(t, err)
			require.Equal(t, "Asia/Kolkata", got.TimeZone)
			require.Empty(t, got.Windows)
			require.Empty(t, got.WorkingHours)
			require.Empty(t, got.Exceptions)
		})

		t.Run("concurrent replacements never mix windows", func(t *testing.T) {
			const writers = 6
			versions := make([]scheduling.Availability, writers)
			for i := range versions {
				versions[i] = scheduling.Availability{PersonID: "person-race", TimeZone: "UTC", UpdateTime: updated}
				for day := scheduling.Monday; day <= scheduling.Sunday; day++ {
					versions[i].Windows = append(versions[i].Windows, scheduling.Window{
						Day: day, Start: fmt.Sprintf("%02d:00", i), End: fmt.Sprintf("%02d:30", i),
					})
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for i := range writers {
				wg.Go(func() { errs[i] = store.PutAvailability(ctx, "acme", versions[i]) })
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			got, err := store.Availability(ctx, "acme", "person-race")
			require.NoError(t, err)
			require.Contains(t, versions, got)
		})
	})
}
